"""Every row of the hostile catalogue through the real ``perfci`` command (docs/hardening.md)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from perfci.pytest_plugin import PerfciProject
from perfci.reporters import render_json
from tests.github.builders import passing_result
from tests.hardening.catalogue import FIFO, RESULTS, ROWS, Row
from tests.toy.project import make_toy

REPO = Path(__file__).parents[2]
DOC = REPO / "docs" / "hardening.md"


def test_the_docs_table_lists_every_row_with_its_exit_code() -> None:
    table = re.findall(
        r"^\| `([a-z0-9-]+)` \| [^|]+ \| .+ \| (\d) \| .+ \|$",
        DOC.read_text(encoding="utf-8"),
        re.M,
    )
    assert table == [(row.id, str(row.exit)) for row in ROWS]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_row(perfci_project: PerfciProject, row: Row) -> None:
    project = make_toy(perfci_project, row.config)
    (project.path / "out").mkdir()
    (project.path / RESULTS).write_text(render_json(passing_result()), encoding="utf-8")
    for name, content in row.files.items():
        path = project.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == FIFO:
            os.mkfifo(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    env = {"PYTHONPATH": str(REPO), **row.env}
    result = project.run(*row.args, env=env, timeout=120)
    assert result.exit_code == row.exit, result.output
    assert "Traceback" not in result.output
    if row.exit:
        lines = [line for line in result.stderr.splitlines() if line.startswith("perfci: ")]
        assert any(row.message in line for line in lines), result.stderr
    else:
        assert row.message in result.output
    for text in row.absent:
        assert text not in result.output
    assert not re.search(r"^\s*::(?!error |warning |notice )", result.output, re.M)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
