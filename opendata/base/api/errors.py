"""RFC 9457 problem details (`application/problem+json`) for every 4xx and 5xx of the API.

DRF exceptions go through `problem_exception_handler`; Django's own 404 and 500 (a URL that
matches no route, an unhandled exception) go through `handler404`/`handler500` for /api/ paths.

A database that is down, refuses connections or cancels a statement (statement or lock timeout)
is not a fault of this request: it is answered 503 with `Retry-After` (`database_unavailable`), by
the DRF handler, by `DatabaseUnavailableMiddleware` (opendata/config/middleware.py) for other views,
and by `handler500` for what fails in a middleware.
"""

from __future__ import annotations

import json
import logging
import sys
from http import HTTPStatus

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve
from django.views import defaults
from rest_framework import exceptions, status

from opendata.base.api.versioning import API_VERSIONS
from opendata.base.models import isoformat_utc
from opendata.base.observability import EveryInterval

logger = logging.getLogger(__name__)

#: Seconds a client is asked to wait when the database is unavailable (about a connect timeout).
DATABASE_RETRY_AFTER = 5
_outage_log = EveryInterval(10)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "tag:opendata.changchun,2025:problem/"


def problem_type(name: str) -> str:
    """Problem type URIs: tag URIs (RFC 9457 §3.1.1), listed with their meaning in docs/rest.md."""
    return PROBLEM_BASE + name


class InvalidParameters(exceptions.ValidationError):
    """A query parameter is unknown or has an invalid value: `invalid_params` names each one."""

    default_detail = "The request has invalid query parameters."

    def __init__(self, invalid: dict[str, list[str] | str], *, kind: str = "invalid-parameters"):
        self.invalid = {k: [v] if isinstance(v, str) else list(v) for k, v in invalid.items()}
        self.kind = kind
        super().__init__(self.invalid)


class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This record has been deleted."
    default_code = "gone"

    def __init__(self, detail=None, *, deleted_at=None):
        self.deleted_at = deleted_at
        super().__init__(detail)


class NotModified(exceptions.APIException):
    """Raised before any data query when a conditional GET matches; carries the 304 response."""

    status_code = status.HTTP_304_NOT_MODIFIED

    def __init__(self, response):
        self.response = response
        super().__init__("Not modified")


FIX_HINTS = {
    400: "Correct the parameters listed in invalid_params; the API documentation (/api/v1/docs/) lists "
         "every parameter with its allowed values.",
    401: "Send a valid API key as `Authorization: Bearer <key>` (reading needs none).",
    403: "This API key may not do this; ask the API's administrators for a key with the scope it needs.",
    404: "Check the identifier (codes and slugs are case-sensitive); the collection lists every record.",
    405: "This URL does not take this method; the Allow header lists the methods it takes.",
    406: "Ask for application/json, text/csv or application/x-ndjson (Accept header or ?format=json|csv|ndjson).",
    410: "The record was withdrawn; list the collection with updated_since and include_deleted=true to sync deletions.",
    429: "Wait for the number of seconds in the Retry-After header, then retry.",
    503: "The service is briefly unavailable: retry after the number of seconds in the Retry-After header.",
    500: "This is a fault of the server; retry later and report the X-Request-ID if it persists.",
}


def problem_response(request, *, status_code: int, detail: str, type_name: str | None = None,
                     title: str | None = None, headers: dict | None = None, **extensions) -> HttpResponse:
    body = {
        "type": problem_type(type_name) if type_name else "about:blank",
        "title": title or HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "instance": request.get_full_path() if request is not None else None,
    }
    hint = FIX_HINTS.get(status_code)
    if hint and "how_to_fix" not in extensions:
        body["how_to_fix"] = hint
    body.update({k: v for k, v in extensions.items() if v is not None})
    if request is not None and getattr(request, "request_id", None):
        body["request_id"] = request.request_id
    response = HttpResponse(json.dumps(body, ensure_ascii=False, default=str), status=status_code,
                            content_type=PROBLEM_MEDIA_TYPE)
    for k, v in (headers or {}).items():
        response[k] = v
    return response


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [m for v in detail.values() for m in _flatten(v)]
    if isinstance(detail, (list, tuple)):
        return [m for v in detail for m in _flatten(v)]
    return [str(detail)]


def is_database_unavailable(exc: BaseException | None) -> bool:
    """The database is down, unreachable, or cancelled the statement (timeout): Django wraps each of
    these as OperationalError (a closed connection as InterfaceError). Other database errors
    (integrity, programming) are faults of the code and stay 500s."""
    return isinstance(exc, (OperationalError, InterfaceError))


