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
from perfci.files import read_text

Loc = tuple[str | int, ...]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# A placeholder on one line: hidden from the YAML parser behind a plain token, since its
# braces would end a flow mapping ({scale: ${S:-1.0}}) and its text is ours, not YAML's.
_ONE_LINE_ENV = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}\n]*)?\}")

MAX_CONFIG_BYTES = 4 * 1024 * 1024
# Values built, aliases expanded: a real perfci.yaml has hundreds; a billion-laughs alias
# bomb has 10**9 and would run until memory ran out.
MAX_VALUES = 100_000
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TYPED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}


@dataclass
class YamlSource:
    """A parsed YAML document plus where each key path was written."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    # Values that came from the environment: errors never print them (they may be secrets).
    from_environment: set[Loc] = field(default_factory=set)
    built: int = 0
    # ``${...}`` placeholders hidden behind tokens while parsing (see ``_hide_placeholders``).
    placeholders: list[str] = field(default_factory=list)
    token: re.Pattern[str] | None = None

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
    """Parse ``path``; YAML syntax errors and unset env vars are ConfigErrors with a line.

    ``path`` must be a regular UTF-8 file of at most ``MAX_CONFIG_BYTES``
    (``/dev/zero`` or a FIFO is refused before it is read).
    """
    source = YamlSource(path=path, data=None)
    text = _hide_placeholders(read_text(path, limit=MAX_CONFIG_BYTES), source)
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
    if node is None:
        source.data = {}
        return source
    source.data = _build(node, (), source, os.environ if environ is None else environ)
    return source


def _hide_placeholders(text: str, source: YamlSource) -> str:
    """Replace every one-line ``${...}`` by a plain token, remembered in ``source``.

    The token is letters, digits and underscores, so it reads as the same kind of
    scalar wherever the placeholder stood (block or flow, quoted or not), and the
    lines do not move: file:line errors still point where the user wrote.
    """
    prefix = "__perfci_env_"
    while prefix in text:
        prefix += "_"
    source.token = re.compile(re.escape(prefix) + r"(\d+)__")

    def hide(match: re.Match[str]) -> str:
        source.placeholders.append(match.group(0))
        return f"{prefix}{len(source.placeholders) - 1}__"

    return _ONE_LINE_ENV.sub(hide, text)


def _restore(value: str, source: YamlSource) -> str:
    """``value`` with its tokens turned back into the placeholders they hid."""
    if source.token is None or not source.placeholders:
        return value
    return source.token.sub(lambda m: source.placeholders[int(m.group(1))], value)


def _build(node: yaml.Node, loc: Loc, source: YamlSource, environ: Mapping[str, str]) -> Any:
    line = node.start_mark.line + 1
    source.lines.setdefault(loc, line)
    source.built += 1
    if source.built > MAX_VALUES:
        raise ConfigError(
            f"more than {MAX_VALUES} values once aliases are expanded (an alias bomb?)",
            where=f"{source.name}:{line}",
        )
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                # "<<: *defaults": the aliased mappings' keys, which explicit keys override.
                for item in _merge_sources(value_node, source):
                    built = _build(item, loc, source, environ)
                    merged.update({k: v for k, v in built.items() if k not in merged})
                continue
            key = _scalar(key_node, loc, source)
            if isinstance(key, str):
                key = _restore(key, source)
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
        return {**{k: v for k, v in merged.items() if k not in result}, **result}
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*loc, index)
            source.lines[child] = item.start_mark.line + 1
            items.append(_build(item, child, source, environ))
        return items
    value = _scalar(node, loc, source)
    if isinstance(value, str):
        return _interpolate(_restore(value, source), loc, source, environ)
    return value


def _merge_sources(node: yaml.Node, source: YamlSource) -> list[yaml.MappingNode]:
    nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
    if not all(isinstance(item, yaml.MappingNode) for item in nodes):
        raise ConfigError(
            "a merge key (<<) takes a mapping or a list of mappings", where=_at(source, node)
        )
    return list(nodes)


def _scalar(node: yaml.Node, loc: Loc, source: YamlSource) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError("a mapping key must be a plain value", where=_at(source, node))
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "cannot read this value"
        raise ConfigError(
            f"{dotted(loc)}: invalid value: {problem}", where=_at(source, node)
        ) from None
    except (ValueError, OverflowError) as error:  # 2026-02-30: "day is out of range for month"
        raise ConfigError(
            f"{dotted(loc)}: invalid value: {error}", where=_at(source, node)
        ) from None
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
    if result != value:
        source.from_environment.add(loc)
        if _ENV.fullmatch(value.strip()):
            # A value that is one placeholder takes the type it reads as: ${SCALE:-0.2} is 0.2.
            return typed_scalar(result)
    return result


def typed_scalar(text: str) -> str | bool | int | float:
    """``text`` as a YAML plain scalar reads (bool, int, float), else ``text`` itself.

    Only the scalar resolver runs: the text is never parsed as a YAML document,
    so an environment value like ``'hunter2`` can neither fail nor be echoed.
    """
    loader = yaml.SafeLoader("")
    try:
        tag = loader.resolve(yaml.ScalarNode, text.strip(), (True, False))  # type: ignore[no-untyped-call]
        if tag not in _TYPED:
            return text
        typed = loader.construct_object(yaml.ScalarNode(tag, text.strip()))
    except (yaml.YAMLError, ValueError, OverflowError):
        return text
    finally:
        loader.dispose()
    return typed if isinstance(typed, bool | int | float) else text


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
