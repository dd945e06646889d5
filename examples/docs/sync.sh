#!/usr/bin/env bash
# A sync loop: read the change feed from where you stopped until it says there is no more, remember the
# cursor, and poll again later (here: once). A full client that keeps a SQLite mirror: examples/sync_client.py.
set -euo pipefail
API="${OPENDATA_API:-http://127.0.0.1:8000}"
cursor="$(cat .sync-cursor 2>/dev/null || true)"
changes=0
while :; do
  page=$(curl -sf "$API/api/v1/changes/?page_size=500${cursor:+&after=$cursor}")
  changes=$((changes + $(jq '.results | length' <<<"$page")))
  jq -c '.results[] | {resource, key, operation}' <<<"$page" >> changes.ndjson   # apply them to your copy here
  cursor=$(jq -r '.next_cursor // empty' <<<"$page")
  [ -n "$cursor" ] && echo "$cursor" > .sync-cursor
  [ "$(jq '.more' <<<"$page")" = "true" ] || break
done
echo "$changes changes applied; next poll resumes after $(cat .sync-cursor)"
