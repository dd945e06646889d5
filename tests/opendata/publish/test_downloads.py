"""The bulk downloads: built by the command from the loaded fixtures, checked against their manifest,
reproducible byte for byte, readable in each format with the row counts the API gives, and served
with ETags."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from opendata.base.api.renderers import CITATION_COLUMNS
from opendata.publish import downloads
from opendata.publish.resources import collections

QUIET = {"stdout": io.StringIO()}


@pytest.fixture
def built(loaded_db, tmp_path, settings):
    settings.DOWNLOADS_DIR = tmp_path / "downloads"
    call_command("build_downloads", base_url="http://testserver", **QUIET)
    return settings.DOWNLOADS_DIR


def test_the_files_match_their_manifest_and_the_api(built, client):
    manifest = json.loads((built / "manifest.json").read_text())
    assert downloads.verify(built) == []
    call_command("build_downloads", verify=True, **QUIET)
    names = {f["name"] for f in manifest["files"]}
    for c in collections():
        assert {f"{c.name}.csv", f"{c.name}.ndjson", f"{c.name}.parquet"} <= names
        count = client.get(f"{c.path}?count=true&page_size=1").json()["count"]
        rows = {f["format"]: f["rows"] for f in manifest["files"] if f["collection"] == c.name}
        assert rows == {"csv": count, "ndjson": count, "parquet": count}, c.name
    assert {"opendata.xlsx", "opendata.sqlite"} <= names
    assert manifest["data_version"] and manifest["api_version"] == "v1"


def test_a_changed_file_fails_the_check(built):
    (built / "topics.csv").write_bytes((built / "topics.csv").read_bytes() + b"x")
    assert downloads.verify(built) == ["topics.csv: its bytes are not the manifest's"]
    with pytest.raises(CommandError, match="topics.csv"):
        call_command("build_downloads", verify=True, **QUIET)


def test_the_same_data_gives_the_same_bytes(built, tmp_path):
    first = json.loads((built / "manifest.json").read_text())
    call_command("build_downloads", base_url="http://testserver", output=str(tmp_path / "again"), **QUIET)
    again = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert first == again


def test_csv_is_the_api_csv_with_a_bom_and_flat_citations(built, client):
    raw = (built / "observations.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    api = b"".join(client.get("/api/v1/observations/?format=csv&bom=true").streaming_content)
    assert raw == api
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert set(CITATION_COLUMNS) <= set(rows[0])
    for row in rows:
        citations = json.loads(row["citations"])
        assert int(row["citation_count"]) == len(citations) >= 1
        assert row["citation_first_quote"] == citations[0]["quote"]
        assert row["citation_first_source"] == citations[0]["source"]
        assert row["citation_sources"].split("; ") == list(dict.fromkeys(c["source"] for c in citations))


def test_xlsx_parquet_and_sqlite(built):
    """XLSX: a sheet per collection and a README; Parquet and SQLite: every row (one build for all three)."""
    wb = load_workbook(built / "opendata.xlsx", read_only=True)
    assert wb.sheetnames == ["README", *[c.name for c in collections()]]
    manifest = json.loads((built / "manifest.json").read_text())
    rows = {f["collection"]: f["rows"] for f in manifest["files"] if f["format"] == "csv"}
    for c in collections():
        assert sum(1 for _ in wb[c.name].iter_rows()) == rows[c.name] + 1
    readme = [r[1] for r in wb["README"].iter_rows(values_only=True) if r and r[0] == "Data version"]
    assert readme == [manifest["data_version"]]

    import pyarrow.parquet as pq

    table = pq.read_table(built / "observations.parquet")
    assert table.num_rows == rows["observations"]
    assert table.schema.field("citation_count").type == "int64"
    assert table.schema.field("value").type == "string"   # decimals as the API states them, never floats
    db = sqlite3.connect(built / "opendata.sqlite")
    for c in collections():
        assert db.execute(f'SELECT COUNT(*) FROM "{c.name}"').fetchone()[0] == rows[c.name]
    assert db.execute("SELECT value FROM about WHERE key = 'data_version'").fetchone()[0] == manifest["data_version"]
    quote, offset, slug = db.execute("SELECT quote, offset, source FROM citations LIMIT 1").fetchone()
    text = db.execute("SELECT text FROM source_texts WHERE slug = ?", (slug,)).fetchone()[0]
    assert text[offset:offset + len(quote)] == quote   # provenance holds inside the file


def test_served_with_etags(built, client):
    index = client.get("/downloads/")
    assert index.status_code == 200
    files = {f["name"]: f for f in index.json()["files"]}
    assert files["observations.csv"]["url"] == "http://testserver/downloads/observations.csv"
    response = client.get("/downloads/observations.csv")
    assert response.status_code == 200 and response["ETag"] == f'"{files["observations.csv"]["sha256"][:32]}"'
    assert b"".join(response.streaming_content) == (built / "observations.csv").read_bytes()
    assert client.get("/downloads/observations.csv", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get("/downloads/", HTTP_IF_NONE_MATCH=index["ETag"]).status_code == 304
    missing = client.get("/downloads/secrets.txt")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"
    assert client.get("/downloads/..%2Fmanifest.json").status_code == 404


def test_not_built_says_how_to_build(db, client, settings, tmp_path):
    settings.DOWNLOADS_DIR = tmp_path / "none"
    response = client.get("/downloads/")
    assert response.status_code == 404 and "make downloads" in response.json()["how_to_fix"]
