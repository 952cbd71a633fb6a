"""The self-contained HTML report: verdicts with evidence, trend charts, load stages.

``render_html(runs)`` is pure (runs in, a page out); ``perfci.cli.report`` reads
the history store and writes the file.
"""

from __future__ import annotations

from perfci.reporters.html.page import render_html

__all__ = ["render_html"]
