"""perfci's files on disk: one atomic writer, one versioned JSON reader, one strict JSON codec.

Everything perfci writes (baselines, results, reports, history exports) goes
through ``write_atomic`` or ``write_output``, and everything it reads back
through ``read_json``/``read_versioned``, as asv does with its
``util.write_json``/``util.load_json`` pair.

JSON has no infinity or NaN. perfci writes non-finite floats as the strings
``"Infinity"``, ``"-Infinity"`` and ``"NaN"`` (``encode_finite``); the readers
refuse the non-standard literals, numbers that overflow a float (``1e400``),
integers of absurd size and documents nested deeper than ``MAX_DEPTH``, so a
hostile file is a one-line error, never a traceback or a hang.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfci.errors import ConfigError, PerfciError
from perfci.safetext import no_workflow_commands
from perfci.units import encode_finite

MAX_BYTES = 256 * 1024 * 1024  # no perfci file is near this; /dev/zero is
MAX_DEPTH = 64  # results nest 5 deep; a hostile file may nest 100,000 deep
MAX_INT_DIGITS = 30  # counts and timestamps; 10**400 is not a measurement

JSONObject = dict[str, Any]


# --- encoding -------------------------------------------------------------------------------


def dumps(data: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """Strict JSON (non-finite floats encoded), ending with a newline when indented.

    Documents are encoded as they are first; only one holding a non-finite float
    (rare) is walked to spell those (``encode_finite``): the walk cost a stored
    run's 228 KiB a third of the server's time to answer for it.
    """
    try:
        text = json.dumps(
            data, indent=indent, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False
        )
    except ValueError:  # a non-finite float somewhere
        text = json.dumps(
            encode_finite(data),
            indent=indent,
            sort_keys=sort_keys,
            ensure_ascii=False,
            allow_nan=False,
        )
    return text + "\n" if indent is not None else text


# --- decoding----------------------------------------------------------------------------


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON (perfci writes it as the string {name!r})")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"number {text[:40]}… is out of range")
    return int(text)


def loads(text: str) -> Any:
    """Parse strict JSON; ValueError with a short message on anything hostile."""
    _check_depth(text)
    try:
        data = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except json.JSONDecodeError as error:
        raise ValueError(f"{error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:  # pragma: no cover - _check_depth stops this first
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    _check_strings(data)
    return data


def _check_strings(value: Any) -> None:
    """Refuse lone surrogates (``"\\ud800"``): they cannot be written as UTF-8 anywhere later."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone surrogate (not Unicode text)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


