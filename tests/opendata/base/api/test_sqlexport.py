"""CSV and NDJSON exports written by PostgreSQL (opendata.base.api.sqlexport) answer byte for byte what the
Python writer (API_EXPORT_COPY=false) and DRF's serializers (API_FAST_PATH=false) answer: every collection,
`fields`/`expand` combinations, the BOM, filters and orderings, deleted rows, and values made to break a
writer (commas, quotes, CR/LF, tabs, backslashes, control characters, Chinese text, U+2028, nulls,
microseconds, decimals' trailing zeros, a key to percent-encode); in a constant number of statements; streamed
over a real socket. On SQLite the Python writer serves every export."""

from __future__ import annotations

import datetime as dt
import itertools
import urllib.request
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from indicators.models import Indicator, Observation
from opendata.catalogue.models import Citation, Region, Source
from tests import api_helpers as h
from tests.opendata.base.api.test_fastpath import COLLECTIONS, nested_collections, viewset_of

TRICKY = 'a,b "quoted" line\r\nnext\ttab back\\slash 长春市,「引号」 \u2028 \x01 \x7f end'


def export(client, url: str, *, copy: bool = True, fast: bool = True):
    """(status, body, headers that matter, whether a COPY wrote it)."""
    with override_settings(API_EXPORT_COPY=copy, API_FAST_PATH=fast), CaptureQueriesContext(connection) as queries:
        r = client.get(url)
        body = b"".join(r.streaming_content) if r.streaming else r.content
    headers = (r.get("Content-Type"), r.get("Content-Disposition"), r.get("ETag"), r.get("Last-Modified"))
    copied = any(q["sql"].startswith("COPY (") for q in queries.captured_queries)
    return r.status_code, body, headers, copied


def tricky_data():
    """The fixtures, with values made to break a writer."""
    obs = list(Observation.objects.order_by("pk")[:12])
    Observation.objects.filter(pk=obs[0].pk).update(dispute_note=TRICKY, period_label="2025,上半年")
    Observation.objects.filter(pk=obs[1].pk).update(dispute_note='"', period_label="\n")
    Observation.objects.filter(pk=obs[2].pk).update(value=Decimal("12.500"), dispute_note="")
    Observation.objects.filter(pk=obs[3].pk).update(value=Decimal("1000.000"), dispute_note="\r")  # CR alone
    Observation.objects.filter(pk=obs[4].pk).update(value=Decimal("0.0001000"))
    Observation.objects.filter(pk=obs[5].pk).update(deleted_at=timezone.now())
    Observation.objects.filter(pk=obs[6].pk).update(created_at=dt.datetime(2024, 2, 29, 23, 59, 59, 120000, tzinfo=dt.UTC),
                                                    updated_at=dt.datetime(2024, 3, 1, 0, 0, 0, tzinfo=dt.UTC))
    Observation.objects.filter(pk=obs[7].pk).update(assessment_period_start=None, assessment_period_end=None)
    obs[8].citations.clear()     # no citation: [] and empty citation columns
    # several citations, from several sources (one twice): citation_sources lists each once, in order
    cites = list(Citation.objects.alive().order_by("pk")[:4])
    obs[9].citations.set(cites)
    Citation.objects.filter(pk=cites[0].pk).update(quote=TRICKY)
    source = cites[0].source
    Source.objects.filter(pk=source.pk).update(slug="长春,源\"1\"", title_en=TRICKY)  # a key to percent-encode
    Region.objects.filter(pk=Region.objects.order_by("-pk").values("pk")[:1]).update(name_en=TRICKY)
    Indicator.objects.filter(pk=obs[10].indicator_id).update(name_zh=TRICKY, description="\\")
    return obs


def urls_of(client, base: str) -> list[str]:
    cls = viewset_of(client, base.split("?")[0])
    serializer = cls.serializer_class
    names = serializer.field_names()
    expandable = sorted(serializer.expandable)
    urls = []
    for fmt in ("csv", "ndjson"):
        urls += [f"{base}?format={fmt}", f"{base}?format={fmt}&include_deleted=true"]
        urls += [f"{base}?format={fmt}&fields={n}" for n in names]
        for k in range(1, len(expandable) + 1):
            for combo in itertools.combinations(expandable, k):
                urls.append(f"{base}?format={fmt}&expand={','.join(combo)}&include_deleted=true")
        for name in sorted(cls.filterset_class.sorting.fields)[:3]:
            urls.append(f"{base}?format={fmt}&ordering=-{name}")
    urls += [f"{base}?format=csv&bom=true", f"{base}?format=csv&bom=true&fields={names[0]}"]
    if expandable:
        urls.append(f"{base}?format=csv&bom=false&expand={','.join(expandable)}")
    return urls


