#!/usr/bin/env bash
# Follow a citation: from a fact to the exact characters of its source that state it.
set -euo pipefail
API="${OPENDATA_API:-http://127.0.0.1:8000}"
citation=$(curl -sf "$API/api/v1/indicators/grain-output/observations/?kind=actual&page_size=1" | jq '.results[0].citations[0]')
text_url=$(jq -r '.text_url | split("#")[0]' <<<"$citation")   # the fragment (#char=start,end) is for browsers
# offsets count Unicode characters, as jq's string slices do
curl -sf "$text_url" | jq -Rrs --argjson c "$citation" '
  .[$c.offset : $c.offset + ($c.quote | length)] as $found
  | "quote:  \($c.quote)\nsource: \($found)",
    (if $found == $c.quote then "the source states it at character \($c.offset)" else error("not the source text") end)'
