"""`make bench`: the production server under load (wrk), scenario by scenario, on the synthetic million
observations of bench/run.py: requests/s, p50 and p99 for R1-R5, the CSV export R6 (rows/s and the
worker's memory growth) and a bulk upsert of 10,000 observations (rows/s). docs/performance.md reads it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od_bench .venv/bin/python bench/wrk_bench.py
    DUR=5 WARM=2 ... bench/wrk_bench.py            # a rougher, shorter run

| | request |
|---|---|
| R1 | `GET /api/v1/observations/?indicator=<code>&ordering=period_start&page_size=100`, the indicator changing with every request (200 codes) |
| R2 | R1 after a cursor: the page after the row at 90 % of the indicator's rows |
| R3 | `GET /api/v1/indicators/<code>/` (1,000 targets each: the detail embeds 25, counted and linked) |
| R4 | `POST /graphql/`: 100 observations of one indicator with `indicator { code nameEn }` and `citations { quote source { slug } }` |
| R5 | R1's paths with `If-None-Match: <its ETag>`: 304 |
| R6 | `GET /api/v1/observations/?indicator=<50 codes>&format=csv`: 100,000 rows, streamed |
| bulk | `POST /api/v1/observations/bulk/`: 10 requests of 1,000 new observations (an API key of tier `bulk`) |

The server is the production one (gunicorn with opendata/config/gunicorn.conf.py, what `make serve` runs) with
WEB_CONCURRENCY=2 workers (GUNICORN_THREADS: the configuration's default), on 127.0.0.1 and a free port (or
BENCH_PORT); wrk
runs with 2 threads and 16 connections (THREADS, CONNS). Bounded: each wrk run lasts DUR seconds (15) after
WARM seconds of warm-up (5), the server stops at the end (and by `timeout` should this script die). The
bulk rows go to their own indicators (`synthetic-bulk-indicator-N`): created by the first run, updated (other
values) by the next ones. BULK_ROWS sets how many (10,000).

SCENARIOS runs only some of them, e.g. `SCENARIOS=R4` or `SCENARIOS=R1,R5,bulk` (default: all):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od_bench SCENARIOS=R4 DUR=5 WARM=2 bench/wrk_bench.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od_bench SCENARIOS=R6 BENCH_PORT=8710 bench/wrk_bench.py

R6 alone writes nothing to the database; its workers each export one indicator first (warm-up).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402  (bench/load.py: wrk, the server's start and stop)
import run  # noqa: E402  (bench/run.py: the database, the synthetic data, a free port)

DUR = int(os.environ.get("DUR", "15"))
WARM = int(os.environ.get("WARM", "5"))
CONNS = int(os.environ.get("CONNS", "16"))
THREADS = int(os.environ.get("THREADS", "2"))
CODES = [f"synthetic-indicator-{i:04d}" for i in range(0, 500, 500 // 200)][:200]
R4_QUERY = """query R4($ind: [Code!]) { observations(indicator: $ind, orderBy: ["period_start"], first: 100) {
  nodes { uid periodStart periodEnd periodLabel kind comparator value
          indicator { code nameEn }
          citations(first: 10) { nodes { quote source { slug } } } } } }"""
BULK_ROWS, BULK_BATCH = int(os.environ.get("BULK_ROWS", "10000")), 1_000
ALL_SCENARIOS = ("R1", "R2", "R3", "R4", "R5", "R6", "bulk")
SCENARIOS = [name.strip() for name in os.environ.get("SCENARIOS", ",".join(ALL_SCENARIOS)).split(",") if name.strip()]
if unknown := set(SCENARIOS) - set(ALL_SCENARIOS):
    sys.exit(f"SCENARIOS: unknown {', '.join(sorted(unknown))}; choose among {', '.join(ALL_SCENARIOS)}")


def r1_path(code: str) -> str:
    return f"/api/v1/observations/?indicator={code}&ordering=period_start&page_size=100"


def deep_cursors() -> dict[str, str]:
    """For each indicator, the cursor of R1's ordering at 90 % of its rows (what following `next` reaches)."""
    from indicators.filters import ObservationFilterSet
    from indicators.models import Observation
    from opendata.base.api.pagination import encode_cursor, key_values

    ordering, keys = ObservationFilterSet.sorting.parse("period_start")
    out = {}
    for code in CODES:
        qs = Observation.objects.alive().filter(indicator__code=code).order_by(*[k.order_expr() for k in keys])
        row = qs[int(qs.count() * 0.9)]
        out[code] = encode_cursor("/api/v1/observations/", ordering, key_values(row, keys), backwards=False)
    return out


