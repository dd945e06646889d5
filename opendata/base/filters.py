"""Filter building blocks shared by every resource's FilterSet (and so by REST and GraphQL).

Filter logic lives in functions that return `Q` objects, so that the FilterSets stay declarative
and the rules could be reused outside django-filter.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.http import QueryDict
from django.db.models import Exists, F, OuterRef, Q

MAX_LIST_VALUES = 100
CODE_PATTERN = r"[A-Za-z0-9_-]{1,150}"  # a code or slug, in REST lists and GraphQL's Code scalar
CODE = re.compile(CODE_PATTERN)
YEAR_OR_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}-[0-9]{2})?")
INTEGER = re.compile(r"[0-9]{1,9}")
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")  # C0 controls and DEL: no parameter of this API takes one


def control_character(text: str) -> str | None:
    """The first control character of `text`, as `U+0000`, or None. REST and GraphQL refuse any
    parameter, path key, cursor or argument holding one."""
    found = CONTROL_CHARACTER.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


class CodeListField(forms.CharField):
    """Comma-separated list of codes or slugs: `gdp,gdp-growth` (no spaces, no empty item)."""

    def __init__(self, *args, **kwargs):
        kwargs["strip"] = False  # a space is refused, not trimmed: the value is read exactly
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        items = value.split(",")
        if len(items) > MAX_LIST_VALUES:
            raise ValidationError(f"At most {MAX_LIST_VALUES} values are allowed, got {len(items)}.")
        bad = [v for v in items if not CODE.fullmatch(v)]
        if bad:
            raise ValidationError(f"{bad[0]!r} is not a code: use 1 to 150 letters, digits, '-' and '_', "
                                  "separated by commas without spaces.")
        return items


class CodeListFilter(django_filters.Filter):
    """Matches any of the given codes; `field_name` is the lookup path to the code."""

    field_class = CodeListField

    def filter(self, qs, value):
        if not value:
            return qs
        path, target = self.related_key(qs.model)
        if target is not None:
            # Codes of a related record (`indicator__code`) are read as its ids first (one small query on a
            # unique index): filtering the rows by `indicator_id` lets the database read a page in index order,
            # where a join on the code made it read and sort every row of the indicator (issue 13).
            ids = list(target._base_manager.filter(**{f"{self.key_name}__in": value}).values_list("pk", flat=True))
            return qs.filter(**{f"{path}__in": ids})
        return qs.filter(**{f"{self.field_name}__in": value})

    @property
    def key_name(self) -> str:
        return self.field_name.rpartition("__")[2]

    def related_key(self, model) -> tuple[str, type | None]:
        """(`indicator`, Indicator) when `field_name` is a unique field of a record reached by foreign keys
        (`indicator__code`), else ("", None)."""
        path, _, name = self.field_name.rpartition("__")
        if not path:
            return "", None
        for part in path.split("__"):
            field = model._meta.get_field(part)
            if not (field.concrete and (field.many_to_one or field.one_to_one)):
                return "", None
            model = field.related_model
        return (path, model) if model._meta.get_field(name).unique else ("", None)


class PeriodBoundField(forms.CharField):
    """A year (`2024`) or a date (`2024-06-30`). As a lower bound a year means 1 January, as an
    upper bound 31 December."""

    def __init__(self, *args, upper: bool = False, **kwargs):
        self.upper = upper
        kwargs["strip"] = False
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        return period_bound(value, upper=self.upper)


def period_bound(value: str, *, upper: bool = False) -> dt.date:
    """A year (`2024`: 1 January, or 31 December as an upper bound) or a date (`2024-06-30`), in
    exactly these forms (no spaces, no other ISO 8601 form)."""
    try:
        if not YEAR_OR_DATE.fullmatch(value):
            raise ValueError
        if len(value) == 4:
            year = int(value)
            return dt.date(year, 12, 31) if upper else dt.date(year, 1, 1)
        return dt.date.fromisoformat(value)
    except ValueError:  # also year 0000, which no calendar date has
        raise ValidationError(f"{value!r} is not a year (YYYY) or a date (YYYY-MM-DD).") from None


class PeriodBoundFilter(django_filters.Filter):
    field_class = PeriodBoundField

    def __init__(self, *args, upper: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra["upper"] = upper


class StrictBooleanField(forms.Field):
    """Exactly `true` or `false`; anything else (`1`, `yes`, `True`) is an error, never silently read."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise ValidationError(f"{value!r} is not a boolean: use true or false.")


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class StrictIntegerField(forms.Field):
    """An integer in decimal digits only (no sign, space or decimal point), within its bounds."""

    def __init__(self, *args, min_value: int, max_value: int, **kwargs):
        self.min_value, self.max_value = min_value, max_value
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and INTEGER.fullmatch(value):
            number = int(value)
        else:
            number = None
        if number is None or not self.min_value <= number <= self.max_value:
            raise ValidationError(f"{value!r} is not a whole number from {self.min_value} to {self.max_value}.")
        return number


