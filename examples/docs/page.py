"""Page through a collection: follow `next` until it is null (keyset cursors: never build one yourself)."""
import os

import httpx

API = os.environ.get("OPENDATA_API", "http://127.0.0.1:8000")

url = f"{API}/api/v1/observations/?kind=target&page_size=100"
total = 0
with httpx.Client(timeout=30) as client:
    while url:
        page = client.get(url).raise_for_status().json()
        total += len(page["results"])
        url = page["next"]
print(f"{total} target observations")
