"""Find, parse and validate perfci.yaml; every error names file, line and key."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from perfci.check import Check, CheckOptions, EndpointOptions
from perfci.config.model import Config, ConfigModel, EndpointConfig
from perfci.config.yamlsource import Loc, YamlSource, dotted, load_yaml
from perfci.errors import ConfigError
from perfci.target.endpoint import Endpoint

CONFIG_NAMES = ("perfci.yaml", "perfci.yml")


def find_config(start: Path | None = None) -> Path:
    """perfci.yaml in ``start`` (default: the working directory) or the nearest parent."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    raise ConfigError(f"no perfci.yaml in {here} or any parent directory (use --config PATH)")


def read_config(
    path: Path, environ: Mapping[str, str] | None = None
) -> tuple[ConfigModel, YamlSource]:
    """Parse and validate everything but the checks' own sections.

    Nothing is imported: the target's code is imported from beside ``path``
    while it is measured (``perfci.target.build.importable``).
    """
    source = load_yaml(path, environ)
    if not isinstance(source.data, dict):
        raise ConfigError("the top level must be a mapping of sections", where=source.where(()))
    model = validate(ConfigModel, source.data, (), source)
    assert isinstance(model, ConfigModel)
    _check_endpoints(model, source)
    return model, source


def _check_endpoints(model: ConfigModel, source: YamlSource) -> None:
    """Every endpoint parses (method, path, headers) and names a distinct metric subject."""
    seen: dict[str, int] = {}
    for index, item in enumerate(model.target.endpoints):
        loc = ("target", "endpoints", index)
        try:
            if isinstance(item, EndpointConfig):
                endpoint = Endpoint.parse(item.request, json=item.json_body, headers=item.headers)
            else:
                endpoint = Endpoint.parse(item)
        except ValueError as error:
            raise ConfigError(f"{dotted(loc)}: {error}", where=source.where(loc)) from None
        if endpoint.subject in seen:
            raise ConfigError(
                f"{dotted(loc)}: duplicate endpoint {endpoint.subject!r} "
                f"(also target.endpoints[{seen[endpoint.subject]}]): their metrics would collide",
                where=source.where(loc),
            )
        seen[endpoint.subject] = index


def bind_checks(
    model: ConfigModel,
    source: YamlSource,
    checks: Mapping[str, type[Check]],
) -> Config:
    """Validate ``checks.<name>`` sections against the plugins' Options models.

    An option a check has renamed (``Options.renamed``) is read as its new
    name, with a located warning in ``Config.warnings``.
    """
    options: dict[str, Any] = {}
    warnings: list[str] = []
    for name, raw in model.checks.items():
        if name not in checks:
            raise ConfigError(
                f"checks.{name}: unknown check {name!r}{suggest(name, checks)}",
                where=source.where(("checks", name)),
            )
        section = _renamed(checks[name].Options, raw or {}, ("checks", name), source, warnings)
        options[name] = validate(checks[name].Options, section, ("checks", name), source)
        chosen = options[name]
        if (
            isinstance(chosen, EndpointOptions)
            and chosen.enabled
            and not (model.target.endpoints if chosen.endpoints is None else chosen.endpoints)
        ):
            # It would measure nothing and pass: fail closed.
            raise ConfigError(
                f"checks.{name}: exercises endpoints but none are listed "
                "(add target.endpoints, or set enabled: false)",
                where=source.where(("checks", name)),
            )
    return Config(
        model=model,
        path=source.path.resolve(),
        check_options=options,
        lines=source.lines,
        warnings=tuple(warnings),
    )


def _renamed(
    options: type[CheckOptions], raw: Any, loc: Loc, source: YamlSource, warnings: list[str]
) -> Any:
    """``raw`` with the old spellings of renamed options under their new names."""
    if not isinstance(raw, dict):
        return raw  # validation reports it
    section = dict(raw)
    for old, new in options.renamed.items():
        if old not in section:
            continue
        where = source.where((*loc, old))
        if new in section:
            raise ConfigError(
                f"{dotted((*loc, old))}: was renamed {new!r}, which is also set: keep only {new!r}",
                where=where,
            )
        section[new] = section.pop(old)
        warnings.append(
            f"{where}: {dotted((*loc, old))} is deprecated and will be removed in the next "
            f"release: write {new!r}"
        )
    return section


def validate(model: type[BaseModel], data: Any, loc: Loc, source: YamlSource) -> BaseModel:
    """``model.model_validate(data)``, turning the first error into a located ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        # pydantic names the member of a union it tried ("function-before[parse_fraction(), …]").
        first["loc"] = tuple(p for p in first["loc"] if not str(p).startswith("function-"))
        where_loc = (*loc, *first["loc"])
        problem = _describe(first, model, tuple(first["loc"]))
        if any(where_loc[:end] in source.from_environment for end in range(len(where_loc) + 1)):
            # Substituted from ${VAR}: the value may be a secret, so the message never shows it.
            expected = _EXPECTED.get(first["type"], "a valid value")
            problem = f"the value from the environment is not {expected.removeprefix('expected ')}"
        raise ConfigError(
            f"{dotted(where_loc)}: {problem}", where=source.where(where_loc)
        ) from None


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or, failing a close match, the list of choices."""
    options = sorted(str(c) for c in choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known: {', '.join(options)})" if options else ""


_EXPECTED = {
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "dict_type": "expected a mapping",
    "list_type": "expected a list",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "date_from_datetime_parsing": "expected a date like 2026-12-31",
    "date_parsing": "expected a date like 2026-12-31",
    "date_type": "expected a date like 2026-12-31",
}


def _describe(error: Mapping[str, Any], model: type[BaseModel], loc: Loc) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return f"unknown key {key!r}{suggest(key, _fields_at(model, loc[:-1]))}"
    if kind == "missing":
        return "required key is missing"
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}, got {value!r}"
    if kind == "value_error":
        return str(error["ctx"]["error"]) if "ctx" in error else str(error["msg"])
    message = str(error["msg"])
    return message[:1].lower() + message[1:] + (f", got {value!r}" if value is not None else "")


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names of the (nested) model at ``loc``, for did-you-mean."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (
            isinstance(current, type) and issubclass(current, BaseModel)
        ):
            current = _inner_model(current)
            if isinstance(part, int):
                continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            # A dict keyed by user names (budgets, thresholds): step into its value type.
            current = _inner_model(current)
            continue
        current = field.annotation
    current = _inner_model(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None or get_args(annotation):
        for arg in get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


__all__ = ["CONFIG_NAMES", "CheckOptions", "bind_checks", "find_config", "read_config", "suggest"]
