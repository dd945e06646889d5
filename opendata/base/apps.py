from django.apps import AppConfig


class BaseConfig(AppConfig):
    """The shared base every app builds on: installed for its one model (the change log, `Change`),
    its templates and static files (GraphiQL, Redoc)."""

    name = "opendata.base"
    label = "opendata_base"
    verbose_name = "Shared base"
