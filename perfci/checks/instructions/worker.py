"""The process the 'instructions' check runs under callgrind: measured requests, one dump each.

Run as ``valgrind --tool=callgrind --instr-atstart=no python -m
perfci.checks.instructions.worker JOB.json RESULT.json``. It builds the
target from its factory with the run's config (the database is already
seeded by the native run), issues each endpoint's warm-up requests, then
wraps each measured request in the shim: collection on just before the
request, off and dumped just after, with the garbage collector collected and
disabled around it and the response caches cleared before it. It writes the
status of each endpoint's last response to RESULT.json.
"""

from __future__ import annotations

import contextvars
import ctypes
import gc
import json
import sys
from pathlib import Path

from flask.testing import FlaskClient

from perfci import AppRecipe, Wire, clear_response_caches, make_app

from .callgrind import LABEL, wire_from_dict

LOCATIONS: list[str | None] = []  # each request's Location, the last one's reported


def call(client: FlaskClient, wire: Wire) -> int:
    """One request, body read; in an empty context so it pushes an app context of its own."""
    response = contextvars.Context().run(
        client.open, wire.target, method=wire.method, headers=list(wire.headers), data=wire.body
    )
    response.get_data()
    LOCATIONS.append(response.headers.get("Location"))
    return response.status_code


def main(job_path: Path, result_path: Path) -> int:
    job = json.loads(job_path.read_text(encoding="utf-8"))
    shim = ctypes.CDLL(job["shim"])
    shim.perfci_stop.argtypes = [ctypes.c_char_p]
    if not shim.perfci_on_valgrind():
        print("the callgrind worker is not running under valgrind", file=sys.stderr)
        return 2
    recipe = AppRecipe.from_dict(job["recipe"]) if job.get("recipe") else AppRecipe(job["app"])
    app = make_app(recipe, job["config"]).app
    # No cookie jar: the Cookie header of the run's login goes through as sent.
    client = app.test_client(use_cookies=False)
    # The first instrumented stretch of a process costs more (ctypes and callgrind set
    # themselves up in it): one request measured and thrown away takes it.
    if job["clear_cache"]:
        clear_response_caches(app)
    shim.perfci_start()
    call(client, wire_from_dict(job["endpoints"][0]))
    shim.perfci_stop(b"perfci priming")
    statuses = []
    locations: list[str | None] = []
    for index, data in enumerate(job["endpoints"]):
        wire = wire_from_dict(data)
        status = 0
        # Warm-ups miss the cache like the measured requests: the code a miss runs
        # (statement compilation, serialization) is warmed, not a cache hit's.
        for _ in range(job["warmup"]):
            if job["clear_cache"]:
                clear_response_caches(app)
            status = call(client, wire)
        for request in range(job["requests"]):
            if job["clear_cache"]:
                clear_response_caches(app)
            gc.collect()
            gc.disable()
            label = LABEL.format(endpoint=index, request=request).encode()
            shim.perfci_start()
            status = call(client, wire)
            shim.perfci_stop(label)
            gc.enable()
        statuses.append(status)
        locations.append(LOCATIONS[-1])
    result = {"statuses": statuses, "locations": locations}
    result_path.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
