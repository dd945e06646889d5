"""The v1 URL map: the API root, each app's v1 routes, the OpenAPI documents."""

from django.urls import include, path, re_path
from django.views.decorators.http import condition
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from opendata.base.api.changes import ChangeListView
from opendata.base.api.views import RootView, static_etag, static_last_modified
from opendata.publish.views import DictionaryView

COLLECTIONS = {
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
    "changes": "change-list",
}


def cached(view):
    """The documents change only with the code: validators from the process start time."""
    return condition(etag_func=static_etag, last_modified_func=static_last_modified)(view)


def suffix_routes(*modules) -> list:
    """`/api/v1/<collection>.<format>` (csv, xlsx, ndjson, json): each collection's list view with
    the format given by the suffix, for spreadsheets and links that cannot send Accept."""
    routes = set(COLLECTIONS.values())
    found = []
    for module in modules:
        for pattern in module.urlpatterns:
            if getattr(pattern, "name", None) in routes and str(pattern.pattern).endswith("/") \
                    and "<" not in str(pattern.pattern):
                base = str(pattern.pattern).rstrip("/")
                found.append(re_path(rf"^{base}\.(?P<format>csv|xlsx|ndjson|json)$", pattern.callback,
                                     name=f"{pattern.name}-suffix"))
    return found


def _app_urls():
    from importlib import import_module

    return [import_module(m) for m in ("opendata.catalogue.api.v1.urls", "indicators.api.v1.urls",
                                       "projects.api.v1.urls")]


urlpatterns = [
    path("", RootView.as_view(collections=COLLECTIONS), name="api-root"),
    path("", include("opendata.catalogue.api.v1.urls")),
    path("", include("indicators.api.v1.urls")),
    path("", include("projects.api.v1.urls")),
    # The change feed reads the base's change log (every app's writes), so it is routed here, not by an app.
    *suffix_routes(*_app_urls()),
    path("changes/", ChangeListView.as_view(), name="change-list"),
    # The data dictionary (opendata/publish/dictionary.py): generated from the code, so cached like the schema.
    path("dictionary/", cached(DictionaryView.as_view()), name="dictionary"),
    path("schema/", cached(SpectacularAPIView.as_view()), name="schema"),
    path("docs/", cached(SpectacularSwaggerView.as_view(url_name="v1:schema")), name="swagger-ui"),
    path("redoc/", cached(SpectacularRedocView.as_view(url_name="v1:schema")), name="redoc"),
]
