"""A scaled-out deployment on this machine, on 127.0.0.1: a PostgreSQL primary and a streaming replica
(made with pg_basebackup), Redis, N application processes (gunicorn) and nginx in front as reverse
proxy and HTTP cache (deploy/nginx.conf.template). docs/deployment.md maps each piece to production.

    python scripts/cluster.py start [--apps N]   # make cluster: start, migrate, load the data, print the address
    python scripts/cluster.py stop               # make cluster-stop: stop what start started, by PID
    python scripts/cluster.py status

Everything lives in one directory (CLUSTER_DIR, default var/cluster): data, logs, the nginx
configuration and `cluster.json`, the PIDs and ports that `stop` reads. Ports (environment):
CLUSTER_PG_PORT (5440; the replica takes the next one), CLUSTER_REDIS_PORT (6390), CLUSTER_HTTP_PORT
(8600, nginx; the application processes take the next N). Run as root, PostgreSQL runs as the
`postgres` user (initdb refuses root) and nginx's workers as `nobody`. Needs PostgreSQL's server
binaries (/usr/lib/postgresql/<version>/bin), redis-server and nginx; nginx is installed with
apt-get when it is missing and this runs as root.

The tests of the distributed behaviour (tests/opendata/config/test_cluster.py) start the same pieces
through this module's classes.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
DEFAULT_DIR = ROOT / "var" / "cluster"


class ClusterError(RuntimeError):
    pass


# -- processes ---------------------------------------------------------------------------------------

def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie counts as gone: a child of ours is reaped here; a daemon's parent (PID 1 in a container) may
    # reap late, or never
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def stop_pid(pid: int | None, sig: signal.Signals = signal.SIGTERM, wait: float = 30) -> None:
    """Signal `pid` and wait for it to end (SIGKILL after `wait` seconds)."""
    if not alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise ClusterError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def http_status(url: str, timeout: float = 3) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


# -- PostgreSQL ----------------------------------------------------------------------------------------

def postgres_bindir() -> Path | None:
    candidates = [os.environ.get("POSTGRES_BINDIR", "")]
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if directory and all((Path(directory) / b).exists() for b in ("initdb", "pg_ctl", "pg_basebackup")):
            return Path(directory)
    return None


class Postgres:
    """One PostgreSQL server in `home`: a primary (initdb) or a streaming replica of one (pg_basebackup)."""

    def __init__(self, bindir: Path, home: Path, port: int):
        self.bindir, self.home, self.port = bindir, home, port
        self.data = home / "data"
        self.log = home / "postgres.log"
        self.prefix: list[str] = []
        home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(home, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def run(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=timeout, cwd=self.home)
        if result.returncode != 0:
            raise ClusterError(f"{' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout

    def init_primary(self) -> None:
        self.run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                 "-E", "UTF8", "--locale", "C")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n# scripts/cluster.py: a primary with streaming replicas\n"
                       "wal_level = replica\nmax_wal_senders = 10\nmax_replication_slots = 10\n"
                       "hot_standby = on\nhot_standby_feedback = on\nmax_connections = 200\n"
                       "shared_buffers = 128MB\nsynchronous_commit = on\nfsync = off\nfull_page_writes = off\n")

    def init_replica(self, primary: Postgres, slot: str) -> None:
        """pg_basebackup of the running primary, with a replication slot and standby.signal (-R)."""
        self.run(str(self.bindir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                 "-D", str(self.data), "-R", "-X", "stream", "-c", "fast", "-C", "-S", slot, "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.home}"
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w",
                 "-t", "60", "start")

    @property
    def pid(self) -> int | None:
        return read_pid(self.data / "postmaster.pid")

    def stop(self, sig: signal.Signals = signal.SIGINT) -> None:
        """SIGINT: fast shutdown (clients disconnected); SIGQUIT: immediate, as in a crash."""
        stop_pid(self.pid, sig)
        for _ in range(100):  # pg_ctl start refuses while the pid file remains
            if not (self.data / "postmaster.pid").exists():
                break
            time.sleep(0.05)

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


# -- Redis, the application, nginx -----------------------------------------------------------------------

class Redis:
    def __init__(self, home: Path, port: int):
        self.home, self.port = home, port
        self.pidfile = home / "redis.pid"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise ClusterError("redis-server is not installed (Debian: apt-get install redis-server)")
        self.home.mkdir(parents=True, exist_ok=True)
        subprocess.run([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--daemonize", "yes",
                        "--pidfile", str(self.pidfile), "--logfile", str(self.home / "redis.log"), "--dir",
                        str(self.home), "--save", "", "--appendonly", "no"], check=True, timeout=30)
        wait_port(self.port)

    @property
    def pid(self) -> int | None:
        return read_pid(self.pidfile)

    def stop(self) -> None:
        stop_pid(self.pid)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def app_env(*, database_url: str, replica_urls: list[str], redis_url: str, secret_key: str, **extra: str) -> dict:
    """The environment of an application process: the machine's, less the settings of other deployments."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_", "REDIS_", "GUNICORN_", "DJANGO_ALLOW", "HTTPS", "SECURE_", "API_RATE"))
           and k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "WEB_CONCURRENCY", "PYTEST_CURRENT_TEST", "HOST",
                         "PORT", "TRUSTED_PROXY_COUNT"}}
    env.update({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": secret_key, "DEBUG": "false",
                "ALLOWED_HOSTS": "127.0.0.1,localhost", "TRUSTED_PROXY_COUNT": "1",
                "DJANGO_SETTINGS_MODULE": "opendata.config.settings"})
    if replica_urls:
        env["DATABASE_REPLICA_URLS"] = ",".join(replica_urls)
    env.update(extra)
    return env