@pytest.mark.postgres
def test_copy_exports_are_byte_identical_to_the_python_writer_and_to_drf(client, loaded_db):
    tricky_data()
    compared = copied = 0
    bases = [f"/api/v1/{c}/" for c in COLLECTIONS] + nested_collections(client)
    for base in bases:
        for url in urls_of(client, base):
            status, body, headers, by_copy = export(client, url)
            assert status == 200, url
            assert (status, body, headers) == export(client, url, copy=False)[:3], url
            assert (status, body, headers) == export(client, url, fast=False)[:3], url
            compared += 1
            copied += by_copy
    code = Indicator.objects.filter(observations__isnull=False).values_list("code", flat=True).first()
    for url in [f"/api/v1/observations/?format=csv&indicator={code}&ordering=-period_start",
                "/api/v1/observations/?format=ndjson&kind=target&include_deleted=true",
                "/api/v1/observations/?format=csv&region=changchun&expand=indicator,region,unit",
                "/api/v1/observations/?format=csv&indicator=no-such-indicator"]:
        status, body, headers, by_copy = export(client, url)
        assert (status, body, headers) == export(client, url, copy=False)[:3] == export(client, url, fast=False)[:3]
        compared += 1
    assert compared > 300
    assert copied > compared // 2   # most exports compile to SQL


@pytest.mark.postgres
def test_the_tricky_values_are_in_the_compared_exports(client, loaded_db):
    obs = tricky_data()
    _, body, _, by_copy = export(client, "/api/v1/observations/?format=csv&include_deleted=true")
    assert by_copy
    text = body.decode()
    assert '"a,b ""quoted"" line\r\nnext\ttab back\\slash 长春市,「引号」 \u2028 \x01 \x7f end"' in text
    assert ",12.5," in text and ",1000," in text and ",0.0001," in text
    assert "2024-02-29T23:59:59.120000Z,2024-03-01T00:00:00Z" in text
    assert "%E9%95%BF%E6%98%A5%2C%E6%BA%90%221%22" in text   # the source's slug, percent-encoded in its links
    _, body, _, by_copy = export(client, "/api/v1/observations/?format=ndjson&include_deleted=true")
    assert by_copy
    assert '"a,b \\"quoted\\" line\\r\\nnext\\ttab back\\\\slash 长春市,「引号」 \u2028 \\u0001 \x7f end"' \
        in body.decode()
    assert str(obs[5].uid) in body.decode()                  # deleted, listed with include_deleted
    _, body, _, _ = export(client, "/api/v1/observations/?format=ndjson")
    assert str(obs[5].uid) not in body.decode()              # and not without


@pytest.mark.postgres
def test_an_export_is_a_constant_number_of_statements(client, db):
    counts = []
    for n in (3, 1500):
        h.observations(n, start_year=1000 + len(counts) * 100 if n < 100 else 1200)
        with CaptureQueriesContext(connection) as queries:
            r = client.get("/api/v1/observations/?format=csv&expand=indicator,region,unit")
            lines = b"".join(r.streaming_content).count(b"\r\n")
        counts.append(len(queries.captured_queries))
        assert sum(q["sql"].startswith("COPY (") for q in queries.captured_queries) == 1
    assert lines == 1 + 1503
    # the validators' reads, the transaction's settings, the COPY (and, inside the test's transaction, a savepoint)
    assert counts[0] == counts[1] <= 6


@pytest.mark.postgres
def test_a_client_gone_mid_export_leaves_the_connection_clean(client, db):
    h.observations(600)
    r = client.get("/api/v1/observations/?format=ndjson")
    chunks = iter(r.streaming_content)
    first = next(chunks)
    assert 0 < first.count(b"\n") < 600
    # The client goes: the server closes the stream. (Through the test client's own wrapper, which keeps the
    # connection open inside the test's transaction; `r.close()` would close it, as a server does at the end.)
    r._iterator.close()   # the COPY is cancelled, its transaction (here a savepoint) rolled back
    assert Observation.objects.count() == 600
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_mergejoin")
        assert cursor.fetchone() == ("on",)


@pytest.mark.postgres
def test_a_shape_without_sql_falls_back_to_the_python_writer(client, loaded_db):
    # a citation's source expanded: citation_sources is the repr Python writes of each source
    status, body, headers, by_copy = export(client, "/api/v1/observations/?format=csv&expand=source")
    assert status == 200 and not by_copy
    # but NDJSON of the same shape is written by PostgreSQL
    assert export(client, "/api/v1/observations/?format=ndjson&expand=source")[3]


def test_on_sqlite_or_switched_off_the_python_writer_serves(client, db):
    h.observations(3)
    status, body, _, by_copy = export(client, "/api/v1/observations/?format=csv", copy=connection.vendor != "postgresql")
    assert status == 200 and not by_copy and body.count(b"\r\n") == 4


@pytest.fixture
def rows(transactional_db):
    return h.observations(2500)


@pytest.mark.postgres
def test_a_copy_export_streams_over_http(live_server, rows):
    url = f"{live_server.url}/api/v1/observations/?format=ndjson"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.headers["Content-Type"] == "application/x-ndjson"
        assert "Content-Length" not in response.headers  # streamed, not buffered
        assert 'filename="observations.ndjson"' in response.headers["Content-Disposition"]
        first = response.read(1 << 16)
        rest = response.read()
    lines = (first + rest).split(b"\n")
    assert len(lines) == 2501 and lines[-1] == b""
    with override_settings(API_EXPORT_COPY=False), urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == first + rest
