"""pytest plugin loaded with `-p` (see pyproject): environment that must exist before Django starts."""

import os

os.environ.setdefault("DJANGO_ALLOW_INSECURE_KEY", "1")


def pytest_sessionfinish(session, exitstatus):
    """With FORBID_SKIPS=1 (CI's PostgreSQL run) a skipped test fails the run: there, every
    service a test may need is present, so a skip would hide an untested path."""
    if os.environ.get("FORBID_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        if reporter:
            reporter.write_line(f"FORBID_SKIPS=1: {len(skipped)} test(s) were skipped; failing the run.", red=True)
        session.exitstatus = 1
