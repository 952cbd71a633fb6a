"""Nothing printed drives the terminal or starts a GitHub workflow command."""

from __future__ import annotations

import re

import pytest

from perfci.errors import ConfigError
from perfci.github.workflow_commands import annotation_lines
from perfci.reporters import render_terminal
from perfci.safetext import for_terminal
from tests.hardening.test_comment_gfm import hostile_result

HOSTILE = [
    "\x1b]0;owned\x07title",  # OSC: set the window title
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1b[2J\x1b[1;1Hcleared",  # CSI: clear the screen
    "\x9b2J 8-bit CSI",
    "a\n::add-mask::hunter2",
    "a\n    ::stop-commands::tok",
    "a\r\n\t::error::forged",
    "bidi \u202eevil\u202c",
]
COMMAND_LINE = re.compile(r"^(?:\s|\x1b\[[0-9;]*m)*::", re.MULTILINE)


@pytest.mark.parametrize("payload", HOSTILE)
@pytest.mark.parametrize("color", [False, True])
def test_the_terminal_report_has_no_foreign_escape_and_no_command(
    payload: str, color: bool
) -> None:
    text = render_terminal(hostile_result(payload), color=color, verbose=True)
    assert not COMMAND_LINE.search(text)
    assert "\x07" not in text and "\x9b" not in text and "\u202e" not in text
    # Only rich's own colour codes (SGR, "ESC [ ... m") remain, and only with colour.
    foreign = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "\x1b" not in foreign
    assert color or "\x1b" not in text


@pytest.mark.parametrize("payload", HOSTILE)
def test_an_error_line_is_one_printable_line(payload: str) -> None:
    line = str(ConfigError(f"unknown key {payload!s}", where=payload))
    assert "\n" not in line and "\x1b" not in line and "\r" not in line
    assert not COMMAND_LINE.search(line)


@pytest.mark.parametrize("payload", HOSTILE)
def test_annotations_are_one_command_each(payload: str) -> None:
    lines = list(annotation_lines(hostile_result(payload)))
    assert all("\n" not in line and "\x1b" not in line for line in lines)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)


def test_for_terminal_keeps_ordinary_text() -> None:
    assert for_terminal("GET /a::b\n  SELECT 1;\tx") == "GET /a::b\n  SELECT 1;\tx"
    assert for_terminal("  ::add-mask::x") == "  \u200b::add-mask::x"
