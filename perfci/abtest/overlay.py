"""Make a base worktree measurable with the head's measurement plan.

Both sides of ``--against`` are measured with the head's perfci.yaml, as asv
runs one benchmark suite over many commits: what is measured, and how, never
differs between the two sides. The base tree keeps its own code; only files
the plan needs and the base does not have are copied in from the head: the
modules ``target.app`` and ``target.seed`` name, ``plugins.paths``,
``target.server.config``, and whatever ``against.overlay`` lists (always
copied). A pull request that introduces perfci can therefore gate itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from perfci.abtest.worktree import Worktree
from perfci.config.model import Config
from perfci.errors import ConfigError

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".git")


def prepare_base(config: Config, tree: Worktree) -> tuple[Path, list[str]]:
    """Put the head's perfci.yaml into ``tree``; copy in what the base lacks.

    Returns the base's config path and the paths copied (relative to the
    config's directory), for the run's output.
    """
    try:
        base_config = tree.relative(config.path)
    except ValueError:
        raise ConfigError(
            f"--against: {config.path} is outside the git repository; "
            "the config must be inside it to be found in the base tree"
        ) from None
    head_root, base_root = config.path.parent, base_config.parent
    base_root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config.path, base_config)
    copied: list[str] = []
    for relative in needed_paths(config):
        if _copy_missing(head_root, base_root, relative):
            copied.append(relative.as_posix())
    for entry in config.model.against.overlay:
        relative = Path(entry)
        if relative.is_absolute() or ".." in relative.parts:
            raise ConfigError(
                f"against.overlay: {entry!r} must be a path inside the project",
                where=config.where("against", "overlay"),
            )
        if not (head_root / relative).exists():
            raise ConfigError(
                f"against.overlay: no {entry!r} in the head tree",
                where=config.where("against", "overlay"),
            )
        _replace(head_root / relative, base_root / relative)
        copied.append(relative.as_posix())
    return base_config, list(dict.fromkeys(copied))


def needed_paths(config: Config) -> list[Path]:
    """The files and module paths the measurement plan names, relative to its directory."""
    target = config.model.target
    found: list[Path] = []
    for spec in (target.app, target.seed, target.engine) if target else ():
        if spec:
            found.extend(_module_paths(spec.split(":", 1)[0]))
    found.extend(Path(p) for p in config.model.plugins.paths)
    if target and target.server.config:
        found.append(Path(target.server.config))
    if target and target.migrations:
        found.append(Path(target.migrations))
    return [p for p in found if not p.is_absolute() and ".." not in p.parts]


def _module_paths(module: str) -> list[Path]:
    """``a.b.c`` → a, a.py, a/b, a/b.py, a/b/c, a/b/c.py: outermost first."""
    parts = module.split(".")
    paths: list[Path] = []
    for end in range(1, len(parts) + 1):
        stem = Path(*parts[:end])
        paths += [stem, stem.with_suffix(".py")]
    return paths


def _copy_missing(head_root: Path, base_root: Path, relative: Path) -> bool:
    """Copy ``relative`` from head to base when the head has it and the base does not.

    Missing parents are copied whole by their own, earlier entry (outermost first).
    """
    source, destination = head_root / relative, base_root / relative
    if not source.exists() or destination.exists() or not destination.parent.is_dir():
        return False
    _replace(source, destination)
    return True


def _replace(source: Path, destination: Path) -> None:
    if destination.is_dir() and not destination.is_symlink():
        shutil.rmtree(destination)
    elif destination.exists() or destination.is_symlink():
        destination.unlink()
    destination.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, destination, ignore=_IGNORED)
    else:
        shutil.copy2(source, destination)
