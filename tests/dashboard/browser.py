"""Headless Chromium against the dashboard served by a real server (werkzeug, in a thread).

The flags and the console filter are the HTML report's browser tests' own
(``tests/reporters/html/test_browser.py``); here Chromium opens http:// URLs.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from tests.reporters.html.test_browser import _FLAGS, TIMEOUT_S, _console

LAPTOP = (1366, 768)
PHONE = (390, 844)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` under werkzeug's threaded server on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@dataclass(frozen=True)
class Page:
    dom: str
    status: dict[str, Any]
    console: list[str]


def _chromium(
    chromium: str, url: str, profile: Path, size: tuple[int, int], *action: str
) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [
            chromium,
            *_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={size[0]},{size[1]}",
            *action,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed


def load(chromium: str, url: str, tmp_path: Path, size: tuple[int, int] = LAPTOP) -> Page:
    """The page's DOM after load, what its status script saw, and the console's lines."""
    completed = _chromium(chromium, url, tmp_path / "profile-dom", size, "--dump-dom")
    dom = completed.stdout
    match = re.search(r'<output id="render-status"[^>]*>(.*?)</output>', dom, re.S)
    assert match, f"the page's status script did not run: {url}"
    return Page(dom, json.loads(match.group(1)), _console(completed.stderr))


def screenshot(chromium: str, url: str, path: Path, tmp_path: Path, size: tuple[int, int]) -> bytes:
    """A PNG of the page at ``size`` (width, height), saved at ``path``."""
    _chromium(chromium, url, tmp_path / "profile-shot", size, f"--screenshot={path}")
    return path.read_bytes()


def hrefs(dom: str) -> list[str]:
    """Every link target in the DOM (HTML ``href`` and SVG ``href``), unescaped."""
    found = re.findall(r'<a\b[^>]*\bhref="([^"]*)"', dom)
    return [h.replace("&amp;", "&") for h in found]
