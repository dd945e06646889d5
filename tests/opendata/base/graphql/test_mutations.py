"""GraphQL mutations: every resource's create, update, upsert, delete and restore, and the bulk upsert
of observations, write through the services with an API key (one change entry each, the key as its
actor, read back from the GraphQL change feed); who may write; refused writes as structured errors
that leave nothing written; expectedVersion; and the mutations' place in the limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from opendata.base.graphql import limits, mutations
from opendata.base.models import Change, public_models
from opendata.base.services import record_version
from opendata.catalogue.models import Topic
from opendata.keys.models import ApiKey
from tests.api_helpers import reset_rate_limits
from tests.factories import TEXT
from tests.opendata.base.graphql.helpers import URL, post
from tests.write_helpers import SOURCE, settle

pytestmark = pytest.mark.django_db
# Tests reading the change feed are transactional: it shows committed entries only (on PostgreSQL, below
# the oldest running transaction, which a test's own transaction would be).
reads_the_feed = pytest.mark.django_db(transaction=True)

GRAIN, PARKS, EXPO, METRO = "粮食产量达到259.9亿斤", "新建口袋公园40处", "光博会成功举办", "地铁6号线开工建设"
GDP = "地区生产总值增长5.5%以上"


def ref(text: str) -> dict:
    """A citation of the test source by its fields (CitationRef)."""
    return {"source": SOURCE, "offset": TEXT.index(text), "quote": text}


@dataclass
class Spec:
    """One resource: its GraphQL type, public key, collection (as a key's `resources` names it), an input
    creating a record (from the world of tests/write_helpers.py) and a patch changing it."""

    type: str
    key: str
    collection: str
    create: Callable[[dict], dict]
    patch: dict = field(default_factory=dict)

    @property
    def resource(self) -> str:
        return {"ProjectStatus": "project_status", "EventSeries": "event_series"}.get(self.type, self.type.lower())

    @property
    def field(self) -> str:
        return self.type[0].lower() + self.type[1:]

    @property
    def model(self):
        return public_models()[self.resource]


SPECS = [
    Spec("Topic", "code", "topics", lambda w: {"code": "transport", "nameZh": "交通", "nameEn": "Transport"},
         {"nameEn": "Transport and roads", "description": "Roads, rail"}),
    Spec("Region", "code", "regions", lambda w: {"code": "chaoyang", "nameZh": "朝阳区", "nameEn": "Chaoyang",
                                                 "kind": "district", "parent": "changchun"},
         {"nameEn": "Chaoyang District", "parent": None}),
    Spec("Unit", "symbol", "units", lambda w: {"symbol": "万人", "nameEn": "ten thousand persons",
                                               "baseUnit": "persons", "factor": "10000"},
         {"nameEn": "10k persons"}),
    Spec("Source", "slug", "sources", lambda w: {
        "slug": "plan-2026", "titleZh": "规划", "titleEn": "Plan", "date": "2025-03-01", "text": TEXT,
        "periods": [{"start": "2026-01-01", "end": "2026-12-31", "label": "2026"}]},
         {"titleEn": "The plan", "periods": [{"start": "2026-01-01", "end": "2030-12-31", "label": "2026–2030"}]}),
    Spec("Citation", "uid", "citations", lambda w: ref(GDP), {"garbled": True}),
    Spec("Indicator", "code", "indicators", lambda w: {"code": "park-count", "nameZh": "口袋公园",
                                                       "nameEn": "Pocket parks", "unit": "处", "topic": "agriculture"},
         {"nameEn": "Pocket parks built"}),
    Spec("Observation", "uid", "observations", lambda w: {
        "indicator": "grain-output", "region": "changchun", "periodStart": "2024-01-01", "periodEnd": "2024-12-31",
        "periodLabel": "2024", "kind": "actual", "value": "259.9", "citations": [{"uid": str(w[GRAIN].uid)}]},
         {"periodLabel": "2024年", "value": "259.90"}),
    Spec("Project", "slug", "projects", lambda w: {"slug": "pocket-parks", "nameZh": "口袋公园",
                                                   "nameEn": "Pocket parks", "topic": "agriculture",
                                                   "regions": ["changchun"]},
         {"regions": ["changchun", "nanguan"]}),
    Spec("ProjectStatus", "uid", "project_statuses", lambda w: {
        "project": "metro-line-6", "status": "construction_started", "kind": "actual", "dateStart": "2025-01-01",
        "dateEnd": "2025-12-31", "datePrecision": "year", "dateLabel": "2025", "citations": [ref(METRO)]},
         {"dateLabel": "2025年"}),
    Spec("EventSeries", "slug", "event_series", lambda w: {"slug": "optics-expo", "nameZh": "光博会",
                                                           "nameEn": "Optics expo"},
         {"nameEn": "Optics Expo"}),
    Spec("Event", "slug", "events", lambda w: {
        "slug": "optics-expo-2025", "nameZh": "光博会", "nameEn": "Optics expo 2025", "kind": "expo",
        "startDate": "2025-05-01", "startPrecision": "month", "status": "held", "region": "changchun",
        "citations": [{"uid": str(w[EXPO].uid)}]},
         {"endDate": "2025-05-03", "endPrecision": "day"}),
]
IDS = [s.type for s in SPECS]
CHANGES = """query($after: String) { changes(after: $after, first: 100) {
  nodes { cursor resource key operation actor } pageInfo { endCursor hasNextPage } } }"""


# -- helpers ----------------------------------------------------------------------------------------------

def issue(scope: str = "write", resources: str = "", name: str = "ingest") -> tuple[ApiKey, dict, str]:
    """A key (as the keys tests issue them), its Authorization header, and the actor it writes as."""
    key, secret = ApiKey.objects.create_key(name=name, scope=scope, resources=resources)
    return key, {"Authorization": f"Bearer {secret}"}, f"key {key.prefix} ({name})"


def call(client, query: str, variables: dict | None = None, auth: dict | None = None, status: int = 200) -> dict:
    reset_rate_limits()
    response = post(client, query, variables, **(auth or {}))
    assert response.status_code == status, response.content
    return response.json()


def data(client, query, variables=None, auth=None) -> dict:
    payload = call(client, query, variables, auth)
    assert "errors" not in payload, payload
    return payload["data"]


def error(client, query, variables=None, auth=None) -> dict:
    """The one error of a mutation that must fail on its field (HTTP 200, its data null)."""
    payload = call(client, query, variables, auth)
    assert len(payload["errors"]) == 1, payload
    assert all(value is None for value in payload["data"].values()), payload
    return payload["errors"][0]


def feed(client, after: str | None, auth: dict) -> tuple[list[dict], str]:
    """The entries of the GraphQL feed after a cursor, and the cursor to read on from."""
    settle()
    entries = []
    while True:
        page = data(client, CHANGES, {"after": after}, auth)["changes"]
        entries += page["nodes"]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return entries, after


def watermark(client, auth) -> str:
    return feed(client, None, auth)[1]


def payload_of(spec: Spec) -> str:
    return f"{{ {spec.field} {{ {spec.key} deletedAt }} version operation }}"


def create(spec: Spec) -> str:
    return f"mutation($input: {spec.type}Input!) {{ create{spec.type}(input: $input) {payload_of(spec)} }}"


def upsert(spec: Spec) -> str:
    return f"mutation($input: {spec.type}Input!) {{ upsert{spec.type}(input: $input) {payload_of(spec)} }}"


def update(spec: Spec) -> str:
    return (f"mutation($key: String!, $input: {spec.type}Patch!, $version: String) {{ update{spec.type}("
            f"{spec.key}: $key, input: $input, expectedVersion: $version) {payload_of(spec)} }}")


def delete(spec: Spec, verb: str = "delete") -> str:
    return (f"mutation($key: String!, $version: String) {{ {verb}{spec.type}({spec.key}: $key, "
            f"expectedVersion: $version) {payload_of(spec)} }}")


def counts() -> dict[str, int]:
    """Rows of every public model and of the change log: what an invalid write must leave alone."""
    return {"change": Change.objects.count(),
            **{resource: model._base_manager.count() for resource, model in public_models().items()}}


# -- every mutation of every resource -------------------------------------------------------------------

@reads_the_feed
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_mutation_of_every_resource_writes_one_change_as_the_key(client, world, spec):
    _, auth, actor = issue(resources=spec.collection)  # a key scoped to this resource's collection alone
    cursor = watermark(client, auth)
    name = spec.type

    def step(verb: str, query: str, variables: dict, operation: str | None) -> dict:
        """Run a mutation that must succeed: its payload, after checking its change entry in the feed."""
        nonlocal cursor
        result = data(client, query, variables, auth)[f"{verb}{name}"]
        assert result["operation"] == operation
        entries, cursor = feed(client, cursor, auth)
        record = spec.model._base_manager.get(**{spec.key: result[spec.field][spec.key]})
        expected = [] if operation is None else [(spec.resource, record.public_id, operation, actor)]
        assert [(e["resource"], e["key"], e["operation"], e["actor"]) for e in entries] == expected
        assert result["version"] == record_version(record)
        return result

    created = step("create", create(spec), {"input": spec.create(world)}, "create")
    pk = created[spec.field][spec.key]
    assert created[spec.field]["deletedAt"] is None

    again = error(client, create(spec), {"input": spec.create(world)}, auth)
    assert again["extensions"]["code"] == "CONFLICT" and again["extensions"]["reason"] == "exists"
    assert again["path"] == [f"create{name}"]

    updated = step("update", update(spec), {"key": pk, "input": spec.patch, "version": created["version"]}, "update")
    assert updated["version"] != created["version"]

    stale = error(client, update(spec), {"key": pk, "input": spec.patch, "version": created["version"]}, auth)
    assert stale["extensions"]["code"] == "STALE_VERSION"
    assert stale["extensions"]["errors"][0]["field"] == spec.key and "changed since" in stale["message"]

    deleted = step("delete", delete(spec), {"key": pk, "version": updated["version"]}, "delete")
    assert deleted[spec.field]["deletedAt"] is not None  # the payload shows the record as written

    gone = error(client, update(spec), {"key": pk, "input": spec.patch}, auth)
    assert gone["extensions"]["code"] == "GONE" and "restore it first" in gone["message"]

    restored = step("restore", delete(spec, "restore"), {"key": pk, "version": deleted["version"]}, "restore")
    assert restored[spec.field]["deletedAt"] is None

    # The whole record as created: the patch undone (an update), then the same again (no change, no entry).
    step("upsert", upsert(spec), {"input": spec.create(world)}, "update")
    step("upsert", upsert(spec), {"input": spec.create(world)}, None)
    assert feed(client, cursor, auth)[0] == []  # the refused writes wrote nothing either


def test_upsert_creates_and_restores(client, world):
    _, auth, _ = issue()
    spec = SPECS[0]
    assert data(client, upsert(spec), {"input": spec.create(world)}, auth)["upsertTopic"]["operation"] == "create"
    data(client, delete(spec), {"key": "transport"}, auth)
    revived = data(client, upsert(spec), {"input": {**spec.create(world), "nameEn": "Traffic"}}, auth)["upsertTopic"]
    assert revived["operation"] == "restore" and revived["topic"]["deletedAt"] is None
    assert Topic.objects.get(code="transport").name_en == "Traffic"


@reads_the_feed
def test_a_project_is_written_with_its_timeline(client, world):
    _, auth, actor = issue(resources="projects")
    cursor = watermark(client, auth)
    statement = {"status": "proposed", "kind": "target", "dateStart": "2025-01-01", "dateEnd": "2025-12-31",
                 "datePrecision": "year", "dateLabel": "2025年", "citations": [ref(METRO)]}
    query = """mutation($input: ProjectPatch!) { updateProject(slug: "metro-line-6", input: $input) {
                 project { timeline { nodes { status kind citations { nodes { quote } } } } } operation } }"""
    result = data(client, query, {"input": {"timeline": [statement]}}, auth)["updateProject"]
    assert result["operation"] is None  # the project's own fields did not change; its timeline did
    assert result["project"]["timeline"]["nodes"] == [
        {"status": "proposed", "kind": "target", "citations": {"nodes": [{"quote": METRO}]}}]
    entries, _ = feed(client, cursor, auth)
    assert [(e["resource"], e["operation"], e["actor"]) for e in entries] == [("project_status", "create", actor)]


# -- who may write --------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_only_a_write_key_scoped_to_the_resource_writes(client, world, spec):
    before = counts()
    variables = {"input": spec.create(world)}
    refused = error(client, create(spec), variables)
    assert refused["extensions"] == {"code": "UNAUTHENTICATED"} and "Bearer" in refused["message"]
    _, read_auth, _ = issue(scope="read", name="dashboard")
    refused = error(client, create(spec), variables, read_auth)
    assert refused["extensions"] == {"code": "FORBIDDEN"} and "may only read" in refused["message"]
    other = "topics" if spec.collection != "topics" else "units"
    _, other_auth, _ = issue(resources=other, name="elsewhere")
    refused = error(client, create(spec), variables, other_auth)
    assert refused["extensions"] == {"code": "FORBIDDEN"}
    assert f"may change {other} only, not {spec.collection}" in refused["message"]
    assert counts() == before
    _, auth, _ = issue(resources=f"{other}, {spec.collection}", name="both")
    assert data(client, create(spec), variables, auth)[f"create{spec.type}"]["operation"] == "create"


@pytest.mark.parametrize("authorization", ["Bearer not-a-key", "Bearer AbCdEfGh.0123456789abcdef0123456789abcdef"])
def test_a_bad_key_writes_nothing(client, world, authorization):
    before = counts()
    payload = call(client, 'mutation { deleteTopic(code: "agriculture") { version } }',
                   auth={"Authorization": authorization}, status=401)
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and "data" not in payload
    assert counts() == before


def test_a_revoked_key_writes_nothing(client, world):
    key, auth, _ = issue()
    ApiKey.objects.filter(pk=key.pk).update(revoked=True)
    payload = call(client, 'mutation { deleteEventSeries(slug: "x") { version } }', auth=auth, status=401)
    assert "revoked" in payload["errors"][0]["message"]


def test_mutations_are_never_run_by_get(client, world):
    _, auth, _ = issue()
    reset_rate_limits()
    response = client.get(URL, {"query": 'mutation { createEventSeries(input: {slug: "s", nameZh: "系列", '
                                         'nameEn: "Series"}) { version } }'},
                          headers={"Accept": "application/json", **auth})
    assert response.status_code == 405
    assert not public_models()["event_series"].objects.filter(slug="s").exists()


# -- refused writes: structured errors, nothing written ----------------------------------------------------

OBSERVATION = SPECS[6]


@pytest.mark.parametrize("spec, changes, code, fields", [
    (OBSERVATION, {"value": "260"}, "INVALID", ["value"]),
    (OBSERVATION, {"periodStart": "2023-01-01", "periodEnd": "2023-12-31"}, "INVALID", ["periodStart,periodEnd"]),
    (OBSERVATION, {"kind": "prophecy", "comparator": "maybe"}, "INVALID", ["kind", "comparator"]),
    (OBSERVATION, {"citations": []}, "INVALID", ["citations"]),
    (OBSERVATION, {"citations": [{"source": SOURCE, "offset": 0, "quote": GRAIN}]}, "INVALID", ["citations[0].quote"]),
    (OBSERVATION, {"indicator": "gdp", "periodStart": "2024-13-01"}, "INVALID", ["indicator", "periodStart"]),
    (SPECS[3], {"periods": [{"start": "2026-12-31", "end": "2026-01-01", "label": "2026"}]}, "INVALID",
     ["periods[0].end"]),
    (SPECS[1], {"parent": "nowhere"}, "INVALID", ["parent"]),
    (SPECS[10], {"endDate": "2025-04-30", "endPrecision": "day"}, "INVALID", ["endDate"]),
    (SPECS[2], {"factor": "-1"}, "INVALID", ["factor"]),
    (SPECS[0], {"code": "Not A Code"}, "INVALID", ["code"]),
], ids=["value", "period", "choices", "no-citation", "quote", "reference-and-date", "source-periods", "parent",
        "event-end", "factor", "code"])
def test_an_invalid_write_is_a_structured_error_and_writes_nothing(client, world, spec, changes, code, fields):
    _, auth, _ = issue()
    before = counts()
    refused = error(client, create(spec), {"input": {**spec.create(world), **changes}}, auth)
    assert refused["path"] == [f"create{spec.type}"]
    assert refused["extensions"]["code"] == code
    problems = refused["extensions"]["errors"]
    assert [p["field"] for p in problems] == fields
    assert all(p["index"] is None and p["message"] for p in problems)
    assert refused["message"] == "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    assert counts() == before


def test_a_project_with_a_bad_statement_writes_neither(client, world):
    _, auth, _ = issue()
    before = counts()
    statement = {"status": "proposed", "kind": "target", "dateStart": "2025-12-31", "dateEnd": "2025-01-01",
                 "datePrecision": "year", "dateLabel": "2025", "citations": [{"uid": str(world[METRO].uid)}]}
    spec = SPECS[7]
    refused = error(client, create(spec), {"input": {**spec.create(world), "timeline": [statement]}}, auth)
    assert refused["extensions"]["errors"] == [
        {"index": None, "field": "timeline[0].dateEnd", "message": "ends before the date starts"}]
    assert counts() == before


@pytest.mark.parametrize("query, code, reason", [
    ('mutation { updateTopic(code: "nowhere", input: {nameEn: "x"}) { version } }', "NOT_FOUND", None),
    ('mutation { deleteTopic(code: "agriculture") { version } }', "CONFLICT", "in_use"),
    ('mutation { restoreObservation(uid: "not-a-uid") { version } }', "NOT_FOUND", None),
])
def test_not_found_and_in_use(client, world, query, code, reason):
    _, auth, _ = issue()
    before = counts()
    refused = error(client, query, auth=auth)
    assert refused["extensions"]["code"] == code and refused["extensions"].get("reason") == reason
    assert refused["extensions"]["errors"]
    assert counts() == before


def test_an_input_missing_a_required_field_is_refused_before_it_runs(client, world):
    _, auth, _ = issue()
    before = counts()
    payload = call(client, create(SPECS[0]), {"input": {"code": "transport", "nameEn": "Transport"}}, auth, status=400)
    assert "nameZh" in payload["errors"][0]["message"] and "data" not in payload
    assert counts() == before


def test_each_mutation_field_is_its_own_write(client, world):
    """Mutation fields run in order, each in its own transaction: one refused leaves the others written."""
    _, auth, _ = issue()
    payload = call(client, """mutation {
        a: createEventSeries(input: {slug: "a", nameZh: "甲", nameEn: "A"}) { eventSeries { slug } operation }
        b: createEventSeries(input: {slug: "B!", nameZh: "乙", nameEn: "B"}) { eventSeries { slug } operation }
        c: deleteEventSeries(slug: "a") { eventSeries { slug deletedAt } operation } }""", auth=auth)
    assert payload["data"]["a"] == {"eventSeries": {"slug": "a"}, "operation": "create"}
    assert payload["data"]["b"] is None and payload["errors"][0]["path"] == ["b"]
    assert payload["data"]["c"]["operation"] == "delete"


def test_the_payload_loads_what_its_selection_asks(client, world):
    _, auth, _ = issue()
    query = """mutation($input: ObservationInput!) { createObservation(input: $input) { observation {
                 value unit { symbol } indicator { code topic { code } }
                 citations { nodes { quote source { slug periods { label } } } } } } }"""
    result = data(client, query, {"input": OBSERVATION.create(world)}, auth)["createObservation"]["observation"]
    assert result == {"value": "259.9", "unit": {"symbol": "亿斤"},
                      "indicator": {"code": "grain-output", "topic": {"code": "agriculture"}},
                      "citations": {"nodes": [{"quote": GRAIN, "source": {"slug": SOURCE,
                                                                          "periods": [{"label": "2024–2025"}]}}]}}
    cited = data(client, create(SPECS[4]), {"input": ref(GDP)}, auth)["createCitation"]["citation"]["uid"]
    gone = data(client, """mutation($uid: String!) { deleteCitation(uid: $uid) {
                                 citation { uid deletedAt source { slug } } } }""", {"uid": cited}, auth)
    citation = gone["deleteCitation"]["citation"]
    assert citation["deletedAt"] and citation["source"] == {"slug": SOURCE}  # deleted: outside the type's selector


# -- the bulk upsert ----------------------------------------------------------------------------------

BULK = """mutation($rows: [ObservationInput!]!) { bulkUpsertObservations(rows: $rows) {
  results { observation { uid region { code } kind } version operation } } }"""


def rows(world) -> list[dict]:
    row = OBSERVATION.create(world)
    return [row, {**row, "kind": "target", "comparator": "at_least"},
            {**row, "region": "nanguan", "citations": [ref(GRAIN)]}]


@reads_the_feed
def test_bulk_upsert_writes_every_row_as_the_key(client, world):
    _, auth, actor = issue(resources="observations")
    cursor = watermark(client, auth)
    results = data(client, BULK, {"rows": rows(world)}, auth)["bulkUpsertObservations"]["results"]
    assert [(r["observation"]["region"]["code"], r["observation"]["kind"], r["operation"]) for r in results] == [
        ("changchun", "actual", "create"), ("changchun", "target", "create"), ("nanguan", "actual", "create")]
    entries, cursor = feed(client, cursor, auth)
    assert [(e["key"], e["operation"], e["actor"]) for e in entries] == [
        (r["observation"]["uid"], "create", actor) for r in results]
    again = rows(world)
    again[2]["periodLabel"] = "2024年"
    results = data(client, BULK, {"rows": again}, auth)["bulkUpsertObservations"]["results"]
    assert [r["operation"] for r in results] == [None, None, "update"]
    assert [(e["operation"], e["actor"]) for e in feed(client, cursor, auth)[0]] == [("update", actor)]


def test_bulk_upsert_is_all_or_nothing_with_each_bad_row(client, world):
    _, auth, _ = issue(resources="observations")
    before = counts()
    bad = rows(world)
    bad[1] = {**bad[1], "value": "260", "kind": "prophecy"}
    bad.append({**bad[0], "indicator": "gdp"})
    refused = error(client, BULK, {"rows": bad}, auth)
    assert refused["extensions"]["code"] == "INVALID"
    assert [(p["index"], p["field"]) for p in refused["extensions"]["errors"]] == [(1, "kind"), (3, "indicator")]
    assert refused["message"].startswith("row 1: kind: ")
    assert counts() == before


def test_bulk_upsert_takes_a_bounded_number_of_rows(client, world, monkeypatch):
    monkeypatch.setattr(mutations, "MAX_BULK_ROWS", 2)
    _, auth, _ = issue()
    before = counts()
    refused = error(client, BULK, {"rows": rows(world)}, auth)
    assert refused["extensions"] == {"code": "TOO_MANY_ROWS", "limit": 2}
    assert counts() == before
    _, topics_auth, _ = issue(resources="topics", name="topics-only")
    assert error(client, BULK, {"rows": rows(world)[:1]}, topics_auth)["extensions"]["code"] == "FORBIDDEN"


# -- limits ---------------------------------------------------------------------------------------------

def test_a_mutation_costs_more_than_a_look_up(client, world):
    _, auth, _ = issue()
    payload = call(client, 'mutation { createEventSeries(input: {slug: "s", nameZh: "系列", nameEn: "S"}) '
                           '{ eventSeries { slug } version } }', auth=auth)
    # the write, the payload and its record, and the query that reads the record again
    assert payload["extensions"]["cost"]["requested"] == limits.MUTATION_COST + 2 + limits.QUERY_COST
    payload = call(client, BULK, {"rows": rows(world)}, auth)
    assert payload["extensions"]["cost"]["requested"] == limits.MUTATION_COST + 3 + 1 + 10 + 10 + 10 + (
        limits.QUERY_COST * 2)  # the bulk's payload is read again, with its list of results


def test_aliases_cannot_batch_mutations_for_free(client, db, django_assert_num_queries):
    fields = " ".join(f'm{i}: deleteTopic(code: "t{i}") {{ version }}' for i in range(limits.MAX_MUTATIONS + 1))
    with django_assert_num_queries(0):
        payload = call(client, f"mutation {{ {fields} }}", status=400)
    assert payload["errors"][0]["extensions"]["code"] == "TOO_MANY_MUTATIONS" and "data" not in payload
    fields = " ".join(f'm{i}: deleteTopic(code: "t{i}") {{ version }}' for i in range(limits.MAX_MUTATIONS))
    payload = call(client, f"mutation {{ {fields} }}")
    assert payload["extensions"]["cost"]["requested"] == limits.MAX_MUTATIONS * (
        limits.MUTATION_COST + 1 + limits.QUERY_COST)
    assert {e["extensions"]["code"] for e in payload["errors"]} == {"UNAUTHENTICATED"}
