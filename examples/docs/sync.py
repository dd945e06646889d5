"""A sync loop: read the change feed from where you stopped until it says there is no more, remember the
cursor, and poll again later (here: once). A full client that keeps a SQLite mirror: examples/sync_client.py."""
import os
import pathlib

import httpx

API = os.environ.get("OPENDATA_API", "http://127.0.0.1:8000")
state = pathlib.Path(".sync-cursor")

cursor = state.read_text().strip() if state.exists() else None
copy = {}   # (resource, key) -> record: your copy of the data
changes = 0
with httpx.Client(timeout=30) as client:
    while True:
        params = {"page_size": 500, **({"after": cursor} if cursor else {})}
        page = client.get(f"{API}/api/v1/changes/", params=params).raise_for_status().json()
        for change in page["results"]:
            copy[(change["resource"], change["key"])] = change["after"]   # a deletion's `after` has deleted_at set
            changes += 1
        if page["next_cursor"]:
            cursor = page["next_cursor"]
            state.write_text(cursor)
        if not page["more"]:
            break
live = sum(1 for record in copy.values() if record and not record.get("deleted_at"))
print(f"{changes} changes applied, {live} live records; next poll resumes after {cursor}")
