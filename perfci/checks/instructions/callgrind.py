"""Callgrind plumbing of the 'instructions' check: the shim, the worker under valgrind, its dumps.

The shim (``shim.c``) is compiled at first use with the system C
compiler against ``<valgrind/callgrind.h>``, into the run's work directory.
The worker (``worker``) runs under ``valgrind --tool=callgrind
--instr-atstart=no``: interpreter start-up and imports run uninstrumented,
and the shim switches collection on for each measured request only, then
dumps that request's costs into a file of its own. This module finds the
tools, builds the shim, starts the worker and reads the dumps back.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from perfci import Endpoint, Wire

INSTALL_HINT = "install valgrind (Debian/Ubuntu: apt-get install valgrind)"
HEADER = Path("/usr/include/valgrind/callgrind.h")
SHIM_SOURCE = "shim.c"
#: The dump label of a measured request: endpoint index and request index.
LABEL = "perfci {endpoint} {request}"
_LABEL_RE = re.compile(r"^desc: Trigger: Client Request: perfci (\d+) (\d+)\s*$", re.MULTILINE)
_TOTALS_RE = re.compile(r"^(?:totals|summary):\s+(\d+)", re.MULTILINE)


class CallgrindUnavailable(Exception):
    """valgrind, its headers or a C compiler is missing: the message says which, with the fix."""


class WorkerFailed(Exception):
    """The worker under valgrind did not finish; the message carries its last output."""


@dataclass(frozen=True)
class Tools:
    """The programs the check needs, found on PATH."""

    valgrind: str
    compiler: str
    annotate: str | None
    version: str


def find_tools(header: Path = HEADER) -> Tools:
    """valgrind, its callgrind header and a C compiler; CallgrindUnavailable names what is not."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise CallgrindUnavailable(f"valgrind not found: {INSTALL_HINT}")
    if not header.exists():
        raise CallgrindUnavailable(f"{header} not found: {INSTALL_HINT}")
    compiler = next((c for c in (shutil.which(n) for n in ("cc", "gcc", "clang")) if c), None)
    if compiler is None:
        raise CallgrindUnavailable(
            "no C compiler (cc, gcc or clang) to build the callgrind shim: "
            "install one (Debian/Ubuntu: apt-get install gcc)"
        )
    completed = subprocess.run(
        [valgrind, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    version = completed.stdout.strip().removeprefix("valgrind-") or "unknown"
    return Tools(valgrind, compiler, shutil.which("callgrind_annotate"), version)


def build_shim(tools: Tools, directory: Path, header: Path = HEADER) -> Path:
    """Compile the shim into ``directory``; CallgrindUnavailable with the compiler's message."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / SHIM_SOURCE
    source.write_text(
        resources.files(__package__ or "").joinpath(SHIM_SOURCE).read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    library = directory / "perfci_callgrind_shim.so"
    command = [tools.compiler, "-shared", "-fPIC", "-O2", f"-I{header.parent.parent}"]
    completed = subprocess.run(
        [*command, "-o", str(library), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        first = (completed.stderr.strip().splitlines() or ["no output"])[0]
        raise CallgrindUnavailable(f"cannot build the callgrind shim: {first}")
    return library


def import_root(app_spec: str) -> Path | None:
    """The directory this process imported the target's top-level module from.

    The worker runs there, so it imports the very code the native run built
    (under ``--against``, the base tree's), whatever the configuration's root.
    None when the module is not imported or has no file.
    """
    top = app_spec.partition(":")[0].split(".")[0]
    module = sys.modules.get(top)
    filename = getattr(module, "__file__", None)
    if not filename:
        return None
    path = Path(filename).resolve()
    return path.parent.parent if path.name == "__init__.py" else path.parent


@dataclass(frozen=True)
class Job:
    """What the worker measures: the target's factory and config, the requests, the repeats."""

    app: str
    config: Mapping[str, Any]
    endpoints: Sequence[Endpoint]
    warmup: int
    requests: int
    clear_cache: bool
    shim: Path
    # AppRecipe.to_dict(): how to build the app (target.factory, target.engine...).
    recipe: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "recipe": dict(self.recipe) if self.recipe is not None else None,
            "config": dict(self.config),
            # Each request as Endpoint.wire builds it (headers, login, form or JSON body).
            "endpoints": [wire_to_dict(e.wire()) for e in self.endpoints],
            "warmup": self.warmup,
            "requests": self.requests,
            "clear_cache": self.clear_cache,
            "shim": str(self.shim),
        }

    def split(self, parts: int) -> list[tuple[int, Job]]:
        """The endpoints in up to ``parts`` contiguous shares, as evenly as they go.

        Each share is ``(index of its first endpoint in this job, a job of its own)``;
        the order of the endpoints is kept within and across the shares.
        """
        count = len(self.endpoints)
        parts = max(1, min(parts, count))
        bounds = [count * i // parts for i in range(parts + 1)]
        return [
            (start, dataclasses.replace(self, endpoints=tuple(self.endpoints[start:end])))
            for start, end in itertools.pairwise(bounds)
        ]


def wire_to_dict(wire: Wire) -> dict[str, Any]:
    return {
        "method": wire.method,
        "target": wire.target,
        "headers": [list(pair) for pair in wire.headers],
        "body": None if wire.body is None else wire.body.decode("latin-1"),
    }


def wire_from_dict(data: Mapping[str, Any]) -> Wire:
    body = data["body"]
    return Wire(
        method=str(data["method"]),
        target=str(data["target"]),
        headers=tuple((str(k), str(v)) for k, v in data["headers"]),
        body=None if body is None else str(body).encode("latin-1"),
    )


@dataclass(frozen=True)
class Dump:
    """One measured request's callgrind dump: which endpoint and request, its Ir, its file."""

    endpoint: int
    request: int
    ir: int
    path: Path


def run_worker(
    tools: Tools, job: Job, directory: Path, *, cwd: Path, timeout: float
) -> tuple[list[int], list[Dump]]:
    """Run the worker under callgrind; ``(status per endpoint, dumps)``.

    WorkerFailed when it crashes or times out (the tail of valgrind's log says why).
    """
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("callgrind.out.*"):
        stale.unlink()
    job_path = directory / "job.json"
    result_path = directory / "result.json"
    log_path = directory / "valgrind.log"
    job_path.write_text(json.dumps(job.to_dict()), encoding="utf-8")
    command = [
        tools.valgrind,
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={directory / 'callgrind.out.%p'}",
        f"--log-file={log_path}",
        sys.executable,
        "-m",
        # This package's worker, wherever the package lives.
        f"{__package__}.worker",
        str(job_path),
        str(result_path),
    ]
    # A fixed hash seed: string hashing decides dict and set layouts, and with them
    # how many instructions lookups take (a random seed moved a median by 5%).
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        completed = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise WorkerFailed(f"the worker under valgrind did not finish in {timeout:.0f} s") from None
    if completed.returncode != 0 or not result_path.exists():
        tail = (completed.stderr.strip() or _tail(log_path)).splitlines()[-3:]
        raise WorkerFailed(
            f"the worker under valgrind exited with {completed.returncode}: " + " | ".join(tail)
        )
    result = json.loads(result_path.read_text(encoding="utf-8"))
    return [int(s) for s in result["statuses"]], read_dumps(directory)


def run_workers(
    tools: Tools, job: Job, directory: Path, *, processes: int, cwd: Path, timeout: float
) -> tuple[list[int], list[Dump], list[str | None]]:
    """Run ``job`` in up to ``processes`` workers under callgrind at once, a share each.

    Instruction counts do not depend on what else the machine runs, so the
    endpoints are split (``Job.split``) and measured side by side, each share
    in a process and directory of its own (``directory/worker<N>``).
    Returns, for the whole job: the status per endpoint, the dumps (endpoint
    numbers the job's own) and the Location of each endpoint's last answer.
    WorkerFailed when any worker fails, after all have ended.
    """
    shares = job.split(processes)
    places = [directory / f"worker{number}" for number in range(len(shares))]
    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        futures = [
            pool.submit(run_worker, tools, share, place, cwd=cwd, timeout=timeout)
            for (_, share), place in zip(shares, places, strict=True)
        ]
        done = [future.result() for future in futures]
    statuses: list[int] = []
    dumps: list[Dump] = []
    locations: list[str | None] = []
    for (first, _), place, (share_statuses, share_dumps) in zip(shares, places, done, strict=True):
        statuses += share_statuses
        dumps += [dataclasses.replace(d, endpoint=d.endpoint + first) for d in share_dumps]
        locations += read_locations(place) or [None] * len(share_statuses)
    return statuses, dumps, locations


def read_locations(directory: Path) -> list[str | None]:
    """The Location header of each endpoint's last answer in the worker (empty if unknown)."""
    try:
        result = json.loads((directory / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [None if x is None else str(x) for x in result.get("locations", [])]


def _tail(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "no log"


def read_dumps(directory: Path) -> list[Dump]:
    """Every labelled dump in ``directory``, in (endpoint, request) order."""
    dumps = []
    for path in directory.glob("callgrind.out.*"):
        text = path.read_text(encoding="utf-8", errors="replace")
        label = _LABEL_RE.search(text)
        if label is None:  # the dump at program termination: nothing was collected
            continue
        dumps.append(Dump(int(label[1]), int(label[2]), total_ir(text), path))
    return sorted(dumps, key=lambda d: (d.endpoint, d.request))


def total_ir(text: str) -> int:
    """The instructions of a dump: its ``totals:`` line (``summary:`` where totals is absent).

    callgrind 3.19 writes ``summary: 0`` and the real count in ``totals:`` for a dump
    requested by a client: the largest of the lines is the count.
    """
    found = [int(n) for n in _TOTALS_RE.findall(text)]
    if not found:
        raise ValueError("a callgrind dump without a totals: or summary: line")
    return max(found)


_ANNOTATE_LINE = re.compile(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*)$")
#: CPython's call and dispatch machinery: every Python-level call passes through these,
#: so their inclusive cost is the request's, whatever grew. Left out of the evidence.
DISPATCH = re.compile(
    r"^(_?PyEval_|_PyFunction_Vectorcall|_?PyObject_(Vectorcall|Call|MakeTpCall|FastCall)"
    r"|method_vectorcall|cfunction_(vectorcall|call)|context_run|slot_tp_call|type_call"
    r"|object_vacall|partial_vectorcall|vectorcall_method|0x[0-9a-f]+ in )"
)


def inclusive_costs(tools: Tools, dump: Path, *, floor: int) -> dict[str, int]:
    """Inclusive cost (Ir) per C function of one dump, for every function of at least ``floor``.

    From ``callgrind_annotate --inclusive=yes``; empty when it is not
    installed. A function listed more than once (its code inlined from a
    header, a recursion level ``name'2``) keeps its largest cost; CPython's
    dispatch functions (``DISPATCH``) are left out.
    """
    if tools.annotate is None:
        return {}
    completed = subprocess.run(
        [tools.annotate, "--inclusive=yes", "--threshold=100", str(dump)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return parse_annotate(completed.stdout, floor)


def parse_annotate(output: str, floor: int) -> dict[str, int]:
    """The function table of ``callgrind_annotate`` output, as ``inclusive_costs`` returns it."""
    costs: dict[str, int] = {}
    in_functions = False
    for line in output.splitlines():
        if "file:function" in line:
            in_functions = True
            continue
        match = _ANNOTATE_LINE.match(line) if in_functions else None
        if match is None:
            continue
        name = function_name(match[2])
        if DISPATCH.match(name):
            continue
        cost = int(match[1].replace(",", ""))
        if cost >= floor:
            costs[name] = max(costs.get(name, 0), cost)
    return costs


def function_name(text: str) -> str:
    """``/src/Python/ceval.c:_PyEval_EvalFrameDefault'2 [/lib/libpython.so]`` → the function."""
    where, _, obj = text.partition(" [")
    function = where.split(":", 1)[1] if ":" in where else where
    function = re.sub(r"'\d+$", "", function)
    if function.startswith("0x"):
        return f"{function} in {Path(obj.rstrip(']')).name or '?'}"
    return function
