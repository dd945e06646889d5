"""CPU time per GraphQL R4 request in process (Django's test client, no server): the figure of
docs/performance.md's "What each change bought" for R4.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od_bench .venv/bin/python bench/graphql_cpu.py
    N=200 PROFILE=out.prof ... bench/graphql_cpu.py      # requests (200); a cProfile of the timed ones

Each request asks for another indicator (synthetic-indicator-NNNN, as bench/wrk_bench.py's R4); 20 warm-up
requests first. GRAPHQL_FAST_PATH=false measures graphql-core's own execution.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opendata.config.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("API_RATE_LIMIT", "100000000/hour")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from wrk_bench import CODES, R4_QUERY  # noqa: E402


def main() -> None:
    from django.conf import settings

    n = int(os.environ.get("N", "200"))
    fast = settings.GRAPHQL_FAST_PATH  # GRAPHQL_FAST_PATH=false in the environment: graphql-core's execution
    client = Client(HTTP_HOST="127.0.0.1")
    bodies = [json.dumps({"query": R4_QUERY, "variables": {"ind": [c]}}) for c in CODES]
    for body in bodies[:20]:
        response = client.post("/graphql/", body, content_type="application/json")
        assert response.status_code == 200 and b'"errors"' not in response.content, response.content[:500]
    profile = None
    if os.environ.get("PROFILE"):
        import cProfile
        profile = cProfile.Profile()
        profile.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        client.post("/graphql/", bodies[i % len(bodies)], content_type="application/json")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.environ["PROFILE"])
    print(f"R4 in process, fast path {'on' if fast else 'off'}: {n} requests, {cpu / n * 1000:.1f} ms CPU, "
          f"{wall / n * 1000:.1f} ms wall per request (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
