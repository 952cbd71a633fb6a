"""Read YAML keeping the line of every key, and interpolate ``${ENV_VAR}``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from perfci.errors import ConfigError

Loc = tuple[str | int, ...]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class YamlSource:
    """A parsed YAML document plus where each key path was written."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    def line_of(self, loc: Loc) -> int | None:
        """The line of ``loc`` or of its nearest written ancestor."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def where(self, loc: Loc) -> str:
        line = self.line_of(loc)
        return f"{self.name}:{line}" if line is not None else self.name


def load_yaml(path: Path, environ: Mapping[str, str] | None = None) -> YamlSource:
    """Parse ``path``; YAML syntax errors and unset env vars are ConfigErrors with a line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read config: {error.strerror}", where=str(path)) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or error.context or "invalid YAML"
        where = f"{path.name}:{line}" if line else path.name
        raise ConfigError(f"invalid YAML: {problem}", where=where) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"invalid YAML: {error}", where=path.name) from None
    source = YamlSource(path=path, data=None)
    if node is None:
        source.data = {}
        return source
    source.data = _build(node, (), source, os.environ if environ is None else environ)
    return source


def _build(node: yaml.Node, loc: Loc, source: YamlSource, environ: Mapping[str, str]) -> Any:
    line = node.start_mark.line + 1
    source.lines.setdefault(loc, line)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, loc, source)
            if isinstance(key, list | dict):
                raise ConfigError(
                    "a mapping key must be a plain value", where=_at(source, key_node)
                )
            if key in result:
                raise ConfigError(
                    f"duplicate key {dotted((*loc, key))!r}", where=_at(source, key_node)
                )
            child = (*loc, key)
            source.lines[child] = key_node.start_mark.line + 1
            result[key] = _build(value_node, child, source, environ)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*loc, index)
            source.lines[child] = item.start_mark.line + 1
            items.append(_build(item, child, source, environ))
        return items
    value = _scalar(node, loc, source)
    if isinstance(value, str):
        return _interpolate(value, loc, source, environ)
    return value


def _scalar(node: yaml.Node, loc: Loc, source: YamlSource) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as error:
        raise ConfigError(f"invalid value: {error}", where=_at(source, node)) from None
    finally:
        loader.dispose()


def _interpolate(
    value: str, loc: Loc, source: YamlSource, environ: Mapping[str, str]
) -> str | bool | int | float:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(
            f"{dotted(loc)}: environment variable {name} is not set "
            f"(write ${{{name}:-default}} to give a default)",
            where=source.where(loc),
        )

    result = _ENV.sub(replace, value)
    if result != value and _ENV.fullmatch(value.strip()):
        # A value that is one placeholder takes the type it reads as: ${SCALE:-0.2} is 0.2.
        typed = yaml.safe_load(result) if result.strip() else None
        if isinstance(typed, bool | int | float):
            return typed
    return result


def _at(source: YamlSource, node: yaml.Node) -> str:
    return f"{source.name}:{node.start_mark.line + 1}"


def dotted(loc: Loc) -> str:
    """A location as perfci.yaml spells it: ``checks.load.stages[2]``."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(top level)"
