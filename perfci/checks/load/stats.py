"""What the load runner reports, and how it becomes numbers: pure, no Locust.

The runner (``_load_runner``, in its own process) snapshots Locust's
cumulative totals about once a second while a stage runs and reports the
differences as *windows*: requests, failures and a response-time histogram
(Locust's rounded milliseconds → count). Everything here works on those
plain dicts, so both the runner and the perfci process can use it, and the
tests need no load generator.

A window may also carry an HDR histogram (``hdr``: HdrHistogram's compressed,
base64 encoding, values in microseconds, 3 significant digits): the runner
records one wherever it sees every response itself (one local process, and
every arrival-rate stage). Percentiles then come from it, at full precision,
instead of from Locust's rounded buckets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

Histogram = dict[int, int]

#: The HDR histograms' range and precision: 1 µs to 10 minutes, 3 significant digits.
HDR_LOWEST_US = 1
HDR_HIGHEST_US = 600_000_000
HDR_DIGITS = 3


def new_hdr() -> HdrHistogram:
    """An empty histogram of response times in microseconds."""
    return HdrHistogram(HDR_LOWEST_US, HDR_HIGHEST_US, HDR_DIGITS)


def record_us(histogram: HdrHistogram, microseconds: float) -> None:
    """Record one response time, clamped into the histogram's range."""
    histogram.record_value(min(max(round(microseconds), HDR_LOWEST_US), HDR_HIGHEST_US))


def encode_hdr(histogram: HdrHistogram) -> str:
    """The histogram as text for the runner's JSON lines (empty: ``""``)."""
    if histogram.get_total_count() == 0:
        return ""
    encoded: bytes = histogram.encode()
    return encoded.decode("ascii")


def merge_hdr(encoded: Iterable[str]) -> HdrHistogram:
    """One histogram holding every encoded one (empty strings are skipped)."""
    merged = new_hdr()
    for text in encoded:
        if text:
            merged.add(HdrHistogram.decode(text.encode("ascii")))
    return merged


def hdr_percentile(histogram: HdrHistogram, q: float) -> float:
    """The ``q`` percentile in milliseconds; nan when empty."""
    if histogram.get_total_count() == 0:
        return math.nan
    return float(histogram.get_value_at_percentile(q)) / 1000.0


def histogram_delta(after: Mapping[int, int], before: Mapping[int, int]) -> Histogram:
    """Counts added between two snapshots of a cumulative histogram."""
    delta = {key: count - before.get(key, 0) for key, count in after.items()}
    return {key: count for key, count in delta.items() if count > 0}


def merge_histograms(histograms: Iterable[Mapping[int, int]]) -> Histogram:
    merged: Histogram = {}
    for histogram in histograms:
        for key, count in histogram.items():
            merged[key] = merged.get(key, 0) + count
    return merged


def histogram_percentile(histogram: Mapping[int, int], q: float) -> float:
    """The smallest recorded value with at least ``q`` percent of the requests at or below it.

    Locust's own definition (``calculate_response_time_percentile``); nan when empty.
    """
    total = sum(histogram.values())
    if total <= 0:
        return math.nan
    needed = total * q / 100.0
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= needed:
            return float(value)
    return float(max(histogram))


@dataclass(frozen=True)
class Window:
    """What happened between two snapshots of one stage."""

    seconds: float
    requests: int
    failures: int
    response_times: Histogram
    hdr: str = ""  # encode_hdr() of the window's response times in µs; "" when not recorded

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        """The window's ``q`` percentile (ms): from ``hdr`` when recorded; nan when empty."""
        if self.hdr:
            return hdr_percentile(merge_hdr([self.hdr]), q)
        return histogram_percentile(self.response_times, q)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "seconds": self.seconds,
            "requests": self.requests,
            "failures": self.failures,
            # JSON object keys are strings; from_dict turns them back into ints.
            "response_times": {str(k): v for k, v in sorted(self.response_times.items())},
        }
        if self.hdr:
            data["hdr"] = self.hdr
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Window:
        return cls(
            seconds=float(data["seconds"]),
            requests=int(data["requests"]),
            failures=int(data["failures"]),
            response_times={int(k): int(v) for k, v in data["response_times"].items()},
            hdr=str(data.get("hdr") or ""),
        )


