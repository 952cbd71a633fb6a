"""``perfci server`` at scale: read latency and upload throughput under Locust.

    python benchmarks/bench_server.py [--engine postgresql|sqlite|both] [--runs 10000]
        [--metrics 200] [--duration 30] [--repeat 3] [--users 50]

What it does, per engine:

1. creates a scratch store (PostgreSQL: a database ``perfci_bench_<pid>`` on
   ``--postgres`` (127.0.0.1:5432), dropped at the end; SQLite: a file in a
   temporary directory) and a public project ``bench`` with a write token;
2. fills it with ``--runs`` runs of ``--metrics`` metrics each: ``--distinct``
   (500) in bulk through the storage layer (``HistoryStore.record_many``, 100
   runs a transaction), the rest as copies of those made in SQL (see ``fill``).
   The runs are results documents in the ``perfci run --json`` format, made from
   ``tests/reporters/golden/results.json`` (a real results file's shapes: exact
   counts with SQL and plan evidence, timings with ``--samples`` samples, one
   verdict per metric with its baseline), varied: 25 endpoints x 8 metrics,
   values with noise and drifts, 60% of runs on ``main``, the rest on 40 feature
   branches with a PR number, 88% passed, 10% failed (their regressions
   judged so), 2% errors, commits and start times one every 10 minutes;
3. serves it with gunicorn (``'perfci.server:create_app()'``, 4 sync workers on
   PostgreSQL, 1 on SQLite, as the issue asks) on a free 127.0.0.1 port;
4. reads it with Locust (``benchmarks/locustfile_server.py``, headless,
   ``--users`` readers each waiting ``--wait`` seconds between requests:
   the run list, a run (API and dashboard page), a metric's trend), ``--repeat``
   times for ``--duration`` seconds, and quotes the median over the repeats of
   each p50/p95/p99 (Locust's percentiles: 2 significant digits);
5. uploads through the real path (HTTP, token, validation, the store) with
   ``--users`` uploaders and no pause, ``--repeat`` times, and quotes the median
   runs/s.

Load average is printed before and after each phase: the figures are only as
good as the machine was quiet. Exit status 1 when a target is missed
(p95 ≤ 100 ms for every read, ≥ 20 uploads/s).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import csv
import datetime as dt
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from perfci.history.store import HistoryStore, Upload  # noqa: E402
from perfci.result import RunResult  # noqa: E402
from perfci.server.tokens import digest, new_token  # noqa: E402

TEMPLATE = REPO / "tests" / "reporters" / "golden" / "results.json"
LOCUSTFILE = REPO / "benchmarks" / "locustfile_server.py"
PROJECT = "bench"
READ_P95_MS = 100.0
UPLOADS_PER_S = 20.0
BATCH = 100

ENDPOINTS = [
    "GET /api/coocook/chefs?per_page=12",
    "GET /api/coocook/chefs?cuisine=Korean&per_page=12",
    "GET /api/coocook/chefs/1",
    "GET /api/coocook/bookings?user_id=1",
    "GET /api/products",
    "GET /api/products/7",
    "GET /api/sns/posts?status=published",
    "GET /api/sns/accounts?user_id=3",
    "GET /api/campaigns?status=active",
    "GET /api/campaigns/1/applications?status=pending",
    "GET /api/ai/employees?user_id=1",
    "GET /api/ai/scenarios?category=marketing",
    "GET /api/users/me",
    "GET /api/search?q=kimchi",
    "GET /api/orders?status=open",
    "GET /api/orders/42",
    "GET /api/invoices?month=2026-11",
    "GET /api/reports/daily",
    "GET /api/inventory?warehouse=2",
    "GET /api/messages?unread=1",
    "GET /api/notifications",
    "GET /api/teams/5/members",
    "GET /api/settings",
    "GET /api/feed?per_page=20",
    "GET /api/tags",
]


def _templates() -> dict[str, dict[str, Any]]:
    """The real results file's measurements by kind of metric."""
    doc = json.loads(TEMPLATE.read_text())
    by_name = {m["name"]: m for m in doc["measurements"]}
    return {
        "queries": by_name["n_plus_one/GET /api/coocook/chefs/queries"],
        "full_scans": by_name["indexes/GET /api/bookings/full_scans"],
        "timing": by_name["latency/GET /api/coocook/chefs/p95"],
        "bytes": by_name["payload/GET /api/campaigns/bytes"],
    }


