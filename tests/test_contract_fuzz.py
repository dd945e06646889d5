"""Property-based tests of the contracts (issue 12): schemathesis generates requests from the committed
OpenAPI file (docs/openapi/v1.yaml) and GraphQL SDL (docs/graphql/schema.graphql), sends them to the WSGI
application in this process, and checks every answer (no 5xx, status, content type, headers and body as
documented). The database holds the real fixtures (load_opendata) and an API key of scope `write`, made
once for the module inside a transaction rolled back at its end, so reads hit real rows and the other
tests see nothing of it.

REST: every operation of the contract, reads and writes, with the write key (schemathesis' auth
provider for the `ApiKey` scheme); all of schemathesis' checks, positive and negative cases, each
request in a savepoint rolled back after it. Then the stateful phase: scenarios chained by the
contract's OpenAPI links (a write's answer to the GET, PATCH, PUT and DELETE of its record with its
ETag in If-Match, a DELETE's to the restore), each scenario in a savepoint rolled back at its end.
GraphQL: every query and mutation field (mutations with the write key), all of schemathesis' GraphQL
checks (data shaped as the SDL, invalid documents refused) and errors masked.

Bounded for CI (two runs, SQLite and PostgreSQL, on two cores): FUZZ_EXAMPLES (5) examples per operation,
FUZZ_STATEFUL_EXAMPLES (15) scenarios of up to 8 calls, a fixed seed, no shrinking. Known deviations,
each excused from exactly the check it breaks and tested below: docs/rest.md, "Known deviations from
the contract".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.core.management import call_command
from django.db import DatabaseError, close_old_connections, transaction
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rest_framework_api_key.crypto import concatenate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from opendata.base.api.errors import problem_type
from opendata.base.filters import CODE
from opendata.config.wsgi import application
from opendata.keys.models import ApiKey

DOCS = Path(settings.BASE_DIR) / "docs"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "15"))  # scenarios of the stateful phase
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

# The module's write key, sent on every request. Drawn here (the key model's own generator), because
# schemathesis asks for it when it collects the tests, and stored by `real_data` as `create_key` stores one.
WRITE_KEY, _PREFIX, _HASHED = ApiKey.objects.key_generator.generate()


@rest.auth(refresh_interval=None, retry_on=[])
class WriteKey:
    """The API's own scheme (`ApiKey`, HTTP bearer): a key of scope `write`, made as the admin makes one."""

    def get(self, case, context):
        return WRITE_KEY

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

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
    quiet_connection_signals()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_opendata", verbosity=0, stdout=open(os.devnull, "w"))
            ApiKey.objects.create(id=concatenate(_PREFIX, _HASHED), prefix=_PREFIX, hashed_key=_HASHED, name="fuzz",
                                  scope="write")
            yield WRITE_KEY
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

# Writes: the rules a request body's schema cannot say, each a problem of its own type and status. A
# schema-valid write refused with one of these (and only on a write) is no failure; tests below.
WRITE_RULES = {
    "invalid-data": 422,            # a reference to a record that does not exist, a quote not in its source…
    "idempotency-key-reused": 422,  # the same Idempotency-Key with another request
    "precondition-failed": 412,     # If-Match is not the record's version (or names no record)
    "precondition-required": 428,   # a change to a record that exists, without If-Match
    "gone": 410,                    # a change to a deleted record (restore it first)
}


def problem(response) -> dict:
    """The RFC 9457 problem of an answer, or {}."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) and "type" in body and "status" in body else {}


def deviation_only(response) -> bool:
    if response.status_code != 400:
        return False
    invalid = problem(response).get("invalid_params") or []
    return bool(invalid) and all(any(d in p.get("reason", "") for d in DEVIATIONS) for p in invalid)


def write_rule_only(case, response) -> bool:
    """A write refused by one of WRITE_RULES: a problem of that type, with its status."""
    if case.method.upper() in ("GET", "HEAD", "OPTIONS"):
        return False
    kind = problem(response).get("type", "")
    return any(kind == problem_type(name) and response.status_code == status for name, status in WRITE_RULES.items())


def excluded_checks(case, response) -> list:
    """The checks a response is excused from, each for the deviation it shows (and nothing else)."""
    excluded = []
    if deviation_only(response) or write_rule_only(case, response):
        excluded.append(positive_data_acceptance)
    if response.status_code == 304:  # a matching validator is answered before the parameters are read
        excluded.append(negative_data_rejection)
    if write_rule_only(case, response) and response.status_code in (412, 428):
        excluded.append(negative_data_rejection)  # a write's precondition is decided before its body is read
    return excluded


@rest.parametrize()
@BOUNDED
def test_rest_operations_keep_the_openapi_contract(case, real_data):
    """Every operation, reads and writes, with the write key; all of schemathesis' checks."""
    response = isolated(case.call)
    case.validate_response(response, excluded_checks=excluded_checks(case, response))


