"""Soft deletion: the record leaves the live set, stays in the database, and its change time moves."""

import pytest

from indicators.models import Observation
from opendata.base.services import record_restore, record_soft_delete
from tests.factories import ObservationFactory

pytestmark = pytest.mark.django_db


def test_soft_delete_keeps_the_row_and_marks_the_change():
    obs = ObservationFactory()
    before = obs.updated_at
    record_soft_delete(record=obs, actor="test")
    obs.refresh_from_db()
    assert obs.deleted_at is not None
    assert obs.updated_at > before
    assert Observation.objects.filter(pk=obs.pk).exists()
    assert not Observation.objects.alive().filter(pk=obs.pk).exists()
    assert Observation.objects.deleted().filter(pk=obs.pk).exists()


def test_restore_brings_it_back():
    obs = ObservationFactory()
    record_soft_delete(record=obs, actor="test")
    record_restore(record=obs, actor="test")
    assert Observation.objects.alive().filter(pk=obs.pk).exists()