# (metric suffix, template, unit, typical value)
_METRICS = [
    ("n_plus_one/{e}/queries", "queries", "queries", 6.0),
    ("n_plus_one/{e}/repeated", "queries", "queries", 1.0),
    ("n_plus_one/{e}/growth", "queries", "queries/item", 0.0),
    ("indexes/{e}/full_scans", "full_scans", "count", 0.0),
    ("payload/{e}/bytes", "bytes", "bytes", 8000.0),
    ("latency/{e}/p50", "timing", "ms", 6.0),
    ("latency/{e}/p95", "timing", "ms", 14.0),
    ("latency/{e}/http_p99", "timing", "ms", 25.0),
]


def metric_names(n: int) -> list[str]:
    names = [pattern.format(e=e) for e in ENDPOINTS for pattern, *_ in _METRICS]
    while len(names) < n:  # more than 200: more endpoints of the same kinds
        names += [f"{name}#{len(names) // len(ENDPOINTS) // len(_METRICS)}" for name in names]
    return names[:n]


@dataclass
class Generator:
    """Results documents in the ``perfci run --json`` format, varied run by run."""

    metrics: int
    samples: int
    seed: int = 17
    rng: random.Random = field(init=False)
    templates: dict[str, dict[str, Any]] = field(init=False)
    head: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.templates = _templates()
        doc = json.loads(TEMPLATE.read_text())
        self.head = {k: v for k, v in doc.items() if k not in ("measurements", "verdicts")}
        kinds = {pattern: (kind, unit, typical) for pattern, kind, unit, typical in _METRICS}
        self.specs: list[tuple[str, str, str, float]] = []
        for name in metric_names(self.metrics):
            pattern = next(
                p
                for p in kinds
                if name.startswith(p.split("{e}")[0])
                and name.split("#")[0].endswith(p.split("{e}")[1])
            )
            kind, unit, typical = kinds[pattern]
            self.specs.append((name, kind, unit, typical))

    def document(self, index: int, start: dt.datetime) -> dict[str, Any]:
        """Run ``index`` of the history (one every 10 minutes from ``start``)."""
        rng = self.rng
        roll = rng.random()
        exit_code = 0 if roll < 0.88 else 1 if roll < 0.98 else 2
        on_main = rng.random() < 0.6
        branch = "main" if on_main else f"feature/{rng.randrange(40)}-speedup"
        drift = 1.0 + 0.1 * ((index // 500) % 5)  # the code gets slower, then is fixed
        measurements: list[dict[str, Any]] = []
        verdicts: list[dict[str, Any]] = []
        bad = set(rng.sample(range(len(self.specs)), 3)) if exit_code == 1 else set()
        for i, (name, kind, unit, typical) in enumerate(self.specs):
            m = copy.deepcopy(self.templates[kind])
            m["name"] = name
            m["unit"] = unit
            if kind == "timing":
                center = typical * drift * (2.0 if i in bad else 1.0)
                samples = [
                    round(rng.lognormvariate(0, 0.15) * center, 3) for _ in range(self.samples)
                ]
                m["samples"] = samples
                m["value"] = sorted(samples)[int(0.95 * (len(samples) - 1))]
            else:
                value = typical + (typical or 1.0) * (1.0 if i in bad else 0.0)
                m["value"] = (
                    round(value * (1 + rng.uniform(-0.02, 0.02)), 2) if unit == "bytes" else value
                )
                m.setdefault("samples", [])
            baseline = {k: v for k, v in m.items() if k not in ("samples", "evidence")}
            baseline["value"] = m["value"] if i not in bad else typical
            measurements.append(m)
            change = 0.0 if not baseline["value"] else m["value"] / baseline["value"] - 1
            verdicts.append(
                {
                    "name": name,
                    "outcome": "regression" if i in bad else "pass",
                    "mode": "baseline" if kind == "timing" else "exact",
                    "reason": f"{name.rsplit('/', 1)[-1]} {'grew' if i in bad else 'unchanged'}",
                    "current": m,
                    "baseline": baseline,
                    "change": round(change, 4),
                    "threshold": 0.1,
                    "p_value": 0.001 if kind == "timing" and i in bad else None,
                    "budget": None,
                    "acknowledged": None,
                    "notes": [],
                }
            )
        counts: dict[str, int] = {}
        for v in verdicts:
            counts[v["outcome"]] = counts.get(v["outcome"], 0) + 1
        started = start + dt.timedelta(minutes=10 * index)
        return {
            **self.head,
            "suite": "softfactory",
            "branch": branch,
            "commit": f"{rng.getrandbits(160):040x}",
            "exit_code": exit_code,
            "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_s": round(rng.uniform(40, 90), 1),
            "counts": counts,
            "measurements": measurements,
            "verdicts": verdicts,
        }

    def upload_body(self, index: int, start: dt.datetime) -> dict[str, Any]:
        """What ``perfci upload`` sends for run ``index`` (only judged runs are accepted)."""
        doc = self.document(index, start)
        if doc["exit_code"] not in (0, 1):
            doc["exit_code"] = 0
        body: dict[str, Any] = {"results": doc, "commit": doc["commit"], "branch": doc["branch"]}
        if doc["branch"] != "main":
            body["pr"] = 100 + index % 400
        return body


# --- the store --------------------------------------------------------------------------------


@contextmanager
def scratch_store(engine: str, postgres: str, keep: bool) -> Iterator[str]:
    """A fresh, empty store URL on ``engine``; removed afterwards unless ``keep``."""
    if engine == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="perfci-bench-"))
        try:
            yield f"sqlite:///{directory / 'server.db'}"
        finally:
            if not keep:
                shutil.rmtree(directory, ignore_errors=True)
        return
    import psycopg

    name = f"perfci_bench_{os.getpid()}"
    admin = f"{postgres}/postgres"
    with psycopg.connect(admin.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{postgres}/{name}"
    finally:
        if not keep:
            with psycopg.connect(
                admin.replace("postgresql+psycopg", "postgresql"), autocommit=True
            ) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(url: str, gen: Generator, runs: int, distinct: int) -> tuple[str, int, int, float]:
    """Create the project and ``runs`` runs; (token, first id, last id, seconds).

    The first ``distinct`` runs are generated documents stored in bulk through the
    storage layer (``record_many``). The others get run rows of their own (uid,
    commit, start time one every 10 minutes) and copies, made in SQL, of the
    measurements and verdicts of run ``id mod distinct``, numbers varied ±2%:
    on a shared 2-core machine, storing 10,000 x 200 measurements through
    Python takes ~40 minutes, this a few.
    """
    token = new_token()
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    began = time.perf_counter()
    distinct = min(distinct, runs)
    ids: list[int] = []
    with HistoryStore(url) as store:
        project = store.create_project(PROJECT, digest(token), public=True)
        for first in range(0, distinct, BATCH):
            batch = []
            for index in range(first, min(first + BATCH, distinct)):
                doc = gen.document(index, start)
                pr = None if doc["branch"] == "main" else 100 + index % 400
                batch.append((RunResult.from_dict(doc), Upload(project.id, pr=pr)))
            ids += store.record_many(batch, recorded_at=dt.datetime.now(dt.UTC))
            print(f"  stored {len(ids)}/{distinct} generated runs", flush=True)
        if runs > distinct:
            ids += _copies(store, ids, runs, start, gen.rng)
    return token, ids[0], ids[-1], time.perf_counter() - began


def _copies(
    store: HistoryStore, sources: list[int], runs: int, start: dt.datetime, rng: random.Random
) -> list[int]:
    from sqlalchemy import select, text

    from perfci.history import schema

    assert sources == list(range(1, len(sources) + 1)), "a fresh store numbers runs from 1"
    n = len(sources)
    table = schema.runs
    now = dt.datetime.now(dt.UTC)
    made: list[int] = []
    with store.engine.begin() as conn:
        rows = {r.id: r._asdict() for r in conn.execute(select(table))}
        for first in range(n, runs, 1000):
            batch = []
            for index in range(first, min(first + 1000, runs)):
                row = dict(rows[index % n + 1])
                started = start + dt.timedelta(minutes=10 * index)
                row.update(
                    id=index + 1,
                    uid=f"{rng.getrandbits(128):032x}",
                    commit=f"{rng.getrandbits(160):040x}",
                    started_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    started=started,
                    recorded_at=now,
                )
                batch.append(row)
            conn.execute(table.insert(), batch)
            low, high = first + 1, first + len(batch)
            for child in (schema.measurements, schema.verdicts):
                columns = [c.name for c in child.columns if c.name not in ("id", "run_id")]
                picked = [
                    "m.value_number * (1 + ((r.id * 7919) % 41 - 20) / 1000.0)"
                    if c == "value_number"
                    else f"m.{c}"
                    for c in columns
                ]
                conn.execute(
                    text(
                        f"INSERT INTO {child.name} (run_id, {', '.join(columns)}) "
                        f"SELECT r.id, {', '.join(picked)} FROM {table.name} r "
                        f"JOIN {child.name} m ON m.run_id = (r.id - 1) % {n} + 1 "
                        f"WHERE r.id BETWEEN {low} AND {high}"
                    )
                )
            made += range(low, high + 1)
            print(f"  copied {high}/{runs} runs", flush=True)
        if conn.dialect.name == "postgresql":  # ids given explicitly: move the sequence on
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT max(id) FROM {table.name}))"
                )
            )
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    return made