# The stateful phase runs over the life of a record (create, read, replace, change, delete, restore) in
# every collection: the lists are the stateless test's, and no link starts from them.
LIFECYCLE = rest.include(operation_id_regex=r"_(create|retrieve|upsert|update|delete|restore)$")


class RestWorkflows(LIFECYCLE.as_state_machine()):
    """The stateful phase: sequences of calls chained by the contract's links (a write's answer to a GET,
    PATCH, PUT or DELETE of the record it names, with its ETag in If-Match; a DELETE's to its restore),
    starting from the writes and reads the generator draws. One scenario in one savepoint, rolled back at
    its end; each call in a savepoint of its own, kept unless the database refused it (PostgreSQL)."""

    log: list[tuple[str, str, int]] = []  # every call: (method, path template, status)

    def setup(self):
        self.scenario = transaction.savepoint()

    def teardown(self):
        transaction.savepoint_rollback(self.scenario)

    def call(self, case, **kwargs):
        fresh_quota()
        quiet_connection_signals()
        sid = transaction.savepoint()
        response = case.call(**kwargs)
        self.log.append((case.method.upper(), case.operation.path, response.status_code))
        try:
            transaction.savepoint_commit(sid)
        except DatabaseError:
            transaction.savepoint_rollback(sid)
        return response

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(response, additional_checks=additional_checks,
                               excluded_checks=excluded_checks(case, response), transport_kwargs=kwargs or None,
                               recorder=self.recorder)


def test_rest_workflows_keep_the_openapi_contract(real_data):
    RestWorkflows.log.clear()
    RestWorkflows.run(settings=hsettings(BOUNDED, max_examples=STATEFUL_EXAMPLES, stateful_step_count=8))
    # Not vacuous: records were created, and calls on a record's URL succeeded (links followed).
    assert any(method == "POST" and status == 201 for method, _, status in RestWorkflows.log), RestWorkflows.log
    assert any(path.endswith("{key}/") and 200 <= status < 300 for _, path, status in RestWorkflows.log), (
        RestWorkflows.log)


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


def test_write_rules_the_schema_cannot_say_are_problems_of_their_own(client, real_data):
    """The write deviations above, as tests: a schema-valid body or header refused by a rule of the data
    or of conditional requests, each with its problem type and status, and how to fix it."""
    fresh_quota()
    quiet_connection_signals()
    auth = {"Authorization": f"Bearer {real_data}"}

    def send(method, url, body=None, **headers):
        fresh_quota()
        return getattr(client, method)(url, data=json.dumps(body) if body is not None else None,
                                       content_type="application/json", headers={**auth, **headers})

    def kind(response):
        return response.json()["type"].rsplit("/", 1)[-1], response.status_code

    topic = {"code": "fuzz-topic", "name_zh": "测试", "name_en": "Fuzz"}
    # A reference to a code of the right form that names no record: 422, the field named.
    r = send("post", "/api/v1/indicators/", {"code": "fuzz-indicator", "name_zh": "测试", "name_en": "Fuzz",
                                              "unit": "no-such-unit", "topic": "no-such-topic"})
    assert kind(r) == ("invalid-data", 422) and {e["field"] for e in r.json()["errors"]} >= {"topic"}
    # If-Match naming a version of a record that does not exist: 412, no record created.
    r = send("put", "/api/v1/topics/fuzz-topic/", topic, **{"If-Match": '"4c1d2e3f5a6b7c8d9e0f"'})
    assert kind(r) == ("precondition-failed", 412)
    assert client.get("/api/v1/topics/fuzz-topic/").status_code == 404
    # The precondition is decided before the body is read (RFC 9110, 13.2.1): a body the contract refuses
    # (an unknown field) under a failing If-Match is that 412, not the 422 it is without If-Match.
    r = send("put", "/api/v1/topics/fuzz-topic/", {**topic, "unknown": 1}, **{"If-Match": '"4c1d2e3f5a6b7c8d9e0f"'})
    assert kind(r) == ("precondition-failed", 412)
    assert kind(send("put", "/api/v1/topics/fuzz-topic/", {**topic, "unknown": 1})) == ("invalid-data", 422)
    created = send("put", "/api/v1/topics/fuzz-topic/", topic)
    assert created.status_code == 201
    # A change of a record that exists, without If-Match: 428.
    assert kind(send("patch", "/api/v1/topics/fuzz-topic/", {"name_en": "Fuzzed"})) == ("precondition-required", 428)
    # A change of a deleted record: 410 until it is restored.
    deleted = send("delete", "/api/v1/topics/fuzz-topic/", **{"If-Match": created["ETag"]})
    assert deleted.status_code == 200
    r = send("patch", "/api/v1/topics/fuzz-topic/", {"name_en": "Fuzzed"}, **{"If-Match": deleted["ETag"]})
    assert kind(r) == ("gone", 410)
    # The same Idempotency-Key with another request: 422.
    once = {"Idempotency-Key": "fuzz-idempotency"}
    assert send("post", "/api/v1/topics/", {**topic, "code": "fuzz-topic-2"}, **once).status_code == 201
    assert kind(send("post", "/api/v1/topics/", {**topic, "code": "fuzz-topic-3"}, **once)) == (
        "idempotency-key-reused", 422)


