"""URL map: the REST API per version, GraphQL, the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("api/", include("opendata.api.urls")),
    path("graphql/", include("opendata.graphql.urls")),
    path("admin/", admin.site.urls),
]

# problem+json for /api/ paths, Django's pages elsewhere
handler404 = "opendata.api.errors.handler404"
handler500 = "opendata.api.errors.handler500"
