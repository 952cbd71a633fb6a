"""Results files read back: the publisher renders exactly what the run's own reporters did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfci.errors import ConfigError
from perfci.github.results import load_result
from perfci.reporters import render_json, render_markdown
from tests.github.builders import FAILING_RESULTS

GOLDEN = FAILING_RESULTS.parent


def test_round_trip_renders_the_golden_markdown_and_json() -> None:
    result = load_result(FAILING_RESULTS)
    assert json.loads(render_json(result)) == json.loads(FAILING_RESULTS.read_text("utf-8"))
    golden = (GOLDEN / "report.md").read_text(encoding="utf-8")
    # The results file keeps where each rule was written (budget and acknowledgement source).
    rendered = render_markdown(result)
    assert rendered.splitlines()[:-1] == golden.splitlines()[:-1]
    footer, golden_footer = rendered.splitlines()[-1], golden.splitlines()[-1]
    assert footer.split("<br>")[0] == golden_footer.split("<br>")[0]
    assert sorted(footer.removesuffix("</sub>").split("<br>")[1].split(" · ")) == sorted(
        golden_footer.removesuffix("</sub>").split("<br>")[1].split(" · ")
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ('{"suite": "x"}', "not a results file"),
        ('{"perfci_results": 99, "exit_code": 0}', "perfci_results 99 > 1"),
        ('{"perfci_results": 1}', "not a valid results file"),
        ('{"perfci_results": 1, "exit_code": 1, "verdicts": [{"name": "a"}]}', "not a valid"),
    ],
)
def test_bad_results_files_are_usage_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_result(path)
    assert str(path) in str(caught.value)
