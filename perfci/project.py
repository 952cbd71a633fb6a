"""Load a perfci project: perfci.yaml, its plugins, each check's validated options."""

from __future__ import annotations

from pathlib import Path

from perfci.config.load import bind_checks, find_config, read_config
from perfci.config.model import Config
from perfci.errors import ConfigError
from perfci.plugin.manager import PluginHost


def load_project(config_path: Path | None) -> tuple[Config, PluginHost]:
    """Read perfci.yaml, load every plugin, validate each check's section.

    Everything relative (the target's modules, seed, local plugins, files)
    is found beside perfci.yaml: for ``--against``, the base tree gets its own copy.
    """
    if config_path is not None and not config_path.is_file():
        raise ConfigError(f"no such config file: {config_path}")
    path = config_path or find_config()
    model, source = read_config(path)
    host = PluginHost()
    config_dir = path.resolve().parent
    host.load(
        local_paths=[config_dir / p for p in model.plugins.paths],
        disabled=model.plugins.disable,
    )
    config = bind_checks(model, source, host.checks())
    host.configure(config)
    return config, host
