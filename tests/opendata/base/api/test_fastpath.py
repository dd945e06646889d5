"""The fast path of plain JSON pages (opendata.base.api.fastpath) answers byte for byte what DRF's
serializers answer: every collection (nested ones included), every `fields` and every `expand`
combination, deleted records, every ordering, pages after a cursor; and a serializer field the compiler
does not know makes it fall back to DRF."""

from __future__ import annotations

import itertools
import re

import pytest
from django.test import override_settings
from django.urls import get_resolver
from django.utils import timezone

from indicators.models import Indicator, Observation
from opendata.base.api.fastpath import NotCompilable, plan_for
from opendata.catalogue.models import Region
from tests import api_helpers as h

COLLECTIONS = ["sources", "regions", "topics", "units", "indicators", "observations", "projects",
               "project-statuses", "events", "event-series"]


def viewset_of(client, path):
    match = get_resolver().resolve(path)
    return match.func.cls


def answer(client, settings, url, fast: bool):
    with override_settings(API_FAST_PATH=fast):
        r = client.get(url)
        body = b"".join(r.streaming_content) if r.streaming else r.content
    body = re.sub(rb'"request_id": "[0-9a-f]+"', b'"request_id": "-"', body)  # an error names its request
    return r.status_code, body, r.get("ETag"), r.get("Link"), r.get("Content-Disposition")


def variants(client, base: str) -> list[str]:
    cls = viewset_of(client, base.split("?")[0])
    serializer = cls.serializer_class
    names = serializer.field_names()
    expandable = sorted(serializer.expandable)
    urls = [base, base + "?include_deleted=true&page_size=1000", base + "?page_size=2", base + "?format=csv",
            base + "?format=ndjson&include_deleted=true"]
    if expandable:
        urls.append(base + "?format=csv&bom=true&expand=" + ",".join(expandable))
    urls += [f"{base}?fields={n}" for n in names]
    urls.append(f"{base}?fields={','.join(names)}")
    for k in range(1, len(expandable) + 1):
        for combo in itertools.combinations(expandable, k):
            ex = ",".join(combo)
            urls.append(f"{base}?expand={ex}&include_deleted=true")
            fields = ",".join(dict.fromkeys([names[0], *(serializer.expandable[e][0] for e in combo)]))
            urls.append(f"{base}?expand={ex}&fields={fields}")
    for name in sorted(cls.filterset_class.sorting.fields):
        urls += [f"{base}?ordering={name}&page_size=3", f"{base}?ordering=-{name}&page_size=3"]
    return urls


def nested_collections(client) -> list[str]:
    def first(collection, key):
        rows = h.ok(client, f"/api/v1/{collection}/?page_size=1")["results"]
        return rows[0][key] if rows else None

    out = []
    if code := first("indicators", "code"):
        out.append(f"/api/v1/indicators/{code}/observations/")
    if slug := first("sources", "slug"):
        out += [f"/api/v1/sources/{slug}/observations/", f"/api/v1/sources/{slug}/events/",
                f"/api/v1/sources/{slug}/project-statuses/"]
    if code := first("regions", "code"):
        out.append(f"/api/v1/regions/{code}/children/")
    if slug := first("projects", "slug"):
        out += [f"/api/v1/projects/{slug}/timeline/", f"/api/v1/projects/{slug}/events/"]
    return out


def test_every_collection_and_combination_is_byte_identical_to_the_serializers(client, loaded_db, settings):
    # Deleted records and a region without parent are part of what is compared.
    Observation.objects.filter(pk__in=Observation.objects.order_by("pk").values("pk")[:3]).update(
        deleted_at=timezone.now())
    Region.objects.filter(pk=Region.objects.order_by("-pk").values("pk")[:1]).update(deleted_at=timezone.now())
    compared = fast_served = 0
    for base in [f"/api/v1/{c}/" for c in COLLECTIONS] + nested_collections(client):
        for url in variants(client, base):
            fast = answer(client, settings, url, True)
            slow = answer(client, settings, url, False)
            assert fast == slow, url
            compared += 1
        # Walk the pages after a cursor (the `next` links of each side are the same, compared above).
        url = base + "?page_size=4"
        for _ in range(3):
            fast, slow = answer(client, settings, url, True), answer(client, settings, url, False)
            assert fast == slow, url
            nxt = h.ok(client, url)["next"]
            if not nxt:
                break
            url = nxt.replace("http://testserver", "")
        serializer = viewset_of(client, base).serializer_class
        cls = viewset_of(client, base)
        try:
            plan_for(serializer(context={"fields": None, "expand": set()}), cls.selector().model, cls.selector())
            fast_served += 1
        except NotCompilable:
            pass
    # An indicator's detail: its targets and results written by the fast path (R3).
    for code in Indicator.objects.filter(observations__kind="target").values_list("code", flat=True).distinct():
        for query in ("", "?fields=targets,targets_count", "?expand=unit,topic"):
            url = f"/api/v1/indicators/{code}/{query}"
            assert answer(client, settings, url, True) == answer(client, settings, url, False), url
            compared += 1
    assert compared > 300
    assert fast_served >= 12  # every collection but projects (its `regions` is a SerializerMethodField)


