"""Write the data dictionary into docs/ (docs/dictionary.md, docs/dictionary.json): `make schema`."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from opendata.publish import dictionary


class Command(BaseCommand):
    help = "Write the data dictionary (docs/dictionary.md and docs/dictionary.json) from the code and fixtures."

    def add_arguments(self, parser):
        parser.add_argument("--docs", default=str(Path(settings.BASE_DIR) / "docs"), help="Directory to write into")

    def handle(self, *args, **options):
        for path in dictionary.write(Path(options["docs"])):
            self.stdout.write(f"wrote {path}")
