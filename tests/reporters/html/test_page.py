"""The HTML report's content: verdict rows with evidence, a chart per metric, load stages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from perfci.measurement import Direction, Measurement
from perfci.reporters.html import render_html
from perfci.reporters.html.page import anchor
from perfci.result import RunResult
from perfci.verdict.model import Judgement, Mode, Outcome, Verdict
from tests.history.factory import LATENCY, REGRESSED, make_history, make_run
from tests.reporters.builders import make_result, sample_verdicts


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text, for assertions."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        """Tags whose attributes contain the given values (``class_`` matches a class word)."""
        found = []
        for name, have in self.tags:
            if name != tag:
                continue
            ok = True
            for key, value in attrs.items():
                if key == "class_":
                    ok = ok and value in have.get("class", "").split()
                else:
                    ok = ok and have.get(key.replace("_", "-")) == value
            if ok:
                found.append(have)
        return found


@pytest.fixture
def elements(page: str) -> Elements:
    return Elements(page)


def _trend_svg(page: str, metric: str) -> str:
    start = page.index(f'<svg class="chart trend" id="{anchor(metric)}-chart"')
    return page[start : page.index("</svg>", start)]


def test_one_verdict_row_per_verdict_failures_first(
    elements: Elements, history_runs: list[RunResult]
) -> None:
    rows = elements.find("tbody", class_="verdict")
    assert len(rows) == len(history_runs[-1].verdicts)
    assert rows[0]["data-outcome"] == "regression"
    assert "failing" in rows[0]["class"].split()
    assert {r["data-outcome"] for r in rows[1:]} == {"pass"}
    assert REGRESSED.lower() in rows[0]["data-search"]


def test_the_regression_shows_its_evidence(page: str) -> None:
    row = page[page.index('data-outcome="regression"') :]
    row = row[: row.index("</tbody>")]
    assert "queries per request grew from 2 to 31 (+1450.0%)" in row
    assert '<pre class="evidence sql">SELECT chefs.id, chefs.name FROM chefs' in row
    assert "statement shape repeated 30 times: an N+1 query" in row
    assert "2 queries" in row and "31 queries" in row and "+1450.0%" in row


def test_filter_controls_for_every_outcome_present(elements: Elements, page: str) -> None:
    chips = elements.find("input", data_outcome_filter="")
    assert [c["value"] for c in chips] == ["regression", "pass"]
    assert elements.find("input", id="verdict-search", type="search")
    assert "Failures only" in page


def test_a_trend_chart_per_numeric_metric(
    elements: Elements, history_runs: list[RunResult]
) -> None:
    latest = history_runs[-1]
    numeric = [m.name for m in latest.measurements if not isinstance(m.value, str)]
    charts = elements.find("svg", class_="trend")
    assert sorted(c["data-metric"] for c in charts) == sorted(numeric)
    for chart in charts:
        assert chart["role"] == "img" and chart["viewbox"] == "0 0 460 236"


def test_the_regression_is_marked_on_its_chart_only(page: str) -> None:
    svg = _trend_svg(page, REGRESSED)
    marker = r'<g class="marker outcome-(\w+)" data-outcome="([^"]*)" data-run="(\d)"'
    markers = re.findall(marker, svg)
    assert markers[-1] == ("regression", "regression", "5")
    assert all(m[0] == "pass" for m in markers[:-1])
    assert "✗ +1450%" in svg
    assert 'class="failing-column"' in svg
    assert 'class="band"' in svg and 'class="baseline"' in svg and 'class="series"' in svg
    assert "queries" in svg  # the axis says its unit
    assert page.count('class="marker outcome-regression"') == 1
    for name in ("n_plus_one/GET /api/products/queries", LATENCY):
        assert "outcome-regression" not in _trend_svg(page, name)


def test_the_budget_is_drawn(page: str) -> None:
    svg = _trend_svg(page, LATENCY)
    assert "budget max 25 ms" in svg
    assert '<text class="axis-title" x="4" y="14">ms</text>' in svg


def test_units_everywhere(page: str) -> None:
    for text in ("20.5 KB", "91%", "804 req/s", "31 queries", "20.8 ms"):
        assert text in page, text
    svg = _trend_svg(page, "payload/GET /api/products/bytes")
    assert ">KB</text>" in svg  # the axis scales bytes to KB and says so
    assert "±10% threshold band" in page


def test_text_facts_get_no_chart(page: str) -> None:
    assert 'data-metric="pool/engine/pool_class"' in page
    assert "A text fact: QueuePool in every run measured (6)." in page
    assert f'id="{anchor("pool/engine/pool_class")}-chart"' not in page


def test_load_stages_in_user_order(page: str) -> None:
    section = page[page.index('<section id="load">') :]
    assert section.index("50 users") < section.index("100 users") < section.index("500 users")
    for header in ("throughput", "p95", "p99", "failure ratio"):
        assert f"<th scope=col>{header}</th>" in section
    assert '<svg class="chart load-throughput"' in section
    assert '<svg class="chart load-latency"' in section
    assert ">p95</text>" in section and ">p99</text>" in section  # lines named, not just coloured


def test_a_failing_load_stage_is_hatched_and_labelled() -> None:
    run = make_run(0)
    verdicts = [
        Verdict(v.name, Outcome.REGRESSION, v.mode, "throughput fell", v.current, v.baseline)
        if v.name == "load/500users/rps"
        else v
        for v in run.verdicts
    ]
    page = render_html([make_result(verdicts)])
    section = page[page.index('<svg class="chart load-throughput"') :]
    assert '<g class="bar failing">' in section
    assert 'fill="url(#load-throughput-hatch)"' in section
    assert re.search(r'class="bar-label"[^>]*>✗ \d+ req/s</text>', section)


def test_self_contained_and_offline(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "<script src" not in page and "@import" not in page
    assert "default-src 'none'" in page  # the browser itself refuses any network request
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_every_outcome_renders_with_its_word(build_result_page: str) -> None:
    for word in (
        "REGRESSION",
        "BUDGET VIOLATION",
        "MISSING",
        "too noisy",
        "acknowledged",
        "new",
        "improvement",
        "pass",
    ):
        assert word in build_result_page
    assert "campaign descriptions now included (#42) (until 2027-01-31)" in build_result_page
    assert "budget: max 25 ms (perfci.yaml:14)" in build_result_page


@pytest.fixture
def build_result_page() -> str:
    return render_html([make_result(sample_verdicts())])


def test_names_are_escaped() -> None:
    name = 'n_plus_one/GET /api/<script>alert("x")</script>/queries'
    m = Measurement(name, 3, "queries", Direction.LOWER)
    verdict = Verdict(name, Outcome.PASS, Mode.EXACT, "<b>unchanged</b>", m, m, 0.0, 0.1)
    result = RunResult("s", (m,), Judgement((verdict,)), 0, "2026-01-01T00:00:00Z", 1.0)
    page = render_html([result])
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;unchanged&lt;/b&gt;" in page


def test_a_single_run_and_a_metric_new_in_the_last_run() -> None:
    runs = make_history(2, regressed_at=None)
    extra = Measurement("cache/GET /api/new/hits", 4, "count", Direction.HIGHER)
    last = runs[-1]
    runs[-1] = RunResult(
        last.suite,
        (*last.measurements, extra),
        Judgement((*last.verdicts, Verdict(extra.name, Outcome.NEW, Mode.BUDGET, "new", extra))),
        0,
        last.started_at,
        1.0,
    )
    page = render_html(runs)
    svg = _trend_svg(page, extra.name)
    assert svg.count('class="marker ') == 1  # not measured in the first run: no point there
    assert render_html(runs[:1]).count('<svg class="chart trend"') == len(
        [m for m in runs[0].measurements if not isinstance(m.value, str)]
    )


def test_other_suites_are_left_out() -> None:
    runs = [make_run(0, suite="other"), *make_history(2)]
    assert "2 runs of suite default" in render_html(runs)


def test_nothing_to_report_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least the run"):
        render_html([])


def test_anchor_is_a_valid_unique_id() -> None:
    a, b = anchor("x/GET /a b/q"), anchor("x/GET /a-b/q")
    assert a != b
    assert re.fullmatch(r"m-[a-z0-9_-]+", a)