class StrictIntegerFilter(django_filters.Filter):
    field_class = StrictIntegerField

    def __init__(self, *args, min_value: int, max_value: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra.update(min_value=min_value, max_value=max_value)

    @property
    def bounds(self) -> tuple[int, int]:
        return self.extra["min_value"], self.extra["max_value"]


class StrictChoiceFilter(django_filters.ChoiceFilter):
    """A choice among a model enum's values (`choices=Observation.Kind`), whose error names them.
    GraphQL makes the enum (its name: the choices class's) an enum type of the same values."""

    def __init__(self, *args, choices: type[models.Choices], **kwargs):
        self.choices_class = choices
        allowed = ", ".join(choices.values)
        kwargs.setdefault("error_messages", {"invalid_choice": f"%(value)s is not one of: {allowed}."})
        super().__init__(*args, choices=choices.choices, **kwargs)


class SearchFilter(django_filters.CharFilter):
    """`q`: free-text search over `fields` (see text_search_q)."""

    def __init__(self, *args, fields: tuple[str, ...], **kwargs):
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)
        self.search_fields = fields

    def filter(self, qs, value):
        return qs.filter(text_search_q(value, self.search_fields)) if value else qs


#: A term written in Latin letters and digits (an English word, a code): matched as a whole word.
WORD_TERM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def text_search_q(value: str, fields: tuple[str, ...]) -> Q:
    """`q`: alternatives separated by `|` (`地铁|轨道`: either), each a list of whitespace-separated terms
    that must all occur in at least one of `fields`, case-insensitively. A term in Chinese (or any term
    with a character outside Latin letters and digits) matches as a substring, so 汽车 finds 新能源汽车; a
    term in Latin letters and digits matches a whole word: `metro` finds "Metro Line 6" and
    `changchun-metro-line-6`, not "Metropolitan Area". At most 10 terms in all."""
    q, budget = Q(), 10
    for alternative in value.split("|"):
        terms = alternative.split()[:budget]
        budget -= len(terms)
        if not terms:
            continue
        all_terms = Q()
        for term in terms:
            if WORD_TERM_RE.match(term) and any(ch.isalpha() for ch in term):
                # One regular expression both databases read alike (POSIX on PostgreSQL, `re` on SQLite).
                lookup, wanted = "iregex", rf"(^|[^a-z0-9]){re.escape(term.lower())}([^a-z0-9]|$)"
            else:
                lookup, wanted = "icontains", term
            term_q = Q()
            for f in fields:
                term_q |= Q(**{f"{f}__{lookup}": wanted})
            all_terms &= term_q
        q |= all_terms
    return q


def descendants_ids(model, codes: list[str]) -> list[int]:
    """Ids of the named records of a tree (`parent`, `code`) and of all records below them (one query:
    such trees are small)."""
    rows = list(model.objects.alive().values_list("id", "code", "parent_id"))
    children: dict[int | None, list[int]] = {}
    for pk, _code, parent in rows:
        children.setdefault(parent, []).append(pk)
    wanted = [pk for pk, code, _ in rows if code in set(codes)]
    seen: set[int] = set()
    while wanted:
        pk = wanted.pop()
        if pk not in seen:
            seen.add(pk)
            wanted.extend(children.get(pk, []))
    return sorted(seen)


class UTCDateTimeField(forms.CharField):
    """An ISO 8601 date-time with its offset (`Z` or `+08:00`). An offset whose `+` arrived as a space
    (pasted unencoded into a URL) is read as `+`; a date-time without an offset is refused rather than
    read in some time zone."""

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        return moment(value)


def moment(value: str) -> dt.datetime:
    """An ISO 8601 date-time with its offset (REST's `updated_since`, GraphQL's DateTime arguments)."""
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    try:
        found = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValidationError(f"{value!r} is not an ISO 8601 date-time, e.g. 2025-01-01T00:00:00Z.") from None
    if found.tzinfo is None:
        raise ValidationError(f"{value!r} has no time zone: end it with Z (UTC) or an offset such as +08:00.")
    return found


