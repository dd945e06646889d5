"""The GraphQL fast path (opendata.base.graphql.fastpath) answers byte for byte what graphql-core's own
execution answers (settings.GRAPHQL_FAST_PATH = False): a matrix of queries over the project's real
data (different selections, aliases, fragments, __typename, @include/@skip, variables, every paging
argument, filters, orderBy, nested citations with their own arguments, totalCount, pageInfo, errors),
and which of them the fast path answers (the rest fall back, whole)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import override_settings

from indicators.models import Indicator, Observation
from opendata.base.graphql import fastpath
from opendata.catalogue.models import Citation
from tests.factories import ObservationFactory
from tests.opendata.base.graphql.helpers import post
from tests.opendata.base.graphql.test_query_counts import R4_QUERY

pytestmark = pytest.mark.django_db

OBSERVATION_FIELDS = """id uid periodStart periodEnd periodLabel kind comparator value measure disputed preferred
    disputeNote assessment assessmentPeriodStart assessmentPeriodEnd createdAt updatedAt deletedAt __typename"""

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }"

# name -> (query, variables, whether the fast path answers it)
QUERIES: dict[str, tuple[str, dict | None, bool]] = {
    "r4": (R4_QUERY, "IND", True),
    "every column": ("{ observations(first: 30) { nodes { %s } } }" % OBSERVATION_FIELDS, None, True),
    "edges and pageInfo": ("{ observations(first: 5) { __typename totalCount %s edges { __typename cursor node { uid } } "
                           "} }" % PAGE_INFO, None, True),
    "nodes and edges": ("{ observations(first: 4) { nodes { uid } edges { node { value } cursor } nodes { kind } } }",
                        None, True),
    "aliases": ("""{ a: observations(first: 2) { n: nodes { x: uid uid v: value i: indicator { c: code } } }
                    b: observations(last: 3, orderBy: ["-period_start"]) { nodes { uid } total: totalCount } }""",
                None, True),
    "fragments": ("""query { observations(first: 3) { ...C } }
                     fragment C on ObservationConnection { nodes { ...O ... on Observation { kind } } }
                     fragment O on Observation { uid indicator { ... on Indicator { code } ...I } }
                     fragment I on Indicator { nameEn code }""", None, True),
    "include true skip false": ("""query($a: Boolean!, $b: Boolean!) { observations(first: 4) { totalCount @skip(if: $a)
                                   nodes { uid @include(if: $a) value @skip(if: $b) indicator @include(if: $b) { code }
                                   ... on Observation @include(if: $b) { kind } } } }""", {"a": True, "b": False}, True),
    "include false skip true": ("""query($a: Boolean!, $b: Boolean!) { observations(first: 4) { totalCount @skip(if: $a)
                                   nodes { uid @include(if: $a) value @skip(if: $b) indicator @include(if: $b) { code }
                                   ... on Observation @include(if: $b) { kind } } } }""", {"a": False, "b": True}, True),
    "joins": ("""{ observations(first: 20, orderBy: ["-period_start"]) { nodes { uid indicator { id code nameEn nameZh
                 createdAt topic { code nameEn } unit { symbol } } region { id code kind parent { code parent { code } } }
                 unit { symbol factor baseUnit __typename } } } }""", None, True),
    "default page": ("{ observations { nodes { uid } } }", None, True),
    "last": ("{ observations(last: 4) { %s nodes { uid } } }" % PAGE_INFO, None, True),
    "first 0": ("{ observations(first: 0) { %s totalCount nodes { uid } } }" % PAGE_INFO, None, True),
    "filters": ("""query($ind: [Code!], $kind: FactKind) { observations(indicator: $ind, kind: $kind, first: 50,
                   orderBy: ["period_start"]) { totalCount nodes { uid kind value } } }""", "IND_KIND", True),
    "filter matching nothing": ('{ observations(indicator: ["no-such-indicator"], first: 5) { totalCount %s nodes { uid } } }'
                                % PAGE_INFO, None, True),
    "citations args": ("""{ observations(first: 30) { nodes { uid
                          a: citations(first: 1) { totalCount %s edges { cursor node { quote } } }
                          b: citations(last: 1) { nodes { uid offset garbled } }
                          c: citations(orderBy: ["-offset"], first: 2) { nodes { quote source { slug titleEn } } }
                          d: citations { nodes { id __typename } } } } }""" % PAGE_INFO, None, True),
    "indicators with observations": ("""{ indicators(first: 5) { totalCount nodes { code unit { symbol }
                                        observations(first: 2, kind: actual) { totalCount %s nodes { uid value } }
                                        later: observations(last: 1) { edges { cursor node { uid } } } } } }""" % PAGE_INFO,
                                     None, True),
    "sources with citations": ("""{ sources(first: 3) { nodes { slug date citations(first: 2) { nodes { quote offset
                                  source { slug } } } } } }""", None, True),
    "regions with children": ("""{ regions(first: 5) { nodes { code kind parent { code } children(first: 2) { nodes { code } }
                                 } } }""", None, True),
    # Fields the fast path does not know: the whole connection falls back.
    "target evaluation": ("{ observations(first: 5, kind: target) { nodes { uid targetEvaluation { state } } } }", None,
                          False),
    "computed citation fields": ("{ observations(first: 5) { nodes { uid citations(first: 2) { nodes { end textUrl } } } } }",
                                 None, False),
    "source periods": ("{ sources(first: 2) { nodes { slug periods { label } } } }", None, False),
    "batched list": ("{ sources(first: 2) { nodes { slug observations(first: 2) { nodes { uid } } } } }", None, False),
    "nested under a join": ("{ observations(first: 2) { nodes { indicator { observations(first: 1) { nodes { uid } } } } } }",
                            None, False),
    # Errors: refused before anything runs, answered the same either way.
    "deleted": ("query($ind: [Code!]) { observations(indicator: $ind, includeDeleted: true) { nodes { uid deletedAt } } }",
                "IND", True),
    "mrv and period": ('query($ind: [Code!]) { observations(indicator: $ind, mrv: 2, periodFrom: "2000") { nodes { uid } } }',
                       "IND", True),
    "bad filter": ('{ observations(mrv: 0, first: 2) { nodes { uid } } }', None, False),
    "bad period": ('{ observations(periodFrom: "20x", first: 2) { nodes { uid } } }', None, False),
    "bad page size": ("{ observations(first: 101) { nodes { uid } } }", None, False),
    "bad nested page size": ("{ observations(first: 2) { nodes { citations(last: 500) { nodes { uid } } } } }", None,
                             False),
    "bad cursor": ('{ observations(after: "nonsense", first: 2) { nodes { uid } } }', None, False),
    "bad variable": ("query($ind: [Code!]) { observations(indicator: $ind) { nodes { uid } } }", {"ind": ["not a code"]},
                     False),
    "bad orderBy": ('{ observations(orderBy: ["nothing"], first: 2) { nodes { uid } } }', None, False),
}


def answer(client, query: str, variables, fast: bool) -> tuple[int, bytes]:
    with override_settings(GRAPHQL_FAST_PATH=fast):
        response = post(client, query, variables)
    return response.status_code, response.content


@pytest.fixture
def data(loaded_db):
    """The real fixtures, with values REST writes in their own way, more citations on one observation and
    deleted records."""
    observation = Observation.objects.filter(citations__isnull=False).order_by("id").first()
    observation.citations.add(*Citation.objects.order_by("id")[:4])
    indicator = observation.indicator
    for year, value in enumerate((Decimal("260.000000"), Decimal("2.6E+2"), Decimal("0.000100"), Decimal("-12.5")),
                                 start=1990):
        ObservationFactory(indicator=indicator, region=observation.region, unit=observation.unit, value=value,
                           period_start=dt.date(year, 1, 1), period_end=dt.date(year, 12, 31), period_label=str(year))
    deleted = ObservationFactory(indicator=indicator, region=observation.region, unit=observation.unit,
                                 period_start=dt.date(1989, 1, 1), period_end=dt.date(1989, 12, 31), period_label="1989")
    Observation.objects.filter(pk=deleted.pk).update(deleted_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    return indicator


@pytest.fixture
def used(monkeypatch):
    """The number of connections the fast path answered."""
    counter = []
    answer_connection = fastpath.answer_connection

    def spy(*args, **kwargs):
        answered = answer_connection(*args, **kwargs)
        counter.append(answered is not None)
        return answered

    monkeypatch.setattr(fastpath, "answer_connection", spy)
    return counter


def variables_for(spec, indicator: Indicator):
    if spec == "IND":
        return {"ind": [indicator.code]}
    if spec == "IND_KIND":
        return {"ind": [indicator.code, Indicator.objects.exclude(pk=indicator.pk).order_by("code")[0].code],
                "kind": "actual"}
    return spec


def test_every_query_of_the_matrix_answers_the_same_bytes(client, data, used):
    compared = []
    for name, (query, spec, fast) in QUERIES.items():
        variables = variables_for(spec, data)
        used.clear()
        fast_answer = answer(client, query, variables, True)
        assert any(used) is fast, f"{name}: the fast path {'did not answer' if fast else 'answered'}"
        slow_answer = answer(client, query, variables, False)
        assert fast_answer == slow_answer, name
        assert fast_answer[0] == (200 if fast else fast_answer[0])
        if fast:
            payload = json.loads(fast_answer[1])
            assert "errors" not in payload, (name, payload)
        compared.append(name)
    assert len(compared) == len(QUERIES)


def test_pages_after_and_before_cursors(client, data):
    """Walk forwards and backwards through an indicator's observations (and one's citations) by cursors."""
    query = """query($ind: [Code!], $after: String, $before: String, $first: Int, $last: Int) {
        observations(indicator: $ind, first: $first, last: $last, after: $after, before: $before, orderBy: ["-period_start"]) {
          %s edges { cursor node { uid citations(first: 1) { edges { cursor } } } } } }""" % PAGE_INFO
    variables = {"ind": [data.code], "first": 2}
    pages = 0
    while True:
        status, body = answer(client, query, variables, True)
        assert (status, body) == answer(client, query, variables, False)
        connection = json.loads(body)["data"]["observations"]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        variables = {"ind": [data.code], "first": 2, "after": connection["pageInfo"]["endCursor"]}
        end = connection["pageInfo"]["endCursor"]
    assert pages > 2
    for backwards in ({"last": 2, "before": end}, {"first": 3, "before": end}, {"last": 1}, {"before": end}):
        variables = {"ind": [data.code], **backwards}
        assert answer(client, query, variables, True) == answer(client, query, variables, False)

    citations = """query($after: String) { observations(first: 50) { nodes { uid citations(first: 2, after: $after) {
                   %s nodes { uid } } } } }""" % PAGE_INFO
    first = json.loads(answer(client, citations, {}, True)[1])["data"]["observations"]["nodes"]
    cursor = next(n["citations"]["pageInfo"]["endCursor"] for n in first if n["citations"]["pageInfo"]["hasNextPage"])
    assert answer(client, citations, {"after": cursor}, True) == answer(client, citations, {"after": cursor}, False)
    nodes_only = """query($after: String) { observations(first: 50) { nodes { uid citations(first: 1, after: $after) {
                    __typename nodes { uid } } } } }"""  # no edge, cursor or count: the parents' pages are sliced
    assert answer(client, nodes_only, {"after": cursor}, True) == answer(client, nodes_only, {"after": cursor}, False)
    stale = '{ observations(first: 1) { nodes { citations(after: "%s", first: 1) { nodes { uid } } } } }' % cursor
    assert answer(client, stale, None, True) == answer(client, stale, None, False)


def test_a_value_it_would_not_write_as_graphql_core_falls_back(client, data, used, monkeypatch):
    """When the writer meets a value it would not write as graphql-core does (a null where the schema promises
    a value, a value its scalar refuses), it leaves the connection to graphql-core, which answers."""
    def refuse(entries, row):
        raise fastpath.Fallback("value")

    monkeypatch.setattr(fastpath, "write_object", refuse)
    query = "{ observations(first: 2) { nodes { uid value } } }"
    fast_answer = answer(client, query, None, True)
    assert used == [False]
    assert fast_answer == answer(client, query, None, False)
    assert fast_answer[0] == 200 and b'"uid"' in fast_answer[1]


@pytest.mark.parametrize("data", [
    {"data": {"t": "".join(map(chr, range(0x80))) + "\u2028\u2029长春市\U0001f600\ufeff\x85", "n": [0, -1, 2**63 - 1]}},
    {"errors": [{"message": "x", "path": ["a", 0], "extensions": {"code": "C", "requestId": None}}], "data": None},
    {"data": {"big": 2**70}},  # beyond orjson: the json module writes it
    {1: "a key that is no string"},
])
def test_compact_json_writes_what_the_json_module_writes(data):
    from opendata.base.graphql.views import compact_json

    written = compact_json(data)
    assert (written if isinstance(written, bytes) else written.encode()) == json.dumps(
        data, separators=(",", ":"), ensure_ascii=False).encode()
