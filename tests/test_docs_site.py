"""The documentation site: `mkdocs build --strict` (a broken link, anchor or included file fails it)
then scripts/check_links.py on the built HTML, bounded in time; the checker and the strict build can
fail; /docs/ serves what was built; no command in the README or the docs calls a bare `python`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
MKDOCS = Path(sys.executable).parent / "mkdocs"
BUILD_TIMEOUT = 180
sys.path.insert(0, str(ROOT / "scripts"))
import check_links  # noqa: E402


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(MKDOCS), "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
                          cwd=config.parent, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = tmp_path_factory.mktemp("docs") / "site"
    done = build(ROOT / "mkdocs.yml", site)
    assert done.returncode == 0, done.stdout + done.stderr
    return site


def test_the_site_builds_strictly_with_no_broken_internal_link(site):
    assert check_links.check(site) == []
    for page in ("quickstart", "data-model", "fixtures", "dictionary", "rest", "examples", "graphql", "sync",
                 "downloads", "catalogue", "operations", "performance", "api-versioning"):
        assert (site / page / "index.html").is_file(), page


def test_the_examples_page_shows_the_tested_files(site):
    html = re.sub(r"<[^>]+>", "", (site / "examples" / "index.html").read_text(encoding="utf-8"))
    assert "--8&lt;" not in html
    assert "next_cursor" in html and "httpx" in html and "await fetch" in html


def test_the_site_loads_nothing_from_another_host(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', text), page


def test_the_checker_finds_a_broken_link_and_anchor(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text('<a href="a/">ok</a><a href="b/">gone</a><a href="a/#nope">x</a>'
                                         '<a href="https://example.org/">out</a><a href="/api/v1/">api</a>')
    (tmp_path / "a" / "index.html").write_text('<h2 id="yes">Yes</h2><a href="../#top">up</a>')
    broken = check_links.check(tmp_path)
    assert broken == ["a/index.html: ../#top (no #top on that page)", "index.html: b/ (no such file)",
                      "index.html: a/#nope (no #nope on that page)"]


def test_a_broken_link_fails_the_strict_build(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n[gone](missing.md) and [anchor](other.md#nowhere)\n")
    (docs / "other.md").write_text("# Other\n")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    config = (tmp_path / "mkdocs.yml").read_text()
    config = re.sub(r"\nnav:.*", "\n", config, flags=re.S).replace("  - scripts/mkdocs_hooks.py",
                                                                   f"  - {ROOT / 'scripts' / 'mkdocs_hooks.py'}")
    (tmp_path / "mkdocs.yml").write_text(config)
    done = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert done.returncode != 0
    assert "missing.md" in done.stdout + done.stderr


def test_docs_are_served_at_docs_when_built(client, site, settings):
    settings.DOCS_SITE_DIR = site
    response = client.get("/docs/")
    assert response.status_code == 200 and b"Changchun Open Data API" in b"".join(response.streaming_content)
    assert client.get("/docs/quickstart").status_code == 301
    assert client.get("/docs/quickstart/").status_code == 200
    assert client.get("/docs/../manage.py").status_code == 404
    assert client.get("/docs/nope/").status_code == 404
    settings.DOCS_SITE_DIR = site.parent / "none"
    missing = client.get("/docs/")
    assert missing.status_code == 404 and b"make docs" in missing.content


def test_commands_in_readme_and_docs_use_the_projects_python():
    """`python manage.py …` fails in a fresh clone (no Django outside .venv, no SECRET_KEY): the README
    and the docs say `make <target>` or `.venv/bin/python manage.py` (with DEBUG=true or SECRET_KEY)."""
    bad = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in re.finditer(r"([\w./$()-]*python3?) (manage\.py|scripts/|bench/|examples/)", line):
                # the sync client is the standard library only, by design: any python3 runs it
                if m.group(1) not in (".venv/bin/python", "$(PY)") and not (m.group(1) == "python3" and
                                                                            m.group(2) == "examples/"):
                    bad.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not bad, "\n".join(bad)


def test_readme_links_stay_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)]+)\)", readme):
        assert not re.match(r"[a-z]+:", target), f"README links out of the repository: {target}"
        assert (ROOT / target.split("#")[0]).exists(), f"README links to {target}, which a clone does not have"
