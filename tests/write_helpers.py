"""Helpers for the write services' tests: a small catalogue written through the services, and the
change entries a block of code writes."""

from __future__ import annotations

from contextlib import contextmanager

from indicators.services import indicator_upsert
from opendata.base.models import Change
from opendata.catalogue.services import citation_upsert, region_upsert, source_upsert, topic_upsert, unit_upsert
from projects.services import project_upsert
from tests.factories import TEXT

ACTOR = "tester"
SOURCE = "report-2025"


def quote(text: str, source: str = SOURCE) -> dict:
    """A citation of the test source, as a mapping."""
    return {"source": source, "offset": TEXT.index(text), "quote": text}


def build_world() -> dict:
    """Topic, unit, region (with a district), source (2024–2025), indicator, project and citations,
    each written through its service (upserted: over the loaded fixtures, they change what is there)."""
    w = {}
    topic_upsert(data={"code": "agriculture", "name_zh": "农业", "name_en": "Agriculture"}, actor=ACTOR)
    unit_upsert(data={"symbol": "亿斤", "name_en": "hundred million jin", "base_unit": "kg", "factor": "50000000"},
                actor=ACTOR)
    unit_upsert(data={"symbol": "处", "name_en": "places", "base_unit": "places", "factor": "1"}, actor=ACTOR)
    region_upsert(data={"code": "changchun", "name_zh": "长春市", "name_en": "Changchun", "kind": "city"},
                  actor=ACTOR)
    region_upsert(data={"code": "nanguan", "name_zh": "南关区", "name_en": "Nanguan", "kind": "district",
                        "parent": "changchun"}, actor=ACTOR)
    source_upsert(data={"slug": SOURCE, "title_zh": "政府工作报告", "title_en": "Government work report",
                        "date": "2025-01-08", "text": TEXT,
                        "periods": [{"start": "2024-01-01", "end": "2025-12-31", "label": "2024–2025"}]},
                  actor=ACTOR)
    for text in ("粮食产量达到259.9亿斤", "新建口袋公园40处", "光博会成功举办", "地铁6号线开工建设"):
        w[text] = citation_upsert(data=quote(text), actor=ACTOR).record
    indicator_upsert(data={"code": "grain-output", "name_zh": "粮食产量", "name_en": "Grain output", "unit": "亿斤",
                           "topic": "agriculture"}, actor=ACTOR)
    project_upsert(data={"slug": "metro-line-6", "name_zh": "地铁6号线", "name_en": "Metro line 6",
                         "topic": "agriculture", "regions": ["changchun"]}, actor=ACTOR)
    return w


@contextmanager
def new_changes():
    """The change entries written inside the block, in order: `with new_changes() as got: ...`."""
    start = Change.objects.order_by("-id").values_list("id", flat=True).first() or 0
    got: list[Change] = []
    yield got
    got.extend(Change.objects.filter(id__gt=start).order_by("id"))


def settle(timeout: float = 60.0) -> None:
    """On PostgreSQL, wait until the feed's horizon has passed every committed entry.

    The horizon is the oldest transaction running anywhere on the server (transaction ids are
    server-wide), so another session's open transaction, even in another database, delays the feed
    (it never loses an entry): tests that read what they just wrote wait for it."""
    import time

    from django.db import connection
    from django.db.models import Max

    from opendata.base.selectors import change_horizon

    if connection.vendor != "postgresql":
        return
    top = Change.objects.aggregate(top=Max("txid"))["top"]
    deadline = time.monotonic() + timeout
    while top is not None and change_horizon().txid <= top:
        if time.monotonic() > deadline:
            raise AssertionError(f"the feed's horizon stayed at or below txid {top} for {timeout} s")
        time.sleep(0.05)


def read_feed(after=None, resource=None, page_size: int = 1000):
    """Every entry visible after `after`, paging through: (entries, the last page's `next`)."""
    from opendata.base.selectors import change_list

    settle()
    entries = []
    while True:
        page = change_list(after=after, resource=resource, limit=page_size)
        entries += page.changes
        after = page.next
        if not page.more:
            return entries, after
