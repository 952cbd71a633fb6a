"""perfci.yaml parsing and validation: every error names file, line and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from perfci.check import Check, CheckOptions
from perfci.config.load import bind_checks, find_config, read_config
from perfci.errors import ConfigError


class SamplesOptions(CheckOptions):
    samples: int = 100
    endpoints: list[str] = []


class LatencyLike(Check):
    name = "latency"
    Options = SamplesOptions

    def collect(self, ctx, options):  # type: ignore[no-untyped-def]
        return []


CHECKS: dict[str, type[Check]] = {"latency": LatencyLike}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "perfci.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def error_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        model, source = read_config(path, env or {})
        bind_checks(model, source, CHECKS)
    return str(info.value)


def test_valid_config_binds_check_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        suite: demo
        target:
          app: toyapp:create_app
        checks:
          latency:
            samples: 50
        thresholds:
          default: 5%
          "latency/*": {threshold: 25%, strict: true}
        budgets:
          "latency/GET /x/p95": {max: 25ms}
        """,
    )
    model, source = read_config(path, {})
    config = bind_checks(model, source, CHECKS)
    options = config.check_options["latency"]
    assert isinstance(options, SamplesOptions)
    assert options.samples == 50
    assert config.where("budgets", "latency/GET /x/p95") == "perfci.yaml:11"
    assert model.thresholds["default"] == pytest.approx(0.05)


def test_wrong_type_names_file_line_and_key(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        target:
          app: toyapp:create_app
        checks:
          latency:
            samples: many
        """,
    )
    assert message == "perfci.yaml:5: checks.latency.samples: expected an integer, got 'many'"


def test_unknown_check_suggests_the_close_name(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        target:
          app: toyapp:create_app
        checks:
          latncy: {}
        """,
    )
    assert (
        message == "perfci.yaml:4: checks.latncy: unknown check 'latncy' (did you mean 'latency'?)"
    )


def test_unknown_top_level_key_suggests(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        target:
          app: toyapp:create_app
        budget: {}
        """,
    )
    assert message == "perfci.yaml:3: budget: unknown key 'budget' (did you mean 'budgets'?)"


def test_unknown_nested_key_suggests(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        target:
          app: toyapp:create_app
          server:
            worker: 4
        """,
    )
    assert (
        message
        == "perfci.yaml:4: target.server.worker: unknown key 'worker' (did you mean 'workers'?)"
    )


def test_unknown_key_in_a_check_section(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        target:
          app: toyapp:create_app
        checks:
          latency:
            sample: 3
        """,
    )
    assert (
        message
        == "perfci.yaml:5: checks.latency.sample: unknown key 'sample' (did you mean 'samples'?)"
    )


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, "target:\n  app: [unclosed\nchecks: {}\n")
    assert message.startswith("perfci.yaml:3: invalid YAML")


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, "target:\n  app: a:b\n  app: c:d\n")
    assert message == "perfci.yaml:3: duplicate key 'target.app'"


def test_missing_required_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, "suite: x\ntarget:\n  seed: app:seed\n")
    assert message == "perfci.yaml:2: target.app: required key is missing"


def test_env_interpolation_with_default(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        target:
          app: toyapp:create_app
          database: ${DB_URL}
          config:
            FAULTS: ${PERFCI_FAULTS:-}
            TOKEN: "x-${SECRET}-y"
        """,
    )
    model, _ = read_config(path, {"DB_URL": "postgresql://h/db", "SECRET": "s3"})
    assert model.target is not None
    assert model.target.database == "postgresql://h/db"
    assert model.target.config == {"FAULTS": "", "TOKEN": "x-s3-y"}


def test_unset_env_var_is_an_error_with_line(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        target:
          app: toyapp:create_app
          database: ${DB_URL}
        """,
    )
    assert message.startswith(
        "perfci.yaml:3: target.database: environment variable DB_URL is not set"
    )


def test_threshold_needs_a_percentage(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        target:
          app: toyapp:create_app
        thresholds:
          default: 10
        """,
    )
    assert message.startswith("perfci.yaml:4: thresholds.default")
    assert "10%" in message


def test_bad_app_spec(tmp_path: Path) -> None:
    message = error_of(tmp_path, "target:\n  app: toyapp.create_app\n")
    assert message == "perfci.yaml:2: target.app: expected 'module:name', got 'toyapp.create_app'"


def test_acknowledge_needs_a_reason_and_a_date(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        target:
          app: toyapp:create_app
        acknowledge:
          - metric: "latency/*"
            reason: known
            expires: soon
        """,
    )
    assert message.startswith("perfci.yaml:6: acknowledge[0].expires: expected a date")


def test_find_config_walks_up(tmp_path: Path) -> None:
    write(tmp_path, "target:\n  app: a:b\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_config(nested) == tmp_path / "perfci.yaml"


def test_find_config_none(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no perfci.yaml"):
        find_config(tmp_path)


def test_an_empty_file_has_no_target(tmp_path: Path) -> None:
    # Valid as far as the file goes; `perfci run` then says no check is selected.
    model, _ = read_config(write(tmp_path, ""))
    assert model.target is None


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert "must be a mapping" in error_of(tmp_path, "- a\n- b\n")


def test_a_lone_placeholder_takes_the_type_it_reads_as(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        target:
          app: toyapp:create_app
          seed_args:
            scale: ${SCALE:-0.2}
            rows: ${ROWS}
            name: "v${ROWS}"
            flag: ${FLAG:-true}
          config:
            FAULTS: ${PERFCI_FAULTS:-}
        """,
    )
    model, _ = read_config(path, {"ROWS": "12"})
    assert model.target is not None
    assert model.target.seed_args == {"scale": 0.2, "rows": 12, "name": "v12", "flag": True}
    assert model.target.config == {"FAULTS": ""}


