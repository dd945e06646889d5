"""Export a whole collection, filters applied: CSV (with a BOM for Excel) and an Excel workbook."""
import csv
import os

import httpx

API = os.environ.get("OPENDATA_API", "http://127.0.0.1:8000")

with httpx.Client(timeout=120) as client:
    with client.stream("GET", f"{API}/api/v1/observations/",
                       params={"format": "csv", "bom": "true", "topic": "agriculture"}) as response:
        response.raise_for_status()
        with open("observations.csv", "wb") as out:
            for chunk in response.iter_bytes():
                out.write(chunk)
    workbook = client.get(f"{API}/api/v1/observations.xlsx", params={"topic": "agriculture"}).raise_for_status()
    with open("observations.xlsx", "wb") as out:
        out.write(workbook.content)

with open("observations.csv", encoding="utf-8-sig", newline="") as f:   # utf-8-sig reads past the BOM
    rows = list(csv.DictReader(f))
print(f"{len(rows)} rows in observations.csv, {len(workbook.content)} bytes in observations.xlsx")
