"""What the first apply on real AWS needs of the synthesized stacks (issue #16): policy
types enabled before any policy is attached (finding 2), replication after versioning
(finding 5). GIVEN the reference configuration, WHEN synthesized, THEN the order is
declared to Terraform."""

from __future__ import annotations

from typing import Any

from ndap_infra.config.load import validate_data
from ndap_infra.stacks.synthesis import synthesize
from tests.helpers import ref, reference_data, resources

POLICY_TYPES = {"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"}


def _organization(stack: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((name, body),) = stack["resource"]["aws_organizations_organization"].items()
    return f"aws_organizations_organization.{name}", body


def _every_policy_depends_on(stack: dict[str, Any], address: str) -> None:
    policies = stack["resource"]["aws_organizations_policy"]
    assert policies
    for name, body in policies.items():
        assert address in body.get("depends_on", []), name


def test_an_adopted_organization_gets_the_policy_types_its_guardrails_use(
    reference_config: Any, reference_stacks: dict[str, Any]
) -> None:
    """The reference adopts its organization (create_organization: false): the stack
    imports it and adds SCP and RCP to what is enabled, never removing a type, and leaves
    its service access alone; every organization policy waits for it."""
    assert reference_config.organization.create_organization is False
    stack = reference_stacks["organization"]
    address, body = _organization(stack)
    (data_name,) = stack["data"]["aws_organizations_organization"]
    data = f"data.aws_organizations_organization.{data_name}"
    types = body["enabled_policy_types"]
    assert types.startswith(f"${{setunion({data}.enabled_policy_types, ")
    assert all(f'"{t}"' in types for t in POLICY_TYPES)
    assert body["lifecycle"]["prevent_destroy"] is True
    assert "aws_service_access_principals" in body["lifecycle"]["ignore_changes"]
    assert {"to": address, "id": f"${{{data}.id}}"} in stack["import"]
    _every_policy_depends_on(stack, address)
    # attachments refer to their policy, so they wait for the policy types too
    for body in stack["resource"]["aws_organizations_policy_attachment"].values():
        assert body["policy_id"].startswith("${aws_organizations_policy.")


def test_a_created_organization_enables_them_when_it_is_created(tmp_path: Any) -> None:
    data = reference_data()
    data["organization"]["create_organization"] = True
    config, issues = validate_data(data)
    assert config is not None, issues
    stack = synthesize(config, tmp_path / "out").stack_json()["organization"]
    address, body = _organization(stack)
    assert set(body["enabled_policy_types"]) == POLICY_TYPES
    assert "lifecycle" not in body and address not in {i["to"] for i in stack.get("import", [])}
    _every_policy_depends_on(stack, address)


def test_replication_waits_for_the_source_buckets_versioning(
    reference_stacks: dict[str, Any],
) -> None:
    prd = reference_stacks["env-prd"]
    (replication,) = resources(prd, "aws_s3_bucket_replication_configuration").values()
    versioning = ref(prd, "aws_s3_bucket_versioning", "data-access/bucket/versioning", "x")
    address = versioning[2:].rsplit(".", 1)[0]
    assert address in replication["depends_on"]
