"""Untrusted text made safe to print: no control sequences, no GitHub workflow commands.

Endpoint paths, SQL, plan text, reasons and error messages can hold bytes a
target, a results file or a user put there. Printed raw, an OSC or CSI
sequence drives the terminal, and a line that begins (after indentation,
which the Actions runner trims) with ``::`` is a workflow command such as
``::add-mask::`` or ``::stop-commands::``.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls (8-bit CSI/OSC), and the Unicode
# bidirectional overrides and isolates that reorder what a reader sees.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A line whose first non-blank characters (SGR colour codes aside) are "::".
_COMMAND = re.compile(r"^((?:[ \t\f\v]|\x1b\[[0-9;]*m)*)::", re.MULTILINE)
ZWSP = "\u200b"


def printable(text: str) -> str:
    """``text`` without control characters; tab and newline kept, carriage returns dropped."""
    return _CONTROL.sub("", text)


def one_line(text: str) -> str:
    """``text`` on one printable line: every run of whitespace (newlines too) is one space."""
    return " ".join(printable(text.replace("\r", " ")).split())


def no_workflow_commands(text: str) -> str:
    """No line of ``text`` can be read as a workflow command: a zero-width space goes
    before a leading ``::`` (the runner's trimming keeps it, and it shows as nothing)."""
    return _COMMAND.sub(lambda m: f"{m.group(1)}{ZWSP}::", text)


def for_terminal(text: str) -> str:
    """``printable`` then ``no_workflow_commands``: what every printed report goes through."""
    return no_workflow_commands(printable(text))
