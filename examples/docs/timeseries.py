"""A time series with its targets: every observation of one indicator in period order, then each target
beside the result of its period and whether it was met."""
import os

import httpx

API = os.environ.get("OPENDATA_API", "http://127.0.0.1:8000")

with httpx.Client(timeout=30) as client:
    series = client.get(f"{API}/api/v1/indicators/grain-output/observations/",
                        params={"ordering": "period_start", "page_size": 1000}).raise_for_status().json()
    for o in series["results"]:
        print(o["period_label"], o["kind"], o["comparator"], o["value"], o["unit"], sep="\t")
    indicator = client.get(f"{API}/api/v1/indicators/grain-output/").raise_for_status().json()
    for t in indicator["targets"]:
        result = t["result"]["value"] if t["result"] else "none yet"
        print(f"target {t['target']['period_label']} {t['target']['comparator']} {t['target']['value']}: "
              f"result {result}, met {t['met']}")
