"""Issuing and revoking API keys. The library's admin creates the key, stores only its hash and
shows the key once, in the message after saving; revoking cannot be undone."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from opendata.keys.models import ApiKey, key_tiers

# The library registers its own concrete model; this project's keys are ApiKey (scope, tier, resources).
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class ApiKeyForm(forms.ModelForm):
    tier = forms.ChoiceField(help_text=ApiKey._meta.get_field("tier").help_text)

    class Meta:
        model = ApiKey
        fields = ("name", "scope", "resources", "tier", "expiry_date", "revoked")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "tier" not in self.fields:  # read-only: the key is revoked
            return
        tiers = key_tiers()
        current = self.instance.tier if self.instance and self.instance.pk else None
        if current and current not in tiers:
            tiers.append(current)  # shown as it is; saving asks for a tier that exists
        self.fields["tier"].choices = [(t, f"{t} ({settings.API_RATE_LIMITS.get(t, 'unknown tier')})") for t in tiers]
        self.fields["tier"].initial = settings.API_KEY_DEFAULT_TIER


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    form = ApiKeyForm
    list_display = ("prefix", "name", "scope", "resources", "tier", "created", "expiry_date", "_has_expired",
                    "revoked")
    list_filter = ("scope", "tier", "revoked", "created")
    search_fields = ("name", "prefix")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.revoked:
            fields += ("scope", "resources", "tier")
        return fields
