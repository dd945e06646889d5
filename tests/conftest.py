"""Shared fixtures: the real fixture data loaded into the test database."""

import pytest
from django.core.management import call_command


@pytest.fixture
def loaded_db(db):
    """The project's real fixtures, loaded with load_opendata (per test, inside its transaction)."""
    call_command("load_opendata", verbosity=0, stdout=open("/dev/null", "w"))
