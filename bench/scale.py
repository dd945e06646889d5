"""Scaling out, measured: throughput and p99 latency of the main reads through nginx with 1, 2 and 4
application processes, with and without the HTTP cache, reads on the streaming replica (and once on
the primary, the replica stopped), on the deployment of `make cluster` (scripts/cluster.py) with the
project's real data, all on 127.0.0.1.

    .venv/bin/python bench/scale.py                 # make bench runs it last
    .venv/bin/python bench/scale.py --seconds 30 --connections 32 --write-docs

Each configuration is one wrk run (`--seconds`, 15 by default, `--connections` clients, 16) over a mix
of the main reads (bench/scale.lua walks the list): the first page of observations, observations of
one indicator, indicators, sources, projects, events. "No cache" runs send a Cookie, which nginx
never serves from its cache, so the same nginx passes every request to the application. The cluster
uses its own free ports and directory and is stopped, by PID, at the end (also on failure).

Prints a Markdown table and the machine; writes bench/results/scale-<time>.json; with --write-docs
replaces the generated part of docs/performance.md's section "Scaling out" (between its markers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

import cluster as deployment  # noqa: E402  (scripts/cluster.py)
from load import ensure_wrk  # noqa: E402  (bench/load.py: wrk from Debian's packages)

DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- scale:begin (bench/scale.py --write-docs) -->", "<!-- scale:end -->"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=int, default=15, help="duration of each wrk run (default 15 s)")
    p.add_argument("--connections", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--apps", default="1,2,4", help="numbers of application processes (default 1,2,4)")
    p.add_argument("--write-docs", action="store_true", help="write the results into docs/performance.md")
    return p.parse_args()


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    nginx = subprocess.run([deployment.nginx_binary(), "-v"], capture_output=True, text=True).stderr.strip()
    postgres = subprocess.run([str(deployment.postgres_bindir() / "postgres"), "--version"], capture_output=True,
                              text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gb": mem, "kernel": platform.release(),
            "python": platform.python_version(), "nginx": nginx.replace("nginx version: ", ""), "postgres": postgres,
            "load_before": os.getloadavg()}


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(roots: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each group of processes and all their descendants."""
    parents: dict[int, int] = {}
    used: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        used[pid] = int(fields[11]) + int(fields[12])
    out = {}
    for group, pids in roots.items():
        members = set(p for p in pids if p)
        grew = True
        while grew:
            more = {pid for pid, parent in parents.items() if parent in members} - members
            grew = bool(more)
            members |= more
        out[group] = sum(used.get(pid, 0) for pid in members) / TICK
    return out


def wrk_run(wrk: str, base: str, paths: list[str], *, cache: bool, seconds: int, connections: int,
            roots: dict[str, list[int]]) -> dict:
    cmd = [wrk, "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "-s",
           str(ROOT / "bench" / "scale.lua"), base, "--", "cache" if cache else "nocache", *paths]
    before = cpu_seconds(roots)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    after = cpu_seconds(roots)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load_after"] = os.getloadavg()
    # (a group whose processes ended during the run, the stopped replica, counts 0)
    result["cpu_seconds"] = {group: max(0.0, after[group] - before[group]) for group in roots}
    return result


def row(name: str, apps: int, cache: bool, reads: str, r: dict) -> dict:
    seconds = r["duration_us"] / 1e6
    per_request = {group: 1000 * cpu / max(1, r["requests"]) for group, cpu in r["cpu_seconds"].items()}
    return {"configuration": name, "apps": apps, "cache": cache, "reads": reads, "requests": r["requests"],
            "rps": r["requests"] / seconds, "errors": sum(r["errors"].values()),
            "p50_ms": r["latency_us"]["p50"] / 1000, "p99_ms": r["latency_us"]["p99"] / 1000,
            "load_after": r["load_after"][0], "cpu_seconds": r["cpu_seconds"], "cpu_ms_per_request": per_request}


