"""API keys: who a request acts for, and who may write.

Anyone reads, without a key. Internal systems send a key issued in the admin (the model is
`settings.API_KEY_MODEL`, `opendata/keys/`) as `Authorization: Bearer <key>`; the library's own
`Authorization: Api-Key <key>` is read too. A key that is sent must be good: an unknown, revoked or
expired key is a 401 (`InvalidKey`), never a silent fall back to anonymous reading. Another scheme
(a staging proxy's `Basic`) is not ours to judge and is left alone.

A key is checked once per request (`authenticate_key`, cached on the request), by
`RateLimitMiddleware` for /api/ and /graphql/ (it needs the key's tier before counting) and by
`ApiKeyAuthentication` for DRF, which finds it done. `actor_of(request)` is who the request acts
for, as services record it: a key's name and prefix, never the key.

Writing: `ReadAnonymousWriteWithKey` lets safe methods through and asks an unsafe one for a key with
the `write` scope (401 without a key, 403 with a read key or one not scoped to the view's
`resource_name`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework_api_key.permissions import KeyParser

from opendata.base.models import isoformat_utc

REALM = "api"
SCHEMES = ("bearer", "api-key")  # ours, and djangorestframework-api-key's default keyword
READ, WRITE = "read", "write"


class BearerKeyParser(KeyParser):
    """`Authorization: Bearer <key>` (and the library's `Api-Key <key>`). None: no key was sent; an
    empty string: a key was meant but is missing (`Bearer ` alone), which is refused like a bad one."""

    keyword = "Bearer"

    def get_from_authorization(self, request) -> str | None:
        scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
        if scheme.lower() not in SCHEMES:
            return None
        return credentials.strip()


class InvalidKey(exceptions.AuthenticationFailed):
    """401: the key sent is unknown, revoked or expired."""

    problem_type = "invalid-api-key"
    title = "Invalid API key"
    default_detail = "The API key is not valid."
    www_authenticate = f'Bearer realm="{REALM}", error="invalid_token"'
    how_to_fix = ("Send a valid key as `Authorization: Bearer <key>`, or no Authorization header to read "
                  "anonymously. Keys are issued and revoked by the API's administrators.")


class KeyRequired(exceptions.NotAuthenticated):
    """401: an unsafe method without a key."""

    problem_type = "api-key-required"
    title = "API key required"
    default_detail = "Changing data needs an API key with the write scope; this request sent none."
    www_authenticate = f'Bearer realm="{REALM}"'
    how_to_fix = "Send an API key with the write scope as `Authorization: Bearer <key>`."


class InsufficientScope(exceptions.PermissionDenied):
    """403: a good key that may not do this (read-only, or not scoped to this resource)."""

    problem_type = "insufficient-scope"
    title = "Insufficient scope"
    www_authenticate = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{WRITE}"'
    how_to_fix = "Ask the API's administrators for a key with the write scope for this collection."


@dataclass(frozen=True)
class Actor:
    """Who a request acts for: a key's name and prefix (its public identifier), never the key.

    `str(actor)` is what a service records as the author of a change: `key AbCd1234 (ingest)`."""

    name: str
    prefix: str = ""
    scope: str = ""
    tier: str = "anonymous"
    resources: frozenset[str] = frozenset()

    @classmethod
    def of_key(cls, key) -> Actor:
        return cls(name=key.name, prefix=key.prefix, scope=key.scope, tier=key.tier, resources=key.resource_names)

    @property
    def is_authenticated(self) -> bool:
        return bool(self.prefix)

    @property
    def is_anonymous(self) -> bool:
        return not self.prefix

    def may_write(self, resource: str | None) -> bool:
        """A write key, for every collection or for this one."""
        if self.scope != WRITE:
            return False
        return not self.resources or resource in self.resources

    def __str__(self) -> str:
        return f"key {self.prefix} ({self.name})" if self.prefix else "anonymous"


ANONYMOUS = Actor(name="anonymous")
PARSER = BearerKeyParser()
_UNCHECKED = object()


def key_model():
    return apps.get_model(settings.API_KEY_MODEL)


def _check(raw: str | None) -> Actor | None:
    if raw is None:
        return None
    prefix, dot, _ = raw.partition(".")
    key = key_model().objects.filter(prefix=prefix).first() if dot and prefix else None
    # The prefix only finds the row; the hash of the whole key must match before anything is said of it.
    if key is None or not key.is_valid(raw):
        raise InvalidKey("The API key is not valid: no key issued by this API matches it.")
    if key.revoked:
        raise InvalidKey(f"The API key {key.prefix} ({key.name}) was revoked.")
    if key.has_expired:
        raise InvalidKey(f"The API key {key.prefix} ({key.name}) expired at {isoformat_utc(key.expiry_date)}.")
    return Actor.of_key(key)


def authenticate_key(request) -> Actor | None:
    """The key a request sends, checked once per request: its Actor, None without a key, `InvalidKey`
    for a bad one. Takes a Django or a DRF request."""
    request = getattr(request, "_request", request)
    found = getattr(request, "_api_key_actor", _UNCHECKED)
    if found is _UNCHECKED:
        try:
            found = _check(PARSER.get(request))
        except InvalidKey as exc:
            found = exc
        request._api_key_actor = found
    if isinstance(found, InvalidKey):
        raise InvalidKey(found.detail)
    return found


def actor_of(request) -> Actor:
    """Who the request acts for: its key's Actor, else ANONYMOUS (a bad key raises InvalidKey)."""
    return authenticate_key(request) or ANONYMOUS


class ApiKeyAuthentication(BaseAuthentication):
    """DRF authentication by API key: `request.user` and `request.auth` are the key's Actor;
    anonymous requests have `request.user = None` (UNAUTHENTICATED_USER)."""

    def authenticate(self, request):
        actor = authenticate_key(request)
        return None if actor is None else (actor, actor)

    def authenticate_header(self, request) -> str:
        return f'Bearer realm="{REALM}"'  # makes DRF answer 401, not 403, to a request without a key


def resource_of(view) -> str | None:
    """The collection a write endpoint changes, as a key's `resources` name it (`observations`)."""
    return getattr(view, "resource_name", None)


class ReadAnonymousWriteWithKey(BasePermission):
    """Safe methods for anyone; an unsafe one needs a key with the write scope, and, for a key limited
    to some collections, a view whose `resource_name` is one of them (a view naming none: refused)."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        actor = actor_of(request)
        if actor.is_anonymous:
            raise KeyRequired()
        if actor.scope != WRITE:
            raise InsufficientScope(f"The API key {actor.prefix} ({actor.name}) may only read.")
        resource = resource_of(view)
        if not actor.may_write(resource):
            raise InsufficientScope(
                f"The API key {actor.prefix} ({actor.name}) may change {', '.join(sorted(actor.resources))} "
                f"only, not {resource or 'this endpoint'}.")
        return True
