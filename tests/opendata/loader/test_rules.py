"""The fixture rules (opendata/loader/schema.py): every key declared, no empty file, choices from the
model enums, and one rule for two callers (load_opendata and the curator's `scripts/fixtures.py check`)."""

import importlib.util
import io
import shutil
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from indicators.models import Comparator, Indicator, Observation
from opendata.base.models import FactKind
from opendata.catalogue.models import Citation, Region, RegionKind, Source
from projects.models import Event, EventKind, EventStatus, Project, ProjectStage, ProjectStatus

pytestmark = pytest.mark.django_db

MODELS = (Source, Region, Citation, Indicator, Observation, Project, ProjectStatus, Event)
FIX: Path = settings.FIXTURES_DIR


def snapshot():
    return {m.__name__: sorted(m.objects.values_list("pk", "updated_at", "deleted_at")) for m in MODELS}


def load(directory=None) -> str:
    out = StringIO()
    call_command("load_opendata", *(["--fixtures", str(directory)] if directory else []), stdout=out)
    return out.getvalue()


def read(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write(path: Path, data) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture
def fixtures_copy(tmp_path) -> Path:
    target = tmp_path / "fixtures"
    shutil.copytree(FIX, target, ignore=shutil.ignore_patterns("drafts"))
    return target


def test_an_unknown_key_names_file_record_and_key_and_loads_nothing(fixtures_copy):
    path = fixtures_copy / "indicators" / "economy.yaml"
    data = read(path)
    data[0]["observations"][0]["citations"][0]["page"] = 3  # a key the format does not have
    write(path, data)
    with pytest.raises(CommandError) as err:
        load(fixtures_copy)
    message = str(err.value)
    assert "fixtures/indicators/economy.yaml" in message
    assert f"record {data[0]['code']}.observations[0]" in message
    assert "field 'citations[0].page'" in message and "unknown key" in message
    assert all(m.objects.count() == 0 for m in MODELS)


def test_an_unknown_key_in_a_catalogue_record_is_an_error_too(fixtures_copy):
    path = fixtures_copy / "topics.yaml"
    data = read(path)
    data[0]["colour"] = "green"
    write(path, data)
    with pytest.raises(CommandError, match=rf"fixtures/topics.yaml: record {data[0]['code']}: field 'colour': unknown key"):
        load(fixtures_copy)


@pytest.mark.parametrize("content", ["", "# nothing here yet\n", "[]\n"])
def test_an_empty_indicators_file_is_an_error_and_deletes_nothing(fixtures_copy, content):
    load(fixtures_copy)
    before = snapshot()
    (fixtures_copy / "indicators" / "economy.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=r"fixtures/indicators/economy\.yaml: record -: field '-': (file is empty|has no records)"):
        load(fixtures_copy)
    assert snapshot() == before
    assert not Indicator.objects.deleted().exists() and not Observation.objects.deleted().exists()


def test_a_missing_section_or_file_names_the_file(fixtures_copy):
    events = fixtures_copy / "events.yaml"
    data = read(events)
    del data["series"]
    write(events, data)
    with pytest.raises(CommandError, match=r"fixtures/events\.yaml: record -: field 'series': is required"):
        load(fixtures_copy)
    (fixtures_copy / "projects.yaml").unlink()
    with pytest.raises(CommandError, match=r"fixtures/projects\.yaml: .*file is missing"):
        load(fixtures_copy)


def _first_observation(d):
    return d[0]["observations"][0]


@pytest.mark.parametrize("file, locate, field, enum", [
    ("indicators/economy.yaml", _first_observation, "kind", FactKind),
    ("indicators/economy.yaml", _first_observation, "comparator", Comparator),
    ("projects.yaml", lambda d: d[0]["timeline"][0], "status", ProjectStage),
    ("projects.yaml", lambda d: d[0]["timeline"][0], "kind", FactKind),
    ("events.yaml", lambda d: d["events"][0], "kind", EventKind),
    ("events.yaml", lambda d: d["events"][0], "status", EventStatus),
    ("regions.yaml", lambda d: d[0], "kind", RegionKind),
])
def test_a_bad_choice_lists_the_values_of_the_models_enum(fixtures_copy, file, locate, field, enum):
    path = fixtures_copy / file
    data = read(path)
    locate(data)[field] = "prophecy"
    write(path, data)
    with pytest.raises(CommandError) as err:
        load(fixtures_copy)
    message = str(err.value)
    assert f"fixtures/{file}" in message and f"field {field!r}: 'prophecy' is not allowed" in message
    allowed = message.split("expected ", 1)[1]
    assert [v.strip(" '") for v in allowed.replace(" or ", ", ").split(",")] == list(enum.values)


# -- one rule, two callers ------------------------------------------------------------------------------


def curator_tool():
    spec = importlib.util.spec_from_file_location("curator_fixtures", settings.BASE_DIR / "scripts" / "fixtures.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def _same_fact(a: dict, b: dict) -> bool:
    keys = (("region", "changchun"), ("period", None), ("kind", None), ("comparator", "exact"))
    return all(str(a.get(k, d)) == str(b.get(k, d)) for k, d in keys)


def _in_fixtures(code: str, draft_obs: dict) -> tuple[Path, int, int]:
    """The fixture file, indicator index and observation index of a draft's observation."""
    for path in sorted((FIX / "indicators").glob("*.yaml")):
        for i, ind in enumerate(read(path)):
            if ind["code"] == code:
                j = next(j for j, o in enumerate(ind["observations"]) if _same_fact(o, draft_obs))
                return path, i, j
    raise LookupError(code)


def _set_kind(obs):
    obs["kind"] = "prophecy"


def _add_key(obs):
    obs["colour"] = "red"


def _shift_offset(obs):
    obs["citations"][0]["offset"] += 1


def _negate(obs):
    obs["value"] = "-" + obs["value"]


def _nul_in_quote(obs):
    obs["citations"][0]["quote"] += "\x00"


@pytest.mark.parametrize("corrupt", [_set_kind, _add_key, _shift_offset, _negate, _nul_in_quote])
def test_the_curator_check_reports_the_loaders_error_for_the_same_record(fixtures_copy, tmp_path, corrupt):
    draft = read(FIX / "drafts" / "000.yaml")
    ind = draft["indicators"][0]
    j_draft = next(j for j, o in enumerate(ind["observations"]) if len(o["citations"]) == 1)
    obs = ind["observations"][j_draft]
    fixture_path, i, j_fixture = _in_fixtures(ind["code"], obs)
    citation = obs["citations"][0]
    fixture_data = read(fixtures_copy / "indicators" / fixture_path.name)
    fixture_obs = fixture_data[i]["observations"][j_fixture]
    # The same observation in both: make both say the same wrong thing.
    fixture_obs["citations"] = [c for c in fixture_obs["citations"]
                                if (c["source"], c["offset"]) == (citation["source"], citation["offset"])]
    corrupt(obs)
    corrupt(fixture_obs)
    write(tmp_path / "000.yaml", draft)
    write(fixtures_copy / "indicators" / fixture_path.name, fixture_data)

    with pytest.raises(CommandError) as err:
        load(fixtures_copy)
    loader_says = str(err.value).split(f"fixtures/indicators/{fixture_path.name}: ", 1)[1]

    with redirect_stdout(io.StringIO()) as out:
        assert curator_tool().main(["check", str(tmp_path / "000.yaml")]) == 1
    problems = [line for line in out.getvalue().splitlines() if line.startswith(str(tmp_path / "000.yaml"))]
    assert len(problems) == 1, out.getvalue()
    curator_says = problems[0].split(": ", 1)[1]

    # The same record (the indicator's code; its observation's own index in each file), field and message.
    assert curator_says == loader_says.replace(f".observations[{j_fixture}]", f".observations[{j_draft}]")
    assert f"record {ind['code']}.observations[{j_draft}]" in curator_says


def test_the_curator_check_passes_the_committed_drafts():
    with redirect_stdout(io.StringIO()) as out:
        assert curator_tool().main(["check", *map(str, sorted((FIX / "drafts").glob("*.yaml")))]) == 0, out.getvalue()


def test_the_loader_and_the_write_services_refuse_a_misplaced_quote_with_one_rule(fixtures_copy):
    """The verbatim-quote rule lives in the catalogue's services; the fixture schema calls it, so the
    loader's message is the services' word for word."""
    from opendata.catalogue.services import citation_problems

    path = fixtures_copy / "indicators" / "economy.yaml"
    data = read(path)
    citation = data[0]["observations"][0]["citations"][0]
    citation["offset"] += 1
    write(path, data)
    text = (fixtures_copy / "sources" / next(
        s["file"] for s in read(fixtures_copy / "sources.yaml") if s["slug"] == citation["source"])).read_text("utf-8")
    expected = citation_problems(text=text, source=citation["source"], offset=citation["offset"],
                                 quote=citation["quote"])[0]
    with pytest.raises(CommandError) as err:
        load(fixtures_copy)
    assert f"field 'citations[0].{expected.field}': {expected.message}" in str(err.value)
