"""The example third-party plugins in plugins/: installed, registered and gating as plugins.

The README's test command installs them (``pip install -e plugins/rowcount``); a
missing install fails here rather than skipping, so CI always runs them.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from perfci.errors import ExitCode
from perfci.plugin.manager import PluginHost
from perfci.pytest_plugin import PerfciProject
from perfci.testing import run_context
from tests.toy.project import CONFIG, make_toy

ROOT = Path(__file__).resolve().parents[1]


def test_rowcount_registers_through_its_entry_point() -> None:
    host = PluginHost()
    host.load()
    info = next((p for p in host.plugins() if p.name == "rowcount"), None)
    assert info is not None, "install the example: pip install -e plugins/rowcount"
    assert info.source == "entry point"
    assert info.location == "perfci-rowcount:perfci_rowcount"
    assert info.checks == ("rowcount",)
    # The installed module is the one in this repository, not a copy elsewhere.
    module = __import__("perfci_rowcount")
    assert Path(module.__file__ or "") == ROOT / "plugins" / "rowcount" / "perfci_rowcount.py"


def test_rowcount_counts_list_rows_and_objects_as_one(tmp_path: Path) -> None:
    app = Flask(__name__)
    app.add_url_rule("/items", "items", lambda: [{"id": 1}, {"id": 2}, {"id": 3}])
    app.add_url_rule("/item", "item", lambda: {"id": 1})
    host = PluginHost()
    host.load()
    check = host.checks()["rowcount"]
    with run_context(app, tmp_path, endpoints=["GET /items", "GET /item"]) as ctx:
        measured = {m.name: m.value for m in check().collect(ctx, check.Options())}
    assert measured == {"rowcount/GET /items/rows": 3, "rowcount/GET /item/rows": 1}


def test_rowcount_gates_a_project(perfci_project: PerfciProject) -> None:
    toy = make_toy(
        perfci_project,
        CONFIG.replace("toy_queries: {}", "rowcount: {}")
        + 'budgets:\n  "rowcount/*/rows": {max: 2}\n'
        + "baselines:\n  required: false\n",
    )
    result = toy.run("run")
    assert result.exit_code == ExitCode.REGRESSION, result.output
    assert "rowcount/GET /items/rows" in result.stdout


def test_the_guide_shows_the_example_as_it_is_installed() -> None:
    guide = (ROOT / "docs" / "writing-plugins.md").read_text()
    module = (ROOT / "plugins" / "rowcount" / "perfci_rowcount.py").read_text()
    assert f"```python\n# perfci_rowcount.py\n{module}```" in guide
