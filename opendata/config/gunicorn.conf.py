"""gunicorn's configuration, from the environment (docs/operations.md):

    gunicorn -c opendata/config/gunicorn.conf.py      # what `make serve` runs

| variable | default | |
|---|---|---|
| HOST, PORT | 127.0.0.1, 8000 | the address to listen on |
| WEB_CONCURRENCY | 2 × CPUs + 1, at most 8 | worker processes |
| GUNICORN_THREADS | 2 | threads per worker: the gthread worker (1: the sync worker) |
| GUNICORN_TIMEOUT | 30, or more with long database timeouts | a worker silent this long is killed and replaced |
| GUNICORN_GRACEFUL_TIMEOUT | 30 | on a restart, how long requests in flight may finish |
| GUNICORN_KEEPALIVE | 5 | seconds a keep-alive connection waits for its next request |
| GUNICORN_PRELOAD | true | load the application once before forking the workers |
| GUNICORN_MAX_REQUESTS | 0 (never) | replace a worker after this many requests (± 10 %) |
| PYTHON_GC_FREEZE | true | after start-up, move every object loaded so far out of the garbage collector's sight (`gc.freeze()`) |
| PYTHON_GC_THRESHOLD | 50000 | allocations before a young-generation collection in a worker (Python's default: 700) |
| GUNICORN_CONTROL_SOCKET | none | a path for gunicorn's control socket (`gunicornc`); none by default, so that two
servers of one user never share `~/.gunicorn/gunicorn.ctl` |

Threads by default: a gthread worker tells gunicorn it is alive from its own loop, so a long request
(a full CSV export of a million rows streams for minutes) is not killed by the worker timeout, which
then catches a stuck process; a sync worker (GUNICORN_THREADS=1) is killed when one request outlasts
the timeout. Either way the worker timeout must exceed what a request may wait on the database
(connect + statement timeouts, opendata/config/database.py): a request the database holds up ends
with a 503 from the application, not with gunicorn killing the worker. gunicorn writes no access log: the application
writes one structured line per request (opendata.config.middleware.AccessLogMiddleware); gunicorn's own
messages use the application's format (opendata/config/logs.py).

The garbage collector: a request of 100 observations allocates tens of thousands of objects, so with
Python's default threshold (700) the cyclic collector ran many times per request, each time walking the
whole heap of Django, DRF and graphene (12-18 % of a request, issue 13). The application's objects
loaded at start-up never become garbage: `gc.freeze()` (before each fork, so the workers also share
those pages copy-on-write) takes them out of every collection, and a higher threshold lets a
request's short-lived objects die by reference counting before a collection runs (docs/performance.md).
"""

import gc
import math
import multiprocessing
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from opendata.config.database import env_bool, timeouts  # noqa: E402  (the project is on the path now)
from opendata.config.logs import logging_config  # noqa: E402

wsgi_app = "opendata.config.wsgi:application"
chdir = str(ROOT)
proc_name = "opendata"

bind = [f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"]
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 8))
threads = int(os.environ.get("GUNICORN_THREADS") or 2)
worker_class = "gthread" if threads > 1 else "sync"

_db = timeouts()
_db_wait = _db["connect"] + _db["statement"]
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or max(30, math.ceil(_db_wait) + 10))
if _db["statement"] and timeout <= _db_wait:
    raise SystemExit(f"GUNICORN_TIMEOUT ({timeout} s) must exceed DATABASE_CONNECT_TIMEOUT + "
                     f"DATABASE_STATEMENT_TIMEOUT ({_db_wait:g} s): a slow query must end in a 503, "
                     f"not in a killed worker")
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 30)
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or 5)
preload_app = env_bool("GUNICORN_PRELOAD", True)
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 0)
max_requests_jitter = max_requests // 10

_control = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not _control
if _control:
    control_socket = _control

accesslog = None
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()
logconfig_dict = logging_config()

_gc_freeze = env_bool("PYTHON_GC_FREEZE", True)
_gc_threshold = int(os.environ.get("PYTHON_GC_THRESHOLD") or 50000)


def pre_fork(server, worker):
    if _gc_freeze:
        gc.collect()
        gc.freeze()


def post_fork(server, worker):
    if _gc_threshold:
        gc.set_threshold(_gc_threshold, *gc.get_threshold()[1:])
