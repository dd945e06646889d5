"""data_report prints coverage, and docs/data-report.md is its current output."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_report_has_every_section(loaded_db):
    out = StringIO()
    call_command("data_report", stdout=out)
    text = out.getvalue()
    for heading in ("## Per source", "## Per topic", "## Per kind", "## Indicators with both a target and a result",
                    "## Records citing a garbled passage"):
        assert heading in text
    for slug in ("2025-npc-session", "2020-work-report"):
        assert f"| {slug} |" in text


def test_committed_report_matches_the_fixtures(loaded_db):
    out = StringIO()
    call_command("data_report", stdout=out)
    committed = (settings.BASE_DIR / "docs" / "data-report.md").read_text(encoding="utf-8")
    assert committed == out.getvalue(), "regenerate: DEBUG=true .venv/bin/python manage.py data_report --output docs/data-report.md"
