#!/usr/bin/env bash
# Page through a collection: follow `next` until it is null (keyset cursors: never build one yourself).
set -euo pipefail
API="${OPENDATA_API:-http://127.0.0.1:8000}"
url="$API/api/v1/observations/?kind=target&page_size=100"
total=0
while [ -n "$url" ] && [ "$url" != "null" ]; do
  page=$(curl -sf "$url")
  total=$((total + $(jq '.results | length' <<<"$page")))
  url=$(jq -r '.next' <<<"$page")
done
echo "$total target observations"
