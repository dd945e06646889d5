"""The admin every app's curators share: soft deletion and restoring, timestamps read-only."""

from django.contrib import admin

from opendata.base.services import record_restore, record_soft_delete


class PublicAdmin(admin.ModelAdmin):
    """Shared admin behaviour: timestamps read-only, soft-deleted records visible and filterable."""

    readonly_fields = ("created_at", "updated_at")
    list_filter: tuple = ("deleted_at",)
    actions = ["soft_delete", "restore"]

    @admin.action(description="Soft-delete (leaves the API, stays in the database)")
    def soft_delete(self, request, queryset):
        for obj in queryset:
            record_soft_delete(record=obj)

    @admin.action(description="Restore soft-deleted records")
    def restore(self, request, queryset):
        for obj in queryset:
            record_restore(record=obj)
