"""Fuzzing harness: the config loader, the baseline/results readers and the publisher's reader.

Each target takes untrusted input and may only return or raise perfci's own
one-line error (``PerfciError``); any other exception, or a hang, is a bug.
``test_fuzz.py`` runs every target briefly in the default test run (the
``smoke`` profile); a long run is::

    python -m tests.hardening.fuzz --seconds 180 config baseline results publisher

which prints, per target, how long it ran and how many inputs it tried
(docs/hardening.md records the last long run).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfci.baseline import load_baseline, load_measurements
from perfci.config.load import bind_checks, read_config
from perfci.errors import PerfciError
from perfci.github.publish import status_state
from perfci.github.results import load_result
from perfci.github.workflow_commands import annotation_lines
from perfci.history.jsonio import parse_export
from perfci.reporters import render_json, render_junit, render_markdown, render_terminal
from tests.hardening.timed_check import CHECKS

settings.register_profile(
    "smoke", max_examples=30, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "fuzz", max_examples=1_000_000, deadline=None, suppress_health_check=list(HealthCheck)
)


# --- inputs -------------------------------------------------------------------------------------

_WORDS = [
    "suite", "target", "app", "seed", "endpoints", "checks", "timed", "thresholds", "budgets",
    "acknowledge", "metric", "reason", "expires", "max", "min", "threshold", "strict", "timeouts",
    "history", "url", "enabled", "samples", "warmup_s", "headers", "request", "json", "<<",
    "toyapp:create_app", "GET /items", "10%", "nan%", "1e999%", "-5%", ".inf", ".nan", "25ms",
    "2026-02-30", "${X}", "${X:-1}", "&a", "*a", "!!python/object", "\x00", "\r\n", "é", "\ud7ff",
]  # fmt: skip
_SCALARS = st.one_of(
    st.sampled_from(_WORDS), st.text(max_size=20), st.integers(), st.floats(), st.booleans(),
    st.none(),
)  # fmt: skip
_TREES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(_WORDS), st.text(max_size=8)), inner,
                        max_size=5),
    ),
    max_leaves=25,
)  # fmt: skip


def _yaml_text(tree: Any) -> str:
    return json.dumps(tree, ensure_ascii=False, allow_nan=True)  # JSON is YAML (mostly)


def _mutate(text: str, data: st.DataObject) -> str:
    """A few insertions, deletions and replacements of characters that matter to parsers."""
    for _ in range(data.draw(st.integers(0, 4))):
        if not text:
            break
        i = data.draw(st.integers(0, len(text) - 1))
        piece = data.draw(
            st.sampled_from(
                [
                    "{",
                    "[",
                    "]",
                    "}",
                    ":",
                    "\n",
                    "  ",
                    "-",
                    "&a",
                    "*a",
                    "'",
                    '"',
                    "\\u",
                    "%",
                    "!!",
                    "1e999",
                    "NaN",
                    "",
                ]
            )
        )
        text = text[:i] + piece + text[i + data.draw(st.integers(0, 2)) :]
    return text  # fmt: skip


YAML_INPUTS = st.one_of(
    st.builds(_yaml_text, _TREES),
    st.text(max_size=300),
    st.just("target:\n  app: toyapp:create_app\n  endpoints: [GET /items]\nchecks:\n  timed: {}\n"),
)

_MEASUREMENT = st.fixed_dictionaries(
    {"name": st.one_of(st.just("c/GET /x/queries"), st.text(max_size=12)),
     "value": _SCALARS, "unit": _SCALARS, "direction": st.sampled_from(["lower", "equal", "x"])},
    optional={"kind": st.sampled_from(["timing", "deterministic", 3]),
              "samples": st.lists(_SCALARS, max_size=4),
              "calibration": st.lists(_SCALARS, max_size=3),
              "evidence": st.lists(st.dictionaries(st.sampled_from(["label", "text"]), _SCALARS),
                                   max_size=2)},
)  # fmt: skip
_VERDICT = st.fixed_dictionaries(
    {"name": st.text(max_size=12), "outcome": st.sampled_from(["pass", "regression", "nope"]),
     "mode": st.sampled_from(["exact", "baseline", "?"])},
    optional={"reason": _SCALARS, "current": st.one_of(st.none(), _MEASUREMENT),
              "baseline": st.one_of(st.none(), _MEASUREMENT),
              "change": st.one_of(_SCALARS, st.sampled_from(["Infinity", "NaN", "-Infinity"])),
              "budget": st.one_of(st.none(), st.fixed_dictionaries(
                  {"pattern": _SCALARS}, optional={"max": _SCALARS, "unit": _SCALARS})),
              "acknowledged": st.one_of(st.none(), st.fixed_dictionaries(
                  {"pattern": _SCALARS}, optional={"expires": _SCALARS, "reason": _SCALARS})),
              "notes": st.lists(_SCALARS, max_size=2)},
)  # fmt: skip
RESULTS = st.fixed_dictionaries(
    {"perfci_results": st.one_of(st.just(1), _SCALARS),
     "exit_code": st.one_of(st.just(1), _SCALARS)},
    optional={"suite": _SCALARS, "measurements": st.lists(_MEASUREMENT, max_size=3),
              "verdicts": st.lists(_VERDICT, max_size=3), "environment": _TREES,
              "unmatched_rules": st.lists(_SCALARS, max_size=2), "duration_s": _SCALARS,
              "checks": _TREES, "commit": _SCALARS},
)  # fmt: skip
BASELINES = st.fixed_dictionaries(
    {"perfci_baseline": st.one_of(st.just(1), _SCALARS)},
    optional={"suite": _SCALARS, "measurements": st.lists(_MEASUREMENT, max_size=3),
              "environment": _TREES, "metrics": _TREES, "created_at": _SCALARS},
)  # fmt: skip


def _json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, allow_nan=True)


JSON_INPUTS = st.one_of(
    st.builds(_json_text, st.one_of(RESULTS, BASELINES)),
    st.builds(_json_text, _TREES),
    st.text(max_size=200),
)

# --- targets ------------------------------------------------------------------------------------


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def _one_clean_line(error: PerfciError, secret: str = "\0") -> None:
    line = str(error)
    if "\n" in line or "\x1b" in line or secret in line:
        raise AssertionError(f"not one clean line: {line!r}")


def config_target(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = _write(Path(directory), "perfci.yaml", text)
        try:
            model, source = read_config(path, {"X": "'hunter2"})
            bind_checks(model, source, CHECKS)
        except PerfciError as error:
            _one_clean_line(error, secret="hunter2")


def baseline_target(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = _write(Path(directory), "default.json", text)
        for read in (load_baseline, load_measurements):
            try:
                read(path)
            except PerfciError as error:
                _one_clean_line(error)


def results_target(text: str) -> None:
    try:
        parse_export(text, "export.json")
    except PerfciError as error:
        _one_clean_line(error)


def publisher_target(text: str) -> None:
    """The fork's artifact: once it loads, every renderer must take it."""
    with tempfile.TemporaryDirectory() as directory:
        path = _write(Path(directory), "results.json", text)
        try:
            result = load_result(path)
        except PerfciError as error:
            _one_clean_line(error)
            return
    render_markdown(result)
    render_terminal(result, color=True)
    render_junit(result)
    render_json(result)
    list(annotation_lines(result))
    assert status_state(result) in ("success", "failure", "error")