def test_placeholders_work_inside_flow_collections(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        target:
          app: toyapp:create_app
          seed_args: {scale: ${S:-1.0}, rows: ${ROWS}, name: "a ${ROWS}, b", tags: [${T:-x}, y]}
          config: {FAULTS: ${PERFCI_FAULTS:-}, "${KEY}": 1}
        """,
    )
    model, source = read_config(path, {"ROWS": "12"})
    assert model.target is not None
    assert model.target.seed_args == {
        "scale": 1.0,
        "rows": 12,
        "name": "a 12, b",
        "tags": ["x", "y"],
    }
    # Keys are not interpolated (as in block mappings); values keep their lines.
    assert model.target.config == {"FAULTS": "", "${KEY}": 1}
    assert source.where(("target", "seed_args", "rows")) == "perfci.yaml:3"


def test_an_unset_placeholder_in_a_flow_mapping_names_its_line(tmp_path: Path) -> None:
    text = """
        target:
          app: toyapp:create_app

          seed_args: {scale: ${SCALE}}
        """
    assert error_of(tmp_path, text) == (
        "perfci.yaml:4: target.seed_args.scale: environment variable SCALE is not set"
        " (write ${SCALE:-default} to give a default)"
    )
    # A YAML error after a placeholder still names its own line.
    assert error_of(tmp_path, "target: {app: ${A:-x}\n  b: [1, 2}\n").startswith("perfci.yaml:")


def test_a_config_mentioning_the_token_prefix_is_read_as_written(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        target:
          app: toyapp:create_app
          seed_args: {note: __perfci_env_0__, scale: ${S:-2}}
        """,
    )
    model, _ = read_config(path, {})
    assert model.target is not None
    assert model.target.seed_args == {"note": "__perfci_env_0__", "scale": 2}


def test_endpoint_expect_reaches_the_checks(tmp_path: Path) -> None:
    from perfci.runner import endpoints_of

    path = write(
        tmp_path,
        """
        target:
          app: app:create
          endpoints:
            - GET /ok
            - {request: GET /gone, expect: [404, 410]}
        checks: {latency: {}}
        """,
    )
    model, source = read_config(path, {})
    ok, gone = endpoints_of(bind_checks(model, source, CHECKS))
    assert ok.expect == () and gone.expect == (404, 410)
    assert gone.expects(410) and not gone.expects(200)
    assert "expect" in error_of(
        tmp_path,
        """
        target:
          app: app:create
          endpoints: [{request: GET /gone, expect: []}]
        checks: {latency: {}}
        """,
    )


class RenamedOptions(CheckOptions):
    renamed = {"sample_count": "samples"}
    samples: int = 100


class RenamedLike(Check):
    name = "renamed"
    Options = RenamedOptions

    def collect(self, ctx, options):  # type: ignore[no-untyped-def]
        return []


def test_a_renamed_option_is_read_as_its_new_name_with_a_located_warning(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        """
        target:
          app: toyapp:create_app
        checks:
          renamed:
            sample_count: 7
        """,
    )
    model, source = read_config(path, {})
    config = bind_checks(model, source, {"renamed": RenamedLike})
    options = config.check_options["renamed"]
    assert isinstance(options, RenamedOptions)
    assert options.samples == 7
    assert config.warnings == (
        "perfci.yaml:5: checks.renamed.sample_count is deprecated and will be removed "
        "in the next release: write 'samples'",
    )


def test_a_renamed_option_and_its_new_name_together_are_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        target:
          app: toyapp:create_app
        checks:
          renamed:
            samples: 3
            sample_count: 7
        """,
    )
    model, source = read_config(path, {})
    with pytest.raises(ConfigError) as info:
        bind_checks(model, source, {"renamed": RenamedLike})
    assert str(info.value) == (
        "perfci.yaml:6: checks.renamed.sample_count: was renamed 'samples', which is also "
        "set: keep only 'samples'"
    )


def test_current_names_give_no_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        target:
          app: toyapp:create_app
        checks:
          renamed:
            samples: 3
        """,
    )
    model, source = read_config(path, {})
    assert bind_checks(model, source, {"renamed": RenamedLike}).warnings == ()


def test_a_postgres_scheme_is_refused_with_the_dialect_to_write(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        target:
          app: toyapp:create_app
          database: postgres://postgres@127.0.0.1/test
        """,
    )
    assert message == (
        "perfci.yaml:3: target.database: SQLAlchemy has no 'postgres' dialect: "
        "write postgresql+psycopg://USER@HOST/DB"
    )
