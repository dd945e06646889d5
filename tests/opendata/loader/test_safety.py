"""Loader safety (issue 12): undecodable bytes and control characters are fixture errors naming where
they are, and a load that would delete more than a share of a resource's records refuses unless told
--allow-deletions. Concurrency and faults on PostgreSQL: test_safety_postgres.py."""

import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from indicators.models import Indicator, Observation
from opendata.base.models import Change
from opendata.catalogue.models import Citation, Region, Source
from projects.models import Event, Project, ProjectStatus

pytestmark = pytest.mark.django_db

MODELS = (Source, Region, Citation, Indicator, Observation, Project, ProjectStatus, Event, Change)


def snapshot():
    return {m.__name__: sorted(m.objects.values_list("pk", flat=True)) if m is Change else
            sorted(m.objects.values_list("pk", "updated_at", "deleted_at")) for m in MODELS}


def load(directory=None, *args) -> str:
    out = StringIO()
    call_command("load_opendata", *(["--fixtures", str(directory)] if directory else []), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def fixtures_copy(tmp_path) -> Path:
    target = tmp_path / "fixtures"
    shutil.copytree(settings.FIXTURES_DIR, target, ignore=shutil.ignore_patterns("drafts"))
    return target


def first_indicators_file(directory: Path) -> Path:
    return min((directory / "indicators").glob("*.yaml"))


# -- undecodable bytes ------------------------------------------------------------------------------


def test_invalid_utf8_in_a_fixture_file_names_the_file_offset_and_line_and_loads_nothing(fixtures_copy):
    load(fixtures_copy)
    before = snapshot()
    path = fixtures_copy / "regions.yaml"
    raw = path.read_bytes()
    offset = raw.index(b"\n", raw.index(b"\n") + 1) + 1  # the start of line 3
    path.write_bytes(raw[:offset] + b"\xff\xfe" + raw[offset:])
    with pytest.raises(CommandError) as err:
        load(fixtures_copy)
    message = str(err.value)
    assert "Nothing was loaded" in message
    assert "fixtures/regions.yaml" in message and "not UTF-8" in message
    assert f"byte offset {offset}" in message and "line 3" in message and "0xff" in message
    assert snapshot() == before


def test_invalid_utf8_in_an_indicators_file_is_a_fixture_error_too(fixtures_copy):
    path = first_indicators_file(fixtures_copy)
    path.write_bytes(path.read_bytes().replace("：".encode(), b"\xe5\x80", 1) + b"# \xc3\x28\n")
    with pytest.raises(CommandError, match=rf"fixtures/indicators/{path.name}: .*not UTF-8: undecodable byte"):
        load(fixtures_copy)
    assert Observation.objects.count() == 0


# -- control characters ------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\r"], ids=["NUL", "BEL", "ESC", "CR"])
def test_a_control_character_in_an_observation_value_names_file_record_and_field(fixtures_copy, char):
    load(fixtures_copy)
    before = snapshot()
    path = first_indicators_file(fixtures_copy)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[0]["observations"][0]["citations"][0]["quote"] += char  # written as an escape by safe_dump
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(CommandError) as err:
        load(fixtures_copy)
    message = str(err.value)
    assert f"fixtures/indicators/{path.name}: record {data[0]['code']}.observations[0]: " \
           f"field 'citations[0].quote': control character U+{ord(char):04X}" in message
    assert snapshot() == before


def test_a_nul_in_a_catalogue_record_or_a_key_is_an_error(fixtures_copy):
    path = fixtures_copy / "topics.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[0]["name_en"] = "Agri\x00culture"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(CommandError, match=rf"fixtures/topics.yaml: record {data[0]['code']}: field 'name_en': "
                                           r"control character U\+0000"):
        load(fixtures_copy)
    data[0]["name_en"] = "Agriculture"
    data[1]["bad\x01key"] = "x"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(CommandError, match=rf"record {data[1]['code']}: .*control character U\+0001"):
        load(fixtures_copy)
    assert Source.objects.count() == 0


