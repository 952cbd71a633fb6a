"""Where a run happened: machine info (what timings depend on) and the git commit and branch."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
# Keys of /proc/cpuinfo that name the CPU, by architecture (x86, ARM, POWER, s390).
_CPU_KEYS = ("model name", "Hardware", "cpu model", "cpu", "Processor", "processor")
_GIT_TIMEOUT_S = 10.0


def machine_info(cpuinfo: Path = CPUINFO) -> dict[str, str]:
    """Python version and implementation, platform, machine, CPU model and core count."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine() or "unknown",
        "cpu": cpu_model(cpuinfo),
        "cores": str(os.cpu_count() or 0),
    }


def cpu_model(cpuinfo: Path = CPUINFO) -> str:
    """The CPU model from /proc/cpuinfo when present, else what ``platform`` knows."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and value.strip():
            fields.setdefault(key.strip(), value.strip())
    for key in _CPU_KEYS:
        value = fields.get(key, "")
        if value and not value.isdigit():  # x86's "processor: 0" is an index, not a model
            return value
    return platform.processor() or "unknown"


#: The machine-info keys whose change makes timings incomparable (the kernel build does not).
TIMING_KEYS = ("machine", "cpu", "cores", "implementation", "python")


def machine_info_differences(
    before: Mapping[str, str], after: Mapping[str, str], keys: Iterable[str] | None = None
) -> list[str]:
    """Human lines for each machine-info key (of ``keys``, default all) whose value changed."""
    selected = before.keys() | after.keys() if keys is None else set(keys)
    return [
        f"{key}: {before.get(key, '?')} → {after.get(key, '?')}"
        for key in sorted(selected)
        if before.get(key) != after.get(key)
    ]


def timing_differences(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """What differs between two machine infos in ways that move timings.

    CPU model, core count, architecture, Python implementation, and Python's
    minor version (3.11 → 3.12; a patch release is not counted). Empty when
    either is empty (a baseline from before machine info was recorded).
    """
    if not before or not after:
        return []

    def minor(version: str) -> str:
        return ".".join(version.split(".")[:2])

    keys = [key for key in TIMING_KEYS if key != "python"]
    differences = machine_info_differences(before, after, keys)
    if minor(before.get("python", "?")) != minor(after.get("python", "?")):
        differences.append(f"python: {before.get('python', '?')} → {after.get('python', '?')}")
    return sorted(differences)


def git_info(directory: str | os.PathLike[str]) -> tuple[str | None, str | None]:
    """``(commit, branch)`` of the checkout holding ``directory``; None for what is unknown.

    Tolerates a missing git, a directory outside any repository and a repository
    without commits. On a detached HEAD (CI checkouts of pull requests) the branch
    comes from ``GITHUB_HEAD_REF`` / ``GITHUB_REF_NAME`` when set.
    """
    commit = _git(directory, "rev-parse", "--verify", "--quiet", "HEAD")
    branch = _git(directory, "symbolic-ref", "--short", "--quiet", "HEAD")
    if branch is None and commit is not None:
        branch = os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME") or None
    return commit, branch


def _git(directory: str | os.PathLike[str], *args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    output = completed.stdout.strip()
    return output if completed.returncode == 0 and output else None
