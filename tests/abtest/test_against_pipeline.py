"""``perfci run --against`` through the gate pipeline: each side on its own code.

A base and a head that differ only in code (a fixed amount of hashing per
request, not a sleep): the HTTP metrics must see it, which they did not while
the base worker's gunicorn ran the head's tree. The dog-food perfci.yaml,
budgets included, must give 1 for a confirmed regression and 0 for A/A, never
2. A pull request that introduces perfci can gate itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from perfci.errors import ExitCode
from perfci.pytest_plugin import PerfciProject
from tests.toy.project import CONFIG, FLAKY, make_toy

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

#: About 9 ms of CPU per request on this machine: real work, like a code regression.
HASHING = "__import__('hashlib').pbkdf2_hmac('sha256', b'perfci', b'salt', 50000)"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def init(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")


def add_work(path: Path, marker: str, indent: str) -> None:
    """Put HASHING in front of the line holding ``marker``."""
    text = path.read_text()
    assert marker in text
    path.write_text(text.replace(marker, f"{HASHING}\n{indent}{marker}", 1))


HTTP_CONFIG = """
suite: toy
target:
  app: toyapp:create_app
  seed: toyapp:seed
  seed_args: {rows: 3}
  endpoints:
    - GET /items
  server:
    workers: 1
    threads: 2
checks:
  latency:
    mode: http
    http_samples: 40
    warmup: 5
    # No normalization by a probe: on a busy 2-core machine its own noise would widen
    # the interval; base and head are interleaved anyway.
    calibration: null
  load:
    stages: [4]
    duration: 8
