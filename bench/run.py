"""Benchmark of the REST API at a million observations: first page vs deep keyset page vs filtered
page vs count=true (and a revalidation), over HTTP against a real server on 127.0.0.1.

    .venv/bin/python bench/run.py                      # SQLite file var/bench/bench.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od_bench .venv/bin/python bench/run.py

The data is synthetic (indicators `synthetic-indicator-NNNN`, source `synthetic-bench-source`) and
lives in its own database, never the real one: a PostgreSQL database name must contain "bench".
A database built before is reused when it already holds the rows asked for (`--rebuild` to force).
Bounded: each scenario stops after --requests requests or --seconds seconds, the whole run after
--deadline seconds; the server is stopped at the end (and by `timeout` should this script die).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_REGIONS, N_YEARS, KINDS = 20, 50, ("actual", "target")
FIRST_YEAR = 1976
#: The statement timeout asked for, if any: the server gets it (or the configuration's default), while
#: this process, building a million rows and finding the deep cursor, runs without one.
SERVER_STATEMENT_TIMEOUT = os.environ.get("DATABASE_STATEMENT_TIMEOUT")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="synthetic observations (default 1,000,000)")
    p.add_argument("--requests", type=int, default=30, help="requests per scenario (default 30)")
    p.add_argument("--seconds", type=float, default=30, help="time limit per scenario (default 30 s)")
    p.add_argument("--deadline", type=float, default=540, help="time limit of the whole run (default 540 s)")
    p.add_argument("--rebuild", action="store_true", help="drop and rebuild the bench database")
    return p.parse_args()


def configure_database(rebuild: bool) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        name = url.rsplit("/", 1)[-1].split("?")[0]
        if "bench" not in name:
            sys.exit(f"refusing to benchmark in database {name!r}: its name must contain 'bench'")
        if rebuild:
            base = url.rsplit("/", 1)[0] + "/postgres"
            subprocess.run([sys.executable, "-c", (
                "import psycopg,sys; c=psycopg.connect(sys.argv[1], autocommit=True); "
                "c.execute('DROP DATABASE IF EXISTS ' + sys.argv[2]); c.execute('CREATE DATABASE ' + sys.argv[2])")
                , base, name], check=True)
        else:
            base = url.rsplit("/", 1)[0] + "/postgres"
            subprocess.run([sys.executable, "-c", (
                "import psycopg,sys; c=psycopg.connect(sys.argv[1], autocommit=True)\n"
                "if not c.execute('SELECT 1 FROM pg_database WHERE datname=%s', [sys.argv[2]]).fetchone():"
                " c.execute('CREATE DATABASE ' + sys.argv[2])"), base, name], check=True)
    else:
        path = ROOT / "var" / "bench" / "bench.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        if rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["API_RATE_LIMIT"] = "1000000/hour"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "opendata.config.settings"
    os.environ["DATABASE_STATEMENT_TIMEOUT"] = "0"
    return url


def server_env() -> dict:
    """The environment of the server: this process's, with the statement timeout of production."""
    env = os.environ.copy()
    env.pop("DATABASE_STATEMENT_TIMEOUT")
    if SERVER_STATEMENT_TIMEOUT is not None:
        env["DATABASE_STATEMENT_TIMEOUT"] = SERVER_STATEMENT_TIMEOUT
    return env


