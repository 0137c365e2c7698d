"""`ndap validate` and `ndap build` on a platform with custom personas (#20 item 4): a
data-scientist-like persona given acc access is refused (exit 2, the field named), a
valid one builds (exit 0) with its cells in ACCESS.md, its name in the guardrails and
its policies linted with the matrix's reasoned suppressions."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from ndap_infra.cli import app
from ndap_infra.config.enums import Persona
from ndap_infra.config.load import validate_data
from ndap_infra.linters.suppressions import custom_persona_suppressions
from tests.helpers import minimal

CUSTOM = [
    {
        "name": "research-scientist",
        "like": "data-scientist",
        "description": "Explores new model families in dev",
        "access": {"dev": "full"},
    },
    {
        "name": "analyst",
        "like": "business-user",
        "description": "Reads reports in acc and prd",
        "access": {"dev": "read-only", "acc": "uat", "prd": "read-only"},
    },
]


def write(path: Path, custom: list[dict[str, Any]]) -> Path:
    data: dict[str, Any] = minimal()
    data["custom_personas"] = custom
    YAML(typ="safe").dump(data, path)
    return path


def test_validate_refuses_a_data_scientist_like_persona_in_acc(tmp_path: Path) -> None:
    bad = copy.deepcopy(CUSTOM)
    bad[0]["access"]["acc"] = "read-only"
    result = CliRunner().invoke(app, ["validate", "-c", str(write(tmp_path / "p.yaml", bad))])
    assert result.exit_code == 2, result.output
    assert "custom_personas[0].access.acc: breaks invariant 2" in result.output
    good = CliRunner().invoke(app, ["validate", "-c", str(write(tmp_path / "q.yaml", CUSTOM))])
    assert good.exit_code == 0, good.output


def test_suppressions_follow_the_matrix_of_the_custom_personas() -> None:
    data: dict[str, Any] = minimal()
    data["custom_personas"] = copy.deepcopy(CUSTOM)
    config, issues = validate_data(data)
    assert config is not None, issues
    checkov, parliament = custom_persona_suppressions(config)
    assert {s.resource for s in checkov} == {r"env-dev/personas/research\-scientist/access"}
    assert {s.file for s in parliament} == {
        rf"env-{env}/personas/analyst/access\.json" for env in ("dev", "prd")
    }
    # Negative control: without custom personas, nothing is added.
    assert custom_persona_suppressions(config.model_copy(update={"custom_personas": ()})) == (
        (),
        (),
    )


@pytest.mark.terraform
def test_build_proves_and_lints_a_platform_with_custom_personas(tmp_path: Path) -> None:
    config = write(tmp_path / "platform.yaml", copy.deepcopy(CUSTOM))
    out, policies = tmp_path / "out", tmp_path / "policies"
    result = CliRunner().invoke(
        app, ["build", "-c", str(config), "--out", str(out), "--policies", str(policies)]
    )
    assert result.exit_code == 0, result.output
    assert "0 unsuppressed" in result.output
    access = (policies / "ACCESS.md").read_text()
    assert "- **research-scientist** (custom, like data-scientist: Explores new model" in access
    assert "| research-scientist | 10 of 24: reads production data | nothing | nothing |" in access
    scp = json.loads(
        (policies / "organization/access-guardrails/acme-ml-deny-data-scientists.json").read_text()
    )
    by_tag, by_name = scp["Statement"]
    assert by_tag["Condition"]["StringEquals"]["aws:PrincipalTag/ndap:persona"] == [
        Persona.DATA_SCIENTIST.value,
        "research-scientist",
    ]
    assert (
        "arn:aws:iam::*:role/*research-scientist*"
        in by_name["Condition"]["ArnLike"]["aws:PrincipalArn"]
    )
