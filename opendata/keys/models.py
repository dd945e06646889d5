"""API keys for internal systems (`Authorization: Bearer <key>`).

The key itself is `<prefix>.<secret>`; the database keeps the prefix (its public identifier, shown in
the admin and in logs) and a SHA-512 hash of the whole key, never the key: the admin shows it once,
when it is created (djangorestframework-api-key's `AbstractAPIKey` and `APIKeyModelAdmin`).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

RESOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Scope(models.TextChoices):
    READ = "read", "read"
    WRITE = "write", "read and write"


def key_tiers() -> list[str]:
    """The rate-limit tiers a key may have: every tier of settings.API_RATE_LIMITS but `anonymous`."""
    return [tier for tier in settings.API_RATE_LIMITS if tier != "anonymous"]


def split_resources(raw: str) -> list[str]:
    return [name.strip().lower() for name in re.split(r"[,\s]+", raw or "") if name.strip()]


class ApiKey(AbstractAPIKey):
    Scope = Scope

    scope = models.CharField(
        max_length=8, choices=Scope.choices, default=Scope.READ,
        help_text="read: reads only (a key's own rate limit); write: reads and writes.")
    resources = models.CharField(
        max_length=500, blank=True, default="",
        help_text="Write keys only: the collections this key may change, comma-separated as in the URL "
                  "(e.g. observations, projects). Empty: every collection.")
    tier = models.CharField(
        max_length=32, default="standard",
        help_text="The rate limit this key counts against (settings.API_RATE_LIMITS).")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    @property
    def resource_names(self) -> frozenset[str]:
        return frozenset(split_resources(self.resources))

    def clean(self) -> None:
        super().clean()
        errors = {}
        names = split_resources(self.resources)
        if bad := [n for n in names if not RESOURCE_NAME.match(n)]:
            errors["resources"] = f"Not a collection name: {', '.join(bad)} (lowercase letters, digits, _)."
        elif names and self.scope != Scope.WRITE:
            errors["resources"] = "Only a write key is limited to resources; a read key reads every collection."
        self.resources = ", ".join(dict.fromkeys(names))
        if self.tier not in key_tiers():
            errors["tier"] = f"Unknown tier {self.tier!r}; tiers: {', '.join(key_tiers())}."
        if errors:
            raise ValidationError(errors)