class UTCDateTimeFilter(django_filters.Filter):
    field_class = UTCDateTimeField


class _SharedFields(dict):
    """A form class's fields, copied shallowly by each form (Django's Form deep-copies `base_fields` on every
    instance: widgets, validators, choices, a third of a FilterSet's cost per request). Cleaning a value reads
    a field and never changes it; each form still gets its own dict and its own copy of each field."""

    def __deepcopy__(self, memo):
        return {name: copy.copy(f) for name, f in self.items()}


class PublicFilterSet(django_filters.FilterSet):
    """Base for every resource: change tracking for syncing clients and soft-deleted records.

    By default only live records are listed. `updated_since` returns what changed after a moment;
    with `include_deleted=true` it also returns records deleted since then (their `deleted_at` set),
    so that a syncing client learns of deletions.
    """

    sorting: Sorting  # each resource's FilterSet declares how it can be sorted

    updated_since = UTCDateTimeFilter(
        field_name="updated_at", lookup_expr="gte",
        help_text="Only records changed at or after this ISO 8601 date-time (e.g. 2025-01-01T00:00:00Z): "
                  "pass the `updated_at` of the last record you received.",
    )
    include_deleted = StrictBooleanFilter(
        method="filter_include_deleted",
        help_text="Also return soft-deleted records (with `deleted_at` set). Use with `updated_since` to sync deletions.",
    )

    def filter_include_deleted(self, qs, name, value):
        return qs  # applied in filter_queryset, which also covers the parameter being absent

    @classmethod
    def ranges(cls) -> list[tuple[str, str]]:
        """The (lower, upper) bounds of a range: `<x>_from` and `<x>_to` period filters."""
        return [(name, f"{name[:-5]}_to") for name, f in cls.base_filters.items()
                if name.endswith("_from") and isinstance(f, PeriodBoundFilter)
                and isinstance(cls.base_filters.get(f"{name[:-5]}_to"), PeriodBoundFilter)]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # django-filter deep-copies every declared filter for each FilterSet (15 for observations, on every
        # request); a shallow copy per filter is what an instance needs: its own `parent` and `model`.
        self.is_bound = data is not None
        self.data = data or QueryDict()
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = OrderedDict((name, copy.copy(f)) for name, f in self.base_filters.items())
        for filter_ in self.filters.values():
            filter_.model = queryset.model
            filter_.parent = self
            if filter_.method is not None:
                filter_.method = filter_.method  # its FilterMethod bound to this copy, not to the declared filter

    def get_form_class(self):
        """The FilterSet's form, built once per FilterSet class (its fields depend on the class only)."""
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = self.build_form_class()
            cls._form_class = form_class
        return form_class

    def build_form_class(self):
        """The form, which also refuses a range whose lower bound is after its upper bound
        (`period_from=2026&period_to=2020` selects nothing, surely not what was meant)."""
        ranges = self.ranges()

        def clean(form):
            cleaned = forms.Form.clean(form)
            for low, high in ranges:
                start, end = cleaned.get(low), cleaned.get(high)
                if start is not None and end is not None and start > end:
                    form.add_error(low, f"{low} ({form.data.get(low)}) is after {high} ({form.data.get(high)}): "
                                        f"give the earlier bound as {low}.")
            return cleaned

        form_class = super().get_form_class()
        built = type(form_class.__name__, (form_class,), {"clean": clean})
        built.base_fields = _SharedFields(built.base_fields)
        return built

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_deleted"):
            queryset = queryset.filter(deleted_at__isnull=True)
        return queryset


# -- sorting ---------------------------------------------------------------------------------------

class InvalidSort(ValueError):
    """An `ordering` (REST) or `orderBy` (GraphQL) the resource does not offer; the message says
    what it does offer."""


@dataclass(frozen=True)
class SortKey:
    public: str       # name in `ordering` / `orderBy` ("" for the hidden tie-breaker)
    attr: str         # model attribute or lookup path (a non-null column)
    descending: bool

    def order_expr(self, reverse: bool = False):
        desc = self.descending != reverse
        return F(self.attr).desc() if desc else F(self.attr).asc()


