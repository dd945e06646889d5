from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "opendata.pages"
    label = "pages"
    verbose_name = "Pages"
