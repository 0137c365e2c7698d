"""The AWS quotas a configuration will reach, counted on its synthesized stacks.

Each count is compared with AWS's default quota (the value a new organization or account
has before any increase request; the sources are AWS's quota pages for Organizations,
IAM, S3, CodeBuild and CodePipeline). A count over its quota is something to do before
the first deploy: request the increase, or change the configuration. Hand-written rather
than read from Service Quotas: most of these are not in Service Quotas (the Organizations
ones are hard limits), and the count needs no AWS call at all.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

POLICY_SIZE = 5_120
"""Characters of one service or resource control policy (Organizations, not adjustable)."""
POLICIES_PER_TARGET = 5
"""SCPs (and, separately, RCPs) attached to one root, unit or account (not adjustable)."""
ROLES_PER_ACCOUNT = 1_000
MANAGED_POLICIES_PER_ROLE = 10
BUCKETS_PER_ACCOUNT = 10_000
CODEBUILD_PROJECTS_PER_ACCOUNT = 5_000
PIPELINES_PER_REGION = 1_000
CONFIG_RULES_PER_REGION = 1_000

TYPE_QUOTAS: tuple[tuple[str, str, int], ...] = (
    ("aws_iam_role", "IAM roles per account", ROLES_PER_ACCOUNT),
    ("aws_s3_bucket", "S3 buckets per account", BUCKETS_PER_ACCOUNT),
    ("aws_codebuild_project", "CodeBuild projects per account", CODEBUILD_PROJECTS_PER_ACCOUNT),
    ("aws_codepipeline", "CodePipeline pipelines per region", PIPELINES_PER_REGION),
    ("aws_config_config_rule", "Config rules per region", CONFIG_RULES_PER_REGION),
)
"""(resource type, quota, AWS's default): counted per stack (one account), per region
where the quota is regional."""

REFERENCE = re.compile(r"^\$\{(aws_[a-z_]+)\.([^.}]+)\.id\}$")


@dataclass(frozen=True)
class QuotaUse:
    quota: str
    where: str
    used: int
    limit: int
    todo: str

    @property
    def ok(self) -> bool:
        return self.used <= self.limit


def quota_uses(stacks: Mapping[str, Mapping[str, Any]]) -> list[QuotaUse]:
    """Every quota use of the synthesized stacks: policies per target and policy sizes in
    the organization stack; resource counts per account (and region) in every stack."""
    uses: list[QuotaUse] = []
    for name, stack in stacks.items():
        uses += _organization_policies(name, stack)
        uses += _counts(name, stack)
        uses += _managed_policies(name, stack)
    return uses


def _resources(stack: Mapping[str, Any], rtype: str) -> Mapping[str, Any]:
    found: Mapping[str, Any] = stack.get("resource", {}).get(rtype, {})
    return found


def _organization_policies(name: str, stack: Mapping[str, Any]) -> Iterator[QuotaUse]:
    policies = _resources(stack, "aws_organizations_policy")
    if not policies:
        return
    kinds = {
        logical_id: str(body.get("type", "SERVICE_CONTROL_POLICY"))
        for logical_id, body in policies.items()
    }
    for logical_id, body in sorted(policies.items()):
        yield QuotaUse(
            f"{_kind(kinds[logical_id])} size (characters)",
            f"{name}: {body.get('name', logical_id)}",
            len(str(body.get("content", ""))),
            POLICY_SIZE,
            "split the policy (fewer statements or names per policy)",
        )
    attached: Counter[tuple[str, str]] = Counter()
    for body in _resources(stack, "aws_organizations_policy_attachment").values():
        policy = REFERENCE.match(str(body.get("policy_id", "")))
        target = str(body.get("target_id", ""))
        if policy and policy.group(2) in kinds:
            attached[(kinds[policy.group(2)], _target(stack, target))] += 1
    for (kind, target), count in sorted(attached.items()):
        yield QuotaUse(
            f"{_kind(kind)}s attached per target",
            f"{name}: {target}",
            # AWS counts the FullAWSAccess SCP that stays attached to every target too
            count + (kind == "SERVICE_CONTROL_POLICY"),
            POLICIES_PER_TARGET,
            "merge guardrails into fewer policies (a hard limit, no increase)",
        )


def _kind(policy_type: str) -> str:
    return "RCP" if policy_type == "RESOURCE_CONTROL_POLICY" else "SCP"


def _target(stack: Mapping[str, Any], target: str) -> str:
    """A unit or account by its name where the target is a reference to one."""
    match = REFERENCE.match(target)
    if match is None:
        return target
    body = _resources(stack, match.group(1)).get(match.group(2), {})
    return str(body.get("name", match.group(2)))


def _counts(name: str, stack: Mapping[str, Any]) -> Iterator[QuotaUse]:
    regions = _provider_regions(stack)
    for rtype, quota, limit in TYPE_QUOTAS:
        resources = _resources(stack, rtype)
        if not resources:
            continue
        regional = quota.endswith("per region")
        counted: Counter[str] = Counter(
            regions.get(str(body.get("provider", "aws")), "") if regional else ""
            for body in resources.values()
        )
        for region, count in sorted(counted.items()):
            yield QuotaUse(
                quota,
                f"{name} {region}".strip(),
                count,
                limit,
                "request an increase (Service Quotas) before the first deploy",
            )


def _managed_policies(name: str, stack: Mapping[str, Any]) -> Iterator[QuotaUse]:
    per_role: Counter[str] = Counter(
        str(body.get("role", ""))
        for body in _resources(stack, "aws_iam_role_policy_attachment").values()
    )
    if per_role:
        role, count = per_role.most_common(1)[0]
        named = re.match(r"^\$\{aws_iam_role\.([^.}]+)\.(?:name|id)\}$", role)
        if named:
            role = str(_resources(stack, "aws_iam_role").get(named.group(1), {}).get("name", role))
        yield QuotaUse(
            "managed policies per role (the most attached)",
            f"{name}: {role}",
            count,
            MANAGED_POLICIES_PER_ROLE,
            "request an increase (up to 20), or merge the policies",
        )


def _provider_regions(stack: Mapping[str, Any]) -> dict[str, str]:
    return {
        f"aws.{body['alias']}" if "alias" in body else "aws": str(body.get("region", ""))
        for body in stack.get("provider", {}).get("aws", [])
    }
