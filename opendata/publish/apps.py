from django.apps import AppConfig


class PublishConfig(AppConfig):
    """What the API publishes beside itself: the data dictionary, the bulk downloads and the DCAT-AP
    catalogue (docs/downloads.md, docs/catalogue.md)."""

    name = "opendata.publish"
    label = "publish"
    verbose_name = "Publication"
