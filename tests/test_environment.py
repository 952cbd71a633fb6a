"""perfci.environment: machine info and git information, tolerant of what is missing."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import pytest

from perfci import environment

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(directory: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
        timeout=30,
    )
    return completed.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GITHUB_HEAD_REF", raising=False)
    monkeypatch.delenv("GITHUB_REF_NAME", raising=False)
    git(tmp_path, "init", "-q", "-b", "feature/fast-chefs")
    return tmp_path


def commit(repo: Path) -> str:
    (repo / "file.txt").write_text("x", encoding="utf-8")
    git(repo, "add", "file.txt")
    git(repo, "commit", "-q", "-m", "one")
    return git(repo, "rev-parse", "HEAD")


def test_machine_info_has_every_key_as_text(tmp_path: Path) -> None:
    found = environment.machine_info(tmp_path / "no-cpuinfo")
    assert set(found) == {"python", "implementation", "platform", "machine", "cpu", "cores"}
    assert all(isinstance(value, str) and value for value in found.values())
    assert found["python"] == platform.python_version()
    assert found["implementation"] == platform.python_implementation()
    assert found["cores"] == str(os.cpu_count())


def test_cpu_model_comes_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n"
        "processor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n",
        encoding="utf-8",
    )
    assert environment.cpu_model(cpuinfo) == "Intel(R) Xeon(R) CPU @ 2.20GHz"
    assert environment.machine_info(cpuinfo)["cpu"] == "Intel(R) Xeon(R) CPU @ 2.20GHz"


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("processor\t: 0\nHardware\t: BCM2835\n", "BCM2835"),
        (
            "processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\n",
            "POWER9 (raw), altivec supported",
        ),
        (
            "Processor\t: ARMv7 Processor rev 4 (v7l)\nprocessor\t: 0\n",
            "ARMv7 Processor rev 4 (v7l)",
        ),
    ],
)
def test_cpu_model_on_other_architectures(tmp_path: Path, text: str, model: str) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(text, encoding="utf-8")
    assert environment.cpu_model(cpuinfo) == model


def test_cpu_model_without_cpuinfo_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform, "processor", lambda: "")
    assert environment.cpu_model(tmp_path / "absent") == "unknown"
    monkeypatch.setattr(platform, "processor", lambda: "arm")
    assert environment.cpu_model(tmp_path / "absent") == "arm"


def test_machine_info_differences() -> None:
    before = {"python": "3.11.7", "cpu": "A", "cores": "2"}
    after = {"python": "3.12.1", "cpu": "A", "machine": "x86_64"}
    assert environment.machine_info_differences(before, after) == [
        "cores: 2 → ?",
        "machine: ? → x86_64",
        "python: 3.11.7 → 3.12.1",
    ]
    assert environment.machine_info_differences(before, before) == []


def test_timing_differences_count_what_moves_timings() -> None:
    here = {
        "python": "3.11.7",
        "implementation": "CPython",
        "platform": "Linux-6.18.44-fc-v857-x86_64-with-glibc2.36",
        "machine": "x86_64",
        "cpu": "Intel(R) Xeon(R) Processor",
        "cores": "2",
    }
    # Another kernel build and a Python patch release: the same machine for timings.
    rebooted = {**here, "platform": "Linux-6.18.44-fc-v595-x86_64-with-glibc2.36"}
    assert environment.timing_differences(here, {**rebooted, "python": "3.11.9"}) == []
    elsewhere = {**here, "cpu": "AMD EPYC", "cores": "4", "python": "3.12.1"}
    assert environment.timing_differences(here, elsewhere) == [
        "cores: 2 → 4",
        "cpu: Intel(R) Xeon(R) Processor → AMD EPYC",
        "python: 3.11.7 → 3.12.1",
    ]
    # A baseline from before machine info: nothing to compare, nothing reported.
    assert environment.timing_differences({}, here) == []


def test_git_info_of_a_repository(repo: Path) -> None:
    head = commit(repo)
    assert environment.git_info(repo) == (head, "feature/fast-chefs")
    (repo / "sub").mkdir()
    assert environment.git_info(repo / "sub") == (head, "feature/fast-chefs")


def test_git_info_of_a_repository_without_commits(repo: Path) -> None:
    assert environment.git_info(repo) == (None, "feature/fast-chefs")


def test_git_info_on_a_detached_head(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head = commit(repo)
    git(repo, "checkout", "-q", "--detach")
    assert environment.git_info(repo) == (head, None)
    monkeypatch.setenv("GITHUB_REF_NAME", "42/merge")
    assert environment.git_info(repo) == (head, "42/merge")
    monkeypatch.setenv("GITHUB_HEAD_REF", "feature/fast-chefs")
    assert environment.git_info(repo) == (head, "feature/fast-chefs")


def test_git_info_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert environment.git_info(tmp_path) == (None, None)


def test_git_info_of_a_directory_that_does_not_exist(tmp_path: Path) -> None:
    assert environment.git_info(tmp_path / "gone") == (None, None)


def test_git_info_without_git_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no git executable
    assert environment.git_info(tmp_path) == (None, None)


def test_git_info_when_git_hangs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired(cmd="git", timeout=10)

    monkeypatch.setattr(subprocess, "run", hang)
    assert environment.git_info(tmp_path) == (None, None)
