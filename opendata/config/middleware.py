"""Request ID on every response, one log line per request, 503 when the database is unavailable, and a
Content Security Policy on every HTML page."""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextlib import ExitStack
from urllib.parse import parse_qsl, urlencode

from csp.middleware import CSPMiddleware
from django.db import connections

from opendata.base.api.errors import database_unavailable, is_database_unavailable
from opendata.base.observability import client_address

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIDMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


# -- the request log ----------------------------------------------------------------------------------

#: Query parameters whose values never reach a log (an API key, a token, a password...).
SENSITIVE_PARAM = re.compile(r"key|token|secret|passw|auth|sig|session|credential", re.IGNORECASE)
MAX_LOGGED = 512

request_logger = logging.getLogger("opendata.request")


def loggable_query(query_string: str) -> str:
    """The query string with the values of sensitive parameters replaced by `REDACTED`."""
    if not query_string:
        return ""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return urlencode([(k, "REDACTED" if SENSITIVE_PARAM.search(k) else v) for k, v in pairs])[:MAX_LOGGED]


class QueryCounter:
    """An execute wrapper counting the SQL statements of a request (no DEBUG, no stored SQL)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def installed(self) -> ExitStack:
        stack = ExitStack()
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(self))
        return stack


class AccessLogMiddleware:
    """One structured line per request on the `opendata.request` logger, after the response (for a
    streamed export, once its last byte is sent): time (UTC, by the formatter), request id, method,
    path, the query string without secrets, status, duration in ms, number of SQL statements, client
    address, user agent, bytes, the database the reads went to. Headers are not logged (no Authorization, no key)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        counter = QueryCounter()
        with counter.installed():
            response = self.get_response(request)
        if response.streaming and not response.is_async and getattr(response, "file_to_stream", None) is None:
            response.streaming_content = self._logged_stream(request, response, response.streaming_content,
                                                             started, counter)
        else:
            size = None if response.streaming else len(response.content)
            self.log(request, response, started, counter.count, size)
        return response

    def _logged_stream(self, request, response, content, started, counter):
        size = 0
        try:
            with counter.installed():
                for chunk in content:
                    size += len(chunk)
                    yield chunk
        finally:
            self.log(request, response, started, counter.count, size)

    def log(self, request, response, started: float, queries: int, size: int | None) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        status = response.status_code
        fields = {
            "request_id": getattr(request, "request_id", None),
            "method": request.method,
            "path": request.path[:MAX_LOGGED],
            "query": loggable_query(request.META.get("QUERY_STRING", "")),
            "status": status,
            "duration_ms": duration_ms,
            "db_queries": queries,
            "client": client_address(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:MAX_LOGGED],
            "bytes": size,
            # where the request's reads went: default (the primary) or replica_<n> (opendata/config/replicas.py)
            "db": getattr(request, "read_database", "default"),
        }
        level = logging.ERROR if status >= 500 else logging.INFO
        request_logger.log(level, "%s %s %s %.1fms", request.method, fields["path"], status, duration_ms,
                           extra=fields)


# -- the database unavailable -------------------------------------------------------------------------

class DatabaseUnavailableMiddleware:
    """A view outside DRF (GraphQL, the admin, the health checks) that fails because the database is
    down or timed out answers 503 with Retry-After, not 500 (DRF views do so in their handler)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_unavailable(exception):
            return database_unavailable(request, exception)
        return None


# -- Content Security Policy -----------------------------------------------------------------------------

class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware with the policy of the settings (CONTENT_SECURITY_POLICY), on HTML
    responses only: the HTML pages (GraphiQL, Swagger UI, Redoc, the admin) are what a browser runs;
    a JSON, CSV or text response carries no policy to read."""

    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