def test_tab_and_newline_are_allowed(fixtures_copy):
    path = first_indicators_file(fixtures_copy)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[0]["description"] = "line one\n\tline two"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load(fixtures_copy)
    assert Indicator.objects.get(code=data[0]["code"]).description == "line one\n\tline two"


def test_the_command_prints_the_error_and_exits_non_zero_without_a_traceback(fixtures_copy, tmp_path):
    path = fixtures_copy / "units.yaml"
    path.write_bytes(path.read_bytes() + b"\x80")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}", "REDIS_URL": ""}
    done = subprocess.run([sys.executable, "manage.py", "load_opendata", "--fixtures", str(fixtures_copy)],
                          check=False, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "Nothing was loaded. fixtures/units.yaml: record -: field '-': not UTF-8" in done.stderr


# -- the deletion guard ------------------------------------------------------------------------------


def test_deleting_one_record_passes(fixtures_copy):
    load(fixtures_copy)
    path = first_indicators_file(fixtures_copy)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[0]["observations"].pop(0)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert "Loaded." in load(fixtures_copy)
    assert Observation.objects.deleted().count() == 1


def removed_biggest_indicators_file(directory: Path) -> tuple[Path, bytes]:
    path = max((directory / "indicators").glob("*.yaml"), key=lambda p: p.read_text(encoding="utf-8").count("period:"))
    original = path.read_bytes()
    path.unlink()
    return path, original


def test_removing_a_whole_indicators_file_refuses_and_writes_nothing(fixtures_copy):
    load(fixtures_copy)
    before = snapshot()
    live = Observation.objects.alive().count()
    removed_biggest_indicators_file(fixtures_copy)
    with pytest.raises(CommandError) as err:
        load(fixtures_copy)
    message = str(err.value)
    assert "Nothing was loaded" in message and "--allow-deletions" in message
    assert f"of {live} live records" in message and "observations" in message
    assert snapshot() == before


def test_with_allow_deletions_it_goes_through(fixtures_copy):
    load(fixtures_copy)
    removed_biggest_indicators_file(fixtures_copy)
    out = load(fixtures_copy, "--allow-deletions")
    assert "Loaded." in out
    assert Observation.objects.deleted().count() > 0.1 * Observation.objects.count()
    assert Change.objects.filter(operation="delete", resource="observation").count() == \
        Observation.objects.deleted().count()


def test_the_share_is_a_setting(fixtures_copy, settings):
    load(fixtures_copy)
    removed_biggest_indicators_file(fixtures_copy)
    settings.LOADER_MAX_DELETION_SHARE = 0.5
    assert "Loaded." in load(fixtures_copy)


def test_a_first_load_and_a_restore_are_not_deletions(fixtures_copy):
    path, original = removed_biggest_indicators_file(fixtures_copy)
    load(fixtures_copy)
    path.write_bytes(original)
    assert "Loaded." in load(fixtures_copy)


# -- concurrent loads on SQLite (PostgreSQL: test_safety_postgres.py) --------------------------------


def test_two_load_commands_at_once_on_a_sqlite_file_both_succeed(tmp_path):
    """Two `manage.py load_opendata` processes on one SQLite file (as a server would have it): the
    second waits for the first's write lock instead of failing with "database is locked"."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'two.sqlite3'}", "REDIS_URL": ""}

    def manage(*args):
        return subprocess.Popen([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    migrate = manage("migrate", "--noinput")
    assert migrate.wait(300) == 0, migrate.stderr.read()
    loads = [manage("load_opendata") for _ in range(2)]
    results = [(p.wait(300), *p.communicate()) for p in loads]
    assert [rc for rc, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    outs = sorted(out.splitlines()[-1] for _, out, _ in results)
    assert outs[0] == "Loaded." and outs[1].startswith("Nothing changed")
