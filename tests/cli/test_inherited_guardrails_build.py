"""Policies attached above the platform's units (a landing zone's, declared in
organization.inherited_guardrails) take part in every decision: one that denies a job of
the platform's own stops the build naming the jobs, nothing written; a harmless one is
evaluated at the root, so a request it denies is denied in every account, and allowed
again without it (the negative control)."""

from __future__ import annotations

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
from tests.cli.test_company_guardrails_build import synth
from tests.helpers import reference_data


def scp(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


DENY_PASS_ROLE = scp({"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"})
NO_RESERVED = scp(
    {
        "Sid": "NoReservedInstances",
        "Effect": "Deny",
        "Action": "ec2:PurchaseReservedInstancesOffering",
        "Resource": "*",
    }
)


def write_config(tmp_path: Path, *policies: tuple[str, dict[str, Any]]) -> Path:
    data = reference_data()
    data["organization"]["parent_ou_id"] = "ou-ab12-cd34ef56"
    data["organization"]["inherited_guardrails"] = [
        {"name": name, "document": document} for name, document in policies
    ]
    path = tmp_path / "platform.yaml"
    YAML().dump(data, path)
    return path


def test_an_inherited_policy_denying_a_platform_job_stops_the_build(tmp_path: Path) -> None:
    config = write_config(tmp_path, ("lz-no-pass-role", DENY_PASS_ROLE))
    result = synth(tmp_path, config)
    assert result.exit_code == 2, result.output
    assert "organization.inherited_guardrails[0] (lz-no-pass-role) denies 12 operation(s)" in (
        result.output
    )
    assert "churn-prediction: prd deployment" in result.output
    assert "exception for the platform's roles" in result.output
    assert "Nothing was written." in result.output
    assert not (tmp_path / "policies").exists() and not (tmp_path / "out").exists()


def test_a_harmless_inherited_policy_is_evaluated_above_every_unit(tmp_path: Path) -> None:
    config = write_config(tmp_path, ("lz-no-reserved", NO_RESERVED))
    result = synth(tmp_path, config)
    assert result.exit_code == 0, result.output
    assert "all as required" in result.output
    access = (tmp_path / "policies" / "ACCESS.md").read_text()
    assert "(organization.inherited_guardrails: lz-no-reserved) are evaluated" in access
    synthesis = load_synthesis(tmp_path / "out")
    loaded = load_config(config)

    def purchase(model: Any, env: Environment) -> Any:
        account = loaded.account_id(env)
        role = model.roles[account_access_role_arn(account, "OrganizationAccountAccessRole")]
        resource = Resource(f"arn:aws:ec2:eu-west-1:{account}:reserved-instances/*", account)
        request = Request(
            principal_for(role), "ec2:PurchaseReservedInstancesOffering", resource,
            base_context(loaded),
        )  # fmt: skip
        return evaluate(request, model.organization)

    model = build_model(loaded, synthesis.stack_json())
    for env in (Environment.DEV, Environment.ACC, Environment.PRD):
        decision = purchase(model, env)
        assert not decision.allowed
        assert any(
            ref.policy_name == "inherited/lz-no-reserved.json" and ref.layer == "scp"
            for ref in decision.deciding
        )
    # the negative control: the same platform without the inherited policy allows it
    (tmp_path / "bare").mkdir()
    bare = load_config(write_config(tmp_path / "bare", ("unused", NO_RESERVED)))
    bare = bare.model_copy(
        update={"organization": bare.organization.model_copy(update={"inherited_guardrails": ()})}
    )
    assert purchase(build_model(bare, synthesis.stack_json()), Environment.PRD).allowed


def test_validate_rejects_what_is_no_service_control_policy(tmp_path: Path) -> None:
    principal = scp({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    config = write_config(tmp_path, ("lz-a", principal))
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert "names a principal, which a service control policy cannot" in result.output
    big = scp({"Effect": "Deny", "Action": [f"ec2:Action{i:04d}" for i in range(400)],
               "Resource": "*"})  # fmt: skip
    config = write_config(tmp_path, ("lz-big", big))
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert "over AWS's 5120 for one service control policy" in result.output
    config = write_config(tmp_path, ("lz-twice", NO_RESERVED), ("lz-twice", DENY_PASS_ROLE))
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert "also the name of organization.inherited_guardrails[0]" in result.output
    config = write_config(tmp_path, ("lz-once", NO_RESERVED))
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 0, result.output
