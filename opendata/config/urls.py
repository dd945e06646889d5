"""The URL map: the REST API per version, GraphQL, the admin, the health checks."""

from django.contrib import admin
from django.http import JsonResponse
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView

from opendata.base.api import errors
from opendata.base.api.errors import unknown_version
from opendata.base.api.versioning import API_VERSIONS
from opendata.base.graphql.views import PublicGraphQLView
from opendata.config import health
from opendata.config.schema import schema
from opendata.publish import views as publish
from opendata.pages import views as pages_views


def api_versions(request):
    return JsonResponse({"versions": {v: request.build_absolute_uri(f"/api/{v}/") for v in API_VERSIONS}})


urlpatterns = [
    path("favicon.ico", RedirectView.as_view(url=static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png"),
                                             permanent=True)),
    path("api/", api_versions, name="api-versions"),
    # One URL map per version (opendata/config/urls_<version>.py), for every version API_VERSIONS lists.
    *[re_path(rf"^api/(?P<version>{v})/", include((f"opendata.config.urls_{v}", v), namespace=v))
      for v in API_VERSIONS],
    re_path(r"^api/(?P<version>[^/]+)/?(?P<rest>.*)$", unknown_version),
    # A public API takes POSTs from any origin without a CSRF token: it keeps no session to protect.
    path("graphql/", csrf_exempt(PublicGraphQLView.as_view(schema=schema)), name="graphql"),
    path("admin/", admin.site.urls),
    # What is published beside the API (opendata/publish/): bulk files, the DCAT-AP catalogue, the docs site.
    path("downloads/", publish.downloads_index, name="downloads"),
    path("downloads/<str:name>", publish.download_file, name="download-file"),
    path("catalog.jsonld", publish.catalog, {"fmt": "jsonld"}, name="catalog-jsonld"),
    path("catalog.ttl", publish.catalog, {"fmt": "ttl"}, name="catalog-ttl"),
    path("docs/", publish.docs_site, name="docs-site"),
    path("docs/<path:path>", publish.docs_site, name="docs-site-page"),
    # Liveness and readiness (opendata/config/health.py); settings.RATE_LIMIT_EXEMPT_PATHS lists them.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # The pages a person reads (opendata/pages/): the landing page at /, a page per record, browsing.
    path("", include("opendata.pages.urls")),
]

def not_found(request, exception=None):
    """problem+json under /api/ (the API's handler), the pages' own page in the visitor's language elsewhere."""
    if request.path.startswith("/api/"):
        return errors.handler404(request, exception)
    return pages_views.not_found(request, exception)


# problem+json for /api/ paths, the pages' 404 (opendata/pages/) or Django's pages elsewhere
handler404 = "opendata.config.urls.not_found"
handler500 = "opendata.base.api.errors.handler500"
