"""``bypass_cache``: one option, one meaning, in every check that sends requests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from perfci import cache_bypass_headers
from perfci.config.model import Config
from perfci.errors import ConfigError
from perfci.project import load_project
from perfci.pytest_plugin import PerfciProject
from tests.toy.project import CONFIG, make_toy

CHECKS_WITH_BYPASS = ("n_plus_one", "indexes", "instructions", "pool", "latency", "load")


def project(tmp_path: Path, checks: str) -> Config:
    path = tmp_path / "perfci.yaml"
    path.write_text(
        "target:\n  app: toyapp:create_app\n  endpoints: [GET /items]\nchecks:\n"
        + textwrap.indent(textwrap.dedent(checks).strip(), "  ")
        + "\n"
    )
    config, _host = load_project(path)
    return config


def test_every_check_that_sends_requests_spells_it_bypass_cache(tmp_path: Path) -> None:
    config = project(
        tmp_path,
        "\n".join(f"{name}: {{bypass_cache: {{X-Bypass: '1'}}}}" for name in CHECKS_WITH_BYPASS),
    )
    for name in CHECKS_WITH_BYPASS:
        bypass = getattr(config.check_options[name], "bypass_cache")
        assert cache_bypass_headers(bypass) == {"X-Bypass": "1"}, name
    assert config.warnings == ()


@pytest.mark.parametrize(
    ("check", "old", "written", "read"),
    [
        ("n_plus_one", "clear_cache", "false", False),
        ("indexes", "clear_cache", "false", False),
        ("instructions", "clear_cache", "false", False),
        ("pool", "bypass_headers", "{X-Bypass: '1'}", {"X-Bypass": "1"}),
        ("pool", "bypass_headers", "{}", {}),
    ],
)
def test_old_spellings_are_read_as_bypass_cache_with_a_warning(
    tmp_path: Path, check: str, old: str, written: str, read: object
) -> None:
    config = project(tmp_path, f"{check}:\n  {old}: {written}")
    assert getattr(config.check_options[check], "bypass_cache") == read
    assert config.warnings == (
        f"perfci.yaml:6: checks.{check}.{old} is deprecated and will be removed in the next "
        "release: write 'bypass_cache'",
    )


def test_old_and_new_spelling_together_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="was renamed 'bypass_cache', which is also set"):
        project(tmp_path, "n_plus_one:\n  bypass_cache: true\n  clear_cache: false")


def test_true_is_cache_control_no_cache_and_off_sends_nothing() -> None:
    assert cache_bypass_headers(True) == {"Cache-Control": "no-cache"}
    assert cache_bypass_headers(False) == {}
    assert cache_bypass_headers({}) == {}
    assert cache_bypass_headers({"X-Skip-Cache": "yes"}) == {"X-Skip-Cache": "yes"}


def test_the_run_prints_the_deprecation_once_and_still_judges(
    perfci_project: PerfciProject,
) -> None:
    toy = make_toy(
        perfci_project,
        CONFIG.replace("toy_queries: {}", "toy_queries: {}\n  n_plus_one: {clear_cache: true}")
        + "baselines:\n  required: false\n",
    )
    result = toy.run_inprocess("run")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warnings == [
        "perfci: warning: perfci.yaml:15: checks.n_plus_one.clear_cache is deprecated and "
        "will be removed in the next release: write 'bypass_cache'"
    ]
