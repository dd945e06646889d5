"""Load test of the production server: 50 concurrent clients for 60 s (wrk) against gunicorn with the
project's configuration (opendata/config/gunicorn.conf.py, its defaults: 2 × CPUs + 1 sync workers),
over the synthetic million observations of bench/run.py, on 127.0.0.1. Reports the number of
requests, the errors (connection, read, timeout, HTTP status >= 400) and the latency percentiles.

    .venv/bin/python bench/load.py                      # SQLite file var/bench/bench.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od_bench .venv/bin/python bench/load.py

Bounded: wrk stops after --seconds (60), the server is stopped at the end (and by `timeout` should
this script die), and only 127.0.0.1 is loaded. wrk comes from Debian's packages (apt-get install wrk;
the script installs it when it runs as root and it is missing). `make bench` runs it after bench/wrk_bench.py;
`make test` never does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import run  # noqa: E402  (bench/run.py: the database, the synthetic data, a free port)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="synthetic observations (default 1,000,000)")
    p.add_argument("--connections", type=int, default=50, help="concurrent clients (default 50)")
    p.add_argument("--seconds", type=int, default=60, help="duration of the load (default 60 s)")
    p.add_argument("--rebuild", action="store_true", help="drop and rebuild the bench database")
    p.add_argument("--port", type=int, default=0, help="the server's port on 127.0.0.1 (default: a free one)")
    return p.parse_args()


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    if os.geteuid() != 0:
        sys.exit("wrk is not installed: apt-get install wrk")
    print("installing wrk (Debian package) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=300)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, check=True, capture_output=True,
                       timeout=300)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def start_server(port: int, lifetime: int, log_path: Path) -> subprocess.Popen:
    env = run.server_env()
    env.update({"HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "INFO"})  # production logging, to a file
    env.pop("WEB_CONCURRENCY", None)  # the configuration's default
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    log = open(log_path, "wb")
    server = subprocess.Popen(["timeout", str(lifetime), str(gunicorn), "-c", "opendata/config/gunicorn.conf.py"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.2)
    stop(server)
    sys.exit(f"the server did not start; see {log_path}")


def stop(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def main():
    args = parse_args()
    wrk = ensure_wrk()
    url = run.configure_database(args.rebuild)
    import django

    django.setup()
    from django.db import connection

    run.build(args.rows)
    deep = run.deep_cursor(0.9)
    connection.close()

    paths = [
        "/api/v1/observations/?page_size=50",
        f"/api/v1/observations/?page_size=50&cursor={deep}",
        "/api/v1/observations/?indicator=synthetic-indicator-0250&region=synthetic-district-07&kind=actual"
        "&period_from=2000&period_to=2020&page_size=50",
        "/api/v1/observations/?indicator=synthetic-indicator-0250&ordering=-period_start&page_size=50",
        # Not an indicator's detail: it embeds all its observations, 2,000 per synthetic indicator (1.8 s
        # to serialize), where a real indicator has a handful; the list of indicators instead.
        "/api/v1/indicators/?page_size=50",
        "/api/v1/sources/",
    ]
    port = args.port or run.free_port()
    log_path = ROOT / "var" / "bench" / "load-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    server = start_server(port, lifetime=args.seconds + 120, log_path=log_path)
    try:
        for path in paths:  # every path answers before the load starts
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
                assert r.status == 200, path
        cmd = [wrk, "-t", "2", "-c", str(args.connections), "-d", f"{args.seconds}s", "--timeout", "10s",
               "-s", str(ROOT / "bench" / "load.lua"), f"http://127.0.0.1:{port}", "--", *paths]
        print(f"wrk: {args.connections} connections for {args.seconds} s against 127.0.0.1:{port} ...", flush=True)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds + 60)
    finally:
        stop(server)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    errors = sum(result["errors"].values())
    lines = sum(1 for _ in open(log_path, encoding="utf-8", errors="replace"))
    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    seconds = result["duration_us"] / 1e6
    lat = {k: v / 1000 for k, v in result["latency_us"].items()}
    print()
    print(out.stdout.split("\n{")[0].rstrip())
    print()
    print(f"{args.rows:,} observations, {engine}, gunicorn with opendata/config/gunicorn.conf.py defaults, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}")
    print("| clients | seconds | requests | requests/s | errors | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.connections} | {seconds:.0f} | {result['requests']:,} | {result['requests'] / seconds:.0f} | "
          f"{errors} | {lat['p50']:.1f} | {lat['p90']:.1f} | {lat['p99']:.1f} | {lat['max']:.1f} |")
    print(f"errors by kind: {result['errors']}; server log: {lines:,} lines in {log_path.relative_to(ROOT)}")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
