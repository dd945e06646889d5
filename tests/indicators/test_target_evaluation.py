"""The rule of a target's state (indicators.selectors.evaluate_target), on records built in memory: each
comparator and kind of value (level, total, average, change, unspecified), units converted, disputed
figures left out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from indicators.models import Observation
from indicators.selectors import evaluate_target
from opendata.catalogue.models import Unit

PCT = Unit(pk=1, symbol="%", base_unit="percent", factor=Decimal(1))
KM = Unit(pk=2, symbol="公里", base_unit="m", factor=Decimal(1000))
WAN_KM = Unit(pk=3, symbol="万公里", base_unit="m", factor=Decimal(10_000_000))
PERSONS = Unit(pk=4, symbol="人", base_unit="persons", factor=Decimal(1))
_ids = iter(range(1, 10_000))


def o(kind, start, end, value, *, unit=PCT, comparator="exact", measure="level", preferred=True, **kw):
    return Observation(pk=next(_ids), indicator_id=1, region_id=1, kind=kind, comparator=comparator, measure=measure,
                       period_start=dt.date(start, 1, 1), period_end=dt.date(end, 12, 31), period_label=f"{start}",
                       value=Decimal(value), unit=unit, preferred=preferred, disputed=not preferred, **kw)


def target(start, end, value, **kw):
    return o("target", start, end, value, **kw)


def actual(year, value, **kw):
    return o("actual", year, year, value, **kw)


def state(t, *rows):
    ev = evaluate_target(t, [t, *rows])
    return ev.state, ev.progress


def test_a_years_target_is_met_or_not_by_its_years_result():
    assert state(target(2024, 2024, "51"), actual(2024, "51")) == ("met", Decimal("1.0000"))
    assert state(target(2024, 2024, "6", comparator="at_least"), actual(2024, "5.2")) == ("not_met", Decimal("0.8667"))
    assert state(target(2024, 2024, "3", comparator="at_most"), actual(2024, "3.4")) == ("not_met", Decimal("1.1333"))
    assert state(target(2024, 2024, "50", comparator="about"), actual(2024, "51")) == ("met", Decimal("1.0200"))
    assert state(target(2025, 2025, "50")) == ("unknown", None)


def test_a_level_over_years_is_judged_by_its_last_year_and_can_be_reached_early():
    t = target(2022, 2026, "300")
    assert state(t, actual(2024, "310")) == ("achieved_early", Decimal("1.0333"))
    assert state(t, actual(2024, "310"), actual(2026, "290")) == ("not_met", Decimal("0.9667"))
    # Pace from the year before the period: 2021 = 200, 2024 = 270 (70 % of the way at 60 % of the time).
    assert state(t, actual(2021, "200"), actual(2024, "270")) == ("on_track", Decimal("0.9000"))
    assert state(t, actual(2021, "200"), actual(2024, "230"))[0] == "unknown"
    assert state(t, actual(2024, "230"))[0] == "unknown"  # no base: no pace to judge by


def test_an_at_most_limit_kept_so_far_is_on_track():
    t = target(2022, 2026, "5.5", comparator="at_most")
    assert state(t, actual(2023, "5.1"), actual(2024, "5.0")) == ("on_track", Decimal("0.9091"))
    assert state(t, actual(2023, "5.9"), actual(2024, "5.0"))[0] == "unknown"


def test_a_total_adds_the_years_in_the_targets_unit():
    t = target(2023, 2025, "1", unit=WAN_KM, measure="total")
    assert state(t, actual(2024, "4440", unit=KM)) == ("unknown", Decimal("0.4440"))  # 2023 unknown
    assert state(t, actual(2023, "3000", unit=KM), actual(2024, "4440", unit=KM)) == ("on_track", Decimal("0.7440"))
    assert state(t, actual(2023, "3000", unit=KM), actual(2024, "4000", unit=KM),
                 actual(2025, "2000", unit=KM)) == ("not_met", Decimal("0.9000"))
    assert state(t, actual(2023, "6000", unit=KM), actual(2024, "4440", unit=KM))[0] == "achieved_early"
    assert state(t, actual(2024, "4440", unit=PERSONS)) == ("unknown", None)  # another base unit: not a result


def test_an_average_is_the_mean_of_the_years():
    t = target(2022, 2026, "10", measure="average")
    assert state(t, actual(2022, "12"), actual(2023, "9")) == ("on_track", Decimal("1.0500"))
    assert state(t, actual(2022, "8"), actual(2023, "9"))[0] == "unknown"
    years = [actual(y, v) for y, v in zip(range(2022, 2027), ["12", "9", "10", "11", "9"])]
    assert state(t, *years) == ("met", Decimal("1.0200"))


def test_an_unspecified_value_has_progress_but_no_state_and_the_texts_word_counts():
    t = target(2022, 2026, "3000", measure="unspecified")
    assert state(t, actual(2024, "3000")) == ("unknown", Decimal("1.0000"))
    said = actual(2024, "3000", assessment="achieved_early", assessment_period_start=dt.date(2022, 1, 1),
                  assessment_period_end=dt.date(2026, 12, 31))
    assert state(t, said)[0] == "achieved_early"
    assert evaluate_target(t, [t, said]).stated_by is said


def test_a_disputed_figure_not_preferred_is_not_read():
    t = target(2024, 2024, "17")
    assert state(t, actual(2024, "15.6"), actual(2024, "17", preferred=False)) == ("not_met", Decimal("0.9176"))
