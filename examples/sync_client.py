#!/usr/bin/env python3
"""Mirror the Changchun Open Data API into a SQLite file by following its change feed.

    python examples/sync_client.py --api http://127.0.0.1:8000 --db mirror.sqlite3 \\
        [--resource observation,indicator] [--once] [--key KEY] [--interval 30]

Standard library only (Python 3.8 or later). The protocol is described in docs/sync.md; in short:

- `GET /api/v1/changes/?after=<cursor>` lists changes oldest first; each carries the record's
  snapshot `after` the change (for a deletion: its last state, with `deleted_at` set: a tombstone).
- The mirror keeps one row per record, (resource, key), with the snapshot of its latest change and
  whether it is deleted. Applying an entry replaces the row: applying it twice changes nothing.
- Each page is applied in one SQLite transaction together with the page's `next_cursor`, so the
  mirror and its cursor always agree: killed at any moment (even `kill -9`), the client resumes
  after the last page it committed, skipping nothing.
- `--once` reads until the feed says nothing more is waiting (`more` false), then exits; without
  it the client polls every `--interval` seconds, for ever.
- 429 and 503 answers are retried after their `Retry-After`; network errors and other 5xx after a
  growing pause (up to a minute; with `--once`, 8 attempts at most).

The mirror can be read while the client runs, e.g.:

    sqlite3 mirror.sqlite3 "SELECT key, json_extract(snapshot, '$.value') FROM records
                            WHERE resource = 'observation' AND NOT deleted"
"""

from __future__ import annotations

import argparse
import email.utils
import json
import os
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    resource TEXT NOT NULL,     -- observation, indicator, project...
    key      TEXT NOT NULL,     -- the record's public identifier (code, slug, symbol or uid)
    deleted  INTEGER NOT NULL,  -- 1: withdrawn (its snapshot has deleted_at)
    snapshot TEXT NOT NULL,     -- JSON: the record after its latest change
    changed  TEXT NOT NULL,     -- when that change was written (UTC)
    PRIMARY KEY (resource, key)
);
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


class Mirror:
    """The SQLite file: the records and the feed's cursor, changed together."""

    def __init__(self, path: str, api: str, resources: str):
        self.db = sqlite3.connect(path, isolation_level=None)  # transactions are explicit: BEGIN ... COMMIT
        self.db.execute("PRAGMA journal_mode=WAL")  # readers may query the mirror while it syncs
        self.db.executescript(SCHEMA)
        # A cursor belongs to one server and one resource filter: refuse to mix them in one file.
        for name, value in (("api", api), ("resources", resources)):
            self.db.execute("INSERT OR IGNORE INTO state VALUES (?, ?)", (name, value))
            stored = self.state(name)
            if stored != value:
                sys.exit(f"{path} mirrors {name} {stored!r}, not {value!r}: use another --db file")

    def state(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def apply(self, entries: list[dict], cursor: str) -> None:
        """Apply one page's entries and store the cursor after them, in one transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for e in entries:
                after = e["after"]
                self.db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?)", (
                    e["resource"], e["key"], after["deleted_at"] is not None,
                    json.dumps(after, ensure_ascii=False, sort_keys=True), e["at"]))
            self.db.execute("INSERT OR REPLACE INTO state VALUES ('cursor', ?)", (cursor,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def counts(self) -> tuple[int, int]:
        return self.db.execute("SELECT count(*), coalesce(sum(deleted), 0) FROM records").fetchone()


def retry_after(headers, default: float) -> float:
    """Seconds to wait from a Retry-After header (seconds, or an HTTP date)."""
    value = headers.get("Retry-After", "")
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


def get_json(url: str, key: str | None, attempts: int | None) -> dict:
    """GET a JSON document, waiting out rate limits and transient failures (`attempts` times at
    most; None: for ever)."""
    headers = {"Accept": "application/json", "User-Agent": "opendata-sync-client/1"}
    if key:
        headers["Authorization"] = f"Bearer {key}"  # in a header, never in the URL
    pause, attempt = 1.0, 0
    while True:
        attempt += 1
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", "replace")
            if error.code in (429, 503):
                wait = retry_after(error.headers, pause)
                log(f"{error.code}: waiting {wait:g} s (Retry-After)")
            elif error.code >= 500:
                wait = pause
                log(f"{error.code}: retrying in {wait:g} s")
            else:  # a problem of ours (bad key, bad cursor...): retrying cannot help
                raise SystemExit(f"GET {url}: {error.code} {body}") from None
        except OSError as error:  # refused, reset, timed out (URLError is an OSError)
            wait = pause
            log(f"{getattr(error, 'reason', error)}: retrying in {wait:g} s")
        if attempts is not None and attempt >= attempts:
            raise SystemExit(f"GET {url}: giving up after {attempts} attempts")
        time.sleep(wait)
        pause = min(pause * 2, 60)


def sync(api: str, mirror: Mirror, resources: str, key: str | None, once: bool, interval: float,
         page_size: int) -> None:
    while True:
        params = {"page_size": page_size}
        if resources:
            params["resource"] = resources
        cursor = mirror.state("cursor")
        if cursor:
            params["after"] = cursor  # without one: from the first change
        page = get_json(f"{api}/api/v1/changes/?{urllib.parse.urlencode(params)}", key, 8 if once else None)
        mirror.apply(page["results"], page["next_cursor"])
        if page["results"]:
            records, deleted = mirror.counts()
            log(f"applied {len(page['results'])} changes, up to {page['results'][-1]['at']}: "
                f"{records} records ({deleted} deleted)")
        if page["more"]:
            continue  # more entries are waiting: read on at once
        if once:
            records, deleted = mirror.counts()
            log(f"caught up: {records} records ({deleted} deleted), cursor {page['next_cursor']}")
            return
        time.sleep(interval)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--db", required=True, help="the SQLite file to keep the mirror in (created if missing)")
    parser.add_argument("--resource", default="", help="comma-separated resources to mirror (default: all)")
    parser.add_argument("--key", default=os.environ.get("OPENDATA_API_KEY"),
                        help="an API key (default: $OPENDATA_API_KEY; reading needs none)")
    parser.add_argument("--once", action="store_true", help="stop when caught up instead of polling")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between polls (default 30)")
    parser.add_argument("--page-size", type=int, default=500, help="changes per request, 1 to 1000 (default 500)")
    args = parser.parse_args(argv)
    api = args.api.rstrip("/")
    resources = ",".join(sorted(r.strip() for r in args.resource.split(",") if r.strip()))
    mirror = Mirror(args.db, api, resources)
    log(f"mirroring {resources or 'every resource'} of {api} into {args.db}"
        + (f", from cursor {mirror.state('cursor')}" if mirror.state("cursor") else ", from the start"))
    try:
        sync(api, mirror, resources, args.key, args.once, args.interval, args.page_size)
    except KeyboardInterrupt:
        log("interrupted: the mirror is consistent, run again to resume")
        sys.exit(130)


if __name__ == "__main__":
    main()