def test_a_field_the_compiler_does_not_know_falls_back_to_drf(db):
    from rest_framework import serializers

    from indicators.api.v1.serializers import ObservationSerializer
    from indicators.selectors import observation_list

    class WithMethod(ObservationSerializer):
        doubled = serializers.SerializerMethodField()

        def get_doubled(self, obj):
            return str(obj.value * 2)

    class WithProperty(ObservationSerializer):
        text = serializers.CharField(source="__str__", read_only=True)

    class WithDefault(ObservationSerializer):
        region = serializers.CharField(source="region.code", read_only=True, default="nowhere")

    for cls in (WithMethod, WithProperty, WithDefault):
        with pytest.raises(NotCompilable):
            plan_for(cls(context={"fields": None, "expand": set()}), Observation, observation_list())
    assert plan_for(ObservationSerializer(context={"fields": None, "expand": {"source"}}), Observation,
                    observation_list()) is not None


def test_every_record_and_nested_record_is_written_as_drf_writes_it(client, loaded_db, settings):
    """A record's detail (and every nested record of a DRF-written answer, e.g. an indicator's targets) goes through
    FastRepresentation: a function generated from the serializer's fields, byte for byte what DRF writes,
    with every `fields` and `expand` choice, and deleted records (410) too."""
    from opendata.base.api import fastpath

    Observation.objects.filter(pk__in=Observation.objects.order_by("-pk").values("pk")[:2]).update(
        deleted_at=timezone.now())
    compared = 0
    for collection in COLLECTIONS:
        rows = h.ok(client, f"/api/v1/{collection}/?page_size=3&include_deleted=true")["results"]
        serializer = viewset_of(client, f"/api/v1/{collection}/").serializer_class
        names, expandable = serializer.field_names(), sorted(serializer.expandable)
        for row in rows:
            base = row["url"].replace("http://testserver", "")
            urls = [base, f"{base}?fields={','.join(names[:2])}"]
            if expandable:
                urls.append(f"{base}?expand={','.join(expandable)}")
            for url in urls:
                assert answer(client, settings, url, True) == answer(client, settings, url, False), url
                compared += 1
    code = Indicator.objects.filter(observations__kind="target").values_list("code", flat=True).first()
    url = f"/api/v1/indicators/{code}/"  # its targets' results: ResultSummarySerializer
    assert answer(client, settings, url, True) == answer(client, settings, url, False), url
    assert compared >= 50
    written = {k[0].__name__ for k, w in fastpath._INSTANCE_WRITERS.items() if w is not None}
    assert {"ObservationSerializer", "ResultSummarySerializer", "SourceSerializer"} <= written, written


def test_a_null_on_the_way_to_a_value_is_left_to_drf(db):
    """`region.code` and `unit.symbol` of an observation without its region and unit: the generated writer gives
    way to DRF (RelatedObjectDoesNotExist on the way), which writes them as null."""
    from indicators.api.v1.serializers import ResultSummarySerializer

    import datetime as dt
    import uuid
    from decimal import Decimal

    obs = Observation(uid=uuid.UUID(int=1), value=Decimal("1"), period_start=dt.date(2024, 1, 1),
                      period_end=dt.date(2024, 12, 31), period_label="2024")
    with override_settings(API_FAST_PATH=True):
        fast = ResultSummarySerializer(obs).data
    with override_settings(API_FAST_PATH=False):
        slow = ResultSummarySerializer(obs).data
    assert fast == slow and fast["region"] is None and fast["unit"] is None
