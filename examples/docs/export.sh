#!/usr/bin/env bash
# Export a whole collection, filters applied: CSV (with a BOM for Excel) and an Excel workbook.
set -euo pipefail
API="${OPENDATA_API:-http://127.0.0.1:8000}"
curl -sf -o observations.csv "$API/api/v1/observations/?format=csv&bom=true&topic=agriculture"
curl -sf -o observations.xlsx "$API/api/v1/observations.xlsx?topic=agriculture"
rows=$(curl -sf "$API/api/v1/observations/?topic=agriculture&count=true&page_size=1" | jq .count)
echo "$rows rows in observations.csv, $(wc -c < observations.xlsx) bytes in observations.xlsx"
