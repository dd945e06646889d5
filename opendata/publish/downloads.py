"""Bulk files for analysts, built from the API's own exports so they say exactly what the API says.

For every collection: CSV (UTF-8 with a BOM, the REST CSV's columns: renderers.columns/flatten),
NDJSON (the REST NDJSON), Parquet (pyarrow; the CSV's columns, typed), one XLSX workbook (a sheet per
collection and a README sheet), and one SQLite file of the whole public database (a table per
collection with the CSV's columns, a `citations` table with one row per citation of each fact, and
`source_texts` with the verbatim texts). `manifest.json` lists every file with its SHA-256, size and
row count, and the data version.

Reproducible: the same data gives the same bytes (no build time in any file; fixed zip times;
rows in each collection's default order), so a file's SHA-256 changes only when its data does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.test import RequestFactory

from opendata.base.api.caching import data_stamp
from opendata.base.api.renderers import flatten
from opendata.base.api.spreadsheet import XLSX_MEDIA_TYPE, workbook_bytes
from opendata.catalogue.models import Source
from opendata.publish.resources import collections

MANIFEST = "manifest.json"
WORKBOOK = "opendata.xlsx"
DATABASE = "opendata.sqlite"
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": XLSX_MEDIA_TYPE,
    "sqlite": "application/vnd.sqlite3",
    "json": "application/json",
}


def downloads_dir() -> Path:
    return Path(settings.DOWNLOADS_DIR)


@dataclass
class Table:
    name: str
    header: list[str]
    records: list[dict] = field(default_factory=list)   # the API's records (nested, as NDJSON)

    def flat_rows(self) -> list[dict]:
        return [flatten(r) for r in self.records]


def _get(view, path: str, query: str, base_url: str) -> bytes:
    parts = urlsplit(base_url)
    factory = RequestFactory(HTTP_HOST=parts.netloc, SERVER_NAME=parts.hostname or "127.0.0.1",
                             SERVER_PORT=str(parts.port or (443 if parts.scheme == "https" else 80)))
    request = factory.get(f"{path}?{query}", secure=parts.scheme == "https")
    response = view(request, version="v1")
    if response.status_code != 200:
        body = response.rendered_content if hasattr(response, "rendered_content") else b""
        raise RuntimeError(f"{path}?{query}: {response.status_code} {body[:300]!r}")
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.render().content if hasattr(response, "render") else response.content


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cell(value):
    """A flat cell for Parquet and SQLite: lists as JSON, the rest as the API states it."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def _column_type(values) -> str:
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return "bool"
    if kinds == {int}:
        return "int"
    return "str"


def _parquet(table: Table, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = table.flat_rows()
    arrays, fields = [], []
    for col in table.header:
        values = [_cell(r.get(col)) for r in rows]
        kind = _column_type(values)
        typ = {"bool": pa.bool_(), "int": pa.int64()}.get(kind, pa.string())
        if kind == "str":
            values = [None if v is None else str(v) for v in values]
        arrays.append(pa.array(values, type=typ))
        fields.append(pa.field(col, typ))
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path, compression="zstd")


def _sqlite(tables: list[Table], texts: list[tuple[str, str]], path: Path, meta: dict) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA page_size=4096")
        db.execute("CREATE TABLE about (key TEXT PRIMARY KEY, value TEXT)")
        db.executemany("INSERT INTO about VALUES (?, ?)", sorted(meta.items()))
        db.execute("CREATE TABLE citations (collection TEXT, record TEXT, position INTEGER, source TEXT, "
                   "quote TEXT, offset INTEGER, text_url TEXT, garbled INTEGER)")
        for table in tables:
            rows = table.flat_rows()
            types = {c: _column_type([_cell(r.get(c)) for r in rows]) for c in table.header}
            sql_type = {"bool": "INTEGER", "int": "INTEGER", "str": "TEXT"}
            cols = ", ".join(f'"{c}" {sql_type[types[c]]}' for c in table.header)
            db.execute(f'CREATE TABLE "{table.name}" ({cols})')
            marks = ", ".join("?" for _ in table.header)
            db.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})',
                           ([_cell(r.get(c)) for c in table.header] for r in rows))
            key = next((k for k in ("uid", "code", "slug", "symbol") if k in table.header), None)
            for record in table.records:
                for n, c in enumerate(record.get("citations") or []):
                    db.execute("INSERT INTO citations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               (table.name, record.get(key), n, c.get("source"), c.get("quote"), c.get("offset"),
                                c.get("text_url"), int(bool(c.get("garbled")))))
        db.execute("CREATE TABLE source_texts (slug TEXT PRIMARY KEY, text TEXT)")
        db.executemany("INSERT INTO source_texts VALUES (?, ?)", texts)
        db.execute("CREATE INDEX citations_record ON citations (collection, record)")
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()


