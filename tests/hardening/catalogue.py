"""The hostile catalogue: each row an input, the exit code perfci must give and its message.

``docs/hardening.md`` lists the same rows (``test_catalogue.py`` checks that
the table and this list agree, and runs every row through the real command).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.toy.project import CONFIG

NO_BASELINE = CONFIG + "baselines:\n  required: false\nhistory:\n  enabled: false\n"
HOSTILE_TARGET = NO_BASELINE.replace("toyapp:create_app", "tests.hardening.hostile_app:create_app")
HOSTILE_TARGET = HOSTILE_TARGET.replace("toyapp:seed", "tests.hardening.hostile_app:seed")
FIFO = "<fifo>"  # a file entry that is made a FIFO with no writer

BASELINE_HEAD = '{"perfci_baseline": 1, "suite": "toy", "measurements": [{"name": '
BASELINE_ROW = '"toy_queries/GET /items/queries", "unit": "statements", "direction": "lower", '


def baseline(value: str) -> str:
    return BASELINE_HEAD + BASELINE_ROW + f'"value": {value}}}]}}'


def with_seed_args(**args: str) -> str:
    inner = ", ".join(f"{k}: {v}" for k, v in {"rows": "3", **args}.items())
    return HOSTILE_TARGET.replace("seed_args: {rows: 3}", f"seed_args: {{{inner}}}")


@dataclass(frozen=True)
class Row:
    id: str
    family: str
    input: str  # what the docs table says was given
    args: tuple[str, ...]
    exit: int
    message: str  # must appear in the output, in a one-line "perfci: ..." error when exit > 0
    config: str = CONFIG
    files: dict[str, str | bytes] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    absent: tuple[str, ...] = ()  # must appear nowhere in stdout or stderr


RESULTS = "out/results.json"
GITHUB_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_API_URL": "http://127.0.0.1:9",  # nothing listens: nothing may be sent anyway
    "GITHUB_REPOSITORY": "acme/shop",
    "GITHUB_SHA": "a" * 40,
    "GITHUB_EVENT_NAME": "push",
    "GITHUB_EVENT_PATH": "",
    "GITHUB_STEP_SUMMARY": "",
}

ROWS: tuple[Row, ...] = (
    # --- configuration ---------------------------------------------------------------------
    Row("threshold-nan", "config", "`thresholds: {default: 'nan%'}`", ("run",), 2,
        "thresholds.default: write a percentage", CONFIG + "thresholds:\n  default: 'nan%'\n"),
    Row("threshold-inf", "config", "`thresholds: {default: '1e999%'}`", ("run",), 2,
        "thresholds.default: write a percentage", CONFIG + "thresholds:\n  default: '1e999%'\n"),
    Row("threshold-negative", "config", "`thresholds: {default: '-5%'}`", ("run",), 2,
        "got '-5%'", CONFIG + "thresholds:\n  default: '-5%'\n"),
    Row("budget-infinite", "config", "`budgets: {'toy_queries/*': {max: '1e999'}}`", ("run",), 2,
        "expected a finite quantity",
        CONFIG + "budgets:\n  'toy_queries/*':\n    max: '1e999'\n"),
    Row("check-option-inf", "config", "`checks: {toy_queries: {repeat: .inf}}`", ("run",), 2,
        "checks.toy_queries.repeat",
        CONFIG.replace("toy_queries: {}", "toy_queries: {repeat: .inf}")),
    Row("env-not-yaml", "config", "`enabled: ${EN}` with `EN=\"'hunter2\"`", ("run",), 2,
        "the value from the environment is not true or false",
        CONFIG.replace("toy_queries: {}", "toy_queries: {enabled: '${EN}'}"),
        env={"EN": "'hunter2"}, absent=("hunter2",)),
    Row("alias-bomb", "config", "a billion-laughs alias bomb", ("run",), 2,
        "aliases are expanded (an alias bomb?)",
        CONFIG + "x: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
            f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))),
    Row("binary-config", "config", "perfci.yaml holding binary bytes", ("run",), 2,
        "not UTF-8 text", files={"perfci.yaml": b"\xff\xfe\x00target: x\n"}),
    Row("invalid-date", "config", "`expires: 2026-02-30`", ("run",), 2,
        "day is out of range for month",
        CONFIG + "acknowledge:\n  - metric: 'toy_queries/*'\n    reason: r\n"
        "    expires: 2026-02-30\n"),
    Row("merge-key-scalar", "config", "`thresholds: {<<: 5}`", ("run",), 2,
        "a merge key (<<) takes a mapping", CONFIG + "thresholds:\n  <<: 5\n"),
    Row("duplicate-endpoint", "config", "`GET /items` listed twice", ("run",), 2,
        "duplicate endpoint 'GET /items'",
        CONFIG.replace("    - GET /items\n", "    - GET /items\n    - /items\n")),
    Row("crlf-header", "config", "a header value holding CR LF", ("run",), 2,
        "a value may not hold CR, LF or NUL",
        CONFIG.replace("    - GET /items\n",
                       '    - {request: GET /items, headers: {X-A: "1\\r\\nX-B: 2"}}\n')),
    Row("config-dev-zero", "config", "`baseline show --config /dev/zero`",
        ("baseline", "show", "--config", "/dev/zero"), 2, "not a regular file"),
    Row("config-fifo", "config", "`plugins --config FIFO` (no writer)",
        ("plugins", "--config", "cfg.yaml"), 2, "not a regular file", files={"cfg.yaml": FIFO}),
    Row("rule-typo-skipped", "config",
        "`budgets: {'*/GET /itemz/queries': {max: 0}}` with another check disabled", ("run",), 2,
        "budget '*/GET /itemz/queries' matches no measurement",
        NO_BASELINE.replace("toy_queries: {}", "toy_queries: {}\n  toy_http: {enabled: false}")
        + "budgets:\n  '*/GET /itemz/queries': {max: 0}\n"),
    Row("history-url-port", "history", "`history.url: postgresql://h:abc/db`", ("run",), 2,
        "history.url: 'postgresql://h:abc/db' is not a SQLAlchemy URL",
        CONFIG + "history:\n  url: 'postgresql://h:abc/db'\n"),
    # --- target behaviour ------------------------------------------------------------------
    Row("factory-exit-0", "target", "the app factory calls `sys.exit(0)`", ("run",), 3,
        "called sys.exit(0)",
        HOSTILE_TARGET.replace("TOY_EXTRA", "HOSTILE_FACTORY: exit0\n    TOY_EXTRA", 1)),
    Row("factory-exit-1", "target", "the app factory calls `sys.exit(1)`", ("run",), 3,
        "called sys.exit(1)",
        HOSTILE_TARGET.replace("TOY_EXTRA", "HOSTILE_FACTORY: exit1\n    TOY_EXTRA", 1)),
    Row("import-exit-0", "target", "the app module calls `sys.exit(0)` at import", ("run",), 3,
        "called sys.exit(0)", HOSTILE_TARGET, env={"HOSTILE_IMPORT": "exit0"}),
    Row("seed-interrupt", "target", "the seed raises `KeyboardInterrupt`", ("run",), 3,
        "raised KeyboardInterrupt", with_seed_args(mode="interrupt")),
    Row("seed-hang", "target", "the seed hangs (`timeouts.seed: 0.5`)", ("run",), 3,
        "did not finish within 0.5 s",
        with_seed_args(mode="hang").replace("  server:", "  timeouts: {seed: 0.5}\n  server:")),
    Row("seed-none-count", "target", "the seed returns `{items: None}`", ("run",), 3,
        "not a row count", with_seed_args(returns="{items: null}")),
    # --- baselines and results -------------------------------------------------------------
    Row("baseline-infinity", "baselines", 'a baseline value `"Infinity"`', ("run",), 2,
        "not a valid baseline", files={"baselines/toy.json": baseline('"Infinity"')}),
    Row("baseline-overflow", "baselines", "a baseline value `1e400`", ("run",), 2,
        "number 1e400 is out of range", files={"baselines/toy.json": baseline("1e400")}),
    Row("baseline-nan-literal", "baselines", "a baseline value `NaN` (bare literal)", ("run",), 2,
        "NaN is not JSON", files={"baselines/toy.json": baseline("NaN")}),
    Row("baseline-deep", "baselines", "a baseline nested 100,000 deep", ("run",), 2,
        "nested deeper than 64 levels", files={"baselines/toy.json": "[" * 100_000}),
    Row("compare-huge-int", "results", "`compare` of a results file holding `10**400`",
        ("compare", "a.json", "a.json"), 2, "is out of range",
        files={"a.json": '{"perfci_results": 1, "measurements": [], "x": 1' + "0" * 400 + "}"}),
    Row("publish-lone-surrogate", "results",
        "`github publish` of a results file holding `\"\\ud800\"`",
        ("github", "publish", "--results", "r.json", "--no-status", "--no-comment"), 2,
        "lone surrogate", files={"r.json": '{"perfci_results": 1, "suite": "\\ud800"}'},
        env=GITHUB_ENV),
    Row("import-deep", "history", "`history import` of an export nested 100,000 deep",
        ("history", "import", "e.json", "--history", "sqlite:///h.db"), 2,
        "nested deeper than 64 levels", files={"e.json": "[" * 100_000}),
    # --- report paths ----------------------------------------------------------------------
    Row("json-under-file", "report paths", "`--json` a path under a regular file",
        ("run", "--json", "blocker/results.json"), 2, "cannot write report: Not a directory",
        NO_BASELINE, files={"blocker": "x"}),
    Row("markdown-dev-full", "report paths", "`--markdown /dev/full`",
        ("run", "--markdown", "/dev/full"), 2, "cannot write report: No space left on device",
        NO_BASELINE),
    Row("json-stdout", "report paths", "`--json -`", ("run", "--json", "-"), 0,
        '"perfci_results": 1', NO_BASELINE),
    # --- injected text ---------------------------------------------------------------------
    Row("rule-osc-and-command", "injected text",
        "a budget glob holding an OSC sequence and `\\n::add-mask::`", ("run",), 2,
        "matches no measurement",
        NO_BASELINE + 'budgets:\n  "x/\\e]0;pwn\\a\\n::add-mask::hunter2": {max: 1}\n',
        absent=("\x1b", "\x07", "\n::add-mask::")),
    # --- GitHub tokens ---------------------------------------------------------------------
    Row("token-newline", "github", "`GITHUB_TOKEN` with a trailing newline",
        ("github", "publish", "--results", RESULTS), 4,
        "GITHUB_TOKEN starts or ends with whitespace (a trailing newline?); it was not sent",
        env={**GITHUB_ENV, "GITHUB_TOKEN": "ghs_secretvalue123\n"}, absent=("secretvalue",)),
    Row("token-non-latin1", "github", "`GITHUB_TOKEN` holding `€`",
        ("github", "publish", "--results", RESULTS), 4, "GITHUB_TOKEN holds non-ASCII characters",
        env={**GITHUB_ENV, "GITHUB_TOKEN": "ghs_secret€value"}, absent=("secret",)),
)  # fmt: skip