def bulk_setup() -> tuple[str, list[list[dict]]]:
    """A write key of tier `bulk`, a source whose text states the values, and 10,000 rows in batches (their
    citations given by source, offset and quote: the service finds or creates them)."""
    from indicators.models import Indicator
    from opendata.catalogue.models import Region, Source, SourcePeriod, Topic, Unit
    from opendata.keys.models import ApiKey

    values = list(range(1, 101))
    text = "，".join(f"指标值{v}" for v in values) + "。"
    source, _ = Source.objects.get_or_create(slug="synthetic-bulk-source", defaults=dict(
        title_zh="合成批量来源", title_en="Synthetic bulk source", date=dt.date(2025, 1, 1), text=text, sha256="1" * 64))
    SourcePeriod.objects.get_or_create(source=source, start=dt.date(1976, 1, 1), end=dt.date(2025, 12, 31),
                                       defaults={"label": "1976–2025"})
    unit, topic = Unit.objects.get(symbol="synthetic-unit"), Topic.objects.get(code="synthetic-topic")
    regions = list(Region.objects.filter(code__startswith="synthetic-").order_by("code").values_list("code", flat=True))
    for i in range(5):
        Indicator.objects.get_or_create(code=f"synthetic-bulk-indicator-{i}", defaults=dict(
            name_zh=f"合成批量指标{i}", name_en=f"Synthetic bulk indicator {i}", unit=unit, topic=topic))
    _, key = ApiKey.objects.create_key(name=f"bench-{time.time():.0f}", scope="write", resources="observations",
                                       tier="bulk")
    rows, shift = [], int(time.time()) % len(values)  # another value per run: a later run updates every row
    for i in range(5):
        for region in regions:
            for year in range(run.FIRST_YEAR, run.FIRST_YEAR + run.N_YEARS):
                for kind in run.KINDS:
                    v = values[(len(rows) + shift) % len(values)]
                    q = f"指标值{v}"
                    rows.append({"indicator": f"synthetic-bulk-indicator-{i}", "region": region,
                                 "period_start": f"{year}-01-01", "period_end": f"{year}-12-31",
                                 "period_label": str(year), "kind": kind, "value": str(v),
                                 "citations": [{"source": source.slug, "offset": text.index(q), "quote": q}]})
    rows = rows[:BULK_ROWS]
    return key, [rows[i:i + BULK_BATCH] for i in range(0, len(rows), BULK_BATCH)]


def wrk(wrk_bin: str, base: str, lines: list[str], seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    cmd = [wrk_bin, "-t", str(THREADS), "-c", str(CONNS), "-d", f"{seconds}s", "--timeout", "10s",
           "-s", str(ROOT / "bench" / "scenario.lua"), base]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60,
                         env={**os.environ, "REQUESTS_FILE": f.name})
    os.unlink(f.name)
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_server(port: int, lifetime: int, log_path: Path) -> subprocess.Popen:
    """What `make serve` runs (gunicorn -c opendata/config/gunicorn.conf.py), with 2 workers, in its own session."""
    env = {**run.server_env(), "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2", "LOG_LEVEL": "WARNING"}
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    server = subprocess.Popen(["timeout", str(lifetime), str(gunicorn), "-c", "opendata/config/gunicorn.conf.py"],
                              cwd=ROOT, env=env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.2)
    load.stop(server)
    sys.exit(f"the server did not start; see {log_path}")


def workers_of(master_pid: int) -> list[int]:
    """The gunicorn workers: children of the master (itself the child of `timeout`)."""
    def children(pid):
        out = []
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                try:
                    if int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(p.name))
                except (OSError, IndexError, ValueError):
                    pass
        return out
    found = []
    for child in children(master_pid):
        found += children(child) or []
    return found or children(master_pid)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def check(base: str, line: str) -> None:
    """The first request of a scenario answers as it should (2xx or 304; no GraphQL error), or the run stops."""
    method, path, *extra = line.split("\t")
    headers = {"Accept": "application/json"}
    data = None
    if method == "POST":
        data, headers["Content-Type"] = extra[0].encode(), "application/json"
    elif extra and extra[0]:
        name, value = extra[0].split(": ", 1)
        headers[name] = value
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, data=data, headers=headers), timeout=60) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    if not (200 <= status < 300 or status == 304) or b'"errors"' in body:
        sys.exit(f"{path}: HTTP {status}: {body[:300]!r}")


