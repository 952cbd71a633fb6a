"""Baseline files: versioned JSON under ``baselines/<suite>.json``, written atomically.

A newer schema is refused, an older one migrated through ``MIGRATIONS``, and
anything unreadable, corrupt or of the wrong shape is a ``ConfigError`` naming
the file (exit 2): a broken baseline is never a pass.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from perfci.errors import ConfigError
from perfci.files import dumps, read_json, write_atomic
from perfci.measurement import Direction, Kind, Measurement
from perfci.result import RESULTS_SCHEMA

BASELINE_SCHEMA = 1
SCHEMA_KEY = "perfci_baseline"

JSONObject = dict[str, Any]


@dataclass(frozen=True)
class Baseline:
    """The measurements a suite is compared with, and where and when they were taken."""

    suite: str
    schema: int = BASELINE_SCHEMA
    commit: str | None = None
    branch: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    created_at: str = ""  # ISO 8601, UTC
    measurements: tuple[Measurement, ...] = ()
    # Read from a results file only: the checks that run skipped (never written to baselines).
    skipped_checks: tuple[str, ...] = ()

    def by_name(self) -> dict[str, Measurement]:
        return {m.name: m for m in self.measurements}

    def to_dict(self) -> JSONObject:
        return {
            SCHEMA_KEY: BASELINE_SCHEMA,
            "suite": self.suite,
            "commit": self.commit,
            "branch": self.branch,
            "environment": dict(self.environment),
            "created_at": self.created_at,
            "measurements": [m.to_dict() for m in self.measurements],
        }


class ShapeError(ValueError):
    """A field of a JSON document does not have the expected shape."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")


# --- migrations -----------------------------------------------------------------------------


def _migrate_0_to_1(data: JSONObject) -> JSONObject:
    """Schema 0, the legacy ``{"metrics": {name: {"value": v, "unit": u}}}`` layout.

    It kept no direction or kind: text values become ``equal`` facts, numbers
    ``lower`` is better, and entries with samples are timings.
    """
    metrics = data.get("metrics")
    if not isinstance(metrics, dict):
        raise ShapeError("metrics", f"expected an object, got {_type_name(metrics)}")
    measurements = []
    for name, entry in metrics.items():
        if not isinstance(entry, dict):
            raise ShapeError(f"metrics.{name}", f"expected an object, got {_type_name(entry)}")
        text = isinstance(entry.get("value"), str)
        measurement: JSONObject = {
            "name": name,
            "value": entry.get("value"),
            "unit": entry.get("unit", ""),
            "direction": entry.get(
                "direction", Direction.EQUAL.value if text else Direction.LOWER.value
            ),
            "kind": entry.get(
                "kind", Kind.TIMING.value if entry.get("samples") else "deterministic"
            ),
        }
        if "samples" in entry:
            measurement["samples"] = entry["samples"]
        measurements.append(measurement)
    return {
        SCHEMA_KEY: 1,
        "suite": data.get("suite"),
        "commit": data.get("commit"),
        "branch": data.get("branch"),
        "environment": data.get("environment", {}),
        "created_at": data.get("created_at", ""),
        "measurements": measurements,
    }


# from-version -> function returning the document in from-version + 1
MIGRATIONS: dict[int, Callable[[JSONObject], JSONObject]] = {0: _migrate_0_to_1}


def schema_of(data: JSONObject) -> int:
    """The baseline schema of a parsed document; the legacy layout (no key, ``metrics``) is 0."""
    if SCHEMA_KEY in data:
        version = data[SCHEMA_KEY]
        if isinstance(version, bool) or not isinstance(version, int):
            raise ShapeError(SCHEMA_KEY, f"expected an integer, got {_type_name(version)}")
        return version
    if "metrics" in data:
        return 0
    raise ShapeError(SCHEMA_KEY, "missing: not a perfci baseline")


