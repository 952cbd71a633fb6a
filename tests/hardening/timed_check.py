"""A check that exercises endpoints, with a number option: what the config tests bind."""

from __future__ import annotations

from typing import Any

from perfci.check import Check, CheckOptions, EndpointOptions


class TimedOptions(EndpointOptions):
    samples: int = 100
    warmup_s: float = 1.0


class Timed(Check):
    name = "timed"
    Options = TimedOptions

    def collect(self, ctx: Any, options: CheckOptions) -> list[Any]:
        return []


CHECKS: dict[str, type[Check]] = {"timed": Timed}
