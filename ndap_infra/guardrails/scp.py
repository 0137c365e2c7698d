"""Service control policies. Each is a named pure function returning a typed document."""

from __future__ import annotations

from ndap_infra.iam.document import PolicyDocument, Statement

SCP_SIZE_LIMIT = 5120


def deny_leaving_organization() -> PolicyDocument:
    """No account may leave the organization (it would shed every guardrail)."""
    return PolicyDocument(
        (
            Statement(
                "DenyLeavingOrganization",
                "Deny",
                actions=("organizations:LeaveOrganization",),
                resources=("*",),
            ),
        )
    )
