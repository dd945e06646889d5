"""`python manage.py load_opendata`: load fixtures/ in one transaction (idempotent, all or nothing)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opendata.loader.schema import FixtureError
from opendata.loader.services import fixtures_load


class Command(BaseCommand):
    help = "Load the fixtures (sources, catalogues, indicators, observations, projects, events) into the database."

    def add_arguments(self, parser):
        parser.add_argument("--fixtures", default=str(settings.FIXTURES_DIR), help="Fixture directory")

    def handle(self, *args, **options):
        directory = Path(options["fixtures"])
        try:
            report = fixtures_load(directory=directory)
        except FixtureError as exc:
            raise CommandError(f"Nothing was loaded. {exc}") from None
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS("Loaded.") if report.changed else "Nothing changed: the database already matches the fixtures."
        )
