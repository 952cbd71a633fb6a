"""Reporters: turn a ``RunResult`` into text (terminal, Markdown, JUnit XML, JSON).

Reporters never print: they return a string, and ``write_report`` puts it in a
file atomically. Only the CLI prints.
"""

from __future__ import annotations

from pathlib import Path

from perfci.errors import ReportError
from perfci.files import write_output
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


def write_report(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8) to what ``path`` is; ``ReportError`` (one line) when it cannot.

    ``-`` is stdout; a device or FIFO (``/dev/stdout``, ``/dev/full``) is
    streamed to, never replaced; a regular file or a new path is replaced
    atomically (``perfci.files.write_atomic``), parent directories created.
    """
    try:
        write_output(path, text)
    except OSError as error:
        raise ReportError(
            f"cannot write report: {error.strerror or error}", where=str(path)
        ) from None
