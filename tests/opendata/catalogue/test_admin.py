"""The admin works for curators: every model listed, searchable in Chinese and English, citations inline."""

import pytest
from django.contrib import admin
from django.urls import reverse

from indicators.models import Observation

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(client, django_user_model, loaded_db):
    user = django_user_model.objects.create_superuser("curator", "curator@example.invalid", "pw-not-used")
    client.force_login(user)
    return client


def test_every_public_model_is_registered():
    names = {m._meta.label for m in admin.site._registry}
    for label in ("opendata.Source", "opendata.Citation", "opendata.Region", "opendata.Topic", "opendata.Unit",
                  "indicators.Indicator", "indicators.Observation", "projects.Project", "projects.ProjectStatus",
                  "projects.EventSeries", "projects.Event"):
        assert label in names


@pytest.mark.parametrize("model", [m for m in admin.site._registry if m._meta.app_label in {"opendata", "indicators", "projects"}],
                         ids=lambda m: m._meta.label)
def test_changelist_and_add_pages_open_and_search_in_both_languages(curator_client, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    for term in ("长春", "Changchun", "粮食"):
        assert curator_client.get(url, {"q": term}).status_code == 200
    add = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    assert curator_client.get(add).status_code == 200


def test_observation_change_page_shows_its_citations_inline(curator_client):
    obs = Observation.objects.alive().prefetch_related("citations").first()
    url = reverse("admin:indicators_observation_change", args=[obs.pk])
    page = curator_client.get(url).content.decode()
    assert obs.citations.first().quote.split("\n")[0][:8] in page


def test_search_finds_indicator_by_chinese_substring(curator_client):
    url = reverse("admin:indicators_indicator_changelist")
    page = curator_client.get(url, {"q": "粮食"}).content.decode()
    assert "grain-output" in page
    assert "0 results" not in page