def build(out_dir: Path | None = None, *, base_url: str = "http://127.0.0.1:8000") -> dict:
    """Build every file into `out_dir` (default settings.DOWNLOADS_DIR), replacing what was there only
    once all are written. Returns the manifest."""
    out_dir = Path(out_dir or downloads_dir())
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir.parent))
    try:
        manifest = _build_into(work, base_url.rstrip("/"))
        old = out_dir.with_name(out_dir.name + ".old")
        if out_dir.exists():
            os.replace(out_dir, old)
        os.replace(work, out_dir)
        shutil.rmtree(old, ignore_errors=True)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _build_into(work: Path, base_url: str) -> dict:
    files: list[dict] = []
    tables: list[Table] = []
    models = []

    def add(name: str, fmt: str, rows: int, collection: str | None):
        path = work / name
        files.append({"name": name, "format": fmt, "collection": collection, "rows": rows,
                      "bytes": path.stat().st_size, "sha256": _sha256(path), "media_type": MEDIA_TYPES[fmt]})

    for c in collections():
        models.append(c.model)
        view = c.viewset.as_view({"get": "list"})
        csv_bytes = _get(view, c.path, "format=csv&bom=true", base_url)
        ndjson_bytes = _get(view, c.path, "format=ndjson", base_url)
        header = next(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig").split("\r\n", 1)[0])))
        records = [json.loads(line) for line in ndjson_bytes.decode("utf-8").splitlines() if line]
        table = Table(c.name, header, records)
        tables.append(table)
        (work / f"{c.name}.csv").write_bytes(csv_bytes)
        add(f"{c.name}.csv", "csv", len(records), c.name)
        (work / f"{c.name}.ndjson").write_bytes(ndjson_bytes)
        add(f"{c.name}.ndjson", "ndjson", len(records), c.name)
        _parquet(table, work / f"{c.name}.parquet")
        add(f"{c.name}.parquet", "parquet", len(records), c.name)

    latest, _ = data_stamp(models)
    content = hashlib.sha256()
    for f in files:
        if f["format"] == "ndjson":
            content.update(f["sha256"].encode())
    data_version = f"{latest.strftime('%Y%m%dT%H%M%SZ')}-{content.hexdigest()[:8]}"
    updated = latest.strftime("%Y-%m-%dT%H:%M:%SZ")

    readme = [
        ["Changchun Open Data API: every public record, one sheet per collection"],
        ["Data version", data_version],
        ["Data last changed", updated],
        ["API", f"{base_url}/api/v1/"],
        ["Columns", "As the API's CSV: nested objects as dotted columns; citations as JSON in `citations` and "
                    "flat in citation_count, citation_first_quote, citation_first_source, citation_sources."],
        ["Meaning of every column", f"{base_url}/api/v1/dictionary/"],
        [],
        ["sheet", "rows"],
        *[[t.name, len(t.records)] for t in tables],
    ]
    (work / WORKBOOK).write_bytes(workbook_bytes(
        [(t.name, t.header, ([_xlsx(r.get(col)) for col in t.header] for r in t.flat_rows())) for t in tables],
        readme, stamp=updated))
    add(WORKBOOK, "xlsx", sum(len(t.records) for t in tables), None)

    texts = list(Source.objects.filter(deleted_at__isnull=True).order_by("slug").values_list("slug", "text"))
    _sqlite(tables, texts, work / DATABASE, {"data_version": data_version, "data_updated": updated,
                                             "api": f"{base_url}/api/v1/"})
    add(DATABASE, "sqlite", sum(len(t.records) for t in tables), None)

    manifest = {
        "data_version": data_version,
        "data_updated": updated,
        "api_version": "v1",
        "base_url": base_url,
        "files": files,
    }
    (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def _xlsx(value):
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def read_manifest(directory: Path | None = None) -> dict | None:
    path = Path(directory or downloads_dir()) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def verify(directory: Path | None = None) -> list[str]:
    """What in `directory` disagrees with its manifest (missing file, size or SHA-256), or []."""
    directory = Path(directory or downloads_dir())
    manifest = read_manifest(directory)
    if manifest is None:
        return [f"no {MANIFEST} in {directory}"]
    problems = []
    for f in manifest["files"]:
        path = directory / f["name"]
        if not path.is_file():
            problems.append(f"{f['name']}: missing")
        elif path.stat().st_size != f["bytes"] or _sha256(path) != f["sha256"]:
            problems.append(f"{f['name']}: its bytes are not the manifest's")
    return problems