def reuse(url: str) -> tuple[str, int, int]:
    """A store filled before (``--keep``): a new token of its project, its first and last run."""
    from sqlalchemy import func, select

    from perfci.history import schema

    token = new_token()
    with HistoryStore(url) as store:
        store.add_token(PROJECT, digest(token))
        with store.engine.connect() as conn:
            low, high = conn.execute(
                select(func.min(schema.runs.c.id), func.max(schema.runs.c.id))
            ).one()
    return token, int(low), int(high)


def row_counts(url: str) -> str:
    from sqlalchemy import func, select

    from perfci.history import schema

    with HistoryStore(url) as store, store.engine.connect() as conn:
        counted = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (schema.runs, schema.measurements, schema.verdicts)
        }
    return ", ".join(f"{name} {n:,}" for name, n in counted.items())


def warm(url: str) -> str:
    """Read every stored row once, JSON columns included, so the store starts in memory as a
    server's working set would be (this VM reclaims idle page cache: docs/performance.md)."""
    from sqlalchemy import func, select

    from perfci.history import schema

    started = time.monotonic()
    with HistoryStore(url) as store, store.engine.connect() as conn:
        for table in (schema.runs, schema.measurements, schema.verdicts):
            texts = [c for c in table.columns if str(c.type).upper() in ("TEXT", "VARCHAR")]
            sizes = [func.coalesce(func.length(c), 0) for c in texts]
            conn.execute(select(func.sum(sum(sizes[1:], sizes[0])))).scalar()
    return f"{time.monotonic() - started:.0f} s"


