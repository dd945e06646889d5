"""The admin writes through the services: each save, soft deletion and restore is checked by the
same rules and recorded in the change log with the curator's username; nothing is hard-deleted;
the change log is listed read-only, with what changed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from indicators.models import Observation
from indicators.services import observation_uid
from opendata.base.models import Change
from opendata.catalogue.models import Citation, Source, Topic
from tests.factories import TEXT
from tests.write_helpers import SOURCE, new_changes

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator(client, django_user_model, world):
    user = django_user_model.objects.create_superuser("curator", "curator@example.invalid", "pw-not-used")
    client.force_login(user)
    return client


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_a_change_form_saves_through_the_services_as_the_curator(curator):
    topic = Topic.objects.get(code="agriculture")
    with new_changes() as got:
        response = curator.post(url(Topic, "change", topic.pk), {
            "code": "agriculture", "name_zh": "农业", "name_en": "Farming", "description": "", "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [(c.resource, c.key, c.operation, c.actor) for c in got] == [("topic", "agriculture", "update", "curator")]
    assert got[0].before["name_en"] == "Agriculture" and got[0].after["name_en"] == "Farming"
    with new_changes() as got:  # saved unchanged: nothing to record
        assert curator.post(url(Topic, "change", topic.pk), {
            "code": "agriculture", "name_zh": "农业", "name_en": "Farming", "description": "",
            "_save": "Save"}).status_code == 302
    assert got == []


def test_an_observation_added_in_the_admin_gets_the_loaders_uid_and_its_citations(curator, world):
    citation = world["粮食产量达到259.9亿斤"]
    from indicators.models import Indicator
    from opendata.catalogue.models import Region, Unit

    data = {"indicator": Indicator.objects.get(code="grain-output").pk, "region": Region.objects.get(code="changchun").pk,
            "period_start": "2024-01-01", "period_end": "2024-12-31", "period_label": "2024", "kind": "actual",
            "comparator": "exact", "value": "259.9", "unit": Unit.objects.get(symbol="亿斤").pk,
            "citations": [citation.pk], "_save": "Save"}
    with new_changes() as got:
        response = curator.post(url(Observation, "add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    obs = Observation.objects.get()
    assert obs.uid == observation_uid(indicator="grain-output", region="changchun", period_start=obs.period_start,
                                      period_end=obs.period_end, kind="actual", comparator="exact")
    assert [(c.resource, c.operation, c.actor) for c in got] == [("observation", "create", "curator")]
    assert got[0].after["citations"] == [str(citation.uid)]

    with new_changes() as got:  # the rules are the services': a value its quote does not state
        response = curator.post(url(Observation, "change", obs.pk), {**data, "value": "300"})
    assert response.status_code == 200 and got == []
    assert "300 does not appear in the quote" in response.content.decode()
    assert Observation.objects.get().value == obs.value


def test_a_citation_not_at_its_offset_is_refused_on_the_form(curator):
    source = Source.objects.get(slug=SOURCE)
    with new_changes() as got:
        response = curator.post(url(Citation, "add"), {"source": source.pk, "offset": 0, "quote": "光博会成功举办",
                                                       "_save": "Save"})
    assert response.status_code == 200 and got == []
    page = response.content.decode()
    assert "is not the text of report-2025 at offset 0" in page
    assert f"it occurs at offset {TEXT.index('光博会成功举办')}" in page
    assert not Citation.objects.filter(offset=0).exists()


def test_source_periods_are_edited_with_the_source(curator):
    source = Source.objects.get(slug=SOURCE)
    form = curator.get(url(Source, "change", source.pk)).content.decode()
    assert "2024-01-01 2025-12-31 2024–2025" in form
    data = {f: getattr(source, f) for f in ("slug", "title_zh", "title_en", "publisher_zh", "publisher_en",
                                            "date_precision", "date_note", "file_name", "text")}
    data |= {"date": "2025-01-08", "periods": "2024-01-01 2025-12-31 2024–2025\n2026-01-01 2026-12-31 2026",
             "_save": "Save"}
    with new_changes() as got:
        response = curator.post(url(Source, "change", source.pk), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [(c.resource, c.operation, c.actor) for c in got] == [("source", "update", "curator")]
    assert got[0].after["periods"][-1] == {"start": "2026-01-01", "end": "2026-12-31", "label": "2026"}


def test_actions_soft_delete_and_restore_through_the_services(curator):
    topic = Topic.objects.create(code="energy", name_zh="能源", name_en="Energy")
    used = Topic.objects.get(code="agriculture")
    changelist = url(Topic, "changelist")
    with new_changes() as got:
        response = curator.post(changelist, {"action": "soft_delete", "_selected_action": [topic.pk, used.pk]},
                                follow=True)
    assert [(c.key, c.operation, c.actor) for c in got] == [("energy", "delete", "curator")]
    page = response.content.decode()
    assert "1 soft-deleted." in page and "Not soft-deleted: agriculture" in page
    with new_changes() as got:
        curator.post(changelist, {"action": "restore", "_selected_action": [topic.pk]})
    assert [(c.key, c.operation, c.actor) for c in got] == [("energy", "restore", "curator")]


def test_nothing_is_hard_deleted(curator):
    topic = Topic.objects.get(code="agriculture")
    assert curator.get(url(Topic, "delete", topic.pk)).status_code == 403
    page = curator.get(url(Topic, "changelist")).content.decode()
    assert 'value="delete_selected"' not in page and 'value="soft_delete"' in page


def test_the_change_log_is_listed_read_only_with_what_changed(curator):
    curator.post(url(Topic, "change", Topic.objects.get(code="agriculture").pk), {
        "code": "agriculture", "name_zh": "农业", "name_en": "Farming", "description": "", "_save": "Save"})
    entry = Change.objects.filter(operation="update").latest("id")
    changelist = url(Change, "changelist")
    for query in ({}, {"resource": "topic"}, {"operation": "update"}, {"actor": "curator"}, {"q": "agriculture"}):
        assert curator.get(changelist, query).status_code == 200
    page = curator.get(changelist, {"actor": "curator"}).content.decode()
    assert "agriculture" in page and "curator" in page
    detail = curator.get(url(Change, "change", entry.pk)).content.decode()
    assert "Changed fields" in detail and "Farming" in detail and "Agriculture" in detail
    assert curator.get(url(Change, "add")).status_code == 403
    assert curator.post(url(Change, "change", entry.pk), {}).status_code == 403
    assert curator.get(url(Change, "delete", entry.pk)).status_code == 403


def test_every_public_model_admin_writes_through_its_own_services():
    from django.contrib import admin

    from opendata.base.models import PublicModel

    admins = {m: a for m, a in admin.site._registry.items() if issubclass(m, PublicModel)}
    assert len(admins) == 11
    for model, model_admin in admins.items():
        assert model_admin.writes is not None and model_admin.writes.model is model, model
