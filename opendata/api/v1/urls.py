"""The v1 URL map: the API root, the catalogue routes, each app's v1 routes, the OpenAPI documents."""

from django.urls import include, path
from django.views.decorators.http import condition
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from opendata.api.v1 import views
from opendata.api.views import RootView, static_etag, static_last_modified

LIST, DETAIL = {"get": "list"}, {"get": "retrieve"}


def cached(view):
    """The documents change only with the code: validators from the process start time."""
    return condition(etag_func=static_etag, last_modified_func=static_last_modified)(view)


RootView.collections = {
    "sources": "source-list",
    "regions": "region-list",
    "topics": "topic-list",
    "units": "unit-list",
    "indicators": "indicator-list",
    "observations": "observation-list",
    "projects": "project-list",
    "project_statuses": "project-status-list",
    "events": "event-list",
    "event_series": "event-series-list",
}

urlpatterns = [
    path("", RootView.as_view(), name="api-root"),
    path("sources/", views.SourceViewSet.as_view(LIST), name="source-list"),
    path("sources/<str:key>/", views.SourceViewSet.as_view(DETAIL), name="source-detail"),
    path("sources/<str:key>/text/", views.SourceViewSet.as_view({"get": "text"}), name="source-text"),
    path("regions/", views.RegionViewSet.as_view(LIST), name="region-list"),
    path("regions/<str:key>/", views.RegionViewSet.as_view(DETAIL), name="region-detail"),
    path("regions/<str:key>/children/", views.RegionChildrenViewSet.as_view(LIST), name="region-children"),
    path("topics/", views.TopicViewSet.as_view(LIST), name="topic-list"),
    path("topics/<str:key>/", views.TopicViewSet.as_view(DETAIL), name="topic-detail"),
    path("units/", views.UnitViewSet.as_view(LIST), name="unit-list"),
    path("units/<str:key>/", views.UnitViewSet.as_view(DETAIL), name="unit-detail"),
    path("", include("indicators.api.v1.urls")),
    path("", include("projects.api.v1.urls")),
    path("schema/", cached(SpectacularAPIView.as_view()), name="schema"),
    path("docs/", cached(SpectacularSwaggerView.as_view(url_name="v1:schema")), name="swagger-ui"),
    path("redoc/", cached(SpectacularRedocView.as_view(url_name="v1:schema")), name="redoc"),
]
