"""`DEBUG=true .venv/bin/python manage.py curation_draft TEXT --source SLUG`: candidate facts of a new source text, as a draft file
for a curator to review (docs/curation.md)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from opendata.loader.curation import candidates

HEADER = """# Candidate facts of {file}, proposed by `DEBUG=true .venv/bin/python manage.py curation_draft` for source `{slug}`.
# Not a fixture draft: nothing here is checked or loaded. For each candidate, a curator
#   - keeps it or deletes it (a threshold in a name, a slogan, a heading is no fact),
#   - names its indicator (grep fixtures/drafts/README.md and fixtures/drafts/*.yaml for the code in use),
#   - checks value, unit, comparator, kind and period against the text (the suggestions read the clause's
#     words only: a year it names, 以上/以内/左右, words of a plan), and shortens the quote to the clause,
#   - then moves it into fixtures/drafts/<NNN>.yaml as an observation (docs/fixtures.md) and runs
#     scripts/fixtures.py locate, check and merge.
"""


class Command(BaseCommand):
    help = "Propose candidate facts (value, unit, comparator, quote, offset, suggested kind and period) from a text."

    def add_arguments(self, parser):
        parser.add_argument("text", help="The new source text (UTF-8), e.g. fixtures/sources/005_….txt")
        parser.add_argument("--source", required=True, help="The slug the new source will have in sources.yaml")
        parser.add_argument("--year", type=int, help="The document's year (default: the first 20XX年 of the text)")
        parser.add_argument("--kind", choices=("actual", "target"),
                            help="Suggest this kind for every candidate (a plan: target; a report of results: actual)")
        parser.add_argument("--output", help="Write the candidates to this file instead of standard output")

    def handle(self, *args, **options):
        path = Path(options["text"])
        try:
            text = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            raise CommandError(f"{path} does not exist") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 (byte offset {exc.start})") from None
        year = options["year"]
        if year is None and (m := re.search(r"(20\d\d)年", text)):
            year = int(m[1])
        found = candidates(text, options["source"], year=year)
        if options["kind"]:
            for cand in found:
                if cand["kind_suggested"] != options["kind"] and year is not None and cand["period_suggested"] in (
                        str(year), str(year - 1)):
                    cand["period_suggested"] = str(year if options["kind"] == "target" else year - 1)
                cand["kind_suggested"] = options["kind"]
        out = HEADER.format(file=path.name, slug=options["source"])
        out += f"# document year: {year if year is not None else 'unknown (pass --year)'}; {len(found)} candidates\n"
        out += yaml.safe_dump({"source": options["source"], "candidates": found}, allow_unicode=True,
                              sort_keys=False, width=10_000)
        if options["output"]:
            Path(options["output"]).parent.mkdir(parents=True, exist_ok=True)
            Path(options["output"]).write_text(out, encoding="utf-8")
            self.stdout.write(f"Wrote {len(found)} candidates to {options['output']}")
        else:
            self.stdout.write(out)
