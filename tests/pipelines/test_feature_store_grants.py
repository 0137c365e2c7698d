"""The feature store's grants match what it does (issue #16, item 7): GIVEN the reference
(feature groups with an offline store only), THEN the offline-store role may set the ACL
of what it writes (as AmazonSageMakerFeatureStoreAccess documents) and no execution role
is granted online-store reads."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import env_stacks, resources

ONLINE_READS = {"sagemaker:GetRecord", "sagemaker:BatchGetRecord"}


def _statements(policy: str) -> list[dict[str, Any]]:
    return list(json.loads(policy)["Statement"])


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def test_feature_groups_have_no_online_store_and_no_role_reads_one(
    reference_stacks: dict[str, Any],
) -> None:
    groups = 0
    for _, stack in env_stacks(reference_stacks):
        for group in resources(stack, "aws_sagemaker_feature_group").values():
            groups += 1
            assert "online_store_config" not in group
        for kind in ("aws_iam_role_policy", "aws_iam_policy"):
            for path, body in resources(stack, kind).items():
                for statement in _statements(body["policy"]):
                    assert not _actions(statement) & ONLINE_READS, path
    assert groups > 0


def test_the_offline_store_role_sets_the_acl_of_what_it_writes(
    reference_stacks: dict[str, Any],
) -> None:
    found = 0
    for _, stack in env_stacks(reference_stacks):
        for path, body in resources(stack, "aws_iam_role_policy").items():
            if not path.startswith("features/offline-store"):
                continue
            (write,) = [
                s for s in _statements(body["policy"]) if s["Sid"] == "WriteTheOfflineStore"
            ]
            assert {"s3:PutObject", "s3:PutObjectAcl"} <= _actions(write)
            assert str(write["Resource"]).endswith("/feature-store/*")
            found += 1
    assert found > 0
