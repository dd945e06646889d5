from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    """Sources, citations, regions, topics and units.

    The label stays `opendata` (the app's label before it had a room of its own), so that its tables
    (`opendata_source`...) and its migration history are those every existing database already has."""

    name = "opendata.catalogue"
    label = "opendata"
    verbose_name = "Sources, regions and topics"
