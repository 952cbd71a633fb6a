"""Plugin registration: entry points, local directories, failures named in one line."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import perfci
from perfci.check import Check
from perfci.checks import BUILTIN_PLUGINS
from perfci.errors import CheckCrashed, ConfigError
from perfci.plugin import spec as hookspecs
from perfci.plugin.manager import PluginHost


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    path.write_text(text)
    return path


GOOD = """
import perfci
from perfci import Check, Measurement, Direction

class Hello(Check):
    name = "hello"
    def collect(self, ctx, options):
        yield Measurement("hello/world/answer", 42, "count", Direction.EQUAL)

@perfci.hookimpl
def perfci_checks():
    return [Hello]
"""


def test_every_hook_is_documented_and_grouped() -> None:
    source = inspect.getsource(hookspecs)
    hooks = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
    assert hooks, "no hookspecs found"
    for hook in hooks:
        assert hook.name.startswith("perfci_")
        doc = ast.get_docstring(hook)
        assert doc and "called" in doc.lower(), f"{hook.name} must say when it is called"
    assert source.count("# --- Phase") >= 4


def test_every_hook_parameter_has_a_param_line() -> None:
    for name in dir(hookspecs):
        if not name.startswith("perfci_"):
            continue
        hook = getattr(hookspecs, name)
        doc = inspect.getdoc(hook) or ""
        for parameter in inspect.signature(hook).parameters:
            assert f":param {parameter}:" in doc, f"{name} must document {parameter!r}"


def test_every_public_name_resolves() -> None:
    for name in perfci.__all__:
        assert getattr(perfci, name) is not None, name
    assert set(perfci.__all__) == {*perfci._API, "__version__"}


def test_builtin_checks_and_examples_import_only_perfci() -> None:
    """Plugins, built-in ones included, use the public API: ``perfci`` and nothing below it."""
    root = Path(perfci.__file__).parent
    files = [*(root / "checks").rglob("*.py"), *(root.parent / "plugins").rglob("*.py")]
    assert len(files) > 10
    for file in files:
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                assert not module.startswith("perfci."), f"{file}:{node.lineno} imports {module}"


def test_builtins_register_from_the_package_tuple_not_entry_points() -> None:
    host = PluginHost()
    host.load()
    builtins = {p.name: p for p in host.plugins() if p.source == "built-in"}
    assert sorted(builtins) == sorted(m.rpartition(".")[2] for m in BUILTIN_PLUGINS)
    for name, info in builtins.items():
        assert info.location == f"perfci.checks.{name}"
        assert info.version == perfci.__version__
        assert info.checks == (name,), f"built-in {name!r} must provide the check {name!r}"


def test_a_builtin_can_be_disabled_by_name() -> None:
    host = PluginHost()
    host.load(disabled=["pool"])
    assert "pool" not in host.checks()
    assert "indexes" in host.checks()


def test_local_plugin_directory_registers_checks(tmp_path: Path) -> None:
    write(tmp_path / "local", "hello", GOOD)
    host = PluginHost()
    host.load(local_paths=[tmp_path / "local"])
    assert "hello" in host.checks()
    info = next(p for p in host.plugins() if p.name == "hello")
    assert info.source == "local"
    assert info.checks == ("hello",)


def test_local_plugin_with_syntax_error_is_named(tmp_path: Path) -> None:
    write(tmp_path / "local", "broken", "def oops(:\n")
    host = PluginHost()
    with pytest.raises(ConfigError) as info:
        host.load(local_paths=[tmp_path / "local"])
    message = str(info.value)
    assert "plugin 'broken' failed to import: SyntaxError" in message
    assert "broken.py:1" in message


def test_local_plugin_raising_at_import_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "local", "raiser", "x = 1\nraise RuntimeError('nope')\n")
    with pytest.raises(
        ConfigError, match=r"raiser.py:2: plugin 'raiser' failed to import: RuntimeError: nope"
    ):
        PluginHost().load(local_paths=[tmp_path / "local"])


def test_two_plugins_with_one_check_name(tmp_path: Path) -> None:
    write(tmp_path / "local", "first", GOOD)
    write(tmp_path / "local", "second", GOOD)
    host = PluginHost()
    host.load(local_paths=[tmp_path / "local"])
    with pytest.raises(ConfigError, match="check 'hello' is provided by both plugin"):
        host.checks()


def test_disabled_plugin_is_not_registered(tmp_path: Path) -> None:
    write(tmp_path / "local", "hello", GOOD)
    host = PluginHost()
    host.load(local_paths=[tmp_path / "local"], disabled=["hello"])
    assert "hello" not in host.checks()


def test_disabling_an_unknown_plugin_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="plugins.disable: no plugin named 'nosuch'"):
        PluginHost().load(disabled=["nosuch"])


def test_missing_plugin_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a directory"):
        PluginHost().load(local_paths=[tmp_path / "nope"])


def test_perfci_checks_returning_junk(tmp_path: Path) -> None:
    write(
        tmp_path / "local",
        "junk",
        "import perfci\n@perfci.hookimpl\ndef perfci_checks():\n    return ['not a class']\n",
    )
    host = PluginHost()
    host.load(local_paths=[tmp_path / "local"])
    with pytest.raises(ConfigError, match="plugin 'junk': perfci_checks returned 'not a class'"):
        host.checks()


def test_crashing_hook_names_the_plugin(tmp_path: Path) -> None:
    write(
        tmp_path / "local",
        "crashy",
        "import perfci\n@perfci.hookimpl\n"
        "def perfci_configure(config):\n    raise KeyError('boom')\n",
    )
    host = PluginHost()
    host.load(local_paths=[tmp_path / "local"])
    with pytest.raises(
        CheckCrashed, match=r"plugin 'crashy' crashed in perfci_configure: KeyError"
    ):
        host.configure(config=None)  # type: ignore[arg-type]


def test_misspelled_hook_is_rejected(tmp_path: Path) -> None:
    write(
        tmp_path / "local",
        "typo",
        "import perfci\n@perfci.hookimpl\ndef perfci_chekcs():\n    return []\n",
    )
    with pytest.raises(ConfigError, match="plugin 'typo' is invalid"):
        PluginHost().load(local_paths=[tmp_path / "local"])


def test_register_object_directly() -> None:
    class Plugin:
        @perfci.hookimpl
        def perfci_checks(self) -> list[type[Check]]:
            return []

    host = PluginHost()
    host.register(Plugin(), name="inline")
    assert host.checks() == {} or all(isinstance(k, str) for k in host.checks())
    assert any(p.name == "inline" for p in host.plugins())