@dataclass(frozen=True)
class StageResult:
    """One stage as reported by the runner: ``users`` (closed model) or ``rate`` (open)."""

    users: int
    windows: tuple[Window, ...]
    # (request name, error text, occurrences), most frequent first
    errors: tuple[tuple[str, str, int], ...] = ()
    workers: int = 0
    rate: float | None = None  # requests/s sent on schedule (arrival-rate stage); None: users
    late: int = 0  # arrival-rate: requests sent more than 10 ms after their intended time

    @property
    def label(self) -> str:
        """The subject of the stage's metrics: ``500users`` or ``2000rps``."""
        return stage_label(self.users, self.rate)

    @property
    def hdr(self) -> bool:
        """Whether every window with requests carries an HDR histogram."""
        counted = [w for w in self.windows if w.requests]
        return bool(counted) and all(w.hdr for w in counted)

    @property
    def seconds(self) -> float:
        return sum(w.seconds for w in self.windows)

    @property
    def requests(self) -> int:
        return sum(w.requests for w in self.windows)

    @property
    def failures(self) -> int:
        return sum(w.failures for w in self.windows)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def response_times(self) -> Histogram:
        return merge_histograms(w.response_times for w in self.windows)

    def percentile(self, q: float) -> float:
        """Percentile of every response time in the stage (ms); from the HDR histograms
        when every window has one, else from Locust's rounded buckets."""
        if self.hdr:
            return hdr_percentile(merge_hdr(w.hdr for w in self.windows), q)
        return histogram_percentile(self.response_times(), q)

    def rps_samples(self) -> list[float]:
        """Throughput of each window: the samples behind the rps verdict."""
        return [w.rps for w in self.windows if w.seconds > 0]

    def percentile_samples(self, q: float) -> list[float]:
        """The percentile of each window that saw requests (ms)."""
        values = [w.percentile(q) for w in self.windows]
        return [v for v in values if not math.isnan(v)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": "stage",
            "users": self.users,
            "rate": self.rate,
            "late": self.late,
            "workers": self.workers,
            "windows": [w.to_dict() for w in self.windows],
            "errors": [list(e) for e in self.errors],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageResult:
        """Parse a runner's ``stage`` event; KeyError/ValueError/TypeError when malformed."""
        return cls(
            users=int(data["users"]),
            windows=tuple(Window.from_dict(w) for w in data["windows"]),
            errors=tuple((str(n), str(e), int(c)) for n, e, c in data.get("errors", ())),
            workers=int(data.get("workers", 0)),
            rate=None if data.get("rate") is None else float(data["rate"]),
            late=int(data.get("late", 0)),
        )


@dataclass
class WindowRecorder:
    """Turns snapshots of cumulative totals into windows (used inside the runner).

    A snapshot with no new requests is folded into the next one: under a
    master, worker reports arrive in bursts, and an empty second followed by
    a double one is really one window of two seconds.
    """

    started: float
    requests: int
    failures: int
    response_times: Histogram
    windows: list[Window] = field(default_factory=list)

    def snapshot(
        self,
        now: float,
        requests: int,
        failures: int,
        response_times: Mapping[int, int],
        hdr: HdrHistogram | None = None,
    ) -> Window | None:
        """Record the totals at ``now``; the window they close, if any requests arrived.

        ``hdr``: the response times since the last window that closed (the caller
        resets it when a window is returned).
        """
        if requests <= self.requests:
            return None
        window = Window(
            seconds=max(now - self.started, 0.0),
            requests=requests - self.requests,
            failures=max(failures - self.failures, 0),
            response_times=histogram_delta(response_times, self.response_times),
            hdr=encode_hdr(hdr) if hdr is not None else "",
        )
        self.windows.append(window)
        self.started, self.requests, self.failures = now, requests, failures
        self.response_times = dict(response_times)
        return window


def stage_label(users: int, rate: float | None = None) -> str:
    """The subject of a stage's metrics: ``500users``, or ``2000rps`` for an arrival rate."""
    return f"{rate:g}rps" if rate is not None else f"{users}users"


def summarize_errors(errors: Sequence[tuple[str, str, int]], limit: int = 5) -> str:
    """``3 x GET /api/x: HTTPError('500 ...')`` lines, most frequent first."""
    ordered = sorted(errors, key=lambda e: -e[2])[:limit]
    return "\n".join(f"{count} x {name}: {error}" for name, error, count in ordered)
