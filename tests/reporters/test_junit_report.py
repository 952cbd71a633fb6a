"""The JUnit XML report: one test case per verdict, failures carrying the evidence."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from perfci.measurement import Direction, Evidence, Measurement
from perfci.reporters import render_junit
from perfci.result import RunResult
from perfci.verdict.model import Mode, Outcome, Verdict


def test_report_matches_golden(
    sample_result: RunResult, golden: Callable[[str, str], None]
) -> None:
    golden("junit.xml", render_junit(sample_result))


def test_counts_and_time(sample_result: RunResult) -> None:
    root = ET.fromstring(render_junit(sample_result))
    suite = root.find("testsuite")
    assert suite is not None
    for element in (root, suite):
        assert element.get("tests") == "13"
        assert element.get("failures") == "4"  # 2 regressions, 1 budget violation, 1 missing
        assert element.get("skipped") == "2"  # too noisy, acknowledged
        assert element.get("errors") == "0"
        assert element.get("time") == "42.500"
    cases = suite.findall("testcase")
    assert len(cases) == 13
    assert len(suite.findall("testcase/failure")) == 4
    assert len(suite.findall("testcase/skipped")) == 2


def test_failure_carries_type_reason_numbers_and_evidence(sample_result: RunResult) -> None:
    root = ET.fromstring(render_junit(sample_result))
    case = root.find(
        "testsuite/testcase[@name='GET /api/coocook/chefs/queries'][@classname='perfci.n_plus_one']"
    )
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "regression"
    assert failure.get("message", "").startswith("queries per request grew from 2 to 31")
    body = failure.text or ""
    assert "baseline: 2 queries" in body
    assert "current:  31 queries" in body
    assert "change:   +1450.0%" in body
    assert "SELECT chefs.id, chefs.name FROM chefs WHERE chefs.user_id = ?" in body
    types = {f.get("type") for f in root.iter("failure")}
    assert types == {"regression", "budget_violation", "missing"}


def test_noisy_and_acknowledged_are_skipped(sample_result: RunResult) -> None:
    root = ET.fromstring(render_junit(sample_result))
    messages = sorted(s.get("message", "") for s in root.iter("skipped"))
    assert messages[0].startswith("acknowledged: campaign descriptions now included")
    assert messages[1].startswith("too noisy to judge: ")


def test_properties_name_commit_and_baseline(sample_result: RunResult) -> None:
    root = ET.fromstring(render_junit(sample_result))
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["commit"] == "3f2a9c1d0b7e"
    assert props["baseline"] == "baselines/default.json"
    assert props["environment.python"] == "3.11.7"


def test_special_and_control_characters_stay_valid_xml(
    build_result: Callable[..., RunResult],
) -> None:
    name = 'n_plus_one/GET /api/a?x=1&y=<2>"/queries'
    sql = "SELECT '<&>' FROM t -- \x00\x1b[0m ]]>"
    current = Measurement(name, 3, "queries", Direction.LOWER, evidence=(Evidence("sql", sql),))
    verdict = Verdict(name, Outcome.REGRESSION, Mode.EXACT, 'grew "a lot" & <fast>\x07', current)
    root = ET.fromstring(render_junit(build_result([verdict])))
    case = root.find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == 'GET /api/a?x=1&y=<2>"/queries'
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == 'grew "a lot" & <fast>\ufffd'
    assert "SELECT '<&>' FROM t -- \ufffd\ufffd[0m ]]>" in (failure.text or "")


def test_empty_result_is_a_valid_empty_suite(build_result: Callable[..., RunResult]) -> None:
    root = ET.fromstring(render_junit(build_result([])))
    assert root.get("tests") == "0"
    assert root.find("testsuite/testcase") is None
