"""Baseline files: round trip, corrupt/newer/older files, atomic writes, results files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from perfci import baseline as baseline_module
from perfci.baseline import (
    BASELINE_SCHEMA,
    Baseline,
    baseline_path,
    load_baseline,
    load_measurements,
    migrate,
    write_baseline,
)
from perfci.errors import ConfigError, ExitCode
from perfci.measurement import Direction, Evidence, Kind, Measurement, timing
from perfci.result import RunResult
from perfci.verdict import Judgement

QUERIES = Measurement(
    "n_plus_one/GET /api/coocook/chefs/queries",
    3,
    "statements",
    Direction.LOWER,
    evidence=(Evidence("sql", "SELECT * FROM chefs"),),
)
P50 = timing("latency/GET /api/coocook/chefs/p50", [10.0, 11.0, 12.0, 9.5])
POOL = Measurement("pool/engine/pool_class", "QueuePool", "", Direction.EQUAL)


def sample_baseline(**changes: Any) -> Baseline:
    fields: dict[str, Any] = {
        "suite": "default",
        "commit": "0123abc",
        "branch": "main",
        "environment": {"python": "3.11.7", "cores": "2"},
        "created_at": "2025-03-14T12:00:00+00:00",
        "measurements": (QUERIES, P50, POOL),
    }
    return Baseline(**(fields | changes))


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_baseline(path)
    assert caught.value.where == str(path)
    assert caught.value.exit_code is ExitCode.USAGE
    assert "\n" not in str(caught.value)
    return caught.value.message


# --- round trip ----------------------------------------------------------------------------------


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    path = baseline_path(tmp_path / "baselines", "default")
    assert path == tmp_path / "baselines" / "default.json"
    written = sample_baseline()
    assert write_baseline(path, written) == path
    loaded = load_baseline(path)
    assert loaded == written
    assert loaded.measurements[1].samples == P50.samples
    assert loaded.by_name()[POOL.name].value == "QueuePool"


def test_the_file_is_versioned_readable_json_with_summaries(tmp_path: Path) -> None:
    path = write_baseline(tmp_path / "default.json", sample_baseline())
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["perfci_baseline"] == BASELINE_SCHEMA == 1
    assert data["commit"] == "0123abc"
    assert data["environment"]["cores"] == "2"
    assert data["measurements"][1]["summary"]["median"] == 10.5
    assert path.read_text(encoding="utf-8").endswith("}\n")


def test_a_new_file_is_world_readable_and_an_old_files_mode_is_kept(tmp_path: Path) -> None:
    path = write_baseline(tmp_path / "default.json", sample_baseline())
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o600)
    write_baseline(path, sample_baseline(commit="def"))
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.json") == "no such file"


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    directory = tmp_path / "dir.json"
    directory.mkdir()
    assert error_of(directory).startswith("cannot read: ")


def test_binary_garbage_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "default.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert error_of(path) == "not UTF-8 text (a corrupt file?)"


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "default.json"
    path.write_text('{\n  "perfci_baseline": 1,\n  "suite": \n}\n', encoding="utf-8")
    assert error_of(path) == "not valid JSON: Expecting value at line 4 column 1"


def test_a_truncated_file_is_a_config_error(tmp_path: Path) -> None:
    path = write_baseline(tmp_path / "default.json", sample_baseline())
    path.write_text(path.read_text(encoding="utf-8")[:200], encoding="utf-8")
    assert error_of(path).startswith("not valid JSON: ")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: [d], "expected a JSON object at the top level, got a list"),
        (lambda d: {"suite": "x"}, "not a valid baseline: perfci_baseline: missing"),
        (lambda d: d | {"perfci_baseline": "1"}, "perfci_baseline: expected an integer, got text"),
        (lambda d: d | {"perfci_baseline": True}, "perfci_baseline: expected an integer"),
        (lambda d: d | {"suite": 3}, "suite: expected str, got int"),
        (lambda d: d | {"commit": ["a"]}, "commit: expected str, got a list"),
        (lambda d: d | {"environment": []}, "environment: expected an object, got a list"),
        (lambda d: d | {"measurements": {}}, "measurements: expected a list, got an object"),
        (lambda d: d | {"measurements": [1]}, "measurements[0]: expected an object, got int"),
        (
            lambda d: d | {"measurements": [QUERIES.to_dict() | {"direction": "up"}]},
            "measurements[0].direction: expected one of lower, higher, equal, got 'up'",
        ),
        (
            lambda d: d | {"measurements": [QUERIES.to_dict() | {"kind": "vibes"}]},
            "measurements[0].kind: expected one of deterministic, timing, got 'vibes'",
        ),
        (
            lambda d: d | {"measurements": [QUERIES.to_dict() | {"statistic": 95}]},
            "measurements[0].statistic: expected str, got int",
        ),
        (
            lambda d: d | {"measurements": [QUERIES.to_dict() | {"statistic": "max"}]},
            "measurements[0]: statistic 'max' is not median, mean or pNN (p0 to p100)",
        ),
        (
            lambda d: d | {"measurements": [QUERIES.to_dict() | {"value": None}]},
            "measurements[0].value: expected a number or text, got null",
        ),
        (
            lambda d: d | {"measurements": [QUERIES.to_dict() | {"value": True}]},
            "measurements[0].value: expected a number or text, got a boolean",
        ),
        (
            lambda d: d | {"measurements": [QUERIES.to_dict() | {"samples": [1, "x"]}]},
            "measurements[0].samples: expected a list of numbers",
        ),
        (
            lambda d: d | {"measurements": [QUERIES.to_dict() | {"evidence": [{"label": 1}]}]},
            "measurements[0].evidence: expected a list of {label, text} objects",
        ),
        (
            lambda d: d | {"measurements": [QUERIES.to_dict() | {"name": "no-slashes"}]},
            "measurements[0]: measurement name 'no-slashes' is not 'check/subject/metric'",
        ),
        (
            lambda d: d | {"measurements": [QUERIES.to_dict() | {"unit": None}]},
            "measurements[0].unit: expected str, got null",
        ),
        (
            lambda d: d | {"measurements": [QUERIES.to_dict(), QUERIES.to_dict()]},
            "measurements[1]: duplicate measurement 'n_plus_one/GET /api/coocook/chefs/queries'",
        ),
    ],
)
def test_a_wrong_shape_names_the_field(tmp_path: Path, mutate: Any, message: str) -> None:
    data = sample_baseline().to_dict()
    path = write_json(tmp_path / "default.json", mutate(data))
    assert message in error_of(path)


# --- schema versions ------------------------------------------------------------------------------


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "default.json", sample_baseline().to_dict() | {"perfci_baseline": 3}
    )
    assert error_of(path) == "written by a newer perfci (schema 3 > 1); upgrade perfci"


def test_a_schema_without_migration_is_refused(tmp_path: Path) -> None:
    path = write_json(tmp_path / "default.json", {"perfci_baseline": -1})
    assert error_of(path) == "schema -1 is too old: no migration to 1"


def test_the_legacy_schema_0_is_migrated(tmp_path: Path) -> None:
    legacy = {
        "metrics": {
            "n_plus_one/GET /api/coocook/chefs/queries": {"value": 3, "unit": "statements"},
            "pool/engine/pool_class": {"value": "QueuePool", "unit": ""},
            "latency/GET /x/p50": {"value": 10.5, "unit": "ms", "samples": [10, 11]},
            "load/GET /x/throughput": {"value": 400, "unit": "req/s", "direction": "higher"},
        },
        "commit": "abc",
    }
    loaded = load_baseline(write_json(tmp_path / "legacy-suite.json", legacy))
    assert loaded.schema == BASELINE_SCHEMA
    assert loaded.suite == "legacy-suite"  # the legacy layout had no suite: the file name
    assert loaded.commit == "abc"
    assert loaded.branch is None
    by_name = loaded.by_name()
    assert by_name["n_plus_one/GET /api/coocook/chefs/queries"] == Measurement(
        "n_plus_one/GET /api/coocook/chefs/queries", 3.0, "statements", Direction.LOWER
    )
    assert by_name["pool/engine/pool_class"].direction is Direction.EQUAL
    assert by_name["latency/GET /x/p50"].kind is Kind.TIMING
    assert by_name["latency/GET /x/p50"].samples == (10.0, 11.0)
    assert by_name["load/GET /x/throughput"].direction is Direction.HIGHER


def test_a_broken_legacy_file_names_the_field(tmp_path: Path) -> None:
    path = write_json(tmp_path / "default.json", {"metrics": {"a/b/c": 3}})
    assert error_of(path) == "not a valid baseline: metrics.a/b/c: expected an object, got int"
    path = write_json(tmp_path / "default.json", {"metrics": []})
    assert error_of(path) == "not a valid baseline: metrics: expected an object, got a list"


def test_migrations_run_in_a_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def step(version: int) -> Any:
        def migrate_one(data: dict[str, Any]) -> dict[str, Any]:
            calls.append(version)
            return data | {"perfci_baseline": version + 1}

        return migrate_one

    monkeypatch.setattr(baseline_module, "BASELINE_SCHEMA", 3)
    monkeypatch.setattr(baseline_module, "MIGRATIONS", {1: step(1), 2: step(2)})
    assert migrate({"perfci_baseline": 1})["perfci_baseline"] == 3
    assert calls == [1, 2]


def test_a_migration_that_does_not_advance_is_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseline_module, "MIGRATIONS", {0: lambda data: {"metrics": {}}})
    with pytest.raises(RuntimeError, match="did not advance"):
        migrate({"metrics": {}})


# --- atomic writes ------------------------------------------------------------------------------


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_an_interrupt_part_way_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_baseline(tmp_path / "default.json", sample_baseline())
    before = path.read_bytes()

    def interrupted(fd: int) -> None:  # the temp file is written, not yet renamed
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_baseline(path, sample_baseline(commit="new"))
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["default.json"]


def test_a_non_finite_value_is_written_like_the_results_file_and_refused_when_read(
    tmp_path: Path,
) -> None:
    nan = Measurement("latency/GET /x/p50", float("nan"), "ms", Direction.LOWER)
    path = write_baseline(tmp_path / "default.json", sample_baseline(measurements=(QUERIES, nan)))
    assert '"value": "NaN"' in path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[1\]: 'latency/GET /x/p50' is not a finite"):
        load_baseline(path)


@pytest.mark.parametrize("value", ['"Infinity"', '"NaN"', '"-Infinity"', "1e400"])
def test_a_non_finite_baseline_value_is_not_a_valid_baseline(tmp_path: Path, value: str) -> None:
    path = tmp_path / "default.json"
    path.write_text(
        '{"perfci_baseline": 1, "suite": "default", "measurements": [{"name": "n/GET /x/queries",'
        f' "value": {value}, "unit": "count", "direction": "lower"}}]}}',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="not (a )?valid"):
        load_baseline(path)


def test_a_failed_rename_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_baseline(tmp_path / "default.json", sample_baseline())
    before = path.read_bytes()

    def refuse(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ConfigError, match="cannot write baseline: No space left on device"):
        write_baseline(path, sample_baseline(commit="new"))
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["default.json"]


def test_a_failed_fsync_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_baseline(tmp_path / "default.json", sample_baseline())
    before = path.read_bytes()

    def fail(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(ConfigError, match="Input/output error"):
        write_baseline(path, sample_baseline(commit="new"))
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["default.json"]


def test_the_file_and_its_directory_are_fsynced_before_and_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync-file")
        real_fsync(fd)

    def replace(source: str, target: str) -> None:
        events.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_baseline(tmp_path / "default.json", sample_baseline())
    assert events == ["fsync-file", "replace", "fsync-dir"]


def test_writing_creates_the_baselines_directory(tmp_path: Path) -> None:
    path = write_baseline(tmp_path / "a" / "b" / "default.json", sample_baseline())
    assert load_baseline(path) == sample_baseline()


def test_an_unwritable_location_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot write baseline") as caught:
        write_baseline(blocker / "default.json", sample_baseline())
    assert caught.value.where == str(blocker / "default.json")


# --- load_measurements (perfci compare) -------------------------------------------------------


def results_file(tmp_path: Path, measurements: tuple[Measurement, ...]) -> Path:
    result = RunResult(
        suite="default",
        measurements=measurements,
        judgement=Judgement(verdicts=()),
        exit_code=0,
        started_at="2025-03-14T12:00:00+00:00",
        duration_s=1.5,
    )
    return write_json(tmp_path / "results.json", result.to_dict())


def test_load_measurements_reads_a_results_file(tmp_path: Path) -> None:
    path = results_file(tmp_path, (QUERIES, P50, POOL))
    assert load_measurements(path) == (QUERIES, P50, POOL)


def test_load_measurements_reads_a_baseline_file(tmp_path: Path) -> None:
    path = write_baseline(tmp_path / "default.json", sample_baseline())
    assert load_measurements(path) == (QUERIES, P50, POOL)


def test_load_measurements_reads_a_legacy_baseline(tmp_path: Path) -> None:
    path = write_json(tmp_path / "old.json", {"metrics": {"a/b/c": {"value": 1, "unit": "x"}}})
    assert [m.name for m in load_measurements(path)] == ["a/b/c"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"hello": 1},
            "neither a perfci baseline nor a results file written by 'perfci run --json'",
        ),
        ({"perfci_results": 9, "measurements": []}, "results schema 9 > 1"),
        ({"perfci_results": "1"}, "perfci_results: expected an integer, got text"),
        (
            {"perfci_results": 1},
            "not a valid results file: measurements: expected a list, got null",
        ),
        (
            {"perfci_results": 1, "measurements": [{"name": "a/b/c"}]},
            "not a valid results file: measurements[0].value: expected a number or text, got null",
        ),
        ("[1, 2]", "expected a JSON object at the top level"),
    ],
)
def test_load_measurements_errors_name_the_file(tmp_path: Path, data: Any, message: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_measurements(path)
    assert caught.value.where == str(path)
    assert message in caught.value.message


def test_load_measurements_of_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text('{"perfci_results": 1,\n"measurements": [,]}', encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2 column 18"):
        load_measurements(path)
