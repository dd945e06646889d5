"""`DEBUG=true .venv/bin/python manage.py curation_coverage`: the quantitative statements of each source text that no fact
captures and docs/fixtures.md does not explain (docs/curation.md)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opendata.loader.curation import Quotes, coverage, left_out
from opendata.loader.schema import FixtureError, read_fixtures


class Command(BaseCommand):
    help = ("List every quantitative statement (digits or Chinese numerals with a unit) of the source texts "
            "that no observation captures and docs/fixtures.md does not list as left out, per source.")

    def add_arguments(self, parser):
        parser.add_argument("--fixtures", default=str(settings.FIXTURES_DIR), help="The fixture directory")
        parser.add_argument("--source", action="append", default=[], help="Only this source slug (repeatable)")
        parser.add_argument("--explanations", default=str(settings.BASE_DIR / "docs" / "fixtures.md"),
                            help="The Markdown file whose 'Statements left out' table explains statements")
        parser.add_argument("--all", action="store_true",
                            help="Also list the statements captured, cited and explained, not only the unexplained")
        parser.add_argument("--check", action="store_true", help="Exit non-zero when a statement is unexplained")

    def handle(self, *args, **options):
        try:
            fx = read_fixtures(Path(options["fixtures"]))
        except FixtureError as exc:
            raise CommandError(str(exc)) from None
        quotes = Quotes.of_fixtures(fx)
        explanations = left_out(Path(options["explanations"]))
        known = {s["slug"] for s in fx.sources}
        unknown = sorted(set(options["source"]) - known)
        if unknown:
            raise CommandError(f"unknown source {', '.join(unknown)}: one of {', '.join(sorted(known))}")
        total_unexplained = 0
        for src in fx.sources:
            if options["source"] and src["slug"] not in options["source"]:
                continue
            cov = coverage(quotes, src["slug"], src["text"], explanations)
            total_unexplained += len(cov.unexplained)
            self.stdout.write(
                f"{src['slug']}: {cov.total} statements: {len(cov.captured)} captured, {len(cov.explained)} "
                f"left out with a reason, {len(cov.cited)} only inside another fact's quote, "
                f"{len(cov.unexplained)} unexplained")
            rows = [("unexplained", st, "") for st in cov.unexplained]
            rows += [("cited only", st, "") for st in cov.cited]
            if options["all"]:
                rows += [("captured", st, "") for st in cov.captured]
                rows += [("left out", st, reason) for st, reason in cov.explained]
            for what, st, reason in sorted(rows, key=lambda r: r[1].offset):
                context = src["text"][max(0, st.offset - 12):st.end + 8].replace("\n", " ")
                self.stdout.write(f"  {what:<12} {st.offset:>6}  {st.text.replace(chr(10), ' '):<12} {context}"
                                  + (f"  ({reason})" if reason else ""))
        if options["check"] and total_unexplained:
            raise CommandError(f"{total_unexplained} statement(s) neither captured nor explained in docs/fixtures.md")
