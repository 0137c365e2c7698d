"""aws:ResourceAccount is absent for the actions AWS documents as not supporting it, so a
guardrail conditioned on it gets no credit there (#21, a more honest attacker)."""

from __future__ import annotations

from typing import Any

import pytest

from ndap_infra.evaluator import NamedPolicy, Organization, Principal, Request, Resource, evaluate
from ndap_infra.evaluator.global_keys import NO_RESOURCE_ACCOUNT, has_resource_account

DEV = "300000000003"
PRD = "500000000005"
ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
DEV_STAYS_OUT = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Sid": "NothingInPrd",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceAccount": PRD}},
        },
    ],
}


@pytest.mark.parametrize(
    ("action", "present"),
    [
        ("s3:GetObject", True),
        ("sqs:SendMessage", True),
        ("events:PutEvents", False),
        ("EVENTS:putevents", False),
        ("events:PutRule", True),
        ("ebs:GetSnapshotBlock", False),
        ("ec2:CopySnapshot", False),
        ("ec2:DescribeSnapshots", True),
        ("workspaces:CopyWorkspaceImage", False),
    ],
)
def test_which_actions_carry_the_key(action: str, present: bool) -> None:
    assert has_resource_account(action) is present


def test_the_list_is_services_and_actions() -> None:
    assert all(":" in entry for entry in NO_RESOURCE_ACCOUNT)


def _decide(action: str, arn: str) -> Any:
    org = Organization(
        management_account_id="100000000001",
        accounts={DEV: ("r-root", "ou-dev", DEV), PRD: ("r-root", "ou-prd", PRD)},
        scps={"ou-dev": (NamedPolicy("dev-stays-out.json", DEV_STAYS_OUT),)},
    )
    principal = Principal(
        f"arn:aws:iam::{DEV}:user/helper",
        DEV,
        "user",
        identity_policies=(NamedPolicy("admin.json", ADMIN),),
    )
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"},
                "Action": "*",
                "Resource": "*",
            }
        ],
    }
    resource = Resource(arn, PRD, resource_policy=NamedPolicy("prd-grants-dev.json", grant))
    return evaluate(Request(principal, action, resource), org)


def test_a_resource_account_guardrail_is_not_credited_where_the_key_is_absent() -> None:
    """A prd resource that (by mistake) grants dev: the dev SCP keyed on aws:ResourceAccount
    stops a queue message, not an event put on prd's bus."""
    queue = _decide("sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{PRD}:q")
    assert not queue.allowed and "NothingInPrd" in queue.reason
    bus = _decide("events:PutEvents", f"arn:aws:events:eu-west-1:{PRD}:event-bus/default")
    assert bus.allowed