def table(rows: list[dict]) -> str:
    lines = ["| application processes | cache | reads on | requests/s | p50 ms | p99 ms | errors | CPU ms per request: "
             "application / primary / replica / nginx | load avg after |",
             "|---:|---|---|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        cpu = r["cpu_ms_per_request"]
        lines.append(f"| {r['apps']} | {'nginx' if r['cache'] else 'none'} | {r['reads']} | {r['rps']:,.0f} | "
                     f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | {cpu['application']:.2f} / "
                     f"{cpu['primary']:.2f} / {cpu['replica']:.2f} / {cpu['nginx']:.3f} | {r['load_after']:.1f} |")
    return "\n".join(lines)


def write_docs(text: str) -> None:
    doc = DOC.read_text()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{DOC} has no {BEGIN} … {END} markers")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(head + BEGIN + "\n" + text + "\n" + END + tail)


def main() -> int:
    args = parse_args()
    wrk = ensure_wrk()
    counts = [int(n) for n in args.apps.split(",")]
    directory = Path(tempfile.mkdtemp(prefix="opendata-scale-"))
    first = None
    for _ in range(200):
        candidate = random.randint(20000, 59000)
        if all(deployment.port_free(p) for p in range(candidate, candidate + 10 + max(counts))):
            first = candidate
            break
    assert first is not None, "no free ports"
    info = machine()
    rows: list[dict] = []
    fronts: list[deployment.Nginx] = []
    try:
        print(f"starting the cluster ({max(counts)} application processes) in {directory} ...", flush=True)
        state = deployment.start(directory, apps=max(counts), pg_port=first, redis_port=first + 2,
                                 http_port=first + 3, extra_env={"LOG_LEVEL": "INFO", "API_RATE_LIMIT": "100000000/hour"})
        app_ports = [a["port"] for a in state["apps"]]
        app_pids = [deployment.read_pid(Path(a["pidfile"])) or a["pid"] for a in state["apps"]]
        api = f"http://127.0.0.1:{app_ports[0]}/api/v1"
        indicator = get_json(f"{api}/indicators/?page_size=1")["results"][0]["code"]
        paths = ["/api/v1/observations/?page_size=50", f"/api/v1/observations/?indicator={indicator}&page_size=50",
                 "/api/v1/indicators/?page_size=50", "/api/v1/sources/", "/api/v1/projects/?page_size=50",
                 "/api/v1/events/?page_size=50"]
        for n in counts:
            home = Path(state["pg_root"]) / f"nginx-{n}"  # a directory nginx's workers can reach
            front = deployment.Nginx(home, first + 4 + max(counts) + len(fronts), app_ports[:n])
            front.start()
            fronts.append(front)
            roots = {"application": app_pids[:n], "primary": [state["primary"]["pid"]],
                     "replica": [state["replica"]["pid"]], "nginx": [front.pid]}
            base = f"http://127.0.0.1:{front.port}"
            for path in paths:  # every path answers before the load starts
                with urllib.request.urlopen(base + path, timeout=30) as r:
                    assert r.status == 200, path
            for cache in (False, True):
                print(f"  {n} process(es), {'with' if cache else 'without'} the cache ...", flush=True)
                r = wrk_run(wrk, base, paths, cache=cache, seconds=args.seconds, connections=args.connections,
                            roots=roots)
                rows.append(row("scale", n, cache, "replica", r))
        # the same without the replica: every read on the primary
        replica = deployment.Postgres(deployment.postgres_bindir(), Path(state["pg_root"]) / "replica",
                                      state["replica"]["port"])
        replica.stop()
        n = max(counts)
        print(f"  {n} process(es), without the cache, the replica stopped ...", flush=True)
        base = f"http://127.0.0.1:{fronts[-1].port}"
        r = wrk_run(wrk, base, paths, cache=False, seconds=args.seconds, connections=args.connections,
                    roots=roots)
        rows.append(row("scale", n, False, "primary (replica stopped)", r))
    finally:
        for front in fronts:
            front.stop()
        deployment.stop(directory)
        shutil.rmtree(directory, ignore_errors=True)

    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([
        f"Measured {when} with `.venv/bin/python bench/scale.py --seconds {args.seconds} --connections "
        f"{args.connections}`: {args.connections} clients (wrk, 2 threads) for {args.seconds} s per row, "
        f"through nginx, over the mix of main reads; the project's real data (`make cluster` loads it).",
        "",
        f"Machine: {info['cpus']} vCPUs ({info['cpu']}), {info['memory_gb']} GB RAM, Linux {info['kernel']}, "
        f"Python {info['python']}, {info['nginx']}, {info['postgres']}; primary, replica, Redis, nginx, "
        f"the application processes and wrk all on this machine. Load average before the run: "
        f"{info['load_before'][0]:.1f} (1 min).",
        "",
        table(rows),
    ])
    print()
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scale-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps({"machine": info, "rows": rows, "args": vars(args)}, indent=2))
    print(f"\nwritten: {path.relative_to(ROOT)}")
    if args.write_docs:
        write_docs(text)
        print(f"written: {DOC.relative_to(ROOT)}")
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
