"""The admin every app's curators share: every save, soft deletion and restore goes through the
resource's write services (so the same rules apply as everywhere, and each change is in the change
log with the curator's username as its actor); timestamps read-only; the change log itself,
read-only.

- A curator's form is checked by the services before anything is saved (a dry run,
  `opendata.base.services.dry_run`): their errors show on the form, on the field they name.
- Nothing is deleted for real: the delete button and the "delete selected" action are gone (a
  record's deletion is a soft deletion, which syncing clients must learn of); the actions
  "Soft-delete" and "Restore" go through the services, which refuse to delete what live records
  still use.
- Records listed under another (an indicator's observations) are edited on their own page, through
  their own services: those inlines are read-only.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.html import format_html, format_html_join

from opendata.base.models import Change
from opendata.base.services import WriteError, Writes, dry_run
from opendata.base.snapshots import BOOKKEEPING


class ServiceForm(forms.ModelForm):
    """A curator's form, validated and saved through the resource's services."""

    admin: PublicAdmin
    request = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key = self.instance.public_id if self.instance.pk else None
        self.data_for_services: dict = {}

    def service_data(self) -> dict:
        """What the form changes, for the services: the changed fields (every field of a new record);
        a reference as the record itself, a many-to-many field as a list of records."""
        names = [n for n in self.fields if n in self.cleaned_data and (self.key is None or n in self.changed_data)]
        model_fields = {f.name for f in self._meta.model._meta.get_fields()}
        data = {}
        for name in names:
            if name not in model_fields:
                continue
            value = self.cleaned_data[name]
            data[name] = list(value) if isinstance(value, QuerySet) else value
        return data

    def write(self):
        writes, actor = self.admin.writes, self.request.user.get_username()
        if self.key is None:
            return writes.create(data=self.data_for_services, actor=actor)
        return writes.update(key=self.key, data=self.data_for_services, actor=actor)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self.data_for_services = self.service_data()
        if self.key is not None and not self.data_for_services:
            return cleaned
        for error in dry_run(self.write):
            name = error["field"].split(".")[0].split("[")[0].split(",")[0]
            if name in self.fields and name not in self.errors:
                self.add_error(name, error["message"])
            else:
                self.add_error(None, f"{error['field']}: {error['message']}")
        return cleaned


class ReadOnlyInline(admin.TabularInline):
    """Records listed under another, each edited on its own page (through its own services)."""

    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PublicAdmin(admin.ModelAdmin):
    """Shared admin behaviour: writes through the services, soft-deleted records visible and
    filterable, timestamps read-only."""

    writes: Writes | None = None  # the resource's services (each app's services.py)
    form = ServiceForm
    readonly_fields: tuple = ()
    list_filter: tuple = ("deleted_at",)
    actions = ["soft_delete", "restore"]

    def get_readonly_fields(self, request, obj=None):
        fixed = (self.writes.fixed if obj is not None and self.writes else ())
        fields = [*super().get_readonly_fields(request, obj), *fixed, *BOOKKEEPING]
        return tuple(dict.fromkeys(fields))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"admin": self, "request": request})

    def save_model(self, request, obj, form, change):
        if not form.data_for_services and change:
            return
        record = form.write().record
        for field in obj._meta.concrete_fields:  # the admin goes on with the record as written
            setattr(obj, field.attname, getattr(record, field.attname))
        obj._state.adding, obj._state.db = False, record._state.db

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields were written by the services with the record; inlines are read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def has_delete_permission(self, request, obj=None):
        return False  # soft deletion only: the actions below

    def _each(self, request, queryset, verb: str, done: str):
        actor, ok, refused = request.user.get_username(), 0, []
        for obj in queryset:
            try:
                write = getattr(self.writes, verb)(key=obj.public_id, actor=actor)
            except WriteError as exc:
                refused.append(f"{obj.public_id}: {exc}")
                continue
            ok += write.change is not None
        if ok:
            self.message_user(request, f"{ok} {done}.", messages.SUCCESS)
        for problem in refused:
            self.message_user(request, f"Not {done}: {problem}", messages.ERROR)

    @admin.action(description="Soft-delete (leaves the API, stays in the database)")
    def soft_delete(self, request, queryset):
        self._each(request, queryset, "delete", "soft-deleted")

    @admin.action(description="Restore soft-deleted records")
    def restore(self, request, queryset):
        self._each(request, queryset, "restore", "restored")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    """The change log: who changed what and when, with the record before and after. Read-only."""

    list_display = ("id", "at", "resource", "key", "operation", "actor")
    list_filter = ("resource", "operation", "actor")
    search_fields = ("key", "actor")
    ordering = ("-id",)
    date_hierarchy = "at"
    fields = ("at", "actor", "resource", "key", "operation", "txid", "diff", "before_json", "after_json")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Changed fields")
    def diff(self, obj: Change):
        before = obj.before or {}
        names = [n for n in obj.after if n not in before or before[n] != obj.after[n]]
        if not names:
            return "-"
        rows = format_html_join("", "<tr><th>{}</th><td><pre>{}</pre></td><td><pre>{}</pre></td></tr>",
                                ((n, _json(before.get(n)) if obj.before is not None else "", _json(obj.after[n]))
                                 for n in names))
        return format_html("<table><thead><tr><th>field</th><th>before</th><th>after</th></tr></thead>"
                           "<tbody>{}</tbody></table>", rows)

    @admin.display(description="Before")
    def before_json(self, obj: Change):
        return format_html("<pre>{}</pre>", _json(obj.before)) if obj.before is not None else "-"

    @admin.display(description="After")
    def after_json(self, obj: Change):
        return format_html("<pre>{}</pre>", _json(obj.after))
