"""The data key is also the account's default EBS key (issue #16, item 7): service-linked
roles (Auto Scaling's, with no IAM permission on a customer key) must be able to use it
through EC2, and nobody through anything else. GIVEN the synthesized key policy, WHEN the
evaluator decides their requests, THEN EC2's are allowed and the others denied; the former
policy (the account administers, nothing more) denies Auto Scaling: the negative control."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ndap_infra.evaluator import NamedPolicy, Principal, Request, Resource, evaluate
from ndap_infra.iam.resource_policies import key_policy_account_administers
from tests.helpers import one, ref

ACCOUNT, REGION = "500000000005", "eu-west-1"
AUTOSCALING = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/"
    "AWSServiceRoleForAutoScaling"
)


def _decide(policy: dict[str, Any], action: str, context: dict[str, str]) -> bool:
    principal = Principal(AUTOSCALING, ACCOUNT, "role", role_arn=AUTOSCALING)
    key = Resource(
        f"arn:aws:kms:{REGION}:{ACCOUNT}:key/data",
        ACCOUNT,
        resource_policy=NamedPolicy("data-key", policy),
        resource_policy_required=True,
    )
    return evaluate(Request(principal, action, key, context)).allowed


def _through_ec2(account: str = ACCOUNT) -> dict[str, str]:
    return {
        "kms:ViaService": f"ec2.{REGION}.amazonaws.com",
        "kms:CallerAccount": account,
        "kms:GrantIsForAWSResource": "true",
    }


@pytest.fixture(scope="module")
def data_key_policy(reference_stacks: dict[str, Any]) -> dict[str, Any]:
    stack = reference_stacks["env-prd"]
    ebs = one(stack, "aws_ebs_default_kms_key", "baseline/ebs-default-key")
    assert ebs["key_arn"] == ref(stack, "aws_kms_key", "data-key/key", "arn")
    policy: dict[str, Any] = json.loads(one(stack, "aws_kms_key", "data-key/key")["policy"])
    return policy


@pytest.mark.parametrize("action", ["kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext"])
def test_a_service_linked_role_uses_the_ebs_key_through_ec2(
    data_key_policy: dict[str, Any], action: str
) -> None:
    assert _decide(data_key_policy, action, _through_ec2())
    # the former key policy: Auto Scaling could not launch an encrypted volume
    former = key_policy_account_administers(ACCOUNT).to_dict()
    assert not _decide(former, action, _through_ec2())


def test_nobody_uses_it_outside_ec2_or_from_another_account(
    data_key_policy: dict[str, Any],
) -> None:
    direct = {"kms:CallerAccount": ACCOUNT}
    assert not _decide(data_key_policy, "kms:Decrypt", direct)
    assert not _decide(data_key_policy, "kms:Decrypt", _through_ec2("300000000003"))
    grant = _through_ec2()
    grant["kms:GrantIsForAWSResource"] = "false"
    assert not _decide(data_key_policy, "kms:CreateGrant", grant)
