"""Follow a citation: from a fact to the exact characters of its source that state it."""
import os

import httpx

API = os.environ.get("OPENDATA_API", "http://127.0.0.1:8000")

with httpx.Client(timeout=30) as client:
    fact = client.get(f"{API}/api/v1/indicators/grain-output/observations/",
                      params={"kind": "actual", "page_size": 1}).raise_for_status().json()["results"][0]
    citation = fact["citations"][0]
    text = client.get(citation["text_url"].split("#")[0]).raise_for_status().text  # UTF-8 text/plain
# offsets count Unicode characters, as Python's str indexes do
found = text[citation["offset"]:citation["offset"] + len(citation["quote"])]
print("quote: ", citation["quote"])
print("source:", found)
assert found == citation["quote"]
print(f"the source states it at character {citation['offset']}")
