"""Target code that exits, interrupts itself or hangs is a target failure (exit 3, one line)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from perfci.config.model import TargetConfig
from perfci.endpoint import Endpoint
from perfci.errors import ExitCode, TargetError
from perfci.target import build_target
from perfci.testing import run_context

APP = "tests.hardening.hostile_app:create_app"
SEED = "tests.hardening.hostile_app:seed"


def build(tmp_path: Path, **settings: Any) -> None:
    target = TargetConfig.model_validate({"app": APP, "seed": SEED, **settings})
    build_target(target, tmp_path)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("exit0", "called sys.exit(0)"),
        ("exit1", "called sys.exit(1)"),
        ("interrupt", "raised KeyboardInterrupt"),
    ],
)
def test_the_factory_cannot_end_perfci(tmp_path: Path, mode: str, message: str) -> None:
    with pytest.raises(TargetError) as caught:
        build(tmp_path, config={"HOSTILE_FACTORY": mode})
    assert str(caught.value) == f"target.app {APP!r} {message}"
    assert caught.value.exit_code == ExitCode.TARGET


@pytest.mark.parametrize("mode", ["exit0", "interrupt"])
def test_the_seed_cannot_end_perfci(tmp_path: Path, mode: str) -> None:
    with pytest.raises(TargetError, match=r"^target.seed .* (called sys.exit\(0\)|raised Keyb)"):
        build(tmp_path, seed_args={"mode": mode})


def test_a_hanging_seed_is_stopped_and_named(tmp_path: Path) -> None:
    with pytest.raises(TargetError) as caught:
        build(tmp_path, seed_args={"mode": "hang"}, timeouts={"seed": 0.2})
    assert str(caught.value) == (
        f"target.seed {SEED!r} did not finish within 0.2 s (a hang? raise target.timeouts)"
    )


def test_a_hanging_factory_is_stopped_and_named(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match=r"^target.app .* did not finish within 0.2 s"):
        build(tmp_path, config={"HOSTILE_FACTORY": "hang"}, timeouts={"factory": 0.2})


def test_the_timer_and_handlers_are_restored(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGALRM)
    build(tmp_path)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGALRM)) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.parametrize(
    "returns", [None, {"items": 3}, {"items": None}, {"items": 1.5}, {"items": True}, "3", [1]]
)
def test_seed_row_counts_are_integers_or_none(tmp_path: Path, returns: Any) -> None:
    if returns is None or returns == {"items": 3}:
        build(tmp_path, seed_args={"returns": returns})
        return
    with pytest.raises(TargetError, match=r"^target.seed .* returned .*not a"):
        build(tmp_path, seed_args={"returns": returns})


def test_a_real_ctrl_c_is_still_an_interrupt(tmp_path: Path) -> None:
    target = TargetConfig.model_validate({"app": APP, "seed": SEED})

    def interrupted_seed(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C during the seed

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("tests.hardening.hostile_app.seed", interrupted_seed)
        with pytest.raises(KeyboardInterrupt):
            build_target(target, tmp_path)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/exit0", "request GET /exit0 called sys.exit(0)"),
        ("/interrupt", "request GET /interrupt raised KeyboardInterrupt"),
        ("/hang", "request GET /hang did not finish within 0.2 s"),
    ],
)
def test_an_in_process_request_cannot_end_perfci_or_hang(
    tmp_path: Path, path: str, message: str
) -> None:
    from tests.hardening.hostile_app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with run_context(app, tmp_path) as ctx:
        ctx.request_timeout_s = 0.2
        with pytest.raises(TargetError) as caught:
            ctx.call(Endpoint.parse(f"GET {path}"))
    assert str(caught.value).startswith(message)
