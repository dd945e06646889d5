"""What a client sees of a failure: its own mistakes as they are, anything else masked (and logged),
and a 503 with Retry-After when the database cannot be reached."""

import logging
import socket

import pytest
from django.db import connections
from django.db.utils import load_backend

from opendata.base.graphql.views import DATABASE_RETRY_AFTER
from opendata.config import urls  # noqa: F401 - the schema is built (with the real selectors) before monkeypatching
from tests.factories import IndicatorFactory
from tests.opendata.base.graphql.helpers import post

pytestmark = pytest.mark.django_db


def test_an_unexpected_exception_is_masked_and_logged(client, monkeypatch, caplog):
    IndicatorFactory(code="gdp")

    def broken():
        raise RuntimeError("secret: password=hunter2 at 10.0.0.7")

    monkeypatch.setattr("indicators.selectors.indicator_list", broken)
    with caplog.at_level(logging.ERROR, logger="opendata.base.graphql.views"):
        response = post(client, '{ indicator(code: "gdp") { code } topics(first: 1) { nodes { code } } }',
                        **{"X-Request-ID": "req-42"})
    assert response.status_code == 200  # the other fields still answer
    payload = response.json()
    assert payload["data"]["indicator"] is None and payload["data"]["topics"]["nodes"]
    assert payload["errors"] == [{"message": "Internal error", "locations": [{"line": 1, "column": 3}],
                                  "path": ["indicator"],
                                  "extensions": {"code": "INTERNAL_ERROR", "requestId": "req-42"}}]
    assert b"hunter2" not in response.content
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and "req-42" in logged[0].getMessage() and "hunter2" in caplog.text  # the traceback is logged


def test_deliberate_errors_are_told(client):
    errors = post(client, '{ observations(orderBy: ["colour"]) { nodes { uid } } }').json()["errors"]
    assert errors[0]["message"] != "Internal error" and errors[0]["extensions"]["code"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens on it once the socket is closed


@pytest.fixture
def database_unreachable():
    """The default connection pointed at a database that cannot be reached: a directory that does not
    exist (SQLite), a closed port (PostgreSQL). The driver really fails to connect."""
    original = connections["default"]
    settings_dict = {**original.settings_dict}
    if original.vendor == "sqlite":
        settings_dict["NAME"] = "/nonexistent-directory/opendata.sqlite3"
    else:
        settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    broken = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    connections["default"] = broken
    yield
    connections["default"] = original
    broken.close()


def test_database_unreachable_is_503_with_retry_after(client, database_unreachable, caplog):
    with caplog.at_level(logging.ERROR, logger="opendata.base.graphql.views"):
        response = post(client, '{ indicators(first: 1) { nodes { code } } indicator(code: "gdp") { code } }')
    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER)
    payload = response.json()
    assert "data" not in payload
    assert [e["extensions"]["code"] for e in payload["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert payload["errors"][0]["extensions"]["requestId"] == response["X-Request-ID"]
    assert b"psycopg" not in response.content and b"sqlite" not in response.content.lower()
    assert "database unavailable" in caplog.text
