from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "indicators"

    def ready(self):
        from indicators import links  # noqa: F401 - registers the lists it adds to the catalogue's records
        from indicators import services  # noqa: F401 - registers the checks of observations when a source changes