# --- the server and Locust --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(url: str, workers: int) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PERFCI_SERVER_DB": url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "perfci.server:create_app()",
        ],
        cwd=REPO,
        env=env,
    )
    host = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{host}/api/v1/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not answer /api/v1/health") from None
                time.sleep(0.2)
        yield host
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass(frozen=True)
class Row:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


def locust(host: str, user: str, users: int, duration: int, env: dict[str, str]) -> list[Row]:
    """One headless Locust run; its per-request rows from the CSV stats."""
    with tempfile.TemporaryDirectory(prefix="perfci-locust-") as tmp:
        prefix = str(Path(tmp) / "stats")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(users),
                "--run-time",
                f"{duration}s",
                "--host",
                host,
                "--csv",
                prefix,
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--stop-timeout",
                "10",
                user,
            ],
            cwd=REPO,
            env={**os.environ, **env},
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with open(f"{prefix}_stats.csv", newline="") as handle:
            return [
                Row(
                    r["Name"],
                    int(r["Request Count"]),
                    int(r["Failure Count"]),
                    float(r["Requests/s"]),
                    float(r["50%"]),
                    float(r["95%"]),
                    float(r["99%"]),
                )
                for r in csv.DictReader(handle)
            ]


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def measure_uploads(
    host: str, args: argparse.Namespace, gen: Generator, env: dict[str, str]
) -> bool:
    """Uploads through the real path, ``--repeat`` times; True when the target is met."""
    ok = True
    uploads_file = Path(tempfile.mkstemp(prefix="perfci-uploads-", suffix=".json")[1])
    try:
        start = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
        uploads_file.write_text(
            json.dumps([gen.upload_body(args.runs + i, start) for i in range(20)])
        )
        size = len(json.dumps(gen.upload_body(0, start)))
        env["BENCH_UPLOADS"] = str(uploads_file)
        rates = []
        for attempt in range(args.repeat):
            before = load()
            rows = locust(host, "Uploader", args.users, args.duration, env)
            row = next(r for r in rows if r.name == "api upload")
            good = (row.requests - row.failures) / max(args.duration, 1)
            rates.append(good)
            ok &= row.failures == 0
            print(
                f"uploads, repeat {attempt + 1}: {row.requests} posted, "
                f"{row.failures} failed, {good:.1f} runs/s, p50 {row.p50:.0f} ms, "
                f"p95 {row.p95:.0f} ms; load average {before} -> {load()}",
                flush=True,
            )
    finally:
        uploads_file.unlink(missing_ok=True)
    rate = statistics.median(rates)
    ok &= rate >= UPLOADS_PER_S
    print(
        f"\nuploads ({size / 1024:.0f} KiB each, {args.users} uploaders): "
        f"median {rate:.1f} runs/s ({', '.join(f'{r:.1f}' for r in rates)})"
    )
    return bool(ok)


