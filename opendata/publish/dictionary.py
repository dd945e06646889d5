"""The data dictionary: every collection's fields (type, meaning, allowed values, unit handling) and
filters, generated from the serializers, the models, the FilterSets and the fixtures' unit list.

Served at /api/v1/dictionary/ and written to docs/dictionary.md and docs/dictionary.json by
`make schema` (`manage.py data_dictionary`); tests/opendata/publish/test_dictionary.py fails when the
committed files drift from the code.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import yaml
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from rest_framework import serializers

from opendata.publish.resources import collections

# How a value is measured and stated: the one place the dictionary explains units.
UNIT_HANDLING = (
    "A value is stated in the unit its source writes (`unit`, e.g. `亿元`), never converted: the "
    "number is the source's own, as a decimal string (no floating-point rounding). To compare values "
    "in different units, multiply by the unit's `factor` to get the value in its `base_unit` "
    "(`/api/v1/units/`): 1 亿元 × 1e8 = 100,000,000 CNY."
)
GARBLED = (
    "`garbled: true` marks a citation whose quoted clause reads correctly but stands in a passage of "
    "the source text that is column-interleaved (two columns of the original layout run into each "
    "other in the text). The quote is still the source's exact characters at its offset; a reader "
    "checking it in the text should expect the surrounding lines to read out of order. See "
    "docs/fixtures.md."
)

# Meanings of fields whose serializer and model say nothing (common names across collections).
DEFAULT_MEANINGS = {
    "url": "This record in the API.",
    "value": "The number as the source states it, in `unit` (see Units): a decimal string, never rounded.",
    "name_zh": "Name in Chinese, as the source writes it.",
    "name_en": "Name in English.",
    "title_zh": "Title in Chinese, as published.",
    "title_en": "Title in English (a translation).",
    "description": "Free-text description (may be empty).",
    "code": "Public identifier (a slug).",
    "slug": "Public identifier (a slug).",
    "publisher_zh": "Publisher in Chinese, when the document names one (else empty).",
    "publisher_en": "Publisher in English, when the document names one (else empty).",
    "date_note": "How the date was established, when it is not the publication date.",
    "file_name": "The file the text was read from (fixtures/sources/).",
    "start": "First day of the period.",
    "end": "Last day of the period.",
    "label": "The period as named.",
    "date_start": "First day of the period the status is stated for (see date_precision).",
    "date_end": "Last day of the period the status is stated for.",
    "timeline_url": "This project's status timeline.",
    "start_date": "First day of the event (see start_precision).",
    "end_date": "Last day of the event; null when the source gives none.",
    "end_precision": "How precisely end_date is known: day, month or year; empty without an end date.",
}

_TYPES = [
    (serializers.BooleanField, "boolean"),
    (serializers.IntegerField, "integer"),
    (serializers.DecimalField, "decimal (string)"),
    (serializers.DateTimeField, "datetime (ISO 8601, UTC)"),
    (serializers.DateField, "date (YYYY-MM-DD)"),
    (serializers.UUIDField, "uuid"),
    (serializers.URLField, "url"),
    (serializers.ListField, "array"),
    (serializers.DictField, "object"),
    (serializers.JSONField, "object"),
]


def _type_of(field) -> str:
    if isinstance(field, serializers.ListSerializer):
        return f"array of {type(field.child).__name__.removesuffix('Serializer').lower() or 'object'}"
    if isinstance(field, serializers.Serializer):
        return "object"
    name = type(field).__name__
    if name == "LinkField":
        return "url"
    if name == "DecimalStringField":
        return "decimal (string)"
    for cls, label in _TYPES:
        if isinstance(field, cls):
            return label
    if isinstance(field, serializers.SerializerMethodField):
        schema_type = getattr(getattr(field, "_spectacular_annotation", None), "value", None)
        return "url" if field.field_name.endswith("url") else (schema_type or "string")
    return "string"


def _model_field(model, source: str):
    """The model field a serializer field reads (`unit.symbol` → Unit.symbol), or None."""
    if not source or source == "*":
        return None
    current = model
    field = None
    for part in source.split("."):
        try:
            field = current._meta.get_field(part)
        except (FieldDoesNotExist, AttributeError):
            return None
        current = field.related_model if field.is_relation else None
    return field


def _choices(field, model_field) -> list[dict] | None:
    choices = getattr(model_field, "choices", None) or getattr(field, "choices", None)
    if not choices:
        return None
    items = choices.items() if isinstance(choices, dict) else choices
    return [{"value": str(v), "label": str(label)} for v, label in items]


def _fields(serializer, model) -> list[dict]:
    out = []
    for name, field in serializer.fields.items():
        model_field = _model_field(model, field.source if field.source != "*" else name)
        description = str(field.help_text or getattr(model_field, "help_text", "") or "")
        description = description or DEFAULT_MEANINGS.get(name, "")
        if not description and isinstance(field, serializers.Serializer) and field.__doc__:
            description = " ".join(field.__doc__.split())
        entry = {
            "name": name,
            "type": _type_of(field),
            "description": description,
            "nullable": bool(getattr(field, "allow_null", False) or getattr(model_field, "null", False)),
        }
        if choices := _choices(field, model_field):
            entry["allowed_values"] = choices
        if getattr(model_field, "max_length", None) and entry["type"] == "string":
            entry["max_length"] = model_field.max_length
        nested = field.child if isinstance(field, serializers.ListSerializer) else field
        if isinstance(nested, serializers.Serializer):
            related = getattr(model_field, "related_model", None) or model
            entry["fields"] = _fields(nested, related)
        out.append(entry)
    return out


def _filters(filterset_class) -> list[dict]:
    out = []
    for name, flt in filterset_class.base_filters.items():
        entry = {"name": name, "type": type(flt).__name__.removesuffix("Filter") or "Filter",
                 "description": str(flt.extra.get("help_text") or flt.label or "")}
        choices = flt.extra.get("choices")
        if choices:
            entry["allowed_values"] = [str(v) for v, _ in choices]
        out.append(entry)
    sorting = getattr(filterset_class, "sorting", None)
    if sorting is not None:
        keys = sorted(getattr(sorting, "fields", {}) or {})
        out.append({"name": "ordering", "type": "Sorting",
                    "description": "Sort keys, comma-separated, `-` for descending"
                                   + (f"; keys: {', '.join(keys)}" if keys else "")
                                   + (f"; default {','.join(sorting.default)}" if getattr(sorting, "default", None)
                                      else "") + "."})
    return out


def units_from_fixtures() -> list[dict]:
    """The units the data uses, as the fixtures declare them (fixtures/units.yaml)."""
    raw = yaml.safe_load((Path(settings.FIXTURES_DIR) / "units.yaml").read_text(encoding="utf-8")) or []
    return [{"symbol": str(u["symbol"]), "name_en": str(u["name_en"]), "base_unit": str(u["base_unit"]),
             "factor": format(Decimal(str(u["factor"])).normalize(), "f")} for u in raw]


def build() -> dict:
    """The dictionary as one JSON-ready mapping (stable order: the URL map's, the serializers')."""
    resources = []
    for c in collections():
        serializer = c.serializer_class(context={"request": None, "expand": set()})
        resources.append({
            "name": c.name,
            "path": c.path,
            "description": " ".join((c.serializer_class.__doc__ or "").split()),
            "key": c.viewset.lookup_field,
            "fields": _fields(serializer, c.model),
            "filters": _filters(c.filterset_class),
            "expandable": sorted(getattr(c.serializer_class, "expandable", {}) or {}),
        })
    return {
        "version": "v1",
        "unit_handling": UNIT_HANDLING,
        "garbled": GARBLED,
        "units": units_from_fixtures(),
        "resources": resources,
    }


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(data: dict) -> str:
    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated by `make schema` (manage.py data_dictionary) from the serializers, models,",
        "     FilterSets and fixtures/units.yaml. Do not edit by hand. -->",
        "",
        "Every field of every collection of API v1, its type, what it means and the values it may take, "
        "and every filter. The same document as JSON: `GET /api/v1/dictionary/` "
        "(and [dictionary.json](dictionary.json)). Filtering, sorting and paging are explained in "
        "[the REST guide](rest.md).",
        "",
        "## Units",
        "",
        data["unit_handling"],
        "",
        "| symbol | name | base unit | factor |",
        "|---|---|---|---|",
        *[f"| {_cell(u['symbol'])} | {_cell(u['name_en'])} | {_cell(u['base_unit'])} | {u['factor']} |"
          for u in data["units"]],
        "",
        "## Citations and `garbled`",
        "",
        data["garbled"],
        "",
    ]
    for r in data["resources"]:
        lines += [f"## {r['name']}", "", f"`GET {r['path']}` — {r['description']}", "",
                  f"Identified by `{r['key']}`." + (f" Expandable: {', '.join(f'`{e}`' for e in r['expandable'])}."
                                                   if r["expandable"] else ""), "",
                  "| field | type | meaning | allowed values |", "|---|---|---|---|"]
        lines += _field_rows(r["fields"])
        lines += ["", f"Filters of `{r['path']}`:", "", "| filter | kind | meaning |", "|---|---|---|"]
        lines += [f"| `{f['name']}` | {f['type']} | {_cell(f['description'])}"
                  + (f" Values: {', '.join(f'`{v}`' for v in f['allowed_values'])}." if f.get("allowed_values") else "")
                  + " |" for f in r["filters"]]
        lines.append("")
    return "\n".join(lines)


def _field_rows(fields: list[dict], prefix: str = "") -> list[str]:
    rows = []
    for f in fields:
        allowed = ", ".join(f"`{c['value']}`" for c in f.get("allowed_values", []))
        extra = " Nullable." if f["nullable"] else ""
        rows.append(f"| `{prefix}{f['name']}` | {f['type']} | {_cell(f['description'])}{extra} | {allowed} |")
        if f.get("fields"):
            rows += _field_rows(f["fields"], f"{prefix}{f['name']}.")
    return rows


def write(docs_dir: Path) -> list[Path]:
    data = build()
    paths = [docs_dir / "dictionary.md", docs_dir / "dictionary.json"]
    paths[0].write_text(to_markdown(data), encoding="utf-8")
    paths[1].write_text(to_json(data), encoding="utf-8")
    return paths
