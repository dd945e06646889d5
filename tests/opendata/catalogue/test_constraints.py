"""The database itself rejects rows that break the model's invariants (not only Python validation)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from indicators.models import Observation
from opendata.catalogue.models import Citation, Region
from projects.models import Event, ProjectStatus
from tests.factories import (
    CitationFactory,
    EventFactory,
    IndicatorFactory,
    ObservationFactory,
    ProjectStatusFactory,
    RegionFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def rejected(**update):
    """Apply a raw UPDATE that bypasses Python validation; the database must refuse it."""

    def run(model, pk):
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.filter(pk=pk).update(**update)

    return run


def test_observation_kind_must_be_a_known_choice():
    obs = ObservationFactory()
    rejected(kind="guess")(Observation, obs.pk)


def test_observation_comparator_must_be_a_known_choice():
    obs = ObservationFactory()
    rejected(comparator="roughly")(Observation, obs.pk)


def test_observation_period_end_not_before_start():
    obs = ObservationFactory()
    rejected(period_end=dt.date(2023, 12, 31))(Observation, obs.pk)


def test_observation_value_must_be_present():
    obs = ObservationFactory()
    rejected(value=None)(Observation, obs.pk)


def test_two_live_observations_cannot_state_the_same_fact():
    obs = ObservationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ObservationFactory(indicator=obs.indicator, region=obs.region, value=Decimal("1"))


def test_a_soft_deleted_observation_does_not_block_its_replacement():
    obs = ObservationFactory()
    Observation.objects.filter(pk=obs.pk).update(deleted_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    ObservationFactory(indicator=obs.indicator, region=obs.region, value=Decimal("1"))
    assert Observation.objects.filter(indicator=obs.indicator).count() == 2


def test_indicator_code_is_unique():
    ind = IndicatorFactory(code="gdp")
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorFactory(code="gdp", unit=ind.unit, topic=ind.topic)


def test_region_kind_must_be_a_known_choice():
    region = RegionFactory()
    rejected(kind="galaxy")(Region, region.pk)


def test_region_cannot_be_its_own_parent():
    region = RegionFactory()
    rejected(parent=region.pk)(Region, region.pk)


def test_citation_is_unique_per_source_offset_and_quote():
    cit = CitationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.create(uid="00000000-0000-0000-0000-000000000001", source=cit.source,
                                quote=cit.quote, offset=cit.offset)


def test_citation_quote_cannot_be_empty():
    cit = CitationFactory()
    rejected(quote="")(Citation, cit.pk)


def test_project_status_must_be_a_known_choice_and_dates_ordered():
    st = ProjectStatusFactory()
    rejected(status="imagined")(ProjectStatus, st.pk)
    rejected(date_end=dt.date(2020, 1, 1))(ProjectStatus, st.pk)


def test_event_end_not_before_start_and_status_valid():
    ev = EventFactory()
    rejected(end_date=dt.date(2023, 1, 1), end_precision="day")(Event, ev.pk)
    rejected(status="rumoured")(Event, ev.pk)
    rejected(end_date=dt.date(2024, 5, 1), end_precision="")(Event, ev.pk)


def test_source_slug_is_unique():
    SourceFactory(slug="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        SourceFactory(slug="a")