def database_unavailable(request, exc: BaseException | None = None) -> HttpResponse:
    """503 with Retry-After: problem+json for the API and GraphQL, a line of text elsewhere (the admin).
    The cause is logged once per interval per process, not for every request it fails."""
    _outage_log.log(logger, logging.WARNING, "database", "database unavailable: %s: %s",
                    type(exc).__name__ if exc else "-", str(exc).strip().splitlines()[0] if exc and str(exc) else "")
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
    if request is not None and not request.path.startswith(("/api/", "/graphql")):
        response = HttpResponse("The service is briefly unavailable; retry in a few seconds.\n", status=503,
                                content_type="text/plain; charset=utf-8")
        response["Retry-After"] = headers["Retry-After"]
        return response
    return problem_response(request, status_code=503, type_name="service-unavailable",
                            detail=f"The database did not answer in time; retry in {DATABASE_RETRY_AFTER} seconds.",
                            headers=headers)


def problem_exception_handler(exc, context):
    request = context.get("request")
    django_request = getattr(request, "_request", request)
    if isinstance(exc, NotModified):
        return exc.response
    if is_database_unavailable(exc):
        from rest_framework.views import set_rollback

        set_rollback()
        return database_unavailable(django_request, exc)
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        invalid = [{"name": name, "reason": " ".join(_flatten(msgs))} for name, msgs in detail.items()]
        kind = getattr(exc, "kind", "invalid-parameters")
        names = ", ".join(p["name"] for p in invalid)
        title = "Unknown query parameters" if kind == "unknown-parameters" else "Invalid query parameters"
        return problem_response(
            django_request, status_code=400, type_name=kind, title=title,
            detail=f"{title}: {names}. " + " ".join(f"{p['name']}: {p['reason']}" for p in invalid),
            invalid_params=invalid,
        )
    from rest_framework.views import exception_handler as drf_exception_handler  # imports api settings

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unhandled: Django's handler500 answers (with a problem for /api/ paths)
    headers = {k: v for k, v in response.items() if k in {"Retry-After", "Allow", "WWW-Authenticate"}}
    if isinstance(exc, exceptions.MethodNotAllowed) or response.status_code == 405:
        headers.setdefault("Allow", "GET, HEAD, OPTIONS")
    if getattr(exc, "www_authenticate", None):  # API keys (base/api/auth.py): RFC 6750 error codes
        headers["WWW-Authenticate"] = exc.www_authenticate
    detail = " ".join(_flatten(response.data.get("detail", response.data) if isinstance(response.data, dict)
                                else response.data))
    type_name = getattr(exc, "problem_type", None) or {
        404: "not-found", 405: "method-not-allowed", 406: "not-acceptable", 410: "gone", 429: "rate-limited",
    }.get(response.status_code)
    extra = {"title": getattr(exc, "title", None), "how_to_fix": getattr(exc, "how_to_fix", None)}
    # An exception may bring members and headers of its own (the writes' `errors`, a 412's ETag).
    extra.update(getattr(exc, "problem_extensions", None) or {})
    headers.update(getattr(exc, "problem_headers", None) or {})
    if isinstance(exc, Gone) and exc.deleted_at is not None:
        extra["deleted_at"] = isoformat_utc(exc.deleted_at)
    if isinstance(exc, exceptions.NotAcceptable):
        view = context.get("view")
        formats = ([r.media_type for r in view.renderer_classes] if view is not None
                   else ["application/json", "text/csv", "application/x-ndjson"])
        extra["available_formats"] = formats
        if view is not None and len(formats) == 1:  # one format: the hint names it, not the collections' three
            extra["how_to_fix"] = f"Ask for {formats[0]} (or send no Accept header)."
    return problem_response(django_request, status_code=response.status_code, detail=detail, type_name=type_name,
                            headers=headers, **{k: v for k, v in extra.items() if v is not None})


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return problem_response(
        request, status_code=404, type_name="not-found",
        detail=f"No API resource at {request.path}. The API root /api/{API_VERSIONS[-1]}/ lists every collection.",
    )


def handler500(request):
    if is_database_unavailable(sys.exc_info()[1]):  # raised in a middleware, or not caught before
        return database_unavailable(request, sys.exc_info()[1])
    if not _is_api(request):
        return defaults.server_error(request)
    return problem_response(request, status_code=500, type_name="server-error",
                            detail="The server failed to answer this request.")


def unknown_version(request, version: str, rest: str = ""):
    """`/api/<anything not a version>/...`: a 404 naming the versions that exist. A route of a known
    version asked without its trailing slash (`/api/v1/indicators`) is redirected to it (301, query
    string kept) for GET and HEAD, as Django's APPEND_SLASH would (this catch-all route keeps it from
    seeing the 404)."""
    if version in API_VERSIONS:  # a known version, an unknown route
        if request.method in ("GET", "HEAD") and not request.path_info.endswith("/"):
            try:
                match = resolve(request.path_info + "/")
            except Resolver404:
                match = None
            if match is not None and match.func is not unknown_version:
                return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        return handler404(request)
    return problem_response(
        request, status_code=404, type_name="unknown-api-version", title="Unknown API version",
        detail=f"API version {version!r} does not exist. Versions: {', '.join(API_VERSIONS)}.",
        versions=[f"/api/{v}/" for v in API_VERSIONS],
        how_to_fix=f"Use /api/{API_VERSIONS[-1]}/{rest}",
    )

