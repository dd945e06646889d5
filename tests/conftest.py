"""Shared fixtures: the real fixture data loaded into the test database; the `postgres` marker."""

import os

import pytest
from django.core.management import call_command

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
POSTGRES_ONLY = ("needs PostgreSQL (DATABASE_URL=postgres://…): it tests what only PostgreSQL does; "
                 "CI's PostgreSQL run (FORBID_SKIPS=1) runs it")


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.postgres` (pyproject's markers): the one condition, and the one reason, for a test
    that runs on PostgreSQL only; skipped on SQLite, never elsewhere."""
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason=POSTGRES_ONLY)
    for item in items:
        if item.get_closest_marker("postgres") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def full_rate_limits():
    """Every test starts with full quotas: the counters (in this process, or in Redis) outlive a test."""
    from opendata.base.ratelimit import LIMITER

    LIMITER.reset()


@pytest.fixture
def loaded_db(db):
    """The project's real fixtures, loaded with load_opendata (per test, inside its transaction)."""
    call_command("load_opendata", verbosity=0, stdout=open("/dev/null", "w"))


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Chromium driven by Selenium, for the pages people open in a browser (GraphiQL, API docs).

    Skipped, with the reason, where Chromium or ChromeDriver is missing; CI installs both (.ci/run),
    and its PostgreSQL run allows no skip."""
    import os
    import shutil

    chromium = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = os.environ.get("CHROMEDRIVER_BIN") or shutil.which("chromedriver")
    if not (chromium and chromedriver):
        pytest.skip("needs Chromium and ChromeDriver (Debian: apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    # No background traffic: the machine may have no internet, and the page must not need it.
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
                "--window-size=1280,900", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def world(db):
    """A small catalogue written through the write services (see tests/write_helpers.py)."""
    from tests.write_helpers import build_world

    return build_world()
