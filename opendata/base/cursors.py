"""Cursors: opaque tokens of a position in a list, signed, and bound to the list they were made for.

A cursor is the JSON of a position (REST: the sort-key values of a row; GraphQL: an offset) with the
list it belongs to (`scope`: REST's collection path, GraphQL's `Type.field`), signed with the
project's SECRET_KEY (django.core.signing). So a cursor someone made up, or edited, fails on its
signature before any of its values is read, and a cursor of one list is refused by another with a
message saying so. A cursor made before SECRET_KEY changed is refused too: the client starts again
from the first page (docs/api-versioning.md: cursors are opaque and may change).
"""

from __future__ import annotations

from django.core import signing

from opendata.base.filters import control_character

MAX_CURSOR_LENGTH = 1_000  # far more than any cursor made here; longer is refused unread
_SALT = "opendata.cursor"


class InvalidCursor(ValueError):
    """A token that is not a cursor of this list; the message says what to do."""


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT, sep=".")  # `.`: the token needs no percent-encoding in a URL


def make_cursor(scope: str, **position) -> str:
    return _signer().sign_object({"s": scope, **position})


def read_cursor(token: str, scope: str) -> dict:
    """The position a cursor holds, if it was made here for `scope`."""
    if not isinstance(token, str) or len(token) > MAX_CURSOR_LENGTH or control_character(token):
        raise InvalidCursor("Not a cursor of this API: use the cursors or links of a previous page as given.")
    try:
        payload = _signer().unsign_object(token)
    except Exception:  # noqa: BLE001 - bad signature, base64 or JSON: all the same to the client
        raise InvalidCursor("Not a cursor of this API, or one made before the server's key changed: use the "
                            "cursors or links of a previous page as given, or start again without one.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), str):
        raise InvalidCursor("Not a cursor of this API.")
    if payload["s"] != scope:
        raise InvalidCursor(f"This cursor was made for {payload['s']}, not for {scope}: use a cursor of this list, "
                            "or start again without one.")
    return payload