class App:
    """One application process: a gunicorn master with opendata/config/gunicorn.conf.py (WEB_CONCURRENCY
    workers, 1 by default: one process per container or VM, as behind a load balancer)."""

    def __init__(self, home: Path, port: int, env: dict):
        self.home, self.port, self.env = home, port, env
        self.pidfile = home / f"gunicorn-{port}.pid"
        self.log = home / f"app-{port}.log"

    def start(self, python: str = sys.executable) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        gunicorn = Path(python).parent / "gunicorn"
        env = {"WEB_CONCURRENCY": "1", **self.env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        with open(self.log, "ab") as log:
            process = subprocess.Popen([str(gunicorn), "-c", "opendata/config/gunicorn.conf.py", "-p", str(self.pidfile)],
                                       cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        self.pid_started = process.pid

    def wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if http_status(f"http://127.0.0.1:{self.port}/healthz", timeout=2) == 200:
                return
            if not alive(self.pid_started):
                break
            time.sleep(0.1)
        raise ClusterError(f"the application on port {self.port} did not start; its log:\n"
                           f"{self.log.read_text(errors='replace')[-3000:]}")

    @property
    def pid(self) -> int | None:
        return read_pid(self.pidfile) or getattr(self, "pid_started", None)

    def stop(self) -> None:
        stop_pid(self.pid, signal.SIGTERM)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def install_nginx() -> str:
    binary = nginx_binary()
    if binary:
        return binary
    if os.geteuid() != 0:
        raise ClusterError("nginx is not installed: apt-get install nginx-light (as root)")
    print("cluster: installing nginx-light", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "nginx-light"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        subprocess.run(install, env=env, capture_output=True, check=True)
    binary = nginx_binary()
    if not binary:
        raise ClusterError("nginx is still not installed after apt-get install nginx-light")
    return binary


class Nginx:
    def __init__(self, home: Path, port: int, upstreams: list[int], workers: int = 1):
        self.home, self.port, self.upstreams, self.workers = home, port, upstreams, workers
        self.conf = home / "nginx.conf"
        self.pidfile = home / "nginx.pid"

    def render(self) -> str:
        servers = "\n        ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in self.upstreams)
        text = TEMPLATE.read_text()
        for name, value in {"NGINX_WORKERS": str(self.workers), "NGINX_PREFIX": str(self.home),
                            "UPSTREAM_SERVERS": servers, "LISTEN": f"127.0.0.1:{self.port}"}.items():
            text = text.replace("${" + name + "}", value)
        if os.geteuid() == 0:
            text = "user nobody nogroup;\n" + text
        return text

    def start(self, binary: str | None = None) -> None:
        binary = binary or install_nginx()
        subs = ("body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp", "cache")
        for sub in subs:
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(self.render())
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for sub in subs:
                os.chown(self.home / sub, nobody.pw_uid, nobody.pw_gid)
        result = subprocess.run([binary, "-p", str(self.home), "-c", str(self.conf), "-e", str(self.home / "error.log")],
                                capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise ClusterError(f"nginx did not start: {result.stderr.strip()}")
        wait_port(self.port)

    @property
    def pid(self) -> int | None:
        return read_pid(self.pidfile)

    def stop(self) -> None:
        stop_pid(self.pid, signal.SIGQUIT)  # graceful: requests in flight finish


# -- the whole deployment ---------------------------------------------------------------------------------

def manage(env: dict, *args: str, timeout: float = 900) -> None:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise ClusterError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")


def wait_replay(primary: Postgres, replica: Postgres, timeout: float = 60) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    import psycopg

    with psycopg.connect(primary.url(), autocommit=True, connect_timeout=5) as conn:
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with psycopg.connect(replica.url(), autocommit=True, connect_timeout=5) as conn:
        while time.monotonic() < deadline:
            if conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]:
                return
            time.sleep(0.05)
    raise ClusterError(f"the replica did not replay {target} within {timeout:g} s")


def others_can_reach(directory: Path) -> bool:
    """Every directory down to `directory` may be traversed by other users."""
    return all(path.stat().st_mode & 0o001 for path in [directory, *directory.parents] if path.exists())


def start(directory: Path, *, apps: int, pg_port: int, redis_port: int, http_port: int, load: bool = True,
          database: str = "opendata", extra_env: dict | None = None) -> dict:
    state_file = directory / "cluster.json"
    if state_file.exists():
        raise ClusterError(f"{state_file} exists: a cluster runs (or ran) there; `make cluster-stop` first")
    ports = [pg_port, pg_port + 1, redis_port, http_port, *range(http_port + 1, http_port + 1 + apps)]
    busy = [p for p in ports if not port_free(p)]
    if busy:
        raise ClusterError(f"ports already in use on 127.0.0.1: {busy} (set CLUSTER_PG_PORT, CLUSTER_REDIS_PORT, "
                           f"CLUSTER_HTTP_PORT)")
    bindir = postgres_bindir()
    if bindir is None:
        raise ClusterError("PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup) are not installed "
                           "(Debian: apt-get install postgresql)")
    nginx = install_nginx()
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o755)
    state: dict = {"dir": str(directory), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    def save():
        state_file.write_text(json.dumps(state, indent=2))

    pg_root = directory
    if os.geteuid() == 0 and not others_can_reach(directory):
        # PostgreSQL (the postgres user) and nginx's workers (nobody) cannot reach this directory (a clone
        # under /root): their data and cache go to a directory of /tmp
        pg_root = Path(tempfile.mkdtemp(prefix="opendata-cluster-pg-"))
        os.chmod(pg_root, 0o755)
    state["pg_root"] = str(pg_root)
    primary = Postgres(bindir, pg_root / "primary", pg_port)
    replica = Postgres(bindir, pg_root / "replica", pg_port + 1)
    primary.init_primary()
    primary.start()
    state["primary"] = {"port": pg_port, "pid": primary.pid, "data": str(primary.data)}
    save()
    import psycopg

    with psycopg.connect(primary.url(), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    replica.init_replica(primary, slot="replica_1")
    replica.start()
    state["replica"] = {"port": pg_port + 1, "pid": replica.pid, "data": str(replica.data)}
    save()
    redis = Redis(directory / "redis", redis_port)
    redis.start()
    state["redis"] = {"port": redis_port, "pid": redis.pid}
    save()

    secret_file = directory / "secret_key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(48))
        os.chmod(secret_file, 0o600)
    env = app_env(database_url=primary.url(database), replica_urls=[replica.url(database)], redis_url=redis.url(0),
                  secret_key=secret_file.read_text(), **(extra_env or {}))
    print("cluster: migrating" + (" and loading the data" if load else ""), flush=True)
    manage({**env, "DEBUG": "true"}, "migrate", "--noinput", "-v0")
    if load:
        manage({**env, "DEBUG": "true"}, "load_opendata", "-v0")
    wait_replay(primary, replica)

    state["apps"] = []
    started = []
    for port in range(http_port + 1, http_port + 1 + apps):
        app = App(directory / "apps", port, env)
        app.start()
        started.append(app)
        state["apps"].append({"port": port, "pid": app.pid_started, "pidfile": str(app.pidfile), "log": str(app.log)})
        save()
    for app in started:
        app.wait()
    front = Nginx(pg_root / "nginx", http_port, [a.port for a in started])
    front.start(nginx)
    state["nginx"] = {"port": http_port, "pid": front.pid, "conf": str(front.conf)}
    state["address"] = f"http://127.0.0.1:{http_port}/"
    state["env"] = {k: v for k, v in env.items() if k in ("DATABASE_URL", "DATABASE_REPLICA_URLS", "REDIS_URL")}
    save()
    return state


def stop(directory: Path) -> list[str]:
    state_file = directory / "cluster.json"
    if not state_file.exists():
        return []
    state = json.loads(state_file.read_text())
    stopped = []
    if "nginx" in state:
        pid = read_pid(Path(state["nginx"]["conf"]).parent / "nginx.pid") or state["nginx"]["pid"]
        stop_pid(pid, signal.SIGQUIT)
        stopped.append(f"nginx (pid {pid})")
    for app in state.get("apps", []):
        pid = read_pid(Path(app["pidfile"])) or app["pid"]
        stop_pid(pid, signal.SIGTERM)
        stopped.append(f"app :{app['port']} (pid {pid})")
    if "redis" in state:
        pid = read_pid(Path(state["dir"]) / "redis" / "redis.pid") or state["redis"]["pid"]
        stop_pid(pid)
        stopped.append(f"redis (pid {pid})")
    for name in ("replica", "primary"):
        if name in state:
            pid = read_pid(Path(state[name]["data"]) / "postmaster.pid") or state[name]["pid"]
            stop_pid(pid, signal.SIGINT)
            stopped.append(f"postgresql {name} (pid {pid})")
    state_file.unlink()
    for sub in ("primary", "replica", "redis", "apps", "nginx"):
        shutil.rmtree(directory / sub, ignore_errors=True)
    if state.get("pg_root") and Path(state["pg_root"]) != directory:
        shutil.rmtree(state["pg_root"], ignore_errors=True)
    return stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--dir", default=os.environ.get("CLUSTER_DIR") or str(DEFAULT_DIR))
    parser.add_argument("--apps", type=int, default=int(os.environ.get("CLUSTER_APPS") or 2))
    parser.add_argument("--no-load", action="store_true", help="migrate only, do not load the fixtures")
    args = parser.parse_args(argv)
    directory = Path(args.dir).resolve()
    if args.command == "stop":
        for line in stop(directory) or ["nothing was running"]:
            print(f"cluster: stopped {line}" if line != "nothing was running" else f"cluster: {line} in {directory}")
        return 0
    if args.command == "status":
        state_file = directory / "cluster.json"
        if not state_file.exists():
            print("cluster: not running")
            return 1
        state = json.loads(state_file.read_text())
        print(json.dumps(state, indent=2))
        return 0
    try:
        state = start(directory, apps=args.apps, pg_port=int(os.environ.get("CLUSTER_PG_PORT") or 5440),
                      redis_port=int(os.environ.get("CLUSTER_REDIS_PORT") or 6390),
                      http_port=int(os.environ.get("CLUSTER_HTTP_PORT") or 8600), load=not args.no_load)
    except (ClusterError, subprocess.SubprocessError, OSError) as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        print("cluster: stopping what was started", file=sys.stderr)
        stop(directory)
        return 1
    print(f"""
  The API, through nginx (cache) and {args.apps} application processes: {state['address']}api/v1/
  GraphQL: {state['address']}graphql/
  PostgreSQL primary 127.0.0.1:{state['primary']['port']}, streaming replica 127.0.0.1:{state['replica']['port']}
  Redis 127.0.0.1:{state['redis']['port']};  logs and PIDs: {directory}
  Stop everything: make cluster-stop
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
