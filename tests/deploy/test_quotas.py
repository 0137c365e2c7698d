"""The quotas the configuration will reach (issue #16, What to build 4), counted on the
synthesized stacks: GIVEN the reference, THEN every count is within AWS's default quota;
WHEN a unit gets more SCPs than AWS allows per target, or a policy grows over its size,
THEN that use is over and preflight fails on it naming what to do."""

from __future__ import annotations

import copy
import json
from typing import Any

from ndap_infra.deploy.preflight import _quotas
from ndap_infra.deploy.quotas import POLICIES_PER_TARGET, POLICY_SIZE, quota_uses


def test_the_reference_is_within_every_default_quota(reference_stacks: dict[str, Any]) -> None:
    uses = quota_uses(reference_stacks)
    assert uses and all(u.ok for u in uses), [u for u in uses if not u.ok]
    kinds = {u.quota for u in uses}
    assert {
        "SCPs attached per target",
        "RCPs attached per target",
        "SCP size (characters)",
        "IAM roles per account",
        "Config rules per region",
    } <= kinds
    # Config rules are counted per region: the baseline's 15 in each allowed region
    rules = {u.where: u.used for u in uses if u.quota == "Config rules per region"}
    assert rules["env-dev eu-west-1"] == rules["env-dev eu-central-1"] == 15


def test_a_unit_over_five_scps_and_an_oversized_policy_fail(
    reference_stacks: dict[str, Any],
) -> None:
    stacks = copy.deepcopy(reference_stacks)
    resources = stacks["organization"]["resource"]
    attachments = resources["aws_organizations_policy_attachment"]
    policies = resources["aws_organizations_policy"]
    scps = [
        k
        for k, b in policies.items()
        if b.get("type", "SERVICE_CONTROL_POLICY") != "RESOURCE_CONTROL_POLICY"
    ]
    unit = next(iter(resources["aws_organizations_organizational_unit"]))
    for number, policy in enumerate(scps[:POLICIES_PER_TARGET]):
        attachments[f"extra_{number}"] = {
            "policy_id": f"${{aws_organizations_policy.{policy}.id}}",
            "target_id": f"${{aws_organizations_organizational_unit.{unit}.id}}",
        }
    policies[scps[0]]["content"] = json.dumps({"Statement": [], "pad": "x" * POLICY_SIZE})
    over = [u for u in quota_uses(stacks) if not u.ok]
    assert {u.quota for u in over} == {"SCPs attached per target", "SCP size (characters)"}
    name = resources["aws_organizations_organizational_unit"][unit]["name"]
    (attached,) = [u for u in over if u.quota == "SCPs attached per target"]
    assert attached.where == f"organization: {name}" and attached.used > POLICIES_PER_TARGET
    rows = [f for f in _quotas(stacks) if not f.ok]
    assert len(rows) == 2 and all(f.blocking for f in rows)
    assert "hard limit" in next(f.todo for f in rows if "attached" in f.check)
