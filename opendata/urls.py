"""URL map: the REST API per version, GraphQL, the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("api/", include("opendata.api.urls")),
    path("graphql/", include("opendata.graphql.urls")),
    path("admin/", admin.site.urls),
]