def bench_engine(engine: str, args: argparse.Namespace, gen: Generator) -> bool:
    workers = args.workers or (4 if engine == "postgresql" else 1)
    print(
        f"\n## {engine}: {args.runs:,} runs × {args.metrics} metrics, "
        f"{workers} gunicorn worker(s), {args.users} Locust users",
        flush=True,
    )
    ok = True
    with contextlib.ExitStack() as stack:
        if args.store:
            url = args.store
            token, first, last = reuse(url)
            print(f"reusing {engine} store; rows: {row_counts(url)}", flush=True)
        else:
            url = stack.enter_context(scratch_store(engine, args.postgres, args.keep))
            print(f"load average before filling: {load()}", flush=True)
            token, first, last, seconds = fill(url, gen, args.runs, args.distinct)
            print(f"filled in {seconds:.0f} s; rows: {row_counts(url)}", flush=True)
            if args.keep:
                print(f"kept for --store: {url}", flush=True)
        env = {
            "BENCH_PROJECT": PROJECT,
            "BENCH_TOKEN": token,
            "BENCH_FIRST_RUN": str(first),
            "BENCH_LAST_RUN": str(last),
            "BENCH_METRICS": json.dumps(metric_names(args.metrics)[::7]),
            "BENCH_WAIT": args.wait,
        }
        if args.warm:
            print(f"store read once into memory (--warm) in {warm(url)}", flush=True)
        with gunicorn(url, workers) as host:
            reads: dict[str, list[Row]] = {}
            for attempt in range(args.repeat):
                before = load()
                reader = "ReaderWithoutRunPages" if args.no_run_page else "Reader"
                rows = locust(host, reader, args.users, args.duration, env)
                for row in rows:
                    if row.name != "Aggregated":
                        reads.setdefault(row.name, []).append(row)
                total = next((r for r in rows if r.name == "Aggregated"), None)
                print(
                    f"reads, repeat {attempt + 1}: {total.requests if total else 0} requests, "
                    f"{total.rps if total else 0:.1f} req/s; "
                    f"load average {before} -> {load()}",
                    flush=True,
                )
            print(
                f"\n| {engine} read (median of {args.repeat}) | requests | failures "
                "| p50 ms | p95 ms | p99 ms | p95 of each repeat |"
            )
            print("|---|---:|---:|---:|---:|---:|---|")
            for name, runs in sorted(reads.items()):
                p95 = statistics.median(r.p95 for r in runs)
                ok &= p95 <= READ_P95_MS and not any(r.failures for r in runs)
                print(
                    f"| {name} | {sum(r.requests for r in runs)} | "
                    f"{sum(r.failures for r in runs)} | "
                    f"{statistics.median(r.p50 for r in runs):.0f} | {p95:.0f} | "
                    f"{statistics.median(r.p99 for r in runs):.0f} | "
                    f"{', '.join(f'{r.p95:.0f}' for r in runs)} |"
                )

            if not args.no_uploads:
                ok &= measure_uploads(host, args, gen, env)
    return bool(ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--engine", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=200)
    parser.add_argument(
        "--distinct",
        type=int,
        default=500,
        help="runs generated and stored through the store; the rest are copies",
    )
    parser.add_argument("--samples", type=int, default=30, help="samples per timing metric")
    parser.add_argument("--duration", type=int, default=30, help="seconds per Locust run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--wait", default="0.5,1.5", help="a reader's pause: low,high seconds")
    parser.add_argument("--workers", type=int, default=0, help="default: 4 PostgreSQL, 1 SQLite")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "PERFCI_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432"
        ),
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch store")
    parser.add_argument("--store", help="measure a store filled before (--keep) instead")
    parser.add_argument(
        "--no-run-page", action="store_true", help="readers skip the dashboard's run page"
    )
    parser.add_argument("--no-uploads", action="store_true", help="measure reads only")
    parser.add_argument(
        "--warm", action="store_true", help="read the whole store once before measuring"
    )
    args = parser.parse_args()
    if args.store and args.engine == "both":
        parser.error("--store measures one store: give its --engine")
    print(
        f"# perfci server benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores (shared), load average {load()}"
    )
    gen = Generator(args.metrics, args.samples)
    engines = ("postgresql", "sqlite") if args.engine == "both" else (args.engine,)
    results = [bench_engine(engine, args, gen) for engine in engines]  # every engine, always
    ok = all(results)
    print(
        f"\ntargets (read p95 ≤ {READ_P95_MS:.0f} ms, ≥ {UPLOADS_PER_S:.0f} uploads/s): "
        f"{'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