def test_null_for_optional_text_is_empty_as_documented(client, real_data):
    """The contract says `description` (optional text) may be null: the writers take it as empty."""
    fresh_quota()
    quiet_connection_signals()
    r = client.post("/api/v1/topics/", data=json.dumps({"code": "fuzz-null", "name_zh": "测试", "name_en": "Fuzz",
                                                        "description": None}),
                    content_type="application/json", headers={"Authorization": f"Bearer {real_data}"})
    assert r.status_code == 201 and r.json()["description"] == ""
    spec = rest.raw_schema["components"]["schemas"]["TopicCreateRequest"]
    assert spec["properties"]["description"].get("nullable") is True
    assert spec["additionalProperties"] is False


# GraphQL: the rules the SDL cannot say (docs/rest.md): errors of the answer with one of these codes,
# never INTERNAL_ERROR. A document answered with only these is no failure of positive_data_acceptance
# nor of not_a_server_error; every other check applies (JSON, `data`/`errors`, data shaped as the SDL).
GRAPHQL_RULES = {"INVALID", "INVALID_ARGUMENT", "INVALID_CURSOR", "INVALID_FILTER", "NOT_FOUND", "GONE", "CONFLICT",
                 "STALE_VERSION", "PAGE_SIZE_OUT_OF_RANGE"}


def graphql_rules_only(response) -> bool:
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return False
    return bool(errors) and all((e.get("extensions") or {}).get("code") in GRAPHQL_RULES for e in errors)


def errors_are_masked(ctx, response, case):
    """A GraphQL answer: never a 5xx, always JSON with `data` or `errors`; every error has a code, and an
    unexpected one is INTERNAL_ERROR with the request id only, no exception text (the view masks it)."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    body = response.json()
    assert "data" in body or "errors" in body, body
    for error in body.get("errors", []):
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL_ERROR", body
        for leak in ("Traceback", 'File "', "psycopg", "sqlite3", "django.", "OperationalError", "IntegrityError",
                     "DataError", "ProgrammingError", "SELECT "):
            assert leak not in error.get("message", ""), error


@graphql.parametrize()
@BOUNDED
def test_graphql_fields_keep_the_sdl(case, real_data):
    """Every query and mutation field (mutations with the write key): all of schemathesis' GraphQL checks
    (server errors, JSON, data shaped as the SDL, invalid documents rejected) and masked errors."""
    response = isolated(lambda: case.call(headers={"Authorization": f"Bearer {real_data}"}))
    # schemathesis counts any error of execution as a server's (ST113: "return a missing record in
    # `data`"); ours are answers with a code the client acts on. `errors_are_masked` still refuses a 5xx.
    excluded = [positive_data_acceptance, not_a_server_error] if graphql_rules_only(response) else []
    case.validate_response(response, additional_checks=[errors_are_masked], excluded_checks=excluded)
