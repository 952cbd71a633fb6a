"""``perfci run`` records its history; ``perfci history`` and ``perfci report`` use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfci.errors import ExitCode
from perfci.history import HistoryStore
from perfci.pytest_plugin import PerfciProject
from tests.history.factory import make_run
from tests.toy.project import CONFIG as TOY_CONFIG
from tests.toy.project import make_toy

CONFIG = TOY_CONFIG + "baselines:\n  required: false\n"


@pytest.fixture
def toy(perfci_project: PerfciProject) -> PerfciProject:
    return make_toy(perfci_project, CONFIG)


def test_runs_are_recorded_listed_reported_and_pruned(toy: PerfciProject) -> None:
    assert toy.run("baseline", "update").exit_code == 0
    assert toy.run("run").exit_code == ExitCode.OK
    regressed = toy.run("run", "--html", "out/report.html", env={"TOY_EXTRA_QUERIES": "5"})
    assert regressed.exit_code == ExitCode.REGRESSION, regressed.output
    assert (toy.path / ".perfci" / "history.db").is_file()
    page = (toy.path / "out" / "report.html").read_text(encoding="utf-8")
    assert "2 runs of suite toy" in page
    assert 'class="marker outcome-regression"' in page

    listed = toy.run("history")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["id", "started", "suite", "commit", "branch", "status", "verdicts"]
    assert "FAILED" in lines[1] and "1 REGRESSION" in lines[1]
    assert "PASSED" in lines[2]

    report = toy.run("report", "--html", "again.html")
    assert report.exit_code == 0, report.output
    assert "2 run(s)" in report.stdout
    assert 'class="marker outcome-regression"' in (toy.path / "again.html").read_text()

    exported = toy.run("history", "export", "history.json")
    assert exported.exit_code == 0 and "exported 2 run(s)" in exported.stdout
    pruned = toy.run("history", "prune", "--keep", "1")
    assert pruned.exit_code == 0 and "removed 1 run(s)" in pruned.stdout
    imported = toy.run("history", "import", "history.json")
    assert "imported 1 run(s)" in imported.stdout and "(1 already there)" in imported.stdout


def test_a_broken_store_warns_and_keeps_the_verdict(toy: PerfciProject) -> None:
    toy.write_config(CONFIG + "history:\n  url: sqlite:///not-a-db\n")
    (toy.path / "not-a-db").write_text("garbage " * 200)
    assert toy.run("baseline", "update").exit_code == 0
    passed = toy.run("run", "--html", "report.html")
    assert passed.exit_code == ExitCode.OK, passed.output
    warnings = [line for line in passed.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("perfci: warning: history: history store sqlite:///")
    assert "file is not a database" in warnings[0]
    assert (toy.path / "report.html").is_file()  # the report still comes out
    failed = toy.run("run", env={"TOY_EXTRA_QUERIES": "5"})
    assert failed.exit_code == ExitCode.REGRESSION

    listed = toy.run("history")
    assert listed.exit_code == ExitCode.USAGE
    assert listed.stderr.strip().count("\n") == 0
    assert listed.stderr.startswith("perfci: history store sqlite:///")


def test_history_disabled_records_nothing(toy: PerfciProject) -> None:
    toy.write_config(CONFIG + "history:\n  enabled: false\n")
    assert toy.run("baseline", "update").exit_code == 0
    assert toy.run("run").exit_code == ExitCode.OK
    assert not (toy.path / ".perfci").exists()


def test_history_commands_take_a_url(tmp_path: Path, perfci_project: PerfciProject) -> None:
    url = f"sqlite:///{tmp_path / 'team.db'}"
    with HistoryStore(url) as store:
        for index in range(3):
            store.record(make_run(index, regressed=index == 2))
    listed = perfci_project.run("history", "--history", url, "list", "--limit", "2")
    assert listed.exit_code == 0, listed.output
    assert len(listed.stdout.splitlines()) == 3
    report = perfci_project.run("report", "--html", "r.html", "--history", url, "--run", "2")
    assert report.exit_code == 0, report.output
    page = (perfci_project.path / "r.html").read_text(encoding="utf-8")
    assert "2 runs of suite default" in page and "PASSED" in page
    empty = perfci_project.run("history", "--history", f"sqlite:///{tmp_path / 'new.db'}")
    assert empty.exit_code == 0 and "no runs recorded" in empty.stdout
