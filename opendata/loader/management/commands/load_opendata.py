"""`python manage.py load_opendata`: load fixtures/ in one transaction (idempotent, all or nothing)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opendata.loader.schema import FixtureError
from opendata.loader.services import DeletionRefused, fixtures_load


class Command(BaseCommand):
    help = (
        "Load the fixtures (sources, catalogues, indicators, observations, projects, events) into the database, "
        "in one transaction; concurrent loads wait for each other."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fixtures", default=str(settings.FIXTURES_DIR), help="Fixture directory")
        parser.add_argument(
            "--allow-deletions", action="store_true",
            help=(
                "Let the load soft-delete more than LOADER_MAX_DELETION_SHARE (default 0.1) of the live records of "
                "a resource. The share is counted per resource, not overall: removing every event, or one whole "
                "indicators file, is a small share of all records but most of one resource."
            ),
        )

    def handle(self, *args, **options):
        directory = Path(options["fixtures"])
        try:
            report = fixtures_load(directory=directory, allow_deletions=options["allow_deletions"])
        except (FixtureError, DeletionRefused) as exc:
            raise CommandError(f"Nothing was loaded. {exc}") from None
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS("Loaded.") if report.changed else "Nothing changed: the database already matches the fixtures."
        )
