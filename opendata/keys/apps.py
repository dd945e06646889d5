from django.apps import AppConfig


class KeysConfig(AppConfig):
    """API keys for internal systems: issued and revoked in the admin, stored hashed
    (djangorestframework-api-key), with a scope, a rate-limit tier and optionally the resources a
    write key may change. Read by `opendata.base.api.auth` through `settings.API_KEY_MODEL`."""

    name = "opendata.keys"
    label = "keys"
    verbose_name = "API keys"
