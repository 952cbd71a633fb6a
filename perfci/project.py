"""Load a perfci project: perfci.yaml, its plugins, each check's validated options."""

from __future__ import annotations

from pathlib import Path

from perfci.config.load import bind_checks, find_config, read_config
from perfci.config.model import Config, ConfigModel
from perfci.errors import ConfigError
from perfci.plugin.manager import PluginHost
from perfci.target.build import importable


def load_project(config_path: Path | None) -> tuple[Config, PluginHost]:
    """Read perfci.yaml, load every plugin, validate each check's section.

    Everything relative (the target's modules, seed, local plugins, files)
    is found beside perfci.yaml: for ``--against``, the base tree gets its own copy.
    """
    path = _config_file(config_path)
    model, source = read_config(path)
    host = load_plugins(model, path)
    config = bind_checks(model, source, host.checks())
    host.configure(config)
    return config, host


def load_plugins(model: ConfigModel | None, path: Path | None) -> PluginHost:
    """Built-ins, installed plugins, and the local plugin directories perfci.yaml names."""
    host = PluginHost()
    if model is None or path is None:
        host.load()
        return host
    config_dir = path.resolve().parent
    with importable(config_dir):  # a local plugin may import the project's own modules
        host.load(
            local_paths=[config_dir / p for p in model.plugins.paths],
            disabled=model.plugins.disable,
        )
    return host


def read_project(config_path: Path | None, *, required: bool = True) -> Config | None:
    """perfci.yaml without its plugins: for commands that need only its rules or paths.

    Without ``--config``, the nearest perfci.yaml; none found is an error when
    ``required``, else None (``compare`` and ``plugins`` work without one).
    """
    try:
        path = _config_file(config_path)
    except ConfigError:
        if required or config_path is not None:
            raise
        return None
    model, source = read_config(path)
    return Config(model=model, path=path.resolve(), check_options={}, lines=source.lines)


def _config_file(config_path: Path | None) -> Path:
    if config_path is not None and not config_path.exists():
        raise ConfigError(f"no such config file: {config_path}")
    return config_path or find_config()  # a device or FIFO: the loader refuses it
