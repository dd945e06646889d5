"""Admin for indicators and observations, with citations inline."""

from django.contrib import admin

from indicators.models import Indicator, Observation
from opendata.base.admin import PublicAdmin


class ObservationCitationInline(admin.TabularInline):
    model = Observation.citations.through
    extra = 0
    autocomplete_fields = ("citation",)
    verbose_name = "citation"
    verbose_name_plural = "citations (verbatim quotes of the sources)"


class ObservationInline(admin.TabularInline):
    model = Observation
    extra = 0
    fields = ("region", "period_label", "period_start", "period_end", "kind", "comparator", "value", "unit")
    show_change_link = True


@admin.register(Indicator)
class IndicatorAdmin(PublicAdmin):
    list_display = ("code", "name_zh", "name_en", "unit", "topic")
    list_filter = ("topic", "deleted_at")
    search_fields = ("code", "name_zh", "name_en", "description")
    list_select_related = ("unit", "topic")
    inlines = [ObservationInline]


@admin.register(Observation)
class ObservationAdmin(PublicAdmin):
    list_display = ("indicator", "region", "period_label", "kind", "comparator", "value", "unit")
    list_filter = ("kind", "comparator", "indicator__topic", "region", "deleted_at")
    search_fields = ("indicator__code", "indicator__name_zh", "indicator__name_en", "citations__quote")
    list_select_related = ("indicator", "region", "unit")
    autocomplete_fields = ("indicator", "region")
    readonly_fields = ("uid", "created_at", "updated_at")
    exclude = ("citations",)
    inlines = [ObservationCitationInline]
