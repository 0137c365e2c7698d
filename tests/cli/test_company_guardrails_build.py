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
from ndap_infra.config import Environment, load_config
from ndap_infra.evaluator import Request, Resource, evaluate, principal_for
from ndap_infra.names.access import account_access_role_arn
from ndap_infra.proofs.access_model import build_model
from ndap_infra.proofs.principals import base_context
from ndap_infra.stacks.synthesis import load_synthesis
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
    # the 3 projects' deployments in dev, acc and prd, and the feature publisher of each
    # environment (it passes the offline-store role to SageMaker)
    assert "organization.company_guardrails[0] (DenyPassRole) denies 12 operation(s)" in (
        result.output
    )
    for project in ("churn-prediction", "demand-forecast", "fraud-scoring"):
        for env in ("dev", "acc", "prd"):
            assert f"{project}: {env} deployment" in result.output
    for env in ("dev", "acc", "prd"):
        assert f"growth-features: {env} feature pipeline" in result.output
    assert "Nothing was written." in result.output
    assert not (tmp_path / "policies").exists()
    assert not (tmp_path / "out").exists()


def test_a_harmless_guardrail_is_built_into_the_scps_and_the_reviewer_files(
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path,
        {"sid": "DenyBillingChanges", "actions": ["aws-portal:Modify*"]},
        {**HARMLESS, "units": ["prd"]},
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
    assert "DenyBillingChanges" in {s["Sid"] for s in integrity["Statement"]}
    reviewer_files = "".join(p.read_text() for p in organization.rglob("*.json"))
    assert "DenyReservedInstances" in reviewer_files
    synthesis = load_synthesis(tmp_path / "out")
    contents = [
        p["content"]
        for p in synthesis.stack_json()["organization"]["resource"][
            "aws_organizations_policy"
        ].values()
    ]
    assert sum("DenyBillingChanges" in c for c in contents) == 2  # workload units, security
    # What a user notices: prd's principals are refused the purchase, acc's are not.
    loaded = load_config(config)
    model = build_model(loaded, synthesis.stack_json())

    def purchase(env: Environment) -> bool:
        account = loaded.account_id(env)
        role = model.roles[account_access_role_arn(account, "OrganizationAccountAccessRole")]
        resource = Resource(f"arn:aws:ec2:eu-west-1:{account}:reserved-instances/*", account)
        request = Request(
            principal_for(role),
            "ec2:PurchaseReservedInstancesOffering",
            resource,
            base_context(loaded),
        )
        return evaluate(request, model.organization).allowed

    assert not purchase(Environment.PRD)
    assert purchase(Environment.ACC)


def test_validate_rejects_a_guardrail_that_does_not_fit(tmp_path: Path) -> None:
    big = {"sid": "Big", "actions": [f"ec2:Action{i:04d}" for i in range(290)]}
    config = write_config(tmp_path, {**big, "units": ["acc", "prd"]})
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert "84 characters over" in result.output
    fits = write_config(tmp_path, {**big, "actions": big["actions"][:280], "units": ["acc", "prd"]})
    result = CliRunner().invoke(app, ["validate", "-c", str(fits)])
    assert result.exit_code == 0, result.output
    assert (
        "company guardrail Big: in acme-ml-images-only-from-the-platform-registry (5034 of "
        "5120 characters)"
    ) in result.output


def test_deploy_refuses_a_guardrail_denying_a_platform_job_before_anything_runs(
    tmp_path: Path,
) -> None:
    """`ndap deploy` synthesizes on its own (no build needed): it runs the jobs proof too."""
    config = write_config(tmp_path, {"sid": "DenyPassRole", "actions": ["iam:PassRole"]})
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["deploy", "-c", str(config), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "(DenyPassRole) denies 12 operation(s)" in result.output
    assert "Nothing was deployed." in result.output
    assert not out.exists()
