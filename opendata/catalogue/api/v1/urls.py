"""v1 routes of sources (with their text), regions (with their children), topics and units: read and write."""

from django.urls import path

from opendata.base.api.writes import write_routes
from opendata.catalogue.api.v1 import views

LIST = {"get": "list"}

urlpatterns = [
    *write_routes("sources", views.SourceViewSet, "source"),
    # The action's own initkwargs (its text/plain renderer), as a DRF router would pass them.
    path("sources/<str:key>/text/", views.SourceViewSet.as_view({"get": "text"}, **views.SourceViewSet.text.kwargs),
         name="source-text"),
    *write_routes("regions", views.RegionViewSet, "region"),
    path("regions/<str:key>/children/", views.RegionChildrenViewSet.as_view(LIST), name="region-children"),
    *write_routes("topics", views.TopicViewSet, "topic"),
    *write_routes("units", views.UnitViewSet, "unit"),
]