def migrate(data: JSONObject) -> JSONObject:
    """Bring a parsed document up to ``BASELINE_SCHEMA``; ConfigError-ready messages on failure."""
    version = schema_of(data)
    if version > BASELINE_SCHEMA:
        raise _Unsupported(
            f"written by a newer perfci (schema {version} > {BASELINE_SCHEMA}); upgrade perfci"
        )
    while version < BASELINE_SCHEMA:
        step = MIGRATIONS.get(version)
        if step is None:
            raise _Unsupported(f"schema {version} is too old: no migration to {BASELINE_SCHEMA}")
        data = step(data)
        previous, version = version, schema_of(data)
        if version <= previous:
            raise RuntimeError(f"baseline migration from schema {previous} did not advance it")
    return data


class _Unsupported(ValueError):
    """The schema cannot be read by this perfci (newer, or too old to migrate)."""


# --- reading --------------------------------------------------------------------------------


def baseline_path(directory: str | os.PathLike[str], suite: str) -> Path:
    """``<directory>/<suite>.json``."""
    return Path(directory) / f"{suite}.json"


def load_baseline(path: str | os.PathLike[str]) -> Baseline:
    """Read, migrate and validate a baseline file; ConfigError(where=path) on any problem."""
    path = Path(path)
    return _parse_baseline(_read_json(path), path)


def _parse_baseline(data: JSONObject, path: Path) -> Baseline:
    try:
        return _baseline_from(migrate(data), default_suite=path.stem)
    except _Unsupported as error:
        raise ConfigError(str(error), where=str(path)) from None
    except ValueError as error:
        raise ConfigError(f"not a valid baseline: {error}", where=str(path)) from None


def load_measurements(path: str | os.PathLike[str]) -> tuple[Measurement, ...]:
    """The measurements of a baseline file or of a results file (``perfci run --json``)."""
    return load_comparable(path).measurements


def load_comparable(path: str | os.PathLike[str]) -> Baseline:
    """A baseline file, or a results file (``perfci run --json``) read as one.

    From a results file come its measurements, commit, branch, environment and
    the checks its run skipped: what ``perfci compare`` needs to judge it like a run.
    """
    path = Path(path)
    return comparable_from(_read_json(path), str(path))


def comparable_from(data: JSONObject, where: str) -> Baseline:
    """``load_comparable`` on a parsed document (an upload, a server's reply);
    ConfigError naming ``where`` when it is neither a valid baseline nor results."""
    path = Path(where)
    if "perfci_results" not in data:
        if SCHEMA_KEY not in data and "metrics" not in data:
            raise ConfigError(
                "neither a perfci baseline nor a results file written by 'perfci run --json'",
                where=str(path),
            )
        return _parse_baseline(data, path)
    try:
        version = data["perfci_results"]
        if isinstance(version, bool) or not isinstance(version, int):
            raise ShapeError("perfci_results", f"expected an integer, got {_type_name(version)}")
        if version > RESULTS_SCHEMA:
            raise _Unsupported(
                f"written by a newer perfci (results schema {version} > {RESULTS_SCHEMA}); "
                "upgrade perfci"
            )
        if data.get("error"):
            # A run that could not be judged: its measurements are partial at best.
            raise ConfigError(
                f"the run that wrote this results file could not be judged: {data['error']}",
                where=str(path),
            )
        skipped = data.get("skipped_checks") or []
        if not isinstance(skipped, list) or not all(isinstance(s, str) for s in skipped):
            raise ShapeError("skipped_checks", "expected a list of check names")
        baseline = _baseline_from(
            {**data, "created_at": data.get("started_at") or ""}, default_suite=path.stem
        )
        return replace(baseline, skipped_checks=tuple(skipped))
    except _Unsupported as error:
        raise ConfigError(str(error), where=str(path)) from None
    except ValueError as error:
        raise ConfigError(f"not a valid results file: {error}", where=str(path)) from None


def _read_json(path: Path) -> JSONObject:
    return read_json(path)


def _baseline_from(data: JSONObject, *, default_suite: str) -> Baseline:
    suite = data.get("suite")
    if suite is None:
        suite = default_suite
    environment = data.get("environment")
    if environment is None:
        environment = {}
    if not isinstance(environment, dict):
        raise ShapeError("environment", f"expected an object, got {_type_name(environment)}")
    created_at = data.get("created_at") or ""
    return Baseline(
        suite=_expect(suite, str, "suite"),
        schema=BASELINE_SCHEMA,
        commit=_optional_str(data.get("commit"), "commit"),
        branch=_optional_str(data.get("branch"), "branch"),
        environment={str(k): str(v) for k, v in environment.items()},
        created_at=_expect(created_at, str, "created_at"),
        measurements=_measurements_from(data.get("measurements")),
    )


