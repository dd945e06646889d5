from django.apps import AppConfig


class LoaderConfig(AppConfig):
    """Reads fixtures/, validates them and syncs them into every app's tables (`load_opendata`,
    `data_report`)."""

    name = "opendata.loader"
    label = "loader"
    verbose_name = "Fixture loader"