def main():
    wrk_bin = load.ensure_wrk()
    url = run.configure_database(False)
    import django

    django.setup()
    from django.db import connection

    run.build(1_000_000)
    print("preparing the requests ...", flush=True)
    cursors = deep_cursors() if "R2" in SCENARIOS else {}
    key, batches = bulk_setup() if "bulk" in SCENARIOS else (None, [])
    connection.close()

    port = int(os.environ.get("BENCH_PORT") or run.free_port())
    base = f"http://127.0.0.1:{port}"
    log_path = ROOT / "var" / "bench" / "wrk-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    server = start_server(port, lifetime=(WARM + DUR) * 5 + 900, log_path=log_path)
    results, notes = {}, []
    try:
        etags = {}
        for code in CODES if "R5" in SCENARIOS else ():
            with urllib.request.urlopen(base + r1_path(code), timeout=30) as r:
                etags[code] = r.headers["ETag"]
        scenarios = {
            "R1": [f"GET\t{r1_path(c)}" for c in CODES],
            "R2": [f"GET\t{r1_path(c)}&cursor={cursors[c]}" for c in cursors],
            "R3": [f"GET\t/api/v1/indicators/{c}/" for c in CODES],
            "R4": ["POST\t/graphql/\t" + json.dumps({"query": R4_QUERY, "variables": {"ind": [c]}}) for c in CODES],
            "R5": [f"GET\t{r1_path(c)}\tIf-None-Match: {etags[c]}" for c in etags],
        }
        for name, lines in scenarios.items():
            if name not in SCENARIOS:
                continue
            check(base, lines[0])
            print(f"{name}: warm-up {WARM} s, run {DUR} s ...", flush=True)
            wrk(wrk_bin, base, lines, WARM)
            results[name] = wrk(wrk_bin, base, lines, DUR)

        if "R6" in SCENARIOS:
            print("R6: CSV export of 100,000 rows ...", flush=True)
            workers = workers_of(server.pid)
            before = {p: rss_mb(p) for p in workers}
            peak = dict(before)
            done = threading.Event()

            def sample():  # the workers' resident memory, 20 times a second, while the export streams
                while not done.wait(0.05):
                    for p in workers:
                        peak[p] = max(peak[p], rss_mb(p))
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            codes = ",".join(f"synthetic-indicator-{i:04d}" for i in range(50))
            for _ in workers:  # warm-up: each worker exports one indicator first (imports, plans, connection)
                urllib.request.urlopen(f"{base}/api/v1/observations/?indicator=synthetic-indicator-0000&format=csv",
                                       timeout=600).read()
            before = {p: rss_mb(p) for p in workers}
            peak = dict(before)
            started, rows = time.perf_counter(), -1
            with urllib.request.urlopen(f"{base}/api/v1/observations/?indicator={codes}&format=csv", timeout=600) as r:
                while chunk := r.read(1 << 16):
                    rows += chunk.count(b"\n")
            seconds = time.perf_counter() - started
            done.set()
            sampler.join()
            growth = max((peak[p] - before[p] for p in workers), default=0.0)
            results["R6"] = {"rows": rows, "seconds": seconds, "growth_mb": growth}
        if "bulk" in SCENARIOS:
            print(f"bulk: {BULK_ROWS:,} observations in {len(batches)} requests ...", flush=True)
            started = time.perf_counter()
            for batch in batches:
                req = urllib.request.Request(f"{base}/api/v1/observations/bulk/", method="POST",
                                             data=json.dumps({"rows": batch}).encode(),
                                             headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
                try:
                    with urllib.request.urlopen(req, timeout=600) as r:
                        assert r.status == 200, r.status
                except urllib.error.HTTPError as e:
                    sys.exit(f"bulk upsert: HTTP {e.code}: {e.read()[:500]!r}")
            results["bulk"] = {"rows": BULK_ROWS, "seconds": time.perf_counter() - started}
    finally:
        load.stop(server)

    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print()
    print(f"1,000,000 observations, {engine}, gunicorn (opendata/config/gunicorn.conf.py) 2 workers, wrk -t{THREADS} "
          f"-c{CONNS} {DUR} s after {WARM} s, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}, {platform.platform()}")
    print("| scenario | requests/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    failed = False
    for name in ("R1", "R2", "R3", "R4", "R5"):
        if name not in results:
            continue
        r = results[name]
        errors = sum(r["errors"].values())
        failed |= errors > 0
        print(f"| {name} | {r['requests'] / (r['duration_us'] / 1e6):,.0f} | {r['latency_us']['p50'] / 1000:.1f} | "
              f"{r['latency_us']['p99'] / 1000:.1f} | {errors} |")
    r6, bulk = results.get("R6"), results.get("bulk")
    if r6:
        print(f"| R6 CSV export | {r6['rows']:,} rows in {r6['seconds']:.1f} s: **{r6['rows'] / r6['seconds']:,.0f} "
              f"rows/s**, worker memory +{r6['growth_mb']:.1f} MB at its peak | | | |")
    if bulk:
        print(f"| bulk upsert | {bulk['rows']:,} rows in {bulk['seconds']:.1f} s: **{bulk['rows'] / bulk['seconds']:,.0f} "
              f"rows/s** | | | |")
    if "R1" in results:
        r1 = results["R1"]["requests"] / (results["R1"]["duration_us"] / 1e6)
        for name, target in (("R2", 0.9), ("R3", 1.0), ("R5", 3.0)):
            if name in results:
                got = results[name]["requests"] / (results[name]["duration_us"] / 1e6) / r1
                notes.append(f"{name}/R1 = {got:.2f} (target ≥ {target})")
    if notes:
        print("\n" + "; ".join(notes))
    if failed:
        sys.exit("some requests failed (see the errors column)")


if __name__ == "__main__":
    main()
