"""Admin for data curators: sources, citations, regions, topics and units."""

from django.contrib import admin

from opendata.base.admin import PublicAdmin
from opendata.catalogue.models import Citation, Region, Source, SourcePeriod, Topic, Unit


class SourcePeriodInline(admin.TabularInline):
    model = SourcePeriod
    extra = 0


class CitationInline(admin.TabularInline):
    model = Citation
    extra = 0
    fields = ("quote", "offset", "garbled")
    readonly_fields = ("uid",)
    show_change_link = True


@admin.register(Source)
class SourceAdmin(PublicAdmin):
    list_display = ("slug", "title_zh", "title_en", "date", "date_precision")
    search_fields = ("slug", "title_zh", "title_en", "publisher_zh", "publisher_en")
    inlines = [SourcePeriodInline]
    readonly_fields = ("created_at", "updated_at", "sha256")


@admin.register(Citation)
class CitationAdmin(PublicAdmin):
    list_display = ("source", "offset", "quote", "garbled")
    list_filter = ("source", "garbled", "deleted_at")
    search_fields = ("quote", "source__slug")
    list_select_related = ("source",)
    readonly_fields = ("uid", "created_at", "updated_at")


@admin.register(Region)
class RegionAdmin(PublicAdmin):
    list_display = ("code", "name_zh", "name_en", "kind", "parent")
    list_filter = ("kind", "deleted_at")
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("parent",)


@admin.register(Topic)
class TopicAdmin(PublicAdmin):
    list_display = ("code", "name_zh", "name_en")
    search_fields = ("code", "name_zh", "name_en", "description")


@admin.register(Unit)
class UnitAdmin(PublicAdmin):
    list_display = ("symbol", "name_en", "base_unit", "factor")
    search_fields = ("symbol", "name_en", "base_unit")
