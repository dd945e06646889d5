"""Admin for projects (timeline inline), their status statements and events (citations inline)."""

from django.contrib import admin

from opendata.base.admin import PublicAdmin
from projects.models import Event, EventSeries, Project, ProjectStatus


class ProjectStatusInline(admin.TabularInline):
    model = ProjectStatus
    extra = 0
    fields = ("status", "kind", "date_label", "date_start", "date_end", "date_precision")
    show_change_link = True


class ProjectStatusCitationInline(admin.TabularInline):
    model = ProjectStatus.citations.through
    extra = 0
    autocomplete_fields = ("citation",)
    verbose_name = "citation"
    verbose_name_plural = "citations (verbatim quotes of the sources)"


class EventCitationInline(admin.TabularInline):
    model = Event.citations.through
    extra = 0
    autocomplete_fields = ("citation",)
    verbose_name = "citation"
    verbose_name_plural = "citations (verbatim quotes of the sources)"


@admin.register(Project)
class ProjectAdmin(PublicAdmin):
    list_display = ("slug", "name_zh", "name_en", "topic")
    list_filter = ("topic", "deleted_at")
    search_fields = ("slug", "name_zh", "name_en", "description")
    filter_horizontal = ("regions",)
    inlines = [ProjectStatusInline]


@admin.register(ProjectStatus)
class ProjectStatusAdmin(PublicAdmin):
    list_display = ("project", "status", "kind", "date_label")
    list_filter = ("status", "kind", "deleted_at")
    search_fields = ("project__slug", "project__name_zh", "project__name_en", "citations__quote")
    list_select_related = ("project",)
    autocomplete_fields = ("project",)
    readonly_fields = ("uid", "created_at", "updated_at")
    exclude = ("citations",)
    inlines = [ProjectStatusCitationInline]


@admin.register(EventSeries)
class EventSeriesAdmin(PublicAdmin):
    list_display = ("slug", "name_zh", "name_en")
    search_fields = ("slug", "name_zh", "name_en")


@admin.register(Event)
class EventAdmin(PublicAdmin):
    list_display = ("slug", "name_zh", "name_en", "kind", "start_date", "start_precision", "status", "region")
    list_filter = ("kind", "status", "series", "deleted_at")
    search_fields = ("slug", "name_zh", "name_en", "description", "series__name_zh", "series__name_en")
    list_select_related = ("region", "series")
    autocomplete_fields = ("series", "region", "project")
    exclude = ("citations",)
    inlines = [EventCitationInline]
