"""The jobs proof runs with the company's guardrails: one that denies a job of the
platform's own is rejected naming the jobs, nothing written; a harmless one is built into
the SCPs and the reviewer files. `ndap validate` rejects one that does not fit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from typer.testing import CliRunner

from ndap_infra.cli import app
from tests.helpers import reference_data


HARMLESS = {"sid": "DenyReservedInstances", "actions": ["ec2:PurchaseReservedInstancesOffering"]}


def write_config(tmp_path: Path, *guardrails: dict[str, Any]) -> Path:
    data = reference_data()
    data["organization"]["company_guardrails"] = list(guardrails)
    path = tmp_path / "platform.yaml"
    YAML().dump(data, path)
    return path


def synth(tmp_path: Path, config: Path) -> Any:
    out, policies = tmp_path / "out", tmp_path / "policies"
    return CliRunner().invoke(
        app, ["synth", "-c", str(config), "--out", str(out), "--policies", str(policies)]
    )


def test_a_guardrail_denying_a_platform_job_is_rejected_naming_the_jobs(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"sid": "DenyPassRole", "actions": ["iam:PassRole"]})
    result = synth(tmp_path, config)
    assert result.exit_code == 2, result.output
    assert "organization.company_guardrails[0] (DenyPassRole) denies 9 operation(s)" in (
        result.output
    )
    for project in ("churn-prediction", "demand-forecast", "fraud-scoring"):
        for env in ("dev", "acc", "prd"):
            assert f"{project}: {env} deployment" in result.output
    assert "Nothing was written." in result.output
    assert not (tmp_path / "policies").exists()
    assert not (tmp_path / "out").exists()


def test_a_harmless_guardrail_is_built_into_the_scps_and_the_reviewer_files(
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path,
        {"sid": "DenyBillingChanges", "actions": ["aws-portal:Modify*"]},
        {
            "sid": "DenyReservedInstances",
            "actions": ["ec2:PurchaseReservedInstancesOffering"],
            "units": ["acc", "prd"],
        },
    )
    result = synth(tmp_path, config)
    assert result.exit_code == 0, result.output
    assert "operations of the platform's machine identities evaluated, all as required" in (
        result.output
    )
    organization = tmp_path / "policies" / "organization"
    integrity = json.loads(
        (organization / "guardrails" / "acme-ml-organization-integrity.json").read_text()
    )
    images = json.loads(
        (
            organization
            / "access-guardrails"
            / "acme-ml-images-only-from-the-platform-registry.json"
        ).read_text()
    )
    assert "DenyBillingChanges" in {s["Sid"] for s in integrity["Statement"]}
    assert "DenyReservedInstances" in {s["Sid"] for s in images["Statement"]}
    stack = json.loads((tmp_path / "out" / "stacks" / "organization" / "cdk.tf.json").read_text())
    contents = [p["content"] for p in stack["resource"]["aws_organizations_policy"].values()]
    assert sum("DenyBillingChanges" in c for c in contents) == 2  # workload units, security
    assert sum("DenyReservedInstances" in c for c in contents) == 1


def test_validate_rejects_a_guardrail_that_does_not_fit(tmp_path: Path) -> None:
    big = {"sid": "Big", "actions": [f"ec2:Action{i:04d}" for i in range(290)]}
    config = write_config(tmp_path, {**big, "units": ["acc", "prd"]})
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert "84 characters over" in result.output
    fits = write_config(tmp_path, {**big, "actions": big["actions"][:280], "units": ["acc", "prd"]})
    assert CliRunner().invoke(app, ["validate", "-c", str(fits)]).exit_code == 0
    # acc alone: each of its five SCPs is attached to other units too, so nothing may carry it
    alone = write_config(tmp_path, {**HARMLESS, "units": ["acc"]})
    result = CliRunner().invoke(app, ["validate", "-c", str(alone)])
    assert result.exit_code == 2, result.output
    assert "each of them is attached to units the statement does not name" in result.output
