"""Gunicorn configuration for the SoftFactory API (the report's bottleneck 7 fix).

    gunicorn -c target_api/gunicorn_conf.py 'target_api:create_app()'

Values here are defaults: ``--bind``, ``--workers``, ``--threads`` and every
other command-line option override them (gunicorn applies the config file
first, then the command line). ``GUNICORN_*`` environment variables below
tune the defaults without editing this file.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


_cores = multiprocessing.cpu_count()

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# The SQLite-backed API is CPU-bound (the database is a library call, not a
# wait), so the GIL, not I/O, limits a worker: threads in one process queue for
# it, and every GIL hand-off around a sqlite3 call or a socket write stalls the
# thread that wants it back. Measured on 2 cores with wrk
# (benchmarks/target_api_sweep.py, docs/performance.md): 2 workers x 4 threads
# served uncached chefs at 0.37-0.45 x /health, 3 x 1 at 0.50-0.61, 3 x 2 at
# 0.46-0.53. So one process more than cores (one can run while another waits
# for its GIL) and one request thread each. The gthread worker keeps client
# connections alive either way (its poller is its own thread); with PostgreSQL
# or Redis, where requests do wait on the network, raise GUNICORN_THREADS.
workers = _int_env("GUNICORN_WORKERS", _cores + 1)
threads = _int_env("GUNICORN_THREADS", 1)
worker_class = "gthread"
# Each worker holds at most this many open client connections (500 concurrent
# clients fit on one worker even if the kernel hands all of them to it).
worker_connections = 1000
backlog = 2048
keepalive = 5
timeout = 30
graceful_timeout = 30
# Recycle workers now and then so slow leaks cannot grow without bound; the
# jitter keeps the workers from restarting at the same moment. Each recycle
# closes the worker's keep-alive connections and starts a cold one (new
# database connections, empty in-process cache): at 50,000 that happened every
# ~25 s per worker under benchmark load and showed as round-to-round dips, so
# the period is minutes at full load and hours at ordinary traffic.
max_requests = _int_env("GUNICORN_MAX_REQUESTS", 500_000)
max_requests_jitter = _int_env("GUNICORN_MAX_REQUESTS_JITTER", 50_000)
# Build the app once in the master: a bad configuration fails at start-up, and
# workers fork with the code already imported. post_fork below makes that safe.
preload_app = True
proc_name = "softfactory-api"
accesslog = os.environ.get("GUNICORN_ACCESSLOG")  # off by default: it costs throughput
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


def post_fork(_server: Any, _worker: Any) -> None:
    """Drop database connections inherited from the master; the worker opens its own.

    Two processes sharing one SQLite handle or PostgreSQL socket corrupt each
    other's state; ``dispose(close=False)`` forgets them without closing the
    parent's copies.
    """
    from target_api.db_tuning import dispose_inherited_connections

    dispose_inherited_connections()
