"""XLSX workbooks (openpyxl, write-only): one sheet per collection and a README sheet, byte-for-byte
reproducible (fixed zip entry times and document dates), for `?format=xlsx` and the bulk downloads."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 1_048_575          # Excel's rows per sheet, less the header
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what XML (so XLSX) cannot hold


def sheet_title(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "_", name)[:31]


def _value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    return _ILLEGAL.sub("\ufffd", str(value))


def workbook_bytes(sheets: Iterable[tuple[str, list[str], Iterable[list]]], readme: list[list[str]],
                   *, stamp: str = "2000-01-01T00:00:00Z") -> bytes:
    """`sheets`: (title, header, rows of cells); `readme`: rows of the first sheet, "README".
    `stamp` is written as the document's creation and modification date (so the bytes depend only
    on the data)."""
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    info = wb.create_sheet("README")
    for row in readme:
        info.append([_value(v) for v in row])
    for title, header, rows in sheets:
        ws = wb.create_sheet(sheet_title(title))
        cells = []
        for name in header:
            cell = WriteOnlyCell(ws, value=name)
            cell.font = bold
            cells.append(cell)
        ws.append(cells)
        for n, row in enumerate(rows):
            if n >= MAX_ROWS:
                raise ValueError(f"{title}: more rows than a spreadsheet holds; use CSV, NDJSON or Parquet.")
            ws.append([_value(v) for v in row])
    raw = io.BytesIO()
    wb.save(raw)
    return _reproducible(raw.getvalue(), stamp.encode())


def _reproducible(data: bytes, stamp: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                body = _CORE_DATES.sub(lambda m: m.group(1) + stamp + m.group(3), body)
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            dst.writestr(info, body)
    return out.getvalue()
