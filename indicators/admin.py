"""Admin for indicators and observations (with their citations), written through their services
(indicators/services.py)."""

from django import forms
from django.contrib import admin

from indicators import services
from indicators.models import Indicator, Observation
from opendata.base.admin import PublicAdmin, ReadOnlyInline


class ObservationInline(ReadOnlyInline):
    model = Observation
    fields = ("region", "period_label", "period_start", "period_end", "kind", "comparator", "value", "unit")
    readonly_fields = fields


@admin.register(Indicator)
class IndicatorAdmin(PublicAdmin):
    writes = services.INDICATOR_WRITES
    list_display = ("code", "name_zh", "name_en", "unit", "topic")
    list_filter = ("topic", "deleted_at")
    search_fields = ("code", "name_zh", "name_en", "description")
    list_select_related = ("unit", "topic")
    inlines = [ObservationInline]


@admin.register(Observation)
class ObservationAdmin(PublicAdmin):
    writes = services.OBSERVATION_WRITES
    list_display = ("indicator", "region", "period_label", "kind", "comparator", "value", "unit")
    list_filter = ("kind", "comparator", "indicator__topic", "region", "deleted_at")
    search_fields = ("indicator__code", "indicator__name_zh", "indicator__name_en", "citations__quote")
    list_select_related = ("indicator", "region", "unit")
    autocomplete_fields = ("indicator", "region", "citations")
    readonly_fields = ("uid",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "preferred":  # a choice, not a checkbox: a form without it keeps the default (yes)
            return forms.TypedChoiceField(
                choices=[(True, "yes: the figure mrv and the targets read"), (False, "no: a disputed alternative")],
                coerce=lambda v: v in (True, "True", "true", "on", "1"), empty_value=True, required=False,
                initial=True, help_text="Sources disagree: set disputed, a note, and which figure is preferred.")
        if db_field.name == "measure":  # optional in the form: a form without it keeps the default (level)
            return forms.TypedChoiceField(choices=Observation.Measure.choices, required=False,
                                          empty_value=Observation.Measure.LEVEL, initial=Observation.Measure.LEVEL,
                                          help_text="What the value of the period states (docs/fixtures.md).")
        return super().formfield_for_dbfield(db_field, request, **kwargs)
