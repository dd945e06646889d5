"""Admin for data curators: sources (with their periods), citations, regions, topics and units, each
written through its services (opendata/catalogue/services.py)."""

import datetime as dt

from django import forms
from django.contrib import admin

from opendata.base.admin import PublicAdmin, ServiceForm
from opendata.catalogue import services
from opendata.catalogue.models import Citation, Region, Source, Topic, Unit


class SourceForm(ServiceForm):
    """A source with its periods, one a line (`2024-01-01 2024-12-31 2024年`): the periods are part of
    the source, written with it."""

    periods = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), required=False,
        help_text="The periods the source speaks of, one a line: start end label (2024-01-01 2024-12-31 2024年).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["periods"] = "\n".join(f"{p.start} {p.end} {p.label}" for p in self.instance.periods.all())

    def clean_periods(self):
        periods = []
        for n, line in enumerate(self.cleaned_data["periods"].splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split(maxsplit=2)
            try:
                start, end = dt.date.fromisoformat(parts[0]), dt.date.fromisoformat(parts[1])
            except (IndexError, ValueError):
                raise forms.ValidationError(f"line {n}: write `start end label` (2024-01-01 2024-12-31 2024年)") from None
            periods.append({"start": start, "end": end, "label": parts[2] if len(parts) > 2 else ""})
        return periods

    def service_data(self):
        data = super().service_data()
        if self.key is None or "periods" in self.changed_data:
            data["periods"] = self.cleaned_data["periods"]
        return data


@admin.register(Source)
class SourceAdmin(PublicAdmin):
    writes = services.SOURCE_WRITES
    form = SourceForm
    list_display = ("slug", "title_zh", "title_en", "date", "date_precision")
    search_fields = ("slug", "title_zh", "title_en", "publisher_zh", "publisher_en")
    readonly_fields = ("sha256",)


@admin.register(Citation)
class CitationAdmin(PublicAdmin):
    writes = services.CITATION_WRITES
    list_display = ("source", "offset", "quote", "garbled")
    list_filter = ("source", "garbled", "deleted_at")
    search_fields = ("quote", "source__slug")
    list_select_related = ("source",)
    readonly_fields = ("uid",)


@admin.register(Region)
class RegionAdmin(PublicAdmin):
    writes = services.REGION_WRITES
    list_display = ("code", "name_zh", "name_en", "kind", "parent")
    list_filter = ("kind", "deleted_at")
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("parent",)


@admin.register(Topic)
class TopicAdmin(PublicAdmin):
    writes = services.TOPIC_WRITES
    list_display = ("code", "name_zh", "name_en")
    search_fields = ("code", "name_zh", "name_en", "description")


@admin.register(Unit)
class UnitAdmin(PublicAdmin):
    writes = services.UNIT_WRITES
    list_display = ("symbol", "name_en", "base_unit", "factor")
    search_fields = ("symbol", "name_en", "base_unit")
