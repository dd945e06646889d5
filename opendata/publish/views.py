"""HTTP views of what the API publishes beside its collections: the data dictionary
(/api/v1/dictionary/), the bulk downloads (/downloads/) and the DCAT-AP catalogue (/catalog.jsonld,
/catalog.ttl)."""

from __future__ import annotations

import hashlib
import json
import mimetypes
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseNotModified,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from opendata.base.api.errors import InvalidParameters, problem_response
from opendata.base.api.renderers import StrictContentNegotiation, UTF8JSONRenderer
from opendata.base.api.views import check_edge
from opendata.publish import dcat, dictionary, downloads


@cache
def _dictionary() -> dict:
    return dictionary.build()


@extend_schema(
    summary="Data dictionary",
    description=("Every field of every collection (type, meaning, allowed values), every filter, and how "
                 "units and citations are to be read. Generated from the code; the same as docs/dictionary.md."),
    responses={200: OpenApiTypes.OBJECT},
)
class DictionaryView(APIView):
    """The data dictionary (opendata/publish/dictionary.py); it changes only with a deploy."""

    entity, schema_tag = "dictionary", "api"
    renderer_classes = [UTF8JSONRenderer]
    content_negotiation_class = StrictContentNegotiation

    def get(self, request, *args, **kwargs):
        check_edge(request)
        unknown = [p for p in request.query_params if p != "format"]
        if unknown:
            raise InvalidParameters({p: "Unknown parameter; the dictionary takes none." for p in unknown},
                                    kind="unknown-parameters")
        response = Response(_dictionary())
        response["Cache-Control"] = "public, max-age=3600"
        return response


# -- downloads --------------------------------------------------------------------------------------

def _not_built(request, what: str):
    return problem_response(request, status_code=404, type_name="not-built", title=f"No {what} on this server",
                            detail=f"The {what} have not been built on this server.",
                            how_to_fix="Run `make downloads` (manage.py build_downloads), then retry.")


def _etag_matches(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    return header.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in header.split(",")]


def downloads_index(request):
    """The manifest of the bulk files, each with its URL; ETag from the data version."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    manifest = downloads.read_manifest()
    if manifest is None:
        return _not_built(request, "downloads")
    etag = f'"{hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:32]}"'
    if _etag_matches(request, etag):
        response = HttpResponseNotModified()
    else:
        body = dict(manifest, files=[dict(f, url=request.build_absolute_uri(f"/downloads/{f['name']}"))
                                     for f in manifest["files"]],
                    catalog={"jsonld": request.build_absolute_uri("/catalog.jsonld"),
                             "turtle": request.build_absolute_uri("/catalog.ttl")},
                    dictionary=request.build_absolute_uri("/api/v1/dictionary/"))
        response = JsonResponse(body, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=300"
    return response


def download_file(request, name: str):
    """One bulk file, named in the manifest; its ETag is its SHA-256."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    manifest = downloads.read_manifest()
    if manifest is None:
        return _not_built(request, "downloads")
    entry = next((f for f in manifest["files"] if f["name"] == name), None)
    if name == downloads.MANIFEST:
        entry = {"name": name, "sha256": hashlib.sha256((downloads.downloads_dir() / name).read_bytes()).hexdigest(),
                 "media_type": "application/json"}
    if entry is None:
        return problem_response(request, status_code=404, type_name="not-found",
                                detail=f"No download named {name!r}.",
                                how_to_fix="GET /downloads/ lists the files.")
    etag = f'"{entry["sha256"][:32]}"'
    if _etag_matches(request, etag):
        response = HttpResponseNotModified()
    else:
        response = FileResponse((downloads.downloads_dir() / name).open("rb"), content_type=entry["media_type"],
                                as_attachment=name != downloads.MANIFEST, filename=name)
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=300"
    return response


# -- catalogue --------------------------------------------------------------------------------------

CATALOG_TYPES = {"jsonld": "application/ld+json", "ttl": "text/turtle; charset=utf-8"}


def catalog(request, fmt: str):
    """The DCAT-AP 3 catalogue (opendata/publish/dcat.py), as JSON-LD or Turtle."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    body = dcat.serialize(dcat.build(request.build_absolute_uri("/")), fmt)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    response = HttpResponseNotModified() if _etag_matches(request, etag) else \
        HttpResponse(body, content_type=CATALOG_TYPES[fmt])
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# -- the documentation site -------------------------------------------------------------------------

def docs_site(request, path: str = ""):
    """The site `make docs` built into site/ (settings.DOCS_SITE_DIR), served at /docs/."""
    root = Path(settings.DOCS_SITE_DIR).resolve()
    if not (root / "index.html").is_file():
        return HttpResponse("The documentation site has not been built: run `make docs`, then reload.\n"
                            "Its sources are the Markdown files in docs/.\n", status=404,
                            content_type="text/plain; charset=utf-8")
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        raise Http404
    if target.is_dir():
        if path and not path.endswith("/"):
            return HttpResponsePermanentRedirect(request.path + "/")
        target = target / "index.html"
    if not target.is_file():
        raise Http404
    return FileResponse(target.open("rb"), content_type=mimetypes.guess_type(target.name)[0] or "application/octet-stream")
