"""Every example of the documentation (examples/docs/, included in docs/examples.md) run as a reader
would run it — curl + jq, Python (httpx) and JavaScript (Node's fetch) — against a live server over
real HTTP on 127.0.0.1, with the real fixtures loaded, so that none can rot. Each run is bounded
(EXAMPLE_TIMEOUT) and the three languages must agree."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from openpyxl import load_workbook

from indicators.models import Observation
from opendata.base.models import Change

EXAMPLES = Path(settings.BASE_DIR) / "examples" / "docs"
TASKS = ["page", "export", "timeseries", "citation", "sync"]
EXAMPLE_TIMEOUT = 60
RUNNERS = {"sh": ["bash"], "py": [sys.executable], "mjs": ["node"]}
NEEDS = {"sh": ["bash", "curl", "jq"], "mjs": ["node"]}


@pytest.fixture
def loaded_server(live_server, transactional_db):
    call_command("load_opendata", verbosity=0, stdout=open(os.devnull, "w"))
    return live_server.url


def run(task: str, ext: str, api: str, cwd: Path) -> str:
    missing = [tool for tool in NEEDS.get(ext, []) if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (.ci/run installs them)")
    work = cwd / ext
    work.mkdir(exist_ok=True)
    env = {**os.environ, "OPENDATA_API": api, "LC_ALL": "C.UTF-8"}
    done = subprocess.run([*RUNNERS[ext], str(EXAMPLES / f"{task}.{ext}")], cwd=work, env=env, capture_output=True,
                          text=True, timeout=EXAMPLE_TIMEOUT)
    assert done.returncode == 0, f"{task}.{ext} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_every_task_has_an_example_in_each_language_and_the_docs_show_it():
    page = (Path(settings.BASE_DIR) / "docs" / "examples.md").read_text(encoding="utf-8")
    for task in TASKS:
        for ext in RUNNERS:
            assert (EXAMPLES / f"{task}.{ext}").is_file()
            assert f'--8<-- "examples/docs/{task}.{ext}"' in page, f"docs/examples.md does not include {task}.{ext}"
    assert sorted(p.stem for p in EXAMPLES.iterdir()) == sorted(t for t in TASKS for _ in RUNNERS)


def outputs(task, api, tmp_path):
    return {ext: run(task, ext, api, tmp_path) for ext in RUNNERS}


def test_paging(loaded_server, tmp_path):
    expected = f"{Observation.objects.alive().filter(kind='target').count()} target observations\n"
    assert outputs("page", loaded_server, tmp_path) == {ext: expected for ext in RUNNERS}


def test_export(loaded_server, tmp_path):
    rows = Observation.objects.alive().filter(indicator__topic__code="agriculture").count()
    assert rows > 10
    for ext, out in outputs("export", loaded_server, tmp_path).items():
        assert out.startswith(f"{rows} rows in observations.csv"), (ext, out)
        raw = (tmp_path / ext / "observations.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        assert len(list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))) == rows
        sheet = load_workbook(tmp_path / ext / "observations.xlsx", read_only=True)["observations"]
        assert sum(1 for _ in sheet.iter_rows()) == rows + 1


def test_time_series_with_targets(loaded_server, tmp_path):
    found = {ext: out.replace("met None", "met null").replace("met True", "met true").replace("met False", "met false")
             for ext, out in outputs("timeseries", loaded_server, tmp_path).items()}
    assert found["sh"] == found["py"] == found["mjs"]
    lines = found["py"].splitlines()
    series = Observation.objects.alive().filter(indicator__code="grain-output")
    assert len(lines) == series.count() + series.filter(kind="target").count()
    assert lines[0].split("\t")[0] == series.order_by("period_start").first().period_label


def test_following_a_citation(loaded_server, tmp_path):
    found = outputs("citation", loaded_server, tmp_path)
    assert found["sh"] == found["py"] == found["mjs"]
    assert "the source states it at character" in found["py"]


def test_sync_loop(loaded_server, tmp_path):
    total = Change.objects.count()
    found = outputs("sync", loaded_server, tmp_path)
    for ext, out in found.items():
        assert out.startswith(f"{total} changes applied"), (ext, out)
    # a second run resumes from the saved cursor: nothing new
    again = run("sync", "py", loaded_server, tmp_path)
    assert again.startswith("0 changes applied"), again
