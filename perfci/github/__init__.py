"""Publishing a run's results to GitHub: commit status, sticky PR comment, job summary, annotations.

Driven by the standard GitHub Actions environment (``GITHUB_API_URL``,
``GITHUB_REPOSITORY``, ``GITHUB_EVENT_PATH``, ``GITHUB_TOKEN``...), so the same
code serves github.com and GitHub Enterprise. ``perfci github publish`` and
``perfci run --github`` are its two entry points (``perfci.cli.github``).
"""

from __future__ import annotations

from perfci.github.api import GitHubAPI, Secret
from perfci.github.environment import ActionsEnvironment, read_environment
from perfci.github.publish import Parts, publish

__all__ = ["ActionsEnvironment", "GitHubAPI", "Parts", "Secret", "publish", "read_environment"]
