"""Build the bulk downloads (docs/downloads.md): `make downloads`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opendata.publish import downloads


class Command(BaseCommand):
    help = ("Build the bulk files (CSV, NDJSON, Parquet per collection; one XLSX workbook; one SQLite database) and "
            "manifest.json into DOWNLOADS_DIR (var/downloads/), or check them with --verify.")

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000",
                            help="Address of the API written into the files' links (default %(default)s)")
        parser.add_argument("--output", default=None, help="Directory (default: settings.DOWNLOADS_DIR)")
        parser.add_argument("--verify", action="store_true", help="Check the files against their manifest only")

    def handle(self, *args, **options):
        out = Path(options["output"]) if options["output"] else None
        if options["verify"]:
            problems = downloads.verify(out)
            if problems:
                raise CommandError("; ".join(problems))
            self.stdout.write("The files match their manifest.")
            return
        manifest = downloads.build(out, base_url=options["base_url"])
        for f in manifest["files"]:
            self.stdout.write(f"{f['name']:32} {f['rows']:>7} rows {f['bytes']:>10} bytes  {f['sha256'][:16]}")
        self.stdout.write(f"Data version {manifest['data_version']} in {out or downloads.downloads_dir()}")
