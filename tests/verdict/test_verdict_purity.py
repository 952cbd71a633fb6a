"""The verdict package stays pure: no I/O, no clock, no environment, no CLI (README.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import perfci.units
import perfci.verdict

PURE_MODULES = [
    *sorted(Path(perfci.verdict.__file__).parent.glob("*.py")),
    Path(perfci.units.__file__),
]
FORBIDDEN_MODULES = {
    "os", "sys", "pathlib", "io", "time", "socket", "subprocess", "shutil", "tempfile",
    "logging", "random", "click", "rich", "perfci.cli", "perfci.config", "perfci.reporters",
    "perfci.baseline", "perfci.environment",
}  # fmt: skip
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval", "breakpoint"}
# Called as methods these read the clock or the environment (``rules.today`` is data, not a call).
FORBIDDEN_METHOD_CALLS = {"now", "today", "utcnow", "time", "perf_counter", "monotonic", "getenv"}
FORBIDDEN_ATTRIBUTES = {"environ"}


def imported_modules(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def is_forbidden(module: str) -> bool:
    return any(module == bad or module.startswith(f"{bad}.") for bad in FORBIDDEN_MODULES)


@pytest.mark.parametrize("path", PURE_MODULES, ids=lambda p: p.name)
def test_no_io_clock_environment_or_cli_in(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert sorted(m for m in imported_modules(tree) if is_forbidden(m)) == []
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert calls & FORBIDDEN_CALLS == set()
    assert method_calls(tree) & FORBIDDEN_METHOD_CALLS == set()
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert attributes & FORBIDDEN_ATTRIBUTES == set()


def method_calls(tree: ast.AST) -> set[str]:
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }


def test_the_checker_itself_catches_an_impure_module() -> None:
    tree = ast.parse("import os\nfrom rich.console import Console\nimport datetime as dt\n")
    modules = imported_modules(tree)
    assert sorted(m for m in modules if is_forbidden(m)) == [
        "os",
        "rich.console",
        "rich.console.Console",
    ]
    assert method_calls(ast.parse("x = dt.datetime.now()")) & FORBIDDEN_METHOD_CALLS
    assert not method_calls(ast.parse("x = rules.today")) & FORBIDDEN_METHOD_CALLS


def test_importing_the_engine_loads_no_cli_or_terminal_library() -> None:
    code = (
        "import sys, perfci.verdict, perfci.verdict.engine, perfci.verdict.stats\n"
        "bad = ('click', 'rich', 'perfci.cli', 'perfci.reporters', 'perfci.config')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in bad or m in bad))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert completed.stdout.strip() == "[]"
