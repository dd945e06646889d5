"""API versions: which exist, how the version is read from the URL path, and deprecation headers."""

from __future__ import annotations

from rest_framework.versioning import URLPathVersioning

#: Every version this server answers. A new major version is added here and in opendata/api/urls.py.
API_VERSIONS = ("v1",)
CURRENT_VERSION = "v1"

#: Versions being retired: version -> (Deprecation value, e.g. "@1767225600" (RFC 9745), Sunset
#: HTTP-date (RFC 8594)). Every response of a listed version carries the two headers. Empty while v1 is current.
DEPRECATED_VERSIONS: dict[str, tuple[str, str]] = {}


class PathVersioning(URLPathVersioning):
    """`/api/<version>/...`; an unknown version never reaches a view (see errors.unknown_version)."""

    allowed_versions = API_VERSIONS
    default_version = CURRENT_VERSION


def add_deprecation_headers(response, version: str | None):
    if version in DEPRECATED_VERSIONS:
        deprecation, sunset = DEPRECATED_VERSIONS[version]
        response["Deprecation"] = deprecation
        response["Sunset"] = sunset
        response["Link"] = ", ".join(filter(None, [response.get("Link"), f'</api/{CURRENT_VERSION}/docs/>; rel="deprecation"']))
    return response
