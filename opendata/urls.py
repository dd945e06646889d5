"""URL map: the REST API per version, GraphQL, the admin."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/api/v1/", permanent=False), name="home"),
    path("favicon.ico", RedirectView.as_view(url=static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png"),
                                             permanent=True)),
    path("api/", include("opendata.api.urls")),
    path("graphql/", include("opendata.graphql.urls")),
    path("admin/", admin.site.urls),
]

# problem+json for /api/ paths, Django's pages elsewhere
handler404 = "opendata.api.errors.handler404"
handler500 = "opendata.api.errors.handler500"
