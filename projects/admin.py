"""Admin for projects (timeline listed), their status statements and events (with their
citations), written through their services (projects/services.py)."""

from django.contrib import admin

from opendata.base.admin import PublicAdmin, ReadOnlyInline
from projects import services
from projects.models import Event, EventSeries, Project, ProjectStatus


class ProjectStatusInline(ReadOnlyInline):
    model = ProjectStatus
    fields = ("status", "kind", "date_label", "date_start", "date_end", "date_precision")
    readonly_fields = fields


@admin.register(Project)
class ProjectAdmin(PublicAdmin):
    writes = services.PROJECT_WRITES
    list_display = ("slug", "name_zh", "name_en", "topic")
    list_filter = ("topic", "deleted_at")
    search_fields = ("slug", "name_zh", "name_en", "description")
    filter_horizontal = ("regions",)
    inlines = [ProjectStatusInline]


@admin.register(ProjectStatus)
class ProjectStatusAdmin(PublicAdmin):
    writes = services.PROJECT_STATUS_WRITES
    list_display = ("project", "status", "kind", "date_label")
    list_filter = ("status", "kind", "deleted_at")
    search_fields = ("project__slug", "project__name_zh", "project__name_en", "citations__quote")
    list_select_related = ("project",)
    autocomplete_fields = ("project", "citations")
    readonly_fields = ("uid",)


@admin.register(EventSeries)
class EventSeriesAdmin(PublicAdmin):
    writes = services.EVENT_SERIES_WRITES
    list_display = ("slug", "name_zh", "name_en")
    search_fields = ("slug", "name_zh", "name_en")


@admin.register(Event)
class EventAdmin(PublicAdmin):
    writes = services.EVENT_WRITES
    list_display = ("slug", "name_zh", "name_en", "kind", "start_date", "start_precision", "status", "region")
    list_filter = ("kind", "status", "series", "deleted_at")
    search_fields = ("slug", "name_zh", "name_en", "description", "series__name_zh", "series__name_en")
    list_select_related = ("region", "series")
    autocomplete_fields = ("series", "region", "project", "citations")
