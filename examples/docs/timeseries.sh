#!/usr/bin/env bash
# A time series with its targets: every observation of one indicator in period order, then each target
# beside the result of its period and whether it was met.
set -euo pipefail
API="${OPENDATA_API:-http://127.0.0.1:8000}"
curl -sf "$API/api/v1/indicators/grain-output/observations/?ordering=period_start&page_size=1000" |
  jq -r '.results[] | [.period_label, .kind, .comparator, .value, .unit] | @tsv'
curl -sf "$API/api/v1/indicators/grain-output/" |
  jq -r '.targets[] | "target \(.target.period_label) \(.target.comparator) \(.target.value): result \(.result.value // "none yet"), met \(.met)"'
