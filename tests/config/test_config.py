"""Configuration: the reference example, invariants, and the errors people see."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ndap_infra.cli import app
from ndap_infra.config import Access, ConfigError, Environment, Persona, load_config
from ndap_infra.config.load import validate_data
from ndap_infra.config.schema import SCHEMA_PATH, config_json_schema
from tests.helpers import FIXTURES, REFERENCE, ROOT, minimal

INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))
runner = CliRunner()


def expectations(path: Path) -> list[str]:
    return re.findall(r"^# expect: (.+)$", path.read_text(), flags=re.MULTILINE)


def test_reference_example_is_valid_and_realistic(reference_config) -> None:  # type: ignore[no-untyped-def]
    config = reference_config
    assert config.enabled_environments() == tuple(Environment)
    kinds = {p.kind.value for p in config.ml_projects}
    assert {"batch", "realtime"} <= kinds
    assert config.access(Persona.DATA_SCIENTIST, Environment.DEV) is Access.FULL
    for env in (Environment.ACC, Environment.PRD):
        assert config.access(Persona.DATA_SCIENTIST, env) is Access.NONE


def test_defaults_follow_the_design_matrix() -> None:
    config, issues = validate_data(minimal())
    assert issues == [] and config is not None
    assert config.enabled_environments() == (Environment.DEV, Environment.ACC, Environment.PRD)
    assert config.access(Persona.PLATFORM_ENGINEER, Environment.PRD) is Access.READ_ONLY
    assert config.access(Persona.ML_ENGINEER, Environment.PRD) is Access.NONE
    assert config.production_data(Environment.DEV).value == "read-only"
    assert config.identity_account_id == "100000000001"


def test_models_are_frozen(reference_config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="frozen"):
        reference_config.organization.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_configuration_reports_every_problem(fixture: Path) -> None:
    expected = expectations(fixture)
    assert expected, f"{fixture.name} declares no '# expect:' lines"
    result = runner.invoke(app, ["validate", "--config", str(fixture)])
    assert result.exit_code == 2, result.output
    for line in expected:
        assert line in result.stderr, f"missing {line!r} in:\n{result.stderr}"
    assert "Nothing was written." in result.stderr


def test_error_names_file_line_field_value_and_fix() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(FIXTURES / "invalid" / "data-scientist-in-prd.yaml")
    lines = caught.value.render().splitlines()
    assert lines[0].startswith("2 problems in ")
    assert any(
        re.search(
            r"data-scientist-in-prd\.yaml:9: personas\.data-scientist\.prd: breaks invariant 2 "
            r".*set it to 'none'.*\(got 'full'\)",
            line,
        )
        for line in lines
    ), lines


def test_unknown_key_lists_the_allowed_keys() -> None:
    data = minimal()
    data["environments"]["dev"]["acount_id"] = "300000000003"  # type: ignore[index]
    _, issues = validate_data(data)
    messages = [f"{i.dotted_path}: {i.message}" for i in issues]
    assert any(
        m.startswith("environments.dev.acount_id: Extra inputs are not permitted")
        and "account_id, allowed_regions, email, enabled, production_data" in m
        for m in messages
    ), messages


def test_nonprod_can_be_switched_off_and_on() -> None:
    data = minimal()
    config, _ = validate_data(data)
    assert config is not None and Environment.NONPROD not in config.enabled_environments()
    data["environments"]["nonprod"] = {"account_id": "200000000002", "email": "n@acme.example"}  # type: ignore[index]
    config, _ = validate_data(data)
    assert config is not None and Environment.NONPROD in config.enabled_environments()


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "file not found" in result.stderr


def test_validate_reports_valid_reference() -> None:
    result = runner.invoke(app, ["validate", "--config", str(REFERENCE)])
    assert result.exit_code == 0, result.output
    assert "valid (nonprod, dev, acc, prd; 3 ML projects)" in result.stdout


def test_bad_configuration_writes_nothing(tmp_path: Path) -> None:
    out, policies = tmp_path / "out", tmp_path / "policies"
    policies.mkdir()
    (policies / "keep.json").write_text("{}")
    result = runner.invoke(
        app,
        [
            "synth",
            "--config",
            str(FIXTURES / "invalid" / "many-problems.yaml"),
            "--out",
            str(out),
            "--policies",
            str(policies),
        ],
    )
    assert result.exit_code == 2
    assert not out.exists()
    assert [p.name for p in policies.iterdir()] == ["keep.json"]
    assert not list(tmp_path.glob(".*")), "no staging directories left behind"


def test_json_schema_is_committed_and_current() -> None:
    committed = (ROOT / SCHEMA_PATH).read_text()
    assert committed == config_json_schema(), "run `make schema` and commit it"


def test_json_schema_rejects_unknown_keys_and_names_enums() -> None:
    import json

    schema = json.loads(config_json_schema())
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["OrganizationConfig"]["additionalProperties"] is False
    assert "data-scientist" in json.dumps(schema["$defs"]["Persona"])