def _check_depth(text: str) -> None:
    """Refuse deep nesting before ``json`` recurses into it (strings are skipped)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        elif char in "]}":
            depth -= 1


def read_text(path: Path, *, error: type[PerfciError] = ConfigError, limit: int = MAX_BYTES) -> str:
    """UTF-8 text of a regular file (at most ``limit`` bytes); ``error`` naming ``path`` otherwise.

    Devices and FIFOs are refused before they are opened: ``/dev/zero`` never
    ends and a FIFO with no writer blocks forever.
    """
    where = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error("no such file", where=where) from None
    except OSError as problem:
        raise error(f"cannot read: {problem.strerror or problem}", where=where) from None
    if stat.S_ISDIR(info.st_mode):
        raise error("cannot read: is a directory", where=where)
    if not stat.S_ISREG(info.st_mode):
        raise error("cannot read: not a regular file (a device, FIFO or socket)", where=where)
    too_large = f"cannot read: larger than {limit / (1024 * 1024):g} MiB"
    if info.st_size > limit:
        raise error(too_large, where=where)
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as problem:
        raise error(f"cannot read: {problem.strerror or problem}", where=where) from None
    if len(data) > limit:
        raise error(too_large, where=where)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error("not UTF-8 text (a corrupt file?)", where=where) from None


def read_json(path: Path, *, error: type[PerfciError] = ConfigError) -> JSONObject:
    """The JSON object in ``path``; ``error`` naming the file on any problem."""
    return parse_object(read_text(path, error=error), str(path), error=error)


def parse_object(text: str, where: str, *, error: type[PerfciError] = ConfigError) -> JSONObject:
    """``text`` parsed as a JSON object (``loads``' guards); ``error`` naming ``where``."""
    try:
        data = loads(text)
    except ValueError as problem:
        raise error(f"not valid JSON: {problem}", where=where) from None
    if not isinstance(data, dict):
        kind = {list: "a list", str: "text", bool: "a boolean", type(None): "null"}.get(
            type(data), "a number"
        )
        raise error(f"expected a JSON object at the top level, got {kind}", where=where)
    return data


@dataclass(frozen=True)
class Versioned:
    """A file format stamped ``{key: version}`` (asv's ``api_version``), read up to ``current``.

    A newer version is refused (upgrade perfci), an older one is run through
    ``migrations`` (from-version -> a function returning the next version), a
    missing or non-integer version means the file is not ``what``.
    """

    key: str
    current: int
    what: str
    migrations: Mapping[int, Callable[[JSONObject], JSONObject]] = field(default_factory=dict)

    def check(
        self, data: JSONObject, where: str, *, error: type[PerfciError] = ConfigError
    ) -> JSONObject:
        """``data`` brought to ``current``; ``error`` naming ``where`` when it cannot be."""
        if self.key not in data:
            raise error(f"not {self.what} (no {self.key!r} key)", where=where)
        version = data[self.key]
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise error(
                f"not {self.what}: {self.key} is {version!r}, not a version number", where=where
            )
        if version > self.current:
            raise error(
                f"written by a newer perfci ({self.key} {version} > {self.current}); "
                "upgrade perfci",
                where=where,
            )
        while version < self.current:
            step = self.migrations.get(version)
            if step is None:
                raise error(
                    f"{self.key} {version} is too old: no migration to {self.current}",
                    where=where,
                )
            data = step(data)
            version += 1
        return data


def read_versioned(
    path: Path, spec: Versioned, *, error: type[PerfciError] = ConfigError
) -> JSONObject:
    """The JSON object in ``path``, checked and migrated to ``spec.current``."""
    return spec.check(read_json(path, error=error), str(path), error=error)


# --- writing --------------------------------------------------------------------------------


def write_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically and durably.

    The text goes to a temporary file beside ``path``, which is fsynced and
    renamed over it; then the directory is fsynced so the rename survives a
    crash. Readers see the old file or the new one, never a part; on any error
    the temporary file is removed and the old file is left as it was. The new
    file keeps the old one's permissions, else ``mode``, else 0o666 minus the umask.
    Raises OSError.
    """
    path = Path(path)
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        mode = stat.S_IMODE(os.stat(path).st_mode)
    temp = directory / f".{path.name}.{secrets.token_hex(4)}.tmp"
    # os.open with 0o666 honours the umask, unlike tempfile's private 0o600.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            if mode is not None:
                os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    fsync_directory(directory)


def fsync_directory(directory: Path) -> None:
    """Make a rename durable; some platforms cannot open directories, which is fine there."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_output(path: Path | str, text: str) -> None:
    """Write a report to what ``path`` is: ``-`` is stdout, a device or FIFO is streamed to,
    a regular file (or a new path) is replaced atomically. Symlinks are followed, so
    ``/dev/stdout`` reaches the terminal instead of being replaced. Raises OSError.
    """
    if str(path) == "-":
        sys.stdout.write(no_workflow_commands(text))
        sys.stdout.flush()
        return
    path = Path(path)
    try:
        info = os.stat(path)  # follows symlinks: write to what the link names
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if info is not None and not stat.S_ISREG(info.st_mode):
        # A device, FIFO or socket: stream into it, never rename over it.
        with open(path, "w", encoding="utf-8", newline="") as stream:
            stream.write(no_workflow_commands(text))  # /dev/stdout may be the job's log
        return
    if path.is_symlink():
        path = path.resolve()
    write_atomic(path, text)


#: perfci's own directory in a project: history, kept profiles, benchmark storage.
PERFCI_DIR = ".perfci"
_GITIGNORE = "# Made by perfci: history, profiles and benchmark data, never committed.\n*\n"


def make_directory(path: Path) -> Path:
    """``mkdir -p path``; a ``.perfci`` directory made on the way gets a ``.gitignore`` of ``*``.

    So that what perfci keeps in a project never shows up in ``git status``.
    """
    made = [p for p in (path, *path.parents) if p.name == PERFCI_DIR and not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for directory in made:
        ignore = directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text(_GITIGNORE, encoding="utf-8")
    return path
