"""Request ID on every response; 503 when the database is unavailable; a Content Security Policy on every
HTML page."""

from __future__ import annotations

import re
import uuid

from opendata.base.api.errors import database_unavailable, is_database_unavailable

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


# The HTML pages (GraphiQL, Swagger UI, Redoc, the admin) load everything from this API: nothing may
# reach another origin, so a visitor's browser talks to no third party (the Redoc bundle would fetch
# its logo from a CDN). Inline scripts and styles stay allowed: those pages are built with them.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
