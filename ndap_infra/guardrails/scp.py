"""Service control policies. Each is a named pure function returning a typed document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ndap_infra.guardrails.actions import (
    BASELINE_RESOURCE_CHANGES,
    BASELINE_SERVICE_CHANGES,
    DATA_STORE_CHANGES,
    GLOBAL_SERVICE_ACTIONS,
    IDENTITY_PROVIDER_MUTATIONS,
    KEY_ALIAS_CHANGES,
    KEY_CHANGES,
    ROLE_MUTATIONS,
)
from ndap_infra.iam.document import Condition, PolicyDocument, Statement
from ndap_infra.names.tags import MANAGED_BY, MANAGED_BY_TAG

SCP_SIZE_LIMIT = 5120


@dataclass(frozen=True)
class DriftUse:
    """The scheduled drift build (its exact role ARN) and the readers it assumes (an ARN
    pattern): the one platform role outside the pipeline path that uses platform roles."""

    build_role_arn: str
    reader_pattern: str


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


def _unless_platform(account_access_role: str, also: Sequence[str] = ()) -> Condition:
    """Unless the principal is the platform's deployment identity: the account access
    role, and ``also`` (the platform pipeline's deployer, when there is one)."""
    return Condition.of(
        "ArnNotLike", "aws:PrincipalArn", f"arn:aws:iam::*:role/{account_access_role}", *also
    )


def deny_root_user() -> PolicyDocument:
    """The root user of a member account does nothing (break-glass goes through roles)."""
    return PolicyDocument(
        (
            Statement(
                "DenyRootUser",
                "Deny",
                actions=("*",),
                resources=("*",),
                conditions=(Condition.of("StringLike", "aws:PrincipalArn", "arn:aws:iam::*:root"),),
            ),
        )
    )


def restrict_regions(allowed_regions: Sequence[str]) -> PolicyDocument:
    """Regional services only in the allowed regions; global services excepted."""
    return PolicyDocument(
        (
            Statement(
                "DenyOtherRegions",
                "Deny",
                not_actions=GLOBAL_SERVICE_ACTIONS,
                resources=("*",),
                conditions=(
                    Condition.of(
                        "StringNotEquals", "aws:RequestedRegion", *sorted(allowed_regions)
                    ),
                ),
            ),
        )
    )


def protect_baseline(
    org: str, account_access_role: str, also: Sequence[str] = ()
) -> PolicyDocument:
    """Nobody but the platform's deployment role stops, deletes or reconfigures the
    baseline: its services, its named resources, and the keys the platform manages; nor
    the production-data stores (the prd source, the acc copy, the dev replica: every
    ``<org>-<env>-datasets...`` bucket) or the platform's key aliases."""
    prefix = f"{org}-baseline"
    unless_platform = _unless_platform(account_access_role, also)
    return PolicyDocument(
        (
            Statement(
                "ProtectBaselineServices",
                "Deny",
                actions=BASELINE_SERVICE_CHANGES,
                resources=("*",),
                conditions=(unless_platform,),
            ),
            Statement(
                "ProtectBaselineResources",
                "Deny",
                actions=BASELINE_RESOURCE_CHANGES,
                resources=(
                    f"arn:aws:cloudwatch:*:*:alarm:{prefix}*",
                    f"arn:aws:logs:*:*:log-group:/{org}/baseline/*",
                    f"arn:aws:s3:::{prefix}-logs-*",
                    f"arn:aws:sns:*:*:{prefix}*",
                ),
                conditions=(unless_platform,),
            ),
            Statement(
                "ProtectPlatformKeys",
                "Deny",
                actions=KEY_CHANGES,
                resources=("*",),
                conditions=(
                    unless_platform,
                    Condition.of("StringEquals", f"aws:ResourceTag/{MANAGED_BY_TAG}", MANAGED_BY),
                ),
            ),
            Statement(
                "ProtectDataStores",
                "Deny",
                actions=DATA_STORE_CHANGES,
                resources=(f"arn:aws:s3:::{org}-*-datasets*",),
                conditions=(unless_platform,),
            ),
            Statement(
                "ProtectPlatformKeyAliases",
                "Deny",
                actions=KEY_ALIAS_CHANGES,
                resources=(f"arn:aws:kms:*:*:alias/{org}/*",),
                conditions=(unless_platform,),
            ),
        )
    )


def protect_platform_roles(
    role_patterns: Sequence[str],
    account_access_role: str,
    pipeline_role_pattern: str | None = None,
    non_pipeline_role_patterns: Sequence[str] = (),
    also: Sequence[str] = (),
    drift: DriftUse | None = None,
) -> PolicyDocument:
    """The roles the platform uses (persona, pipeline, baseline, replication, deployment)
    are created and changed only through the platform's deployment role, and used (passed,
    assumed) only by it — and by the pipeline roles (``pipeline_role_pattern``), which may
    use pipeline roles only: a build role in the tooling account assumes its deployer role
    in an environment, a deployer role passes its project's execution role to SageMaker —
    and by the scheduled drift build (``drift``, exactly its role), which may only assume
    the drift readers."""
    users = [f"arn:aws:iam::*:role/{account_access_role}", *also]
    if pipeline_role_pattern is not None:
        users.append(pipeline_role_pattern)
    if drift is not None:
        users.append(drift.build_role_arn)
    statements = [
        Statement(
            "ProtectPlatformRoles",
            "Deny",
            actions=(*ROLE_MUTATIONS, "iam:CreateRole"),
            resources=tuple(role_patterns),
            conditions=(_unless_platform(account_access_role, also),),
        ),
        Statement(
            "PlatformRolesAreNotForUse",
            "Deny",
            actions=("iam:PassRole", "sts:AssumeRole"),
            resources=tuple(role_patterns),
            conditions=(Condition.of("ArnNotLike", "aws:PrincipalArn", *users),),
        ),
    ]
    if pipeline_role_pattern is not None and non_pipeline_role_patterns:
        statements.append(
            Statement(
                "PipelineRolesUseOnlyPipelineRoles",
                "Deny",
                actions=("iam:PassRole", "sts:AssumeRole"),
                resources=tuple(non_pipeline_role_patterns),
                conditions=(Condition.of("ArnLike", "aws:PrincipalArn", pipeline_role_pattern),),
            )
        )
    if drift is not None:
        statements.append(
            Statement(
                "DriftBuildAssumesOnlyDriftReaders",
                "Deny",
                actions=("iam:PassRole", "sts:AssumeRole"),
                not_resources=(drift.reader_pattern,),
                conditions=(Condition.of("ArnEquals", "aws:PrincipalArn", drift.build_role_arn),),
            )
        )
    statements.append(
        Statement(
            "ProtectIdentityProviders",
            "Deny",
            actions=IDENTITY_PROVIDER_MUTATIONS,
            resources=("*",),
            conditions=(_unless_platform(account_access_role, also),),
        )
    )
    return PolicyDocument(tuple(statements))


IMAGE_PULLS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def images_only_from_the_platform_registry(registry_account: str) -> PolicyDocument:
    """Principals here pull images only from the platform registry (the tooling account's
    repositories): an image in any other account's repository, a dev repository a data
    scientist controls included, never runs here. By resource ARN, not by
    ``aws:ResourceAccount``, so nothing depends on a context key being present."""
    return PolicyDocument(
        (
            Statement(
                "PullImagesOnlyFromThePlatformRegistry",
                "Deny",
                actions=IMAGE_PULLS,
                not_resources=(f"arn:aws:ecr:*:{registry_account}:repository/*",),
            ),
        )
    )


ORGANIZATION_TRAIL_CHANGES = (
    "cloudtrail:DeleteTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:PutInsightSelectors",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
)
DETECTOR_DEPARTURES = (
    "guardduty:DeleteDetector",
    "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:DisassociateFromMasterAccount",
    "securityhub:DisableSecurityHub",
    "securityhub:DisassociateFromAdministratorAccount",
    "securityhub:DisassociateFromMasterAccount",
)
"""What would take a member account's detectors away from the delegated administrator."""
ARCHIVE_CHANGES = (
    "s3:BypassGovernanceRetention",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutBucketAcl",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
    "s3:PutObjectRetention",
)
"""What would change or delete the log archive (s3:PutObject* left to its bucket policy)."""
ADMINISTRATOR_CHANGES = (
    "access-analyzer:DeleteAnalyzer",
    "config:DeleteConfigurationAggregator",
    "guardduty:DeleteDetector",
    "guardduty:UpdateOrganizationConfiguration",
    "securityhub:DeleteConfigurationPolicy",
    "securityhub:DisableSecurityHub",
    "securityhub:UpdateOrganizationConfiguration",
)


def protect_central_evidence(trail_arn: str, archive_arns: Sequence[str] | None) -> PolicyDocument:
    """Every principal, the platform's deployer included: the organization trail keeps
    logging, the member detectors stay with the delegated administrator, and (``archive_arns``
    given: in the workload accounts) the archive is not changed. Merged into
    ``protect-baseline``: the workload units already carry AWS's maximum of five SCPs. The
    security unit's copy leaves the archive to ``protect_security_accounts``, where the
    platform keeps configuring it (a new member account's Config delivery is a bucket
    policy change) and nobody deletes."""
    statements = [
        Statement(
            "KeepOrganizationTrail",
            "Deny",
            actions=ORGANIZATION_TRAIL_CHANGES,
            resources=(trail_arn,),
        ),
        Statement(
            "StayWithTheAdministrator", "Deny", actions=DETECTOR_DEPARTURES, resources=("*",)
        ),
    ]
    if archive_arns is not None:
        statements.append(
            Statement(
                "ArchiveIsUntouchable",
                "Deny",
                actions=ARCHIVE_CHANGES,
                resources=tuple(archive_arns),
            )
        )
    return PolicyDocument(tuple(statements))


def protect_security_accounts(
    archive_arns: Sequence[str], account_access_role: str, also: Sequence[str] = ()
) -> PolicyDocument:
    """The security unit: nobody deletes from the archive or shortens its lock (the
    platform's deployer included: after creation, the evidence is nobody's to remove), and
    only the platform changes the archive's other settings or the delegated
    administrator's detection."""
    deletions = tuple(
        a
        for a in ARCHIVE_CHANGES
        if a.startswith(("s3:Delete", "s3:BypassGovernance"))
        or a in ("s3:PutBucketObjectLockConfiguration", "s3:PutObjectRetention")
    )
    return PolicyDocument(
        (
            Statement(
                "NobodyDeletesEvidence",
                "Deny",
                actions=deletions,
                resources=tuple(archive_arns),
            ),
            Statement(
                "OnlyThePlatformConfiguresTheArchive",
                "Deny",
                actions=tuple(a for a in ARCHIVE_CHANGES if a not in deletions),
                resources=tuple(archive_arns),
                conditions=(_unless_platform(account_access_role, also),),
            ),
            Statement(
                "OnlyThePlatformChangesDetection",
                "Deny",
                actions=ADMINISTRATOR_CHANGES,
                resources=("*",),
                conditions=(_unless_platform(account_access_role, also),),
            ),
        )
    )
