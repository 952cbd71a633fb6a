"""The JUnit XML report: one test case per verdict, for CI test-result views.

Mapping (also in docs/reports.md):

- regression, budget violation, missing → ``<failure type="...">`` whose text
  carries the numbers and the evidence;
- too noisy to judge, acknowledged → ``<skipped>``: the gate deliberately did
  not enforce the metric, and CI views show skipped tests prominently;
- pass, improvement, new → a passing test case (improvement and new carry
  their reason in ``<system-out>``).

``errors`` is always 0: a crashed check ends the run before any report.
Test cases have ``time="0"``; the run's wall-clock time is on the suite.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from perfci.reporters import format as fmt
from perfci.result import RunResult
from perfci.verdict.model import Outcome, Verdict

_SKIPPED = frozenset({Outcome.NOISY, Outcome.ACKNOWLEDGED})
_NOTED = frozenset({Outcome.NEW, Outcome.IMPROVEMENT})
# Characters XML 1.0 cannot carry at all, even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_junit(result: RunResult) -> str:
    """JUnit XML with one ``<testsuite name="perfci">`` and one ``<testcase>`` per verdict."""
    counts = result.counts()
    tests = len(result.verdicts) + (result.error is not None)
    failures = sum(n for outcome, n in counts.items() if outcome.fails)
    skipped = sum(counts[outcome] for outcome in _SKIPPED)
    totals = {
        "tests": str(tests),
        "failures": str(failures),
        "errors": "1" if result.error is not None else "0",
        "skipped": str(skipped),
        "time": f"{result.duration_s:.3f}",
    }
    root = ET.Element("testsuites", {"name": "perfci", **totals})
    suite = ET.SubElement(
        root, "testsuite", {"name": "perfci", **totals, "timestamp": _clean(result.started_at)}
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(result):
        ET.SubElement(properties, "property", {"name": _clean(name), "value": _clean(value)})
    for verdict in result.verdicts:
        _testcase(suite, verdict)
    if result.error is not None:
        # The run could not be judged: one errored testcase carries the message.
        case = ET.SubElement(suite, "testcase", {"classname": "perfci", "name": "perfci run"})
        ET.SubElement(case, "error", {"message": _clean(result.error)}).text = _clean(result.error)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _properties(result: RunResult) -> list[tuple[str, str]]:
    props = [("suite", result.suite), ("exit_code", str(result.exit_code))]
    if result.commit:
        props.append(("commit", result.commit))
    if result.branch:
        props.append(("branch", result.branch))
    if result.baseline_path:
        props.append(("baseline", result.baseline_path))
    props.extend((f"environment.{key}", value) for key, value in result.environment.items())
    props.extend(("unmatched_rule", rule) for rule in result.judgement.unmatched_rules)
    return props


def _testcase(suite: ET.Element, verdict: Verdict) -> None:
    check, metric = fmt.split_name(verdict.name)
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": _clean(f"perfci.{check}"), "name": _clean(metric), "time": "0"},
    )
    if verdict.fails:
        failure = ET.SubElement(
            case, "failure", {"message": _clean(verdict.reason), "type": verdict.outcome.value}
        )
        failure.text = _clean(_body(verdict))
    elif verdict.outcome in _SKIPPED:
        skipped = ET.SubElement(case, "skipped", {"message": _clean(_skip_message(verdict))})
        skipped.text = _clean(_body(verdict))
    elif verdict.outcome in _NOTED:
        out = ET.SubElement(case, "system-out")
        out.text = _clean(_body(verdict))


def _skip_message(verdict: Verdict) -> str:
    if verdict.outcome is Outcome.ACKNOWLEDGED and verdict.acknowledged is not None:
        return f"acknowledged: {verdict.acknowledged.reason}"
    return f"{fmt.phrase(verdict.outcome)}: {verdict.reason}"


def _body(verdict: Verdict) -> str:
    """The numbers and the evidence behind a verdict, as plain text."""
    lines = [
        f"{verdict.name}: {fmt.word(verdict.outcome)} ({verdict.mode.value})",
        verdict.reason,
        "",
        f"baseline: {fmt.measured(verdict.baseline)}",
        f"current:  {fmt.measured(verdict.current)}",
        f"change:   {fmt.change(verdict)}",
    ]
    lines.extend(f"{name}: {value}" for name, value in fmt.details(verdict))
    evidence = verdict.current.evidence if verdict.current else ()
    if not evidence and verdict.baseline is not None:
        evidence = verdict.baseline.evidence
    for item in evidence:
        lines.extend(["", f"{item.label}:"])
        lines.extend(f"  {line}" for line in fmt.lines(item.text))
    return "\n".join(lines) + "\n"


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot represent (ElementTree would write them verbatim)."""
    return _INVALID_XML.sub("\ufffd", text)
