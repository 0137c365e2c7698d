"""The permission boundary of data scientists in development.

Data scientists have full access in dev *inside* this boundary. Every role or user they
create must carry it too, so nothing they create can do more than they can. It keeps
them (and anything they create) away from: the boundary itself, the platform's roles,
identity providers, the organization, the security baseline, the deployment roles, and
every resource in acceptance and production.
"""

from __future__ import annotations

from collections.abc import Sequence

from ndap_infra.guardrails.actions import (
    BASELINE_SERVICE_CHANGES,
    IDENTITY_PROVIDER_MUTATIONS,
    POLICY_MUTATIONS,
    ROLE_MUTATIONS,
)
from ndap_infra.iam.document import Condition, PolicyDocument, Statement
from ndap_infra.names.access import boundary_policy_arn


def platform_role_patterns(org: str, account_access_role: str) -> tuple[str, ...]:
    """Roles the platform itself uses, in any account: persona and pipeline roles (path
    /ndap/), the roles IAM Identity Center provisions (path /aws-reserved/), the account
    access role the stacks deploy with, the baseline's service
    roles, the data replication role, and the drift-detection roles (the reader in every
    account, the build and schedule roles in tooling)."""
    return (
        "arn:aws:iam::*:role/ndap/*",
        "arn:aws:iam::*:role/aws-reserved/*",
        f"arn:aws:iam::*:role/{account_access_role}",
        f"arn:aws:iam::*:role/{org}-baseline*",
        f"arn:aws:iam::*:role/{org}-data-replication",
        f"arn:aws:iam::*:role/{org}-drift-*",
    )


def data_scientist_boundary(
    org: str,
    account_id: str,
    account_access_role: str,
    protected_account_ids: Sequence[str],
    shared_read_resources: Sequence[str] = (),
) -> PolicyDocument:
    """The boundary document. ``protected_account_ids`` are acc and prd (and the delivery
    account, when there is one);
    ``shared_read_resources`` the production datasets dev may read directly (only in
    cross-account-read mode; empty by default)."""
    boundary = boundary_policy_arn(org, account_id)
    platform_roles = platform_role_patterns(org, account_access_role)
    statements = [
        Statement("AllowWithinBoundary", "Allow", actions=("*",), resources=("*",)),
        Statement(
            "CreatedPrincipalsCarryTheBoundary",
            "Deny",
            actions=(
                "iam:CreateRole",
                "iam:CreateUser",
                "iam:PutRolePermissionsBoundary",
                "iam:PutUserPermissionsBoundary",
            ),
            resources=("*",),
            conditions=(Condition.of("StringNotEquals", "iam:PermissionsBoundary", boundary),),
        ),
        Statement(
            "BoundaryStaysAttached",
            "Deny",
            actions=("iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"),
            resources=("*",),
        ),
        Statement("BoundaryCannotChange", "Deny", actions=POLICY_MUTATIONS, resources=(boundary,)),
        Statement(
            "PlatformRolesCannotChange",
            "Deny",
            actions=(*ROLE_MUTATIONS, "iam:CreateRole"),
            resources=platform_roles,
        ),
        Statement(
            "PlatformRolesCannotBeUsed",
            "Deny",
            actions=("sts:AssumeRole", "iam:PassRole"),
            resources=platform_roles,
        ),
        Statement(
            "IdentityProvidersCannotChange",
            "Deny",
            actions=IDENTITY_PROVIDER_MUTATIONS,
            resources=("*",),
        ),
        Statement(
            "OrganizationIsOutOfReach",
            "Deny",
            actions=("organizations:*", "account:*"),
            resources=("*",),
        ),
        Statement(
            "BaselineCannotChange", "Deny", actions=BASELINE_SERVICE_CHANGES, resources=("*",)
        ),
    ]
    protected = tuple(sorted(protected_account_ids))
    in_protected = Condition.of("StringEquals", "aws:ResourceAccount", *protected)
    if shared_read_resources:
        statements += [
            Statement(
                "NothingInProtectedAccountsButSharedReads",
                "Deny",
                not_actions=("s3:GetObject", "s3:ListBucket", "kms:Decrypt"),
                resources=("*",),
                conditions=(in_protected,),
            ),
            Statement(
                "SharedReadsOnlyOnSharedData",
                "Deny",
                actions=("s3:GetObject", "s3:ListBucket", "kms:Decrypt"),
                not_resources=tuple(shared_read_resources),
                conditions=(in_protected,),
            ),
        ]
    else:
        statements.append(
            Statement(
                "NothingInProtectedAccounts",
                "Deny",
                actions=("*",),
                resources=("*",),
                conditions=(in_protected,),
            )
        )
    return PolicyDocument(tuple(statements))
