"""The JSON renderer (orjson) writes exactly the bytes DRF's JSONRenderer writes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import OrderedDict
from decimal import Decimal

from django.utils.functional import lazy
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from opendata.base.api.renderers import UTF8JSONRenderer


class Reference(JSONRenderer):
    ensure_ascii = False
    charset = "utf-8"


TRICKY = "".join(chr(c) for c in range(0, 0x80)) + "\u2028\u2029\u00e9\u4e2d\u6587\U0001f600\ufeff\u200b\\\"/"
VALUES = [
    TRICKY, {"k": TRICKY, TRICKY: [1, -2, 0, 2**63 - 1, -(2**63)]}, [None, True, False, "", [], {}],
    OrderedDict([("b", 1), ("a", 2)]), {"when": dt.datetime(2025, 3, 1, 2, 0, 0, 123456, tzinfo=dt.UTC)},
    {"day": dt.date(2025, 3, 1), "time": dt.time(12, 30, 1, 5), "uid": uuid.UUID(int=7)},
    {"lazy": lazy(lambda: "粮食产量", str)()}, {"big": 2**70}, {"decimal": Decimal("259.90")},
    (1, 2, (3,)), {"nested": [{"a": {"b": [TRICKY]}}] * 3}, {1: "a non-string key"},
]


def test_the_renderer_writes_what_drf_writes():
    import orjson

    from opendata.base.api.renderers import ORJSON_OPTIONS, _default

    for value in VALUES:
        assert UTF8JSONRenderer().render(value) == Reference().render(value), value
    # orjson itself wrote the tricky text (no fallback), U+2028/U+2029 aside
    raw = orjson.dumps(VALUES[1], default=_default, option=ORJSON_OPTIONS)
    assert raw.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029") == \
        Reference().render(VALUES[1])
    indented = "application/json; indent=2"
    assert UTF8JSONRenderer().render(VALUES[1], indented) == Reference().render(VALUES[1], indented)
    assert UTF8JSONRenderer().render(None) == b""


def test_no_representation_has_a_float_the_fast_renderer_would_write_differently():
    from django.urls import get_resolver

    from opendata.base.api.serializers import DynamicSerializer

    assert get_resolver().url_patterns  # every app's serializers imported

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for cls in {*subclasses(DynamicSerializer), *subclasses(serializers.Serializer)}:
        if not cls.__module__.startswith(("opendata", "indicators", "projects")):
            continue
        for name, field in getattr(cls, "_declared_fields", {}).items():
            assert not isinstance(field, serializers.FloatField), f"{cls.__name__}.{name}: see UTF8JSONRenderer"