@given(YAML_INPUTS, st.data())
def fuzz_config(text: str, data: st.DataObject) -> None:
    config_target(_mutate(text, data))


@given(JSON_INPUTS, st.data())
def fuzz_baseline(text: str, data: st.DataObject) -> None:
    baseline_target(_mutate(text, data))


@given(
    st.one_of(
        JSON_INPUTS,
        st.builds(
            lambda r: _json_text(
                {
                    "perfci_history": 1,
                    "runs": [{"uid": "u", "recorded_at": "2026-01-01T00:00:00", "result": r}],
                }
            ),
            RESULTS,
        ),
    ),
    st.data(),
)
def fuzz_results(text: str, data: st.DataObject) -> None:
    results_target(_mutate(text, data))


@given(JSON_INPUTS, st.data())
def fuzz_publisher(text: str, data: st.DataObject) -> None:
    publisher_target(_mutate(text, data))


TARGETS: dict[str, Callable[[], None]] = {
    "config": fuzz_config,
    "baseline": fuzz_baseline,
    "results": fuzz_results,
    "publisher": fuzz_publisher,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="+", choices=sorted(TARGETS))
    parser.add_argument("--seconds", type=float, default=180.0)
    args = parser.parse_args()
    for name in args.targets:
        target = TARGETS[name]
        calls = 0
        inner = target.hypothesis.inner_test  # type: ignore[attr-defined]

        def counted(*a: Any, _inner: Any = inner, **k: Any) -> None:
            nonlocal calls
            calls += 1
            _inner(*a, **k)

        target.hypothesis.inner_test = counted  # type: ignore[attr-defined]
        run = settings(settings.get_profile("fuzz"), max_examples=500, database=None)(target)
        started = time.monotonic()
        rounds = 0
        while time.monotonic() - started < args.seconds:
            run()  # a fresh random seed each round
            rounds += 1
        elapsed = time.monotonic() - started
        print(f"{name}: {elapsed:.0f} s, {calls} inputs, {rounds} rounds, no failure", flush=True)


if __name__ == "__main__":
    main()
