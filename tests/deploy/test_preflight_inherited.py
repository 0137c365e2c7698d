"""`ndap preflight` compares the SCPs attached above the platform's units with
organization.inherited_guardrails, on moto's Organizations (in process): GIVEN a landing
zone's unit with a policy attached, WHEN it is declared as attached THEN the row is ok;
undeclared or changed, it FAILs naming the policy and what to do; declared but attached
nowhere, a note; an allow-list (no FullAWSAccess) above the units FAILs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws

from ndap_infra.config.load import validate_data
from ndap_infra.deploy.preflight import inherited_findings
from tests.helpers import reference_data

DENY_LEAVING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
}


@pytest.fixture
def orgs() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("organizations", region_name="us-east-1")
        client.create_organization(FeatureSet="ALL")
        yield client


def landing_zone(orgs: Any, policy: dict[str, Any] = DENY_LEAVING) -> tuple[str, str, str]:
    """A root, a landing zone unit under it with ``policy`` attached, and a unit under that
    one where the platform goes: (root, landing zone unit, parent unit)."""
    root = orgs.list_roots()["Roots"][0]["Id"]
    zone = orgs.create_organizational_unit(ParentId=root, Name="workloads")
    zone_id = zone["OrganizationalUnit"]["Id"]
    parent = orgs.create_organizational_unit(ParentId=zone_id, Name="ml")
    created = orgs.create_policy(
        Name="lz-deny-leaving", Description="", Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(policy),
    )  # fmt: skip
    orgs.attach_policy(PolicyId=created["Policy"]["PolicySummary"]["Id"], TargetId=zone_id)
    for unit in (zone_id, parent["OrganizationalUnit"]["Id"]):
        orgs.attach_policy(PolicyId="p-FullAWSAccess", TargetId=unit)
    return root, zone_id, parent["OrganizationalUnit"]["Id"]


def config(parent: str, *declared: tuple[str, dict[str, Any]]) -> Any:
    data = reference_data()
    data["organization"]["parent_ou_id"] = parent
    data["organization"]["inherited_guardrails"] = [
        {"name": name, "document": document} for name, document in declared
    ]
    loaded, issues = validate_data(data)
    assert loaded is not None, issues
    return loaded


def rows(findings: list[Any]) -> list[tuple[str, str, bool, bool]]:
    return [(f.where, f.detail, f.ok, f.blocking) for f in findings]


def test_a_declared_policy_is_found_where_it_is_attached(orgs: Any) -> None:
    root, zone, parent = landing_zone(orgs)
    found = inherited_findings(config(parent, ("lz-deny-leaving", DENY_LEAVING)), orgs, root)
    assert all(f.ok for f in found), rows(found)
    assert [(f.where, f.detail) for f in found] == [(zone, "lz-deny-leaving as declared")]


def test_an_undeclared_or_changed_policy_fails_naming_it(orgs: Any) -> None:
    root, zone, parent = landing_zone(orgs)
    (undeclared,) = inherited_findings(config(parent), orgs, root)
    assert (undeclared.where, undeclared.ok, undeclared.blocking) == (zone, False, True)
    assert "lz-deny-leaving" in undeclared.detail and "not declared" in undeclared.detail
    assert "describe-policy --policy-id p-" in undeclared.todo
    changed = {**DENY_LEAVING, "Statement": [{**DENY_LEAVING["Statement"][0], "Action": "*"}]}
    (different,) = inherited_findings(config(parent, ("lz-deny-leaving", changed)), orgs, root)
    assert not different.ok and "differs from the declared document" in different.detail


def test_a_declared_policy_attached_nowhere_is_a_note(orgs: Any) -> None:
    root, _, parent = landing_zone(orgs)
    declared = [("lz-deny-leaving", DENY_LEAVING), ("lz-gone", DENY_LEAVING)]
    found = inherited_findings(config(parent, *declared), orgs, root)
    (note,) = [f for f in found if not f.ok]
    assert "lz-gone declared, attached nowhere" in note.detail and not note.blocking


def test_an_allow_list_above_the_units_fails(orgs: Any) -> None:
    root, zone, parent = landing_zone(orgs)
    orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=zone)
    found = inherited_findings(config(parent, ("lz-deny-leaving", DENY_LEAVING)), orgs, root)
    (allow_list,) = [f for f in found if not f.ok]
    assert (allow_list.where, allow_list.blocking) == (zone, True)
    assert "no FullAWSAccess attached" in allow_list.detail