def build(rows: int):
    from django.core.management import call_command
    from django.db import connection, transaction

    from indicators.models import Indicator, Observation
    from opendata.catalogue.models import Citation, Region, Source, Topic, Unit

    call_command("migrate", verbosity=0)
    have = Observation.objects.filter(indicator__code__startswith="synthetic-").count()
    if have >= rows:
        print(f"reusing the bench database: {have:,} synthetic observations")
        return
    if have:
        sys.exit("the bench database holds a different number of rows: run with --rebuild")
    n_indicators = -(-rows // (N_REGIONS * N_YEARS * len(KINDS)))
    print(f"building {rows:,} synthetic observations ({n_indicators} indicators × {N_REGIONS} regions × "
          f"{N_YEARS} years × 2 kinds) ...", flush=True)
    started = time.monotonic()
    rnd = random.Random(42)
    with transaction.atomic():
        topic = Topic.objects.create(code="synthetic-topic", name_zh="合成主题", name_en="Synthetic topic")
        unit = Unit.objects.create(symbol="synthetic-unit", name_en="synthetic unit", base_unit="x", factor=1)
        city = Region.objects.create(code="synthetic-city", name_zh="合成市", name_en="Synthetic city", kind="city")
        regions = [city] + [Region.objects.create(code=f"synthetic-district-{i:02d}", name_zh=f"合成区{i}",
                                                  name_en=f"Synthetic district {i}", kind="district", parent=city)
                            for i in range(1, N_REGIONS)]
        text = "合成数据，仅供性能测试。" * 50
        source = Source.objects.create(slug="synthetic-bench-source", title_zh="合成来源", title_en="Synthetic source",
                                       date=dt.date(2025, 1, 1), text=text, sha256="0" * 64)
        cites = [Citation.objects.create(uid=uuid.uuid4(), source=source, quote=text[i:i + 8], offset=i)
                 for i in range(0, 80, 8)]
        indicators = Indicator.objects.bulk_create([
            Indicator(code=f"synthetic-indicator-{i:04d}", name_zh=f"合成指标{i}", name_en=f"Synthetic indicator {i}",
                      unit=unit, topic=topic) for i in range(n_indicators)])
    through = Observation.citations.through
    batch, made = [], 0
    now = dt.datetime.now(dt.UTC)

    def flush():
        nonlocal batch
        with transaction.atomic():
            objs = Observation.objects.bulk_create(batch)
            if connection.vendor != "postgresql" or objs[0].pk is None:
                # SQLite returns ids too (RETURNING); fall back to a lookup if a backend does not
                objs = list(Observation.objects.filter(uid__in=[o.uid for o in objs[::10]]))
            through.objects.bulk_create([through(observation_id=o.pk, citation_id=cites[o.pk % len(cites)].pk)
                                         for o in objs[::10]])
        batch = []

    for ind in indicators:
        for region in regions:
            for year in range(FIRST_YEAR, FIRST_YEAR + N_YEARS):
                for kind in KINDS:
                    if made >= rows:
                        break
                    batch.append(Observation(
                        uid=uuid.UUID(int=rnd.getrandbits(128)), indicator=ind, region=region,
                        period_start=dt.date(year, 1, 1), period_end=dt.date(year, 12, 31), period_label=str(year),
                        kind=kind, comparator="exact", value=Decimal(rnd.randint(1, 10_000_000)) / 100,
                        unit=unit, created_at=now, updated_at=now + dt.timedelta(microseconds=made)))
                    made += 1
                    if len(batch) == 10_000:
                        flush()
                        print(f"  {made:,} rows, {time.monotonic() - started:.0f} s", end="\r", flush=True)
    if batch:
        flush()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"\nbuilt {made:,} observations in {time.monotonic() - started:.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, lifetime: float) -> subprocess.Popen:
    """The production server (opendata/config/gunicorn.conf.py) with 2 workers, on 127.0.0.1."""
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    cmd = [str(gunicorn), "-c", "opendata/config/gunicorn.conf.py"]
    if not gunicorn.exists():
        cmd = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    if shutil.which("timeout"):  # the server stops by itself even if this script is killed
        cmd = ["timeout", str(int(lifetime)), *cmd]
    env = {**server_env(), "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2"}
    server = subprocess.Popen(cmd, cwd=ROOT, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("the server did not start")


def request(url: str, headers: dict | None = None) -> tuple[int, float, bytes, dict]:
    started = time.perf_counter()
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            body, status, hdrs = r.read(), r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        body, status, hdrs = e.read(), e.code, dict(e.headers)
    return status, (time.perf_counter() - started) * 1000, body, hdrs


def measure(name, url, args, deadline, headers=None, expect=200):
    times, size = [], 0
    request(url, headers)  # warm-up
    stop = min(time.monotonic() + args.seconds, deadline)
    while len(times) < args.requests and time.monotonic() < stop:
        status, ms, body, _ = request(url, headers)
        if status != expect:
            sys.exit(f"{name}: HTTP {status}: {body[:300]!r}")
        times.append(ms)
        size = len(body)
    times.sort()
    return {"scenario": name, "n": len(times), "p50": statistics.median(times),
            "p95": times[min(len(times) - 1, int(len(times) * 0.95))], "max": times[-1], "bytes": size}


def deep_cursor(fraction: float) -> str:
    """The cursor of the row at `fraction` of the default ordering (what following `next` ~20,000
    times would reach), computed directly so the benchmark stays short."""
    from indicators.models import Observation
    from indicators.filters import ObservationFilterSet
    from opendata.base.api.pagination import encode_cursor, key_values

    ordering, keys = ObservationFilterSet.sorting.parse(None)
    qs = Observation.objects.alive().order_by(*[k.order_expr() for k in keys])
    total = qs.count()
    row = qs[int(total * fraction)]
    return encode_cursor("/api/v1/observations/", ordering, key_values(row, keys), backwards=False)


def main():
    args = parse_args()
    run_started = time.monotonic()
    url = configure_database(args.rebuild)
    import django

    django.setup()
    from django.db import connection

    build(args.rows)
    deep = deep_cursor(0.9)
    connection.close()

    port = free_port()
    remaining = args.deadline - (time.monotonic() - run_started)
    deadline = time.monotonic() + max(remaining, 30)
    server = start_server(port, lifetime=max(remaining, 30) + 60)
    base = f"http://127.0.0.1:{port}/api/v1/observations/"
    try:
        _, _, body, headers = request(base + "?page_size=50")
        scenarios = [
            ("first page (50 rows)", base + "?page_size=50", None, 200),
            ("deep keyset page at 90 % (50 rows)", base + f"?page_size=50&cursor={deep}", None, 200),
            ("next link of the first page", json.loads(body)["next"], None, 200),
            ("filtered: one indicator, region, kind, period range", base + (
                "?indicator=synthetic-indicator-0250&region=synthetic-district-07&kind=actual"
                "&period_from=2000&period_to=2020&page_size=50"), None, 200),
            ("filtered + ordering=-period_start", base + (
                "?indicator=synthetic-indicator-0250&ordering=-period_start&page_size=50"), None, 200),
            ("ordering=-updated_at, first page", base + "?ordering=-updated_at&page_size=50", None, 200),
            ("count=true (whole table)", base + "?page_size=50&count=true", None, 200),
            ("count=true, one indicator", base + "?indicator=synthetic-indicator-0250&count=true&page_size=50",
             None, 200),
            ("revalidation: If-None-Match -> 304", base + "?page_size=50", {"If-None-Match": headers["ETag"]}, 304),
            ("CSV export of one indicator (2,000 rows)", base + "?indicator=synthetic-indicator-0250&format=csv",
             None, 200),
        ]
        results = []
        for name, u, hdrs, expect in scenarios:
            if time.monotonic() > deadline:
                print(f"deadline reached, skipping: {name}")
                continue
            results.append(measure(name, u, args, deadline, hdrs, expect))
            print(f"  {name}: p50 {results[-1]['p50']:.1f} ms", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()

    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print()
    print(f"{args.rows:,} observations, {engine}, gunicorn (opendata/config/gunicorn.conf.py) 2 workers × 2 threads, "
          f"{os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {platform.platform()}")
    print("| scenario | requests | p50 ms | p95 ms | max ms | body bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['scenario']} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {r['bytes']:,} |")
    print(f"\ntotal {time.monotonic() - run_started:.0f} s")


if __name__ == "__main__":
    main()
