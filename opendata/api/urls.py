"""REST API URLs: one include per version, and a problem+json 404 for versions that do not exist."""

from django.http import JsonResponse
from django.urls import include, re_path

from opendata.api.errors import unknown_version
from opendata.api.versioning import API_VERSIONS


def versions(request):
    return JsonResponse({"versions": {v: request.build_absolute_uri(f"/api/{v}/") for v in API_VERSIONS}})


urlpatterns = [
    re_path(r"^$", versions, name="api-versions"),
    re_path(r"^(?P<version>v1)/", include(("opendata.api.v1.urls", "v1"), namespace="v1")),
    re_path(r"^(?P<version>[^/]+)/?(?P<rest>.*)$", unknown_version),
]