@dataclass(frozen=True)
class Sorting:
    """How a resource can be sorted: public names -> model fields, and the default order.

    Declared once per resource, on its FilterSet (`sorting = Sorting(...)`), and read by REST's
    keyset pagination and by GraphQL's connections alike. Every order ends with the primary key in
    the direction of the last key, so that it is total and a cursor names exactly one position."""

    fields: dict[str, str]
    default: tuple[str, ...]
    extra: dict[str, str] = field(default_factory=dict)  # accepted but not advertised (none yet)

    def with_default(self, *default: str) -> Sorting:
        """The same fields with another default order (a nested collection's natural order)."""
        return replace(self, default=default)

    def parse(self, items: Iterable[str] | str | None) -> tuple[str, list[SortKey]]:
        """(the canonical ordering text, the sort keys with the tie-breaker) of `items`: a list of
        names or one comma-separated text, `-` before a name for descending; empty: the default."""
        if isinstance(items, str):
            items = items.split(",")
        items = list(items or ()) or list(self.default)
        keys: list[SortKey] = []
        for item in items:
            name = item.removeprefix("-")
            if name not in self.fields:
                raise InvalidSort(f"{name!r} is not a sort field; use one of: {', '.join(sorted(self.fields))} "
                                  f"(prefix with '-' for descending).")
            if any(k.public == name for k in keys):
                raise InvalidSort(f"{name!r} is given twice.")
            keys.append(SortKey(name, self.fields[name], item.startswith("-")))
        if not keys:
            raise InvalidSort("Give at least one sort field.")
        keys.append(SortKey("", "pk", keys[-1].descending))
        return ",".join(("-" if k.descending else "") + k.public for k in keys if k.public), keys

    def describe(self) -> str:
        return (f"Sort by {', '.join(self.fields)} (`-` before a field: descending). "
                f"Default: {', '.join(self.default)}.")


# -- "cites this source" ---------------------------------------------------------------------------

class CitesSource:
    """The one rule of "records citing a source": a record cites a source when one of its *live*
    citations quotes it (a soft-deleted citation no longer states anything).

    `citations` is the citing model's many-to-many to Citation (`Observation.citations`); with `via`
    (a foreign key of the citing model: `indicator` on Observation), the filtered records are the ones
    that citing records point to, and those citing records must be live too."""

    def __init__(self, citations, *, via: str | None = None):
        self.citations, self.via = citations, via

    @property
    def _through(self):
        return self.citations.through

    @property
    def _owner(self) -> str:  # the through table's column of the citing record ("observation")
        return self.citations.field.m2m_field_name()

    @property
    def _citation(self) -> str:  # its column of the citation ("citation")
        return self.citations.field.m2m_reverse_field_name()

    def q(self, slugs: list[str], *, include_deleted: bool = False) -> Q:
        """Records citing any of the sources `slugs` (for a FilterSet's `source` filter).

        With `include_deleted` (a syncing client asking for deletions too), a soft-deleted record also
        counts when its citation of the source was withdrawn with it: an observation deleted together
        with its citation still tells the client it left the source's collection."""
        live = {f"{self._citation}__source__slug__in": slugs, f"{self._citation}__deleted_at__isnull": True}
        if self.via is None:
            live[f"{self._owner}_id"] = OuterRef("pk")
        else:
            live[f"{self._owner}__{self.via}_id"] = OuterRef("pk")
            live[f"{self._owner}__deleted_at__isnull"] = True
        q = Q(Exists(self._through.objects.filter(**live)))
        if include_deleted:
            cited = {f"{self._citation}__source__slug__in": slugs}
            if self.via is None:
                cited[f"{self._owner}_id"] = OuterRef("pk")
            else:
                cited[f"{self._owner}__{self.via}_id"] = OuterRef("pk")
            q |= Q(deleted_at__isnull=False) & Q(Exists(self._through.objects.filter(**cited)))
        return q

    def per_source(self, queryset, source_ids: Iterable[int]):
        """The rows of `queryset` (citing records) citing any of these sources, each annotated with
        `_source_id`, once per source it cites: the records of many sources in one query (GraphQL's
        `Source.observations` for a page of sources)."""
        assert self.via is None, "loading per source goes through the citing records themselves"
        relation = self.citations.field.name  # "citations", from the citing model
        return (
            queryset.filter(**{f"{relation}__source_id__in": list(source_ids), f"{relation}__deleted_at__isnull": True})
            .annotate(_source_id=F(f"{relation}__source_id"))
            .distinct()
        )


class CitesSourceFilter(CodeListFilter):
    """`source`: records citing any of these source slugs, by the rule `cites` (a CitesSource)."""

    def __init__(self, cites: CitesSource, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cites = cites

    def filter(self, qs, value):
        if not value:
            return qs
        include_deleted = bool(self.parent.form.cleaned_data.get("include_deleted"))
        return qs.filter(self.cites.q(value, include_deleted=include_deleted))
