"""Synthesized stacks: names and ids are a contract, environments differ only by config."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cdktf import App
from cdktf import Testing as CdktfTesting

from ndap_infra.config import Environment
from ndap_infra.config.load import validate_data
from ndap_infra.proofs.parity import endpoint_targets
from ndap_infra.resources.schema import unknown_attributes
from ndap_infra.stacks.platform import build_platform
from tests.helpers import minimal

EXPECTED_STACKS = [
    "organization",
    "log-archive",
    "security-tooling",
    "tooling",
    "organization-trail",
    "env-nonprod",
    "env-dev",
    "env-acc",
    "env-prd",
]

# Construct paths are the contract with deployed state: renaming one replaces resources.
EXPECTED_ENV_CONSTRUCTS = {
    "aws_kms_key": {"data-key/key"},
    "aws_kms_alias": {"data-key/alias"},
    "aws_s3_bucket": {"data-bucket/bucket"},
    "aws_s3_bucket_versioning": {"data-bucket/versioning"},
    "aws_s3_bucket_server_side_encryption_configuration": {"data-bucket/encryption"},
    "aws_s3_bucket_public_access_block": {"data-bucket/public-access-block"},
    "aws_s3_bucket_ownership_controls": {"data-bucket/ownership"},
    "aws_s3_bucket_policy": {"data-bucket/policy"},
    "aws_s3_bucket_lifecycle_configuration": {"data-bucket/lifecycle"},
    "aws_s3_bucket_notification": {"data-bucket/notifications"},
    "aws_s3_bucket_logging": {"data-bucket/access-logging"},
}


def construct_paths(stack: dict[str, Any]) -> dict[str, set[str]]:
    paths: dict[str, set[str]] = {}
    for rtype, resources in stack.get("resource", {}).items():
        for body in resources.values():
            path = body["//"]["metadata"]["path"].split("/", 1)[1]
            paths.setdefault(rtype, set()).add(path)
    return paths


def test_stack_names_are_stable_and_in_dependency_order(reference_synthesis) -> None:  # type: ignore[no-untyped-def]
    assert list(reference_synthesis.stacks) == EXPECTED_STACKS


def test_environment_construct_ids_are_stable(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    for env in ("nonprod", "dev", "acc", "prd"):
        paths = construct_paths(reference_stacks[f"env-{env}"])
        for rtype, expected in EXPECTED_ENV_CONSTRUCTS.items():
            assert expected <= paths.get(rtype, set()), (env, rtype, paths.get(rtype))


def test_organization_has_a_unit_per_enabled_environment(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    org = reference_stacks["organization"]
    units = org["resource"]["aws_organizations_organizational_unit"]
    names = sorted(u["name"] for u in units.values())
    assert names == [
        "acme-ml-acc",
        "acme-ml-dev",
        "acme-ml-nonprod",
        "acme-ml-prd",
        "acme-ml-security",
        "acme-ml-tooling",
    ]
    # create_organization: false: the existing organization is looked up and imported
    # (only to enable its policy types, #16), and every configured account is imported by
    # id and placed in its unit, never destroyed.
    (adopted,) = org["resource"]["aws_organizations_organization"].values()
    assert adopted["lifecycle"]["prevent_destroy"] is True
    assert "aws_organizations_organization" in org["data"]
    accounts = org["resource"]["aws_organizations_account"]
    imported = {
        i["id"]: i["to"] for i in org["import"] if i["to"].startswith("aws_organizations_account.")
    }
    assert sorted(imported) == [
        "200000000002", "300000000003", "400000000004", "500000000005", "600000000006",
        "700000000007", "800000000008",
    ]  # fmt: skip
    for logical_id, account in accounts.items():
        assert f"aws_organizations_account.{logical_id}" in imported.values()
        unit = account["//"]["metadata"]["path"].rsplit("/", 1)[1]
        unit = {"log-archive": "security", "security-tooling": "security"}.get(unit, unit)
        assert account["parent_id"].startswith(
            "${aws_organizations_organizational_unit.units_" + unit + "_"
        )
        assert account["lifecycle"]["prevent_destroy"] is True
        assert {"name", "email"} <= set(account["lifecycle"]["ignore_changes"])
    attachments = org["resource"]["aws_organizations_policy_attachment"]
    targets = {a["target_id"] for a in attachments.values()}
    assert len(targets) == 6, "every unit (the tooling's and security's too) carries guardrails"


def test_each_environment_stack_assumes_a_role_in_its_own_account(
    reference_stacks, reference_config
) -> None:  # type: ignore[no-untyped-def]
    for env in reference_config.enabled_environments():
        provider = reference_stacks[f"env-{env.value}"]["provider"]["aws"][0]
        account = reference_config.account_id(env)
        role = provider["assume_role"][0]["role_arn"]
        assert role == f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        assert provider["default_tags"][0]["tags"]["ndap:environment"] == env.value
    # The reference example deploys to the emulator, where the management account is
    # reached like the others (its dummy credentials belong to moto's default account).
    org_role = reference_stacks["organization"]["provider"]["aws"][0]["assume_role"][0]
    management = reference_config.organization.management_account_id
    assert org_role["role_arn"] == f"arn:aws:iam::{management}:role/OrganizationAccountAccessRole"


def test_on_the_aws_target_the_management_account_uses_the_callers_credentials(
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    data = minimal()
    data["deploy"] = {"target": "aws"}
    config, issues = validate_data(data)
    assert config is not None, issues
    app = App(outdir=str(tmp_path))
    build_platform(app, config)
    stacks = {s.node.id: json.loads(CdktfTesting.synth(s)) for s in app.node.children}
    org_provider = stacks["organization"]["provider"]["aws"][0]
    assert "assume_role" not in org_provider
    assert "endpoints" not in org_provider
    assert "s3" not in stacks["organization"]["terraform"].get("backend", {})
    for env in config.enabled_environments():
        provider = stacks[f"env-{env.value}"]["provider"]["aws"][0]
        assert "endpoints" not in provider and "access_key" not in provider
        assert "variable" not in stacks[f"env-{env.value}"]


ACCESS_SUBTREES = ("personas", "data-access", "pipelines", "feature-publishers")
WORKLOAD_SUBTREES = ("retraining", "features")
"""ML workload that follows the configuration per environment (retraining choices,
feature promotion), checked in tests/pipelines/test_retraining.py."""


def normalized(stack: dict[str, Any], config: Any, env: Environment) -> str:
    """The stack with its environment's names and ids replaced by placeholders, and the
    access subtrees (which differ by design) left out."""
    resources = {
        rtype: {
            logical_id: body
            for logical_id, body in bodies.items()
            if body["//"]["metadata"]["path"].split("/")[1]
            not in (*ACCESS_SUBTREES, *WORKLOAD_SUBTREES)
        }
        for rtype, bodies in stack["resource"].items()
    }
    kept = {k: v for k, v in stack.items() if k not in ("//", "resource")}
    # The emulator target lists an endpoint per service a stack uses; the access subtrees
    # (pipelines: a batch project's schedule) add services. Compared: where they point.
    kept["provider"] = {
        ptype: [endpoint_targets(body) for body in bodies]
        for ptype, bodies in stack.get("provider", {}).items()
    }
    kept["resource"] = {rtype: bodies for rtype, bodies in resources.items() if bodies}
    text = json.dumps(kept, sort_keys=True)
    text = text.replace(config.account_id(env), "<ACCOUNT>")
    text = re.sub(rf"\b{env.value}\b", "<ENV>", text)
    return text


def test_environments_differ_only_in_names_and_ids(reference_stacks, reference_config) -> None:  # type: ignore[no-untyped-def]
    envs = reference_config.enabled_environments()
    reference = normalized(reference_stacks["env-dev"], reference_config, Environment.DEV)
    for env in envs:
        assert normalized(reference_stacks[f"env-{env.value}"], reference_config, env) == reference


def test_every_attribute_set_is_in_the_provider_schema(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    for name, stack in reference_stacks.items():
        assert unknown_attributes(stack) == [], name


def test_data_bucket_is_hardened(reference_config) -> None:  # type: ignore[no-untyped-def]
    app = CdktfTesting.app()
    stacks = build_platform(app, reference_config)
    synthesized = CdktfTesting.synth(stacks["env-prd"])
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized,
        "aws_s3_bucket_public_access_block",
        {
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        },
    )
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized, "aws_kms_key", {"enable_key_rotation": True}
    )
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized,
        "aws_s3_bucket_versioning",
        {"versioning_configuration": [{"status": "Enabled"}]},
    )
    bodies = json.loads(synthesized)["resource"]["aws_s3_bucket_policy"].values()
    (policy,) = [b for b in bodies if b["bucket"].startswith("${aws_s3_bucket.data-bucket_")]
    conditions = [s.get("Condition") for s in json.loads(policy["policy"])["Statement"]]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions


def test_nonprod_switched_off_drops_its_stack_and_unit() -> None:
    config, issues = validate_data(minimal())
    assert config is not None, issues
    app = App(outdir="/tmp/ndap-test-unused")
    stacks = build_platform(app, config)
    assert list(stacks) == ["organization", "env-dev", "env-acc", "env-prd"]
    org = json.loads(CdktfTesting.synth(stacks["organization"]))
    # looked up, and imported only to enable its policy types (#16), not created
    assert "aws_organizations_organization" in org["data"]
    (adopted,) = org["resource"]["aws_organizations_organization"].values()
    assert "setunion(data.aws_organizations_organization." in adopted["enabled_policy_types"]
    units = org["resource"]["aws_organizations_organizational_unit"]
    assert len(units) == 3


@pytest.mark.terraform
def test_every_stack_passes_real_terraform_validate(reference_synthesis, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    from ndap_infra.terraform.cli_config import write_cli_config
    from ndap_infra.terraform.runner import validate_stacks

    setup = write_cli_config(tmp_path_factory.mktemp("tf"))
    results = validate_stacks(reference_synthesis.stacks, setup)
    assert [r.stack for r in results] == EXPECTED_STACKS
    failures = [r.message for r in results if not r.ok]
    assert failures == []


def test_cdktf_knows_the_deploy_order(reference_synthesis) -> None:  # type: ignore[no-untyped-def]
    """`cdktf deploy '*'` orders stacks by the manifest's dependencies: the organization
    first, then tooling, then every environment (which trusts tooling's build roles), prd
    after the environments whose buckets it replicates into."""
    manifest = json.loads((reference_synthesis.out_dir / "manifest.json").read_text())
    depends = {name: sorted(stack["dependencies"]) for name, stack in manifest["stacks"].items()}
    assert depends["organization"] == []
    # Every account's Config delivers into the log archive: it comes before them.
    assert depends["log-archive"] == ["organization"]
    assert depends["security-tooling"] == ["organization"]
    assert depends["organization-trail"] == ["log-archive"]
    assert depends["tooling"] == ["log-archive", "organization"]
    for name in ("env-nonprod", "env-dev", "env-acc"):
        assert depends[name] == ["log-archive", "organization", "tooling"]
    assert depends["env-prd"] == ["env-acc", "env-dev", "log-archive", "organization", "tooling"]