"""


def test_code_served_over_http_is_measured_on_each_side(perfci_project: PerfciProject) -> None:
    project = make_toy(perfci_project, HTTP_CONFIG)
    init(project.path)
    git(project.path, "checkout", "-qb", "feature")
    add_work(project.path / "toyapp.py", "rows = db.session.execute", "        ")
    git(project.path, "commit", "-qam", "hashing per request")

    result = project.run("run", "--against", "main", "--rounds", "1", "--json", "r.json")

    assert result.exit_code == ExitCode.REGRESSION, result.output
    verdicts = {v["name"]: v for v in json.loads((project.path / "r.json").read_text())["verdicts"]}
    http = verdicts["latency/GET /items/http_p50"]
    assert http["outcome"] == "regression", http["reason"]
    # The base's gunicorn served the base's code: at least the hashing's cost apart.
    assert http["current"]["value"] - http["baseline"]["value"] > 4.0, http["reason"]
    load = {n: v["outcome"] for n, v in verdicts.items() if n.startswith("load/")}
    assert "regression" in {load["load/4users/p95"], load["load/4users/rps"]}, load


def test_the_reverse_change_is_an_improvement(perfci_project: PerfciProject) -> None:
    project = make_toy(perfci_project, HTTP_CONFIG.split("  load:")[0])
    add_work(project.path / "toyapp.py", "rows = db.session.execute", "        ")
    init(project.path)
    git(project.path, "checkout", "-qb", "feature")
    shutil.copy(REPO / "tests" / "toy" / "toyapp.py", project.path / "toyapp.py")
    git(project.path, "commit", "-qam", "no more hashing")

    result = project.run("run", "--against", "main", "--json", "r.json")

    assert result.exit_code == ExitCode.OK, result.output
    verdicts = {v["name"]: v for v in json.loads((project.path / "r.json").read_text())["verdicts"]}
    assert verdicts["latency/GET /items/http_p50"]["outcome"] == "improvement"


#: The toy check and a timing check, with a budget on the deterministic one: a rule about a
#: check that confirmation does not re-measure (the dog-food config has five).
FLAKY_CONFIG = CONFIG.replace("toy_queries: {}", "toy_queries: {}\n  flaky: {}") + (
    'budgets:\n  "toy_queries/*/queries": {max: 5}\n'
)


@pytest.mark.parametrize(
    ("slow", "code", "note"),
    [
        ("first", ExitCode.OK, "not confirmed: the second measurement was pass"),
        ("always", ExitCode.REGRESSION, "confirmed by a second measurement"),
    ],
)
def test_against_confirms_a_suspect_and_keeps_other_rules(
    perfci_project: PerfciProject, slow: str, code: int, note: str
) -> None:
    project = make_toy(perfci_project, FLAKY_CONFIG)
    project.write_plugin("flaky", FLAKY, directory="local_plugins")
    init(project.path)
    # Only the head's tree has the slow plugin: each worker loads its own tree's plugins.
    git(project.path, "checkout", "-qb", "feature")
    plugin = project.path / "local_plugins" / "flaky.py"
    plugin.write_text(plugin.read_text().replace('os.environ.get("FLAKY_SLOW")', repr(slow)))
    git(project.path, "commit", "-qam", "slower")

    result = project.run_inprocess(
        "run", "--against", "main", "--rounds", "1", "--json", "r.json", "--junit", "r.xml"
    )

    assert result.exit_code == code, result.output
    assert "re-measuring 1 suspected timing regression(s): flaky" in result.stderr
    verdicts = {v["name"]: v for v in json.loads((project.path / "r.json").read_text())["verdicts"]}
    flaky = verdicts["flaky/GET /x/p50"]
    assert any(note in n for n in flaky["notes"]), flaky["notes"]
    assert verdicts["toy_queries/GET /items/queries"]["outcome"] == "pass"
    assert (project.path / "r.xml").is_file()


# --- a pull request that introduces perfci --------------------------------------------------


def test_a_base_without_perfci_yaml_is_gated_with_the_heads(
    perfci_project: PerfciProject,
) -> None:
    project = make_toy(perfci_project)
    (project.path / "perfci.yaml").rename(project.path.parent / "perfci.yaml.later")
    plugins = project.path / "local_plugins"
    plugins.rename(project.path.parent / "local_plugins.later")
    init(project.path)  # the base: the app alone
    (project.path.parent / "perfci.yaml.later").rename(project.path / "perfci.yaml")
    (project.path.parent / "local_plugins.later").rename(plugins)
    git(project.path, "checkout", "-qb", "add-perfci")
    git(project.path, "add", ".")
    git(project.path, "commit", "-qm", "gate this app with perfci")

    result = project.run_inprocess("run", "--against", "main", "--json", "r.json")

    assert result.exit_code == ExitCode.OK, result.output
    assert "base tree: copied from the head: local_plugins" in result.stderr
    (verdict,) = json.loads((project.path / "r.json").read_text())["verdicts"]
    assert verdict["outcome"] == "pass"


def test_a_config_outside_the_repository_is_one_line(perfci_project: PerfciProject) -> None:
    project = make_toy(perfci_project)
    init(project.path)
    outside = project.path.parent / "elsewhere"
    shutil.copytree(project.path, outside, ignore=shutil.ignore_patterns(".git"))
    result = project.run_inprocess(
        "run", "--config", str(outside / "perfci.yaml"), "--against", "HEAD"
    )
    assert result.exit_code == ExitCode.USAGE, result.output
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("perfci: git rev-parse --show-toplevel: "), line
    assert "not a git repository" in line
    assert "Traceback" not in result.output


# --- the dog-food perfci.yaml, budgets included ----------------------------------------------


@pytest.fixture
def dogfood(tmp_path: Path) -> Path:
    root = tmp_path / "softfactory"
    root.mkdir()
    shutil.copytree(
        REPO / "target_api", root / "target_api", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPO / "perfci.yaml", root / "perfci.yaml")
    init(root)
    return root


#: Small seed data; latency and n_plus_one: a timing check and a deterministic one whose
#: budget (n_plus_one/*/growth) is not re-measured when latency is confirmed.
DOGFOOD_ARGS = ("--only", "latency", "--only", "n_plus_one")
DOGFOOD_ENV = {"PERFCI_SCALE": "0.05", "DATABASE_URL": "sqlite", "CACHE_REDIS_URL": ""}


def test_dogfood_a_a_passes(dogfood: Path) -> None:
    project = PerfciProject(dogfood)
    result = project.run("run", "--against", "HEAD", *DOGFOOD_ARGS, env=DOGFOOD_ENV, timeout=900)
    assert result.exit_code == ExitCode.OK, result.output


def test_dogfood_confirmed_regression_is_exit_1_with_reports(dogfood: Path) -> None:
    git(dogfood, "checkout", "-qb", "slower")
    app = dogfood / "target_api" / "app.py"
    text = app.read_text()
    marker = "    return app\n"
    assert marker in text
    app.write_text(
        text.replace(
            marker,
            "    @app.before_request\n"
            "    def _extra_work() -> None:\n"
            f"        {HASHING.replace('50000', '10000')}\n\n" + marker,
            1,
        )
    )
    git(dogfood, "commit", "-qam", "extra work on every request")
    project = PerfciProject(dogfood)
    result = project.run(
        "run",
        "--against",
        "main",
        "--rounds",
        "1",
        *DOGFOOD_ARGS,
        "--json",
        "r.json",
        "--markdown",
        "r.md",
        "--junit",
        "r.xml",
        env=DOGFOOD_ENV,
        timeout=900,
    )
    assert result.exit_code == ExitCode.REGRESSION, result.output
    assert "re-measuring" in result.stderr
    results = json.loads((dogfood / "r.json").read_text())
    failing = [v["name"] for v in results["verdicts"] if v["outcome"] == "regression"]
    assert any(name.startswith("latency/") and "/http_" in name for name in failing), failing
    assert (dogfood / "r.md").read_text().count("latency/") > 0
    assert "latency/" in (dogfood / "r.xml").read_text()
