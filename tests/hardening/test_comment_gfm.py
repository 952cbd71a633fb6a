"""The PR comment through GitHub's own Markdown parser (cmark-gfm): hostile text stays text.

Everything in a results file is untrusted in the publisher: a fork's run wrote
it. Each field the comment shows gets a payload that would break out of its
block, load a remote image, link somewhere, mention a user or inject HTML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from perfci.measurement import Direction, Evidence, Kind, Measurement
from perfci.reporters import render_markdown
from perfci.result import RunResult
from perfci.verdict.model import AckRule, BudgetRule, Judgement, Mode, Outcome, Verdict

PAYLOADS = [
    "x\n\n</code></summary>\n\n![pwn](https://evil.example/p.png)\n\n",
    "<img src=https://evil.example/i.png onerror=alert(1)>",
    "[click](https://evil.example/)",
    "https://evil.example/auto www.evil.example",
    "@attacker ping a@evil.example",
    "<script>alert(1)</script>",
    "| x | y |\n|---|---|",
    "```\n</details>\n```",
    "&lt;img src=x&gt; &#64;attacker",
    "- list\n1. item\n===\n# heading",
    "$\\\\unicode{x}$",
]


def hostile_result(payload: str) -> RunResult:
    evidence = (
        Evidence("sql", payload),
        Evidence("note", payload),
        Evidence(payload, payload),
    )
    current = Measurement(f"n_plus_one/GET /{payload}/queries", 5.0, payload, Direction.LOWER,
                          evidence=evidence)  # fmt: skip
    text = Measurement(f"pool/{payload}/class", payload, "", Direction.EQUAL)
    timing = Measurement(f"latency/{payload}/p95", 9.0, "ms", Direction.LOWER, Kind.TIMING,
                         samples=(9.0, 9.5))  # fmt: skip
    verdicts = tuple(
        Verdict(
            name=m.name,
            outcome=outcome,
            mode=Mode.EXACT,
            reason=payload,
            current=m,
            baseline=dataclasses.replace(m, value=1.0) if not isinstance(m.value, str) else m,
            change=0.5,
            threshold=0.1,
            budget=BudgetRule(payload, max=1.0, unit="count", source=payload),
            acknowledged=AckRule(payload, payload, dt.date(2030, 1, 1), source=payload),
            notes=(payload,),
        )
        for m, outcome in (
            (current, Outcome.REGRESSION),
            (text, Outcome.ACKNOWLEDGED),
            (timing, Outcome.NOISY),
        )
    )
    return RunResult(
        suite=payload,
        measurements=(current, text, timing),
        judgement=Judgement(verdicts=verdicts, unmatched_rules=(payload,)),
        exit_code=1,
        started_at=payload,
        duration_s=1.0,
        commit=payload,
        branch=payload,
        environment={payload: payload},
        baseline_path=payload,
        checks=(payload,),
        skipped_checks=(payload,),
    )


def rendered(markdown: str) -> str:
    # UNSAFE: show every raw HTML block the comment would carry; GitHub then sanitizes,
    # but the comment must not depend on that.
    return str(
        cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    )


def outside_code(html: str) -> str:
    return re.sub(r"<(code|pre)\b.*?</\1>", r"<\1></\1>", html, flags=re.S)


def structure(html: str) -> list[str]:
    """The element tags of the rendered comment, in order (code contents left out)."""
    return re.findall(r"<(/?[a-z][a-z0-9]*)", outside_code(html))


BENIGN = structure(rendered(render_markdown(hostile_result("plain"))))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_text_in_every_field_stays_text(payload: str) -> None:
    html = rendered(render_markdown(hostile_result(payload)))
    # The same elements as with harmless text: nothing opened, closed, linked or embedded.
    assert structure(html) == BENIGN
    assert "<img" not in html and "<a " not in html and "<script" not in html
    # Every block the comment opens is closed by the comment itself.
    assert html.count("<details>") == html.count("</details>") == BENIGN.count("details") > 0
    # No live mention: GitHub ignores mentions inside code, and "@" elsewhere is broken.
    assert not re.search(r"@[A-Za-z0-9]", outside_code(html))


def test_the_comment_still_reads_as_the_text() -> None:
    html = rendered(render_markdown(hostile_result("see https://evil.example @attacker")))
    assert "see https://evil.example @\u200battacker" in html
