"""Member coverage (``organization.security_accounts``, #18): every workload account gets
its GuardDuty detector and Security Hub from the delegated administrator, in every allowed
region, because the workload stacks no longer create their own.

Read on the synthesized JSON alone: the organization stack's administrator registrations,
the security-tooling stack's organization configuration (GuardDuty auto-enable ``ALL``,
Security Hub central configuration with a policy that enables the baseline's standards,
associated with the organization's root, reaching the other regions through the finding
aggregator), and the workload stacks' absence of a detector or hub of their own (AWS
refuses a second detector, and a centrally configured hub's standards are the
administrator's). AWS Config is not part of it: the recorder stays in every account's
baseline (docs/design-notes.md, section ndap_infra/stacks/security.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ndap_infra.baseline import controls
from ndap_infra.config.accounts import detection_administrator
from ndap_infra.config.enums import SECURITY_TOOLING, TOOLING
from ndap_infra.config.model import NdapConfig
from ndap_infra.names.platform import ORGANIZATION_STACK, environment_stack

Stack = Mapping[str, Any]
MEMBER_OWNED = ("aws_guardduty_detector", "aws_securityhub_account")
"""What the administrator creates in a member, so a member's stack must not."""
ROOT_TARGET = "roots.0.id"
"""The attribute of ``aws_organizations_organization`` naming the organization's root."""


@dataclass(frozen=True)
class CoverageRow:
    """One service in one region (or every workload stack), how the members are covered,
    and whether the synthesized stacks say so."""

    service: str
    region: str
    how: str
    ok: bool

    def render(self) -> str:
        return f"| {self.service} | {self.region} | {self.how} | " + (
            "as required |" if self.ok else "FAILS |"
        )


def _resources(stack: Stack, rtype: str) -> list[dict[str, Any]]:
    return list(stack.get("resource", {}).get(rtype, {}).values())


def _regions_of_providers(stack: Stack, home: str) -> dict[str | None, str]:
    """``provider`` attribute (None: the default) -> its region."""
    found: dict[str | None, str] = {None: home}
    for block in stack.get("provider", {}).get("aws", []):
        if "alias" in block:
            found[f"aws.{block['alias']}"] = str(block.get("region", home))
    return found


def _region(stack: Stack, body: Mapping[str, Any], home: str) -> str:
    return _regions_of_providers(stack, home).get(body.get("provider"), "?")


def _emulated(bodies: Sequence[Mapping[str, Any]]) -> str:
    """A note when the emulator leaves a resource out (``count: 0``, in the gap report)."""
    return (
        " (left out on the emulator: gap report)"
        if any(b.get("count") == 0 for b in bodies)
        else ""
    )


def workload_stacks(config: NdapConfig) -> tuple[str, ...]:
    names = [environment_stack(e) for e in config.enabled_environments()]
    if config.tooling_account_id is not None:
        names.append(TOOLING)
    return tuple(names)


def member_coverage(
    config: NdapConfig, synthesized: Mapping[str, Stack]
) -> tuple[CoverageRow, ...]:
    """The rows; empty without the security accounts (each baseline enables both)."""
    admin = detection_administrator(config)
    if admin is None:
        return ()
    org = config.organization
    home = org.home_region
    management = synthesized[ORGANIZATION_STACK]
    tooling = synthesized[SECURITY_TOOLING]
    rows: list[CoverageRow] = []

    registered = {
        _region(management, b, home)
        for b in _resources(management, "aws_guardduty_organization_admin_account")
        if str(b.get("admin_account_id")) == admin
    }
    auto = _resources(tooling, "aws_guardduty_organization_configuration")
    for region in org.allowed_regions:
        here = [b for b in auto if _region(tooling, b, home) == region]
        all_members = [b for b in here if b.get("auto_enable_organization_members") == "ALL"]
        rows.append(
            CoverageRow(
                "GuardDuty",
                region,
                f"administrator {admin} registered here, auto-enable ALL members"
                + _emulated(all_members),
                region in registered and bool(all_members),
            )
        )

    hub_admin = any(
        str(b.get("admin_account_id")) == admin
        for b in _resources(management, "aws_securityhub_organization_admin_account")
    )
    central = any(
        c.get("configuration_type") == "CENTRAL"
        for b in _resources(tooling, "aws_securityhub_organization_configuration")
        for c in b.get("organization_configuration", [])
    )
    wanted = {s.arn for s in controls.security_hub_standards(config.security_baseline, home)}
    policies = [
        b
        for b in _resources(tooling, "aws_securityhub_configuration_policy")
        for p in b.get("configuration_policy", [])
        if p.get("service_enabled") is True and set(p.get("enabled_standard_arns", [])) == wanted
    ]
    parent = org.parent_ou_id

    def targeted(target: str) -> bool:
        """The platform's own scope: its parent unit when nested, else the root."""
        return target == parent if parent is not None else target.endswith(f".{ROOT_TARGET}}}")

    associated = [
        b
        for b in _resources(tooling, "aws_securityhub_configuration_policy_association")
        if targeted(str(b.get("target_id", "")))
        and any(
            f"aws_securityhub_configuration_policy.{k}" in str(b.get("policy_id"))
            for k in _keys(tooling, policies)
        )
    ]
    linked = {
        r
        for b in _resources(tooling, "aws_securityhub_finding_aggregator")
        for r in b.get("specified_regions") or []
    }
    for region in org.allowed_regions:
        reaches = region == home or region in linked
        rows.append(
            CoverageRow(
                "Security Hub",
                region,
                f"administrator {admin}, central configuration: the baseline's "
                f"{len(wanted)} standards, policy associated with "
                + (f"the platform's parent unit {parent}" if parent else "the root")
                + ("" if region == home else ", region linked by the finding aggregator")
                + _emulated(policies + associated),
                hub_admin and central and bool(policies) and bool(associated) and reaches,
            )
        )

    own = sorted(
        f"{name}: {rtype}"
        for name in workload_stacks(config)
        for rtype in MEMBER_OWNED
        if _resources(synthesized[name], rtype)
    )
    rows.append(
        CoverageRow(
            "GuardDuty, Security Hub",
            "every allowed region",
            "no workload stack creates a detector or hub of its own"
            if not own
            else "created by " + "; ".join(own) + " (would collide with the administrator's)",
            not own,
        )
    )
    return tuple(rows)


def _keys(stack: Stack, bodies: Sequence[Mapping[str, Any]]) -> list[str]:
    """The logical ids of ``bodies`` in ``stack``'s configuration policies."""
    found = stack.get("resource", {}).get("aws_securityhub_configuration_policy", {})
    return [key for key, body in found.items() if any(body is b for b in bodies)]
