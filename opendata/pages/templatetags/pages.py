"""Template helpers of the pages: a record's name in the page's language, the API link of a record."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from opendata.pages.charts import COMPARATOR_SIGN, fmt

register = template.Library()


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


@register.filter
def name(record) -> str:
    """name_zh or name_en (title_* for a source; publisher_* with `publisher`), as the page's language."""
    for prefix in ("name", "title"):
        zh, en = getattr(record, f"{prefix}_zh", None), getattr(record, f"{prefix}_en", None)
        if zh is not None or en is not None:
            return (zh or en) if _zh() else (en or zh)
    return str(record)


@register.filter
def other_name(record) -> str:
    """The name in the other language (shown beside the first, never a translation of our own)."""
    for prefix in ("name", "title"):
        zh, en = getattr(record, f"{prefix}_zh", None), getattr(record, f"{prefix}_en", None)
        if zh is not None or en is not None:
            return en if _zh() else zh
    return ""


@register.filter
def publisher(source) -> str:
    return (source.publisher_zh or source.publisher_en) if _zh() else (source.publisher_en or source.publisher_zh)


@register.filter
def number(value) -> str:
    return fmt(value) if isinstance(value, Decimal) else str(value)


@register.filter
def sign(comparator: str) -> str:
    return COMPARATOR_SIGN.get(comparator, "")


@register.simple_tag(takes_context=True)
def api_url(context, route: str, key=None) -> str:
    """The absolute URL of the REST representation (`api_url "indicator-detail" code`)."""
    kwargs = {"version": "v1", **({"key": str(key)} if key is not None else {})}
    path = reverse(f"v1:{route}", kwargs=kwargs)
    return context["request"].build_absolute_uri(path)


def changed(request, **changes) -> str:
    """The current query string with some parameters changed (None removes one), the page reset."""
    params = request.GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def facet_link(context, param: str, value) -> str:
    """Select this value of the filter, or unselect it when it is already selected."""
    request = context["request"]
    return changed(request, **{param: None if request.GET.get(param) == str(value) else str(value)})


@register.simple_tag(takes_context=True)
def year_link(context, year: str) -> str:
    request = context["request"]
    if request.GET.get("date_from") == year and request.GET.get("date_to") == year:
        return changed(request, date_from=None, date_to=None)
    return changed(request, date_from=year, date_to=year)


@register.simple_tag(takes_context=True)
def remove_link(context, param: str) -> str:
    return changed(context["request"], **{param: None})


@register.simple_tag(takes_context=True)
def page_link(context, number) -> str:
    link = changed(context["request"])
    return f"{link}{'&' if len(link) > 1 else ''}page={number}"


@register.simple_tag
def facet_label(param: str, value: dict) -> str:
    """A facet value's label: the record's name in the page's language, or the choice's label."""
    labels = value["labels"]
    if len(labels) == 2 and labels[0] != labels[1]:
        return (labels[1] or labels[0]) if _zh() else (labels[0] or labels[1])
    return label(value["value"])

# The choice values the pages show, in both languages (the models' labels are English).
LABELS = {
    "proposed": _("proposed"), "construction_started": _("construction started"),
    "under_construction": _("under construction"), "completed": _("completed"), "in_operation": _("in operation"),
    "actual": _("result"), "target": _("target"),
    "meeting": _("meeting"), "expo": _("expo"), "sports": _("sports"), "festival": _("festival"),
    "forum": _("forum"), "competition": _("competition"), "other": _("other"),
    "held": _("held"), "planned": _("planned"),
    "province": _("province"), "city": _("prefecture-level city"), "district": _("urban district"),
    "county_city": _("county-level city"), "county": _("county"), "development_zone": _("development zone"),
    "national_platform": _("national platform"),
    "true": _("yes"), "false": _("no"),
}


@register.filter
def label(value) -> str:
    return str(LABELS.get(str(value), value))


@register.filter
def last_of(rows):
    """The last of a prefetched list (a project's latest timeline statement)."""
    rows = list(rows)
    return rows[-1] if rows else None


@register.filter
def dated(value, precision: str = "day") -> str:
    """A date as precisely as it is known: `2019` (year), `2019-03` (month), `2019-03-08` (day), never
    a day the document did not state."""
    if not value:
        return ""
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()
