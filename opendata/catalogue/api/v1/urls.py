"""v1 routes of sources (with their text), regions (with their children), topics and units."""

from django.urls import path

from opendata.catalogue.api.v1 import views

LIST, DETAIL = {"get": "list"}, {"get": "retrieve"}

urlpatterns = [
    path("sources/", views.SourceViewSet.as_view(LIST), name="source-list"),
    path("sources/<str:key>/", views.SourceViewSet.as_view(DETAIL), name="source-detail"),
    # The action's own initkwargs (its text/plain renderer), as a DRF router would pass them.
    path("sources/<str:key>/text/", views.SourceViewSet.as_view({"get": "text"}, **views.SourceViewSet.text.kwargs),
         name="source-text"),
    path("regions/", views.RegionViewSet.as_view(LIST), name="region-list"),
    path("regions/<str:key>/", views.RegionViewSet.as_view(DETAIL), name="region-detail"),
    path("regions/<str:key>/children/", views.RegionChildrenViewSet.as_view(LIST), name="region-children"),
    path("topics/", views.TopicViewSet.as_view(LIST), name="topic-list"),
    path("topics/<str:key>/", views.TopicViewSet.as_view(DETAIL), name="topic-detail"),
    path("units/", views.UnitViewSet.as_view(LIST), name="unit-list"),
    path("units/<str:key>/", views.UnitViewSet.as_view(DETAIL), name="unit-detail"),
]
