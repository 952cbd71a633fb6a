"""The plugin manager: registers the built-in checks, installed and local plugins alike.

Built-ins are the modules named in :data:`perfci.checks.BUILTIN_PLUGINS` (like
pytest's ``default_plugins``); the ``perfci`` entry-point group is for third
parties only; ``plugins.paths`` directories hold a project's local plugins.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import traceback
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pluggy

from perfci import __version__
from perfci.check import Check
from perfci.checks import BUILTIN_PLUGINS
from perfci.config.load import suggest
from perfci.errors import CheckCrashed, ConfigError, PerfciError
from perfci.plugin import spec as hookspecs

if TYPE_CHECKING:
    from perfci.config.model import Config
    from perfci.measurement import Measurement
    from perfci.result import RunResult
    from perfci.target.context import RunContext

ENTRY_POINT_GROUP = "perfci"


@dataclass(frozen=True)
class PluginInfo:
    """What ``perfci plugins`` lists."""

    name: str
    source: str  # "built-in", "entry point", "local"
    version: str
    location: str
    checks: tuple[str, ...] = ()


class PluginHost:
    """A typed facade over pluggy: the engine calls these methods, never ``pm.hook``."""

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._infos: dict[str, PluginInfo] = {}
        self._checks: dict[str, type[Check]] | None = None
        self._check_owner: dict[str, str] = {}

    # --- registration -----------------------------------------------------

    def load(self, local_paths: Sequence[Path] = (), disabled: Sequence[str] = ()) -> None:
        """Register the built-in checks, entry-point plugins and local plugin modules."""
        for name in disabled:
            self._pm.set_blocked(name)
        for module_name in BUILTIN_PLUGINS:
            name = builtin_name(module_name)
            if not self._pm.is_blocked(name):
                self.register(
                    importlib.import_module(module_name),
                    name=name,
                    source="built-in",
                    version=__version__,
                    location=module_name,
                )
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if self._pm.is_blocked(ep.name):
                continue
            module = self._import_entry_point(ep)
            dist = ep.dist
            self.register(
                module,
                name=ep.name,
                source="entry point",
                version=dist.version if dist else "?",
                location=f"{dist.name if dist else '?'}:{ep.value}",
            )
        for directory in local_paths:
            if not directory.is_dir():
                raise ConfigError(f"plugins.paths: {directory} is not a directory")
            for file in sorted(directory.glob("*.py")):
                if file.name.startswith("_") or self._pm.is_blocked(file.stem):
                    continue
                self.register(
                    _import_file(file),
                    name=file.stem,
                    source="local",
                    version="-",
                    location=str(file),
                )
        self._check_pending()
        known = {builtin_name(m) for m in BUILTIN_PLUGINS}
        unknown = (
            set(disabled)
            - set(self._infos)
            - known
            - _entry_point_names()
            - _local_names(local_paths)
        )
        if unknown:
            raise ConfigError(f"plugins.disable: no plugin named {sorted(unknown)[0]!r}")

    def register(
        self,
        plugin: object,
        *,
        name: str,
        source: str = "local",
        version: str = "-",
        location: str = "",
    ) -> None:
        """Register one plugin object or module (tests and embedders use this directly)."""
        if self._pm.is_blocked(name):
            return
        try:
            self._pm.register(plugin, name=name)
        except ValueError as error:
            raise ConfigError(f"plugin {name!r} cannot be registered: {error}") from None
        except pluggy.PluginValidationError as error:
            raise ConfigError(f"plugin {name!r} is invalid: {error}") from None
        self._infos[name] = PluginInfo(name, source, version, location)
        self._checks = None

    def _check_pending(self) -> None:
        """A hook implementation that matches no hookspec (a typo) is an error."""
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as error:
            found = re.search(r"unknown hook '(\w+)'", str(error))
            hook = found.group(1) if found else "?"
            known = [n for n in dir(hookspecs) if n.startswith("perfci_")]
            plugin = self._pm.get_name(error.plugin) or "?"
            raise ConfigError(
                f"plugin {plugin!r} is invalid: unknown hook {hook!r}{suggest(hook, known)}"
            ) from None

    # --- phase 1: startup --------------------------------------------------

    def checks(self) -> dict[str, type[Check]]:
        """Every check class by name; a duplicate name is a configuration error."""
        if self._checks is not None:
            return self._checks
        found: dict[str, type[Check]] = {}
        for impl in reversed(self._pm.hook.perfci_checks.get_hookimpls()):
            name = impl.plugin_name
            with self._blame("perfci_checks"):
                returned = impl.function() or ()
                if not isinstance(returned, Iterable):
                    raise ConfigError(f"plugin {name!r}: perfci_checks must return a list")
                classes = list(returned)
            for cls in classes:
                if not (isinstance(cls, type) and issubclass(cls, Check)):
                    raise ConfigError(
                        f"plugin {name!r}: perfci_checks returned {cls!r}, not a Check class"
                    )
                if cls.name in found:
                    raise ConfigError(
                        f"check {cls.name!r} is provided by both plugin "
                        f"{self._check_owner[cls.name]!r} and plugin {name!r} "
                        "(disable one under plugins.disable)"
                    )
                found[cls.name] = cls
                self._check_owner[cls.name] = name
        for plugin_name, info in self._infos.items():
            owned = tuple(c for c, owner in self._check_owner.items() if owner == plugin_name)
            self._infos[plugin_name] = PluginInfo(
                info.name, info.source, info.version, info.location, owned
            )
        self._checks = found
        return found

    def plugins(self) -> list[PluginInfo]:
        self.checks()
        return sorted(self._infos.values(), key=lambda i: (i.source != "built-in", i.name))

    def configure(self, config: Config) -> None:
        with self._blame("perfci_configure"):
            self._pm.hook.perfci_configure(config=config)

    # --- phase 2: target ---------------------------------------------------

    def target_ready(self, ctx: RunContext) -> None:
        with self._blame("perfci_target_ready"):
            self._pm.hook.perfci_target_ready(ctx=ctx)

    # --- phase 3: measure --------------------------------------------------

    def check_finished(self, check: str, measurements: Sequence[Measurement]) -> None:
        with self._blame("perfci_check_finished"):
            self._pm.hook.perfci_check_finished(check=check, measurements=measurements)

    # --- phase 4: report ---------------------------------------------------

    def run_finished(self, result: RunResult) -> None:
        with self._blame("perfci_run_finished"):
            self._pm.hook.perfci_run_finished(result=result)

    # --- errors -------------------------------------------------------------

    @contextmanager
    def _blame(self, hook: str) -> Iterator[None]:
        """Turn a crash inside a plugin's hook into one line naming the plugin."""
        try:
            yield
        except PerfciError:
            raise
        except Exception as error:
            culprit = self.culprit(error)
            raise CheckCrashed(
                f"plugin {culprit!r} crashed in {hook}: {type(error).__name__}: {error}"
            ) from error

    def culprit(self, error: BaseException) -> str:
        """The registered plugin whose code raised ``error`` (innermost frame wins)."""
        files = {}
        for plugin in self._pm.get_plugins():
            module = sys.modules.get(getattr(plugin, "__module__", "") or "") or plugin
            file = getattr(module, "__file__", None)
            if file:
                files[str(Path(file).resolve())] = self._pm.get_name(plugin) or "?"
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            name = files.get(str(Path(frame.filename).resolve()))
            if name:
                return name
        return "unknown"

    def _import_entry_point(self, ep: EntryPoint) -> ModuleType:
        try:
            loaded = ep.load()
        except Exception as error:
            raise ConfigError(
                f"plugin {ep.name!r} ({ep.value}) failed to import: {type(error).__name__}: {error}"
            ) from None
        if not isinstance(loaded, ModuleType):
            raise ConfigError(f"plugin {ep.name!r} ({ep.value}) must name a module")
        return loaded


def _import_file(file: Path) -> ModuleType:
    module_name = f"perfci_local_plugin_{file.stem}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise ConfigError(f"plugin {file.stem!r} cannot be loaded", where=str(file))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(module_name, None)
        line = _last_line_in(error, file)
        raise ConfigError(
            f"plugin {file.stem!r} failed to import: {type(error).__name__}: {error}",
            where=f"{file}:{line}" if line else str(file),
        ) from None
    return module


def _last_line_in(error: BaseException, file: Path) -> int | None:
    if isinstance(error, SyntaxError) and error.lineno:
        return error.lineno
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if Path(frame.filename).resolve() == file.resolve():
            return frame.lineno
    return None


def builtin_name(module_name: str) -> str:
    """The plugin name of a built-in module: its last dotted part (``perfci.checks.pool``: pool)."""
    return module_name.rpartition(".")[2]


def _entry_point_names() -> set[str]:
    return {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _local_names(paths: Sequence[Path]) -> set[str]:
    return {f.stem for p in paths if p.is_dir() for f in p.glob("*.py")}


__all__ = ["ENTRY_POINT_GROUP", "PluginHost", "PluginInfo"]
