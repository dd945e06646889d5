"""Property-based tests of the contracts (issue 12): schemathesis generates requests from the committed
OpenAPI file (docs/openapi/v1.yaml) and GraphQL SDL (docs/graphql/schema.graphql), sends them to the WSGI
application in this process, and checks every answer (no 5xx, status, content type, headers and body as
documented). The database holds the real fixtures (load_opendata), loaded once for the module inside a
transaction rolled back at its end, so reads hit real rows and the other tests see nothing of it.

REST: every operation of the contract (all reads: v1 has no write route yet), all of schemathesis' checks,
positive and negative cases; the stateful phase has nothing to chain (no links, no writes). GraphQL: every
query and mutation field (mutations with a write key), checked for 5xx and masked internal errors.

Bounded for CI (two runs, SQLite and PostgreSQL, on two cores): FUZZ_EXAMPLES (5) examples per operation,
a fixed seed, no shrinking; about a minute for the module. Known deviations: docs/rest.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from opendata.base.filters import CODE
from opendata.config.wsgi import application

DOCS = Path(settings.BASE_DIR) / "docs"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
BOUNDED = hsettings(
    max_examples=EXAMPLES,
    deadline=None,  # no per-example deadline: a shared CI machine is slow at times; the example count bounds it
    derandomize=True,  # the same requests on every run: a failure in CI is a failure locally
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure prints the request as generated
    suppress_health_check=list(HealthCheck),
    database=None,
)

rest = schemathesis.openapi.from_path(DOCS / "openapi" / "v1.yaml")
rest.app = application

pytestmark = pytest.mark.django_db  # so that pytest-django creates the test database; rows come from `real_data`

# The SDL's own scalars, drawn as the server takes them (some codes of the fixtures, so that reads find rows).
_codes = st.sampled_from(["changchun", "economy", "agriculture", "auto-expo"]) | st.from_regex(CODE, fullmatch=True)
schemathesis.graphql.scalar("Code", _codes.map(schemathesis.graphql.nodes.String))
schemathesis.graphql.scalar("Period", st.sampled_from(["2024", "2025", "2024-06-30", "2025-12-31"])
                            .map(schemathesis.graphql.nodes.String))
schemathesis.graphql.scalar("JSON", st.sampled_from(["x", "0"]).map(schemathesis.graphql.nodes.String))

graphql = schemathesis.graphql.from_path(DOCS / "graphql" / "schema.graphql")
graphql.app = application
graphql.location = "/graphql/"


@pytest.fixture(scope="module", autouse=True)
def real_data(django_db_setup, django_db_blocker):
    """The real fixtures and a write key, for the whole module, rolled back at its end.

    Requests run in this thread on this connection; Django's close_old_connections (on each request's
    start and end) would close a connection inside a transaction, so it is off while the module runs,
    as Django's own test client does."""
    from opendata.keys.models import ApiKey

    quiet_connection_signals()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_opendata", verbosity=0, stdout=open(os.devnull, "w"))
            _, key = ApiKey.objects.create_key(name="fuzz", scope="write")
            yield key
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def full_rate_limits():
    """Overrides conftest's: quotas are reset before every request instead (see `fresh_quota`)."""


def fresh_quota():
    from opendata.base.ratelimit import LIMITER

    LIMITER.reset()


def quiet_connection_signals():
    """Django's test client (the deviation tests use it) reconnects close_old_connections after each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)


def isolated(call):
    """One request in a savepoint rolled back after it: every request sees the loaded data as loaded, and
    on PostgreSQL a query error the application answers (a 400, a 503) does not abort the module's
    transaction for the requests after it, as it would not in production (autocommit)."""
    fresh_quota()
    quiet_connection_signals()
    sid = transaction.savepoint()
    try:
        return call()
    finally:
        transaction.savepoint_rollback(sid)


# Known deviations from the contract (docs/rest.md, "Known deviations from the contract"): what a
# pattern cannot say. A schema-valid request refused for one of these reasons (and only these) is no
# failure; each has a test of its own below.
DEVIATIONS = (
    "Not a cursor of this",  # a cursor is signed: a string of the documented form is not yet one
    "is given twice",  # ordering: a field named twice (the pattern allows any list of the fields)
    "is not a year (YYYY) or a date (YYYY-MM-DD)",  # 2025-13-45 has the form of a date, not a date
    "give the earlier bound as",  # a range's bounds reversed: a rule between two parameters
)


def deviation_only(response) -> bool:
    if response.status_code != 400:
        return False
    invalid = response.json().get("invalid_params") or []
    return bool(invalid) and all(any(d in p.get("reason", "") for d in DEVIATIONS) for p in invalid)


@rest.parametrize()
@BOUNDED
def test_rest_operations_keep_the_openapi_contract(case, real_data):
    response = isolated(case.call)
    excluded = [positive_data_acceptance] if deviation_only(response) else []
    if response.status_code == 304:  # a matching validator is answered before the parameters are read
        excluded.append(negative_data_rejection)
    case.validate_response(response, excluded_checks=excluded)


@pytest.mark.parametrize("url, name", [
    ("/api/v1/topics/?cursor=0", "cursor"),
    ("/api/v1/changes/?after=0", "after"),
    ("/api/v1/regions/?ordering=name_en,-name_en", "ordering"),
    ("/api/v1/observations/?period_from=2025-13-45", "period_from"),
    ("/api/v1/projects/?date_from=2025-02-30", "date_from"),
    ("/api/v1/observations/?period_from=2026&period_to=2025", "period_from"),
])
def test_known_deviations_are_400s_naming_the_parameter(client, real_data, url, name):
    """The deviations above, as tests: each is a 400 that names its parameter and says why."""
    fresh_quota()
    response = client.get(url)
    assert response.status_code == 400, url
    assert [p["name"] for p in response.json()["invalid_params"]] == [name]
    assert deviation_only(response), response.json()


def test_a_matching_if_modified_since_is_a_304_before_the_parameters_are_read(client, real_data):
    """A known deviation: the 304 of a conditional GET costs one small query and reads no parameter, so
    a bad filter value under a matching If-Modified-Since is a 304, not the 400 it is without it."""
    fresh_quota()
    url = "/api/v1/events/?region=%C2%B3"
    assert client.get(url).status_code == 400
    assert client.get(url, headers={"If-Modified-Since": "Wed, 26 Feb 3648 03:46:54 GMT"}).status_code == 304


def no_server_error(response):
    """A GraphQL answer: never a 5xx, always JSON with `data` or `errors`, and no error masked as internal
    (the view masks an unexpected exception as INTERNAL_ERROR). Errors the SDL cannot express (a code that
    is not kebab-case, a cursor that is not one, a record that does not exist) are answers, not failures;
    so are graphql-core's validation errors of the invalid documents the generator also sends."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    body = response.json()
    assert "data" in body or "errors" in body, body
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors", [])]
    assert "INTERNAL_ERROR" not in codes, body


@graphql.parametrize()
@BOUNDED
def test_graphql_fields_answer_without_server_errors(case, real_data):
    no_server_error(isolated(lambda: case.call(headers={"Authorization": f"Bearer {real_data}"})))
