"""Reporters: turn a ``RunResult`` into text (terminal, Markdown, JUnit XML, JSON).

Reporters never print: they return a string, and ``write_report`` puts it in a
file atomically. Only the CLI prints.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from perfci.reporters.jsonfile import render_json
from perfci.reporters.junit import render_junit
from perfci.reporters.markdown import MARKDOWN_MARKER, render_markdown
from perfci.reporters.terminal import render_terminal

__all__ = [
    "MARKDOWN_MARKER",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_terminal",
    "write_report",
]


def write_report(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, creating parent directories.

    The text goes to a temporary file in the same directory, is flushed to disk,
    then renamed over ``path``: a reader sees the old file or the new one, never
    half of one, and an interrupted write leaves no partial report behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 honours the umask, unlike tempfile's private 0o600.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