def _measurements_from(items: object) -> tuple[Measurement, ...]:
    if not isinstance(items, list):
        raise ShapeError("measurements", f"expected a list, got {_type_name(items)}")
    measurements: list[Measurement] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"measurements[{index}]"
        measurement = _measurement_from(item, where)
        if measurement.name in seen:
            raise ShapeError(where, f"duplicate measurement {measurement.name!r}")
        seen.add(measurement.name)
        measurements.append(measurement)
    return tuple(measurements)


def _measurement_from(item: object, where: str) -> Measurement:
    if not isinstance(item, dict):
        raise ShapeError(where, f"expected an object, got {_type_name(item)}")
    _expect(item.get("name"), str, f"{where}.name")
    value = item.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ShapeError(f"{where}.value", f"expected a number or text, got {_type_name(value)}")
    _expect(item.get("unit"), str, f"{where}.unit")
    _choice(item.get("direction"), Direction, f"{where}.direction")
    if "kind" in item:
        _choice(item["kind"], Kind, f"{where}.kind")
    if "statistic" in item:
        _expect(item["statistic"], str, f"{where}.statistic")
    for key in ("samples", "calibration"):
        if key in item:
            _numbers(item[key], f"{where}.{key}")
    evidence = item.get("evidence", [])
    if not isinstance(evidence, list) or not all(
        isinstance(e, dict) and isinstance(e.get("label"), str) and isinstance(e.get("text"), str)
        for e in evidence
    ):
        raise ShapeError(f"{where}.evidence", "expected a list of {label, text} objects")
    try:
        measurement = Measurement.from_dict(item)
    except (KeyError, TypeError, ValueError) as error:
        raise ShapeError(where, str(error)) from None
    # Infinity, NaN (perfci's spellings, or 1e400 read as infinity) cannot be compared with:
    # "∞ → 4 queries" would pass anything.
    numbers = (measurement.value, *measurement.samples, *measurement.calibration)
    if not all(isinstance(v, str) or math.isfinite(v) for v in numbers):
        raise ShapeError(
            where, f"{measurement.name!r} is not a finite number of {measurement.unit!r}"
        )
    return measurement


def _expect(value: object, kind: type[str], where: str) -> str:
    if not isinstance(value, kind):
        raise ShapeError(where, f"expected {kind.__name__}, got {_type_name(value)}")
    return value


def _optional_str(value: object, where: str) -> str | None:
    return None if value is None else _expect(value, str, where)


def _choice(value: object, enum: type[Direction] | type[Kind], where: str) -> None:
    allowed = [member.value for member in enum]
    if value not in allowed:
        raise ShapeError(where, f"expected one of {', '.join(allowed)}, got {value!r}")


def _numbers(value: object, where: str) -> None:
    if not isinstance(value, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        raise ShapeError(where, "expected a list of numbers")


def _type_name(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "a boolean", type(None): "null"}
    return names.get(type(value), type(value).__name__)


# --- writing --------------------------------------------------------------------------------


def write_baseline(path: str | os.PathLike[str], baseline: Baseline) -> Path:
    """Write atomically and durably (``perfci.files.write_atomic``); ConfigError on failure.

    Readers see the old file or the new one, never a part; on any error the
    temp file is removed and the old file is left as it was. Non-finite floats
    are written as the results file writes them (``"NaN"``); the reader then
    refuses such a baseline rather than compare with it.
    """
    path = Path(path)
    text = _dump(baseline.to_dict())
    try:
        write_atomic(path, text, mode=0o644)
    except OSError as error:
        raise ConfigError(
            f"cannot write baseline: {error.strerror or error}", where=str(path)
        ) from error
    return path


def _dump(data: JSONObject) -> str:
    return dumps(data, indent=2)
