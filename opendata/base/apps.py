from django.apps import AppConfig


class BaseConfig(AppConfig):
    """The shared base every app builds on (no models of its own): installed for its templates and
    static files (GraphiQL, Redoc)."""

    name = "opendata.base"
    label = "opendata_base"
    verbose_name = "Shared base"
