"""load_opendata: loads the real fixtures, is idempotent, and fails all-or-nothing with a precise message."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from indicators.models import Indicator, Observation
from opendata.catalogue.models import Citation, Region, Source
from projects.models import Event, Project

pytestmark = pytest.mark.django_db

MODELS = (Source, Region, Citation, Indicator, Observation, Project, Event)


def snapshot():
    return {
        m.__name__: sorted(m.objects.values_list("pk", "updated_at", "deleted_at"))
        for m in MODELS
    }


def load(directory=None) -> str:
    out = StringIO()
    args = ["--fixtures", str(directory)] if directory else []
    call_command("load_opendata", *args, stdout=out)
    return out.getvalue()


def test_loads_every_source_with_its_text_and_hash():
    load()
    assert Source.objects.count() == 5
    for src in Source.objects.all():
        text = (settings.FIXTURES_DIR / "sources" / src.file_name).read_text(encoding="utf-8")
        assert src.text == text
        assert len(src.sha256) == 64
        assert src.periods.exists()


def test_second_run_changes_nothing():
    load()
    before = snapshot()
    out = load()
    assert "Nothing changed" in out
    assert snapshot() == before


@pytest.fixture
def fixtures_copy(tmp_path) -> Path:
    target = tmp_path / "fixtures"
    shutil.copytree(settings.FIXTURES_DIR, target, ignore=shutil.ignore_patterns("drafts"))
    return target


def corrupt_first_observation(directory: Path, **changes) -> tuple[str, str]:
    path = sorted((directory / "indicators").glob("*.yaml"))[0]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[0]["observations"][0].update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return f"fixtures/indicators/{path.name}", data[0]["code"]


def test_bad_fixture_names_file_record_and_field_and_loads_nothing(fixtures_copy):
    file_name, code = corrupt_first_observation(fixtures_copy, kind="prophecy")
    with pytest.raises(CommandError) as err:
        load(fixtures_copy)
    message = str(err.value)
    assert file_name in message
    assert f"{code}.observations[0]" in message
    assert "'kind'" in message
    assert Observation.objects.count() == 0 and Source.objects.count() == 0


def test_bad_fixture_leaves_an_already_loaded_database_as_it_was(fixtures_copy):
    load()
    before = snapshot()
    # A valid catalogue change early in the load, then an error late in it: nothing may stick.
    regions = fixtures_copy / "regions.yaml"
    regions.write_text(regions.read_text(encoding="utf-8").replace("name_en: Changchun,", "name_en: Renamed,"),
                       encoding="utf-8")
    corrupt_first_observation(fixtures_copy, value="12")  # value no longer in its quote
    with pytest.raises(CommandError, match="does not appear in the quote"):
        load(fixtures_copy)
    assert snapshot() == before
    assert Region.objects.get(code="changchun").name_en == "Changchun"


def test_quote_not_at_its_offset_is_rejected(fixtures_copy):
    path = sorted((fixtures_copy / "indicators").glob("*.yaml"))[0]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[0]["observations"][0]["citations"][0]["offset"] += 1
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(CommandError, match=r"citations\[0\]\.quote"):
        load(fixtures_copy)


def test_record_removed_from_fixtures_is_soft_deleted_and_restored(fixtures_copy):
    load(fixtures_copy)
    path = sorted((fixtures_copy / "indicators").glob("*.yaml"))[0]
    original = path.read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    removed = data[0]["observations"].pop(0)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    total = Observation.objects.count()
    load(fixtures_copy)
    assert Observation.objects.count() == total, "soft deletion keeps the row"
    gone = Observation.objects.deleted().get(indicator__code=data[0]["code"], period_label=removed.get("period_label", removed["period"]), kind=removed["kind"])
    assert gone.deleted_at is not None
    assert not Observation.objects.alive().filter(pk=gone.pk).exists()

    path.write_text(original, encoding="utf-8")
    load(fixtures_copy)
    gone.refresh_from_db()
    assert gone.deleted_at is None


def test_a_citation_listed_twice_for_one_fact_is_linked_once(fixtures_copy):
    path = sorted((fixtures_copy / "indicators").glob("*.yaml"))[0]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = data[0]["observations"][0]
    first["citations"].append(dict(first["citations"][0]))
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load(fixtures_copy)
    obs = Observation.objects.get(indicator__code=data[0]["code"], kind=first["kind"],
                                  period_label=first.get("period_label", first["period"]),
                                  comparator=first.get("comparator", "exact"))
    assert obs.citations.count() == len(first["citations"]) - 1
