"""Hostile perfci.yaml: every number finite and in range, no secret echoed, no parser crash."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from perfci.config.load import bind_checks, read_config
from perfci.errors import ConfigError
from tests.hardening.timed_check import CHECKS

HEAD = """
target:
  app: toyapp:create_app
  endpoints: [GET /items]
"""


def error_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    path = tmp_path / "perfci.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return error_at(path, env)


def error_at(path: Path, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        model, source = read_config(path, env or {})
        bind_checks(model, source, CHECKS)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("spelling", ["nan%", "inf%", "1e999%", "-5%", "-inf", ".nan", "101%"])
def test_a_threshold_in_any_spelling_is_checked_for_range(tmp_path: Path, spelling: str) -> None:
    message = error_of(tmp_path, HEAD + f"thresholds:\n  default: '{spelling}'\n")
    assert message.startswith("perfci.yaml:5: thresholds.default: ")
    assert message.endswith(f"got '{spelling}'")


@pytest.mark.parametrize("value", [".inf", ".nan", "'1e999ms'", "'-inf'"])
def test_a_budget_is_a_finite_quantity(tmp_path: Path, value: str) -> None:
    message = error_of(tmp_path, HEAD + f"budgets:\n  'timed/*':\n    max: {value}\n")
    assert message.startswith("perfci.yaml:6: budgets.timed/*.max: expected a")


@pytest.mark.parametrize("value", [".inf", ".nan", "-.inf"])
def test_a_check_option_is_finite(tmp_path: Path, value: str) -> None:
    message = error_of(tmp_path, HEAD + f"checks:\n  timed:\n    warmup_s: {value}\n")
    assert message.startswith("perfci.yaml:6: checks.timed.warmup_s: input should be a finite")


def test_an_environment_value_is_never_parsed_as_yaml_nor_echoed(tmp_path: Path) -> None:
    text = HEAD + "checks:\n  timed:\n    enabled: ${EN}\n"
    message = error_of(tmp_path, text, {"EN": "'hunter2"})
    assert message == (
        "perfci.yaml:6: checks.timed.enabled: the value from the environment is not true or false"
    )
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("value", "typed"),
    [("0.2", 0.2), ("12", 12), ("true", True), ("{a: 1}", "{a: 1}"), ("[x", "[x"), ("", "")],
)
def test_an_environment_value_is_a_typed_scalar_or_a_string(
    tmp_path: Path, value: str, typed: Any
) -> None:
    path = tmp_path / "perfci.yaml"
    path.write_text(HEAD + "  seed_args: {x: '${X}'}\n", encoding="utf-8")
    model, _ = read_config(path, {"X": value})
    assert model.target is not None
    assert model.target.seed_args == {"x": typed}


def test_a_billion_laughs_alias_bomb_stops(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    message = error_of(tmp_path, HEAD + "x:\n" + textwrap.indent("\n".join(lines), "  "))
    assert "aliases are expanded (an alias bomb?)" in message


def test_binary_config_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "perfci.yaml"
    path.write_bytes(b"\xff\xfe\x00\x01target: x\n")
    assert error_at(path).endswith("perfci.yaml: not UTF-8 text (a corrupt file?)")


@pytest.mark.parametrize("where", ["/dev/zero", "fifo"])
def test_a_device_or_fifo_config_is_refused_without_reading(tmp_path: Path, where: str) -> None:
    path = Path(where)
    if where == "fifo":
        path = tmp_path / "perfci.yaml"
        os.mkfifo(path)  # no writer: opening it would block forever
    assert error_at(path).endswith("cannot read: not a regular file (a device, FIFO or socket)")


def test_an_invalid_date_is_a_config_error(tmp_path: Path) -> None:
    text = HEAD + "acknowledge:\n  - metric: 'timed/*'\n    reason: r\n    expires: 2026-02-30\n"
    message = error_of(tmp_path, text)
    assert message == (
        "perfci.yaml:7: acknowledge[0].expires: invalid value: day is out of range for month"
    )


def test_merge_keys_are_supported(tmp_path: Path) -> None:
    path = tmp_path / "perfci.yaml"
    text = HEAD + "thresholds:\n  'other/*': &common {strict: true, threshold: 5%}\n"
    text += "  'timed/*':\n    <<: *common\n    threshold: 20%\n"
    path.write_text(text, encoding="utf-8")
    model, _ = read_config(path, {})
    rule = model.thresholds["timed/*"]
    assert not isinstance(rule, float)
    assert (rule.threshold, rule.strict) == (0.2, True)


def test_a_merge_of_a_scalar_is_named(tmp_path: Path) -> None:
    message = error_of(tmp_path, HEAD + "thresholds:\n  <<: 5\n")
    assert message == "perfci.yaml:5: a merge key (<<) takes a mapping or a list of mappings"


def test_duplicate_endpoints_are_a_config_error(tmp_path: Path) -> None:
    text = "target:\n  app: toyapp:create_app\n  endpoints:\n    - GET /items\n    - /items\n"
    assert error_of(tmp_path, text) == (
        "perfci.yaml:5: target.endpoints[1]: duplicate endpoint 'GET /items' "
        "(also target.endpoints[0]): their metrics would collide"
    )


@pytest.mark.parametrize(
    "headers",
    ['{"X-A": "1\\r\\nX-Injected: 1"}', '{"X-A": "a\\nb"}', '{"Bad Name": "1"}'],
)
def test_crlf_in_headers_is_a_config_error(tmp_path: Path, headers: str) -> None:
    text = "target:\n  app: toyapp:create_app\n  endpoints:\n"
    text += f"    - request: GET /items\n      headers: {headers}\n"
    message = error_of(tmp_path, text)
    assert message.startswith("perfci.yaml:4: target.endpoints[0]: header")


def test_an_endpoint_check_with_no_endpoints_fails_closed(tmp_path: Path) -> None:
    text = "target:\n  app: toyapp:create_app\n  endpoints: []\nchecks:\n  timed: {}\n"
    assert error_of(tmp_path, text) == (
        "perfci.yaml:5: checks.timed: exercises endpoints but none are listed "
        "(add target.endpoints, or set enabled: false)"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "'not a url' is not a SQLAlchemy URL: Could not parse"),
        ("postgresql://u:secret@h:abc/db", "'postgresql://u:***@h:abc/db' is not a SQLAlchemy URL"),
        ("postgresql://h:99999/db", "port 99999 is out of range"),
    ],
)
def test_an_unparsable_history_url_is_a_config_error_before_measuring(
    tmp_path: Path, url: str, message: str
) -> None:
    error = error_of(tmp_path, HEAD + f"history:\n  url: '{url}'\n")
    assert error.startswith("perfci.yaml:5: history.url: ")
    assert message in error
    assert "secret" not in error


def test_a_history_driver_that_is_not_installed_is_one_line() -> None:
    from perfci.history.store import HistoryError, HistoryStore

    with pytest.raises(HistoryError) as caught:
        HistoryStore("mysql://u@127.0.0.1/db").open()
    assert str(caught.value) == (
        "history store mysql://u@127.0.0.1/db: cannot open: its database driver is not "
        "installed (No module named 'MySQLdb')"
    )
