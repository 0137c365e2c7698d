"""Guardrails that keep development and non-production out of acceptance and production.

Why and how: docs/design-notes.md, section ndap_infra/guardrails/access.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ndap_infra.guardrails.actions import (
    DATA_STORE_CHANGES,
    KEY_ALIAS_CHANGES,
    KEY_CHANGES,
    RCP_SERVICES,
)
from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement
from ndap_infra.names.access import PERSONA_TAG, data_scientist_name_patterns

SHARED_READ_ACTIONS = ("s3:GetObject", "s3:ListBucket", "kms:Decrypt")
# Everything on S3 and KMS that is not one of the shared reads (RCPs have no NotAction).
S3_KMS_WRITES = (
    "s3:Abort*",
    "s3:Bypass*",
    "s3:Create*",
    "s3:Delete*",
    "s3:Put*",
    "s3:Replicate*",
    "s3:Restore*",
    "s3:Update*",
    "kms:Create*",
    "kms:Delete*",
    "kms:Disable*",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:Put*",
    "kms:ReEncrypt*",
    "kms:Schedule*",
    "kms:Update*",
)


@dataclass(frozen=True)
class SharedRead:
    """The one exception: the dev data-scientist role reads named production data."""

    reader_role_arn: str
    resources: tuple[str, ...]


def deny_lower_environments_reaching_protected(
    protected_account_ids: Sequence[str],
    shared_read: SharedRead | None = None,
    extra_denied_resources: Sequence[str] = (),
    tooling_account_id: str | None = None,
    tooling_users: str | None = None,
) -> PolicyDocument:
    """SCP for the dev and nonprod units. ``extra_denied_resources``: resources outside
    acc/prd that are production data too (the dev replica, denied to nonprod).
    ``tooling_account_id``: the delivery account, whose resources (pipelines, artifacts,
    model registry) are denied too, except to the principals matching ``tooling_users``
    (dev's pipeline roles, which read their project's dev artifacts)."""
    in_protected = Condition.of(
        "StringEquals", "aws:ResourceAccount", *sorted(protected_account_ids)
    )
    statements: list[Statement] = []
    if shared_read is None:
        statements.append(
            Statement(
                "DenyEverythingInAccAndPrd",
                "Deny",
                actions=("*",),
                resources=("*",),
                conditions=(in_protected,),
            )
        )
    else:
        statements += [
            Statement(
                "DenyAllButSharedReadsInAccAndPrd",
                "Deny",
                not_actions=SHARED_READ_ACTIONS,
                resources=("*",),
                conditions=(in_protected,),
            ),
            Statement(
                "DenySharedReadsOutsideSharedData",
                "Deny",
                actions=SHARED_READ_ACTIONS,
                not_resources=shared_read.resources,
                conditions=(in_protected,),
            ),
            Statement(
                "DenySharedReadsToOtherPrincipals",
                "Deny",
                actions=SHARED_READ_ACTIONS,
                resources=("*",),
                conditions=(
                    in_protected,
                    Condition.of("ArnNotEquals", "aws:PrincipalArn", shared_read.reader_role_arn),
                ),
            ),
        ]
    if tooling_account_id is not None:
        in_tooling: tuple[Condition, ...] = (
            Condition.of("StringEquals", "aws:ResourceAccount", tooling_account_id),
        )
        if tooling_users is not None:
            in_tooling += (Condition.of("ArnNotLike", "aws:PrincipalArn", tooling_users),)
        statements.append(
            Statement(
                "DenyTheDeliveryAccount",
                "Deny",
                actions=("*",),
                resources=("*",),
                conditions=in_tooling,
            )
        )
    if extra_denied_resources:
        statements.append(
            Statement(
                "DenyProductionDataCopies",
                "Deny",
                actions=("*",),
                resources=tuple(extra_denied_resources),
            )
        )
    return PolicyDocument(tuple(statements))


def _data_scientist_matchers(data_scientists: Sequence[str]) -> tuple[tuple[str, Condition], ...]:
    """``data_scientists``: the names of the data-scientist-like personas (the built-in
    one and the custom personas like it): a principal tagged with one, or a role whose
    name contains one, is a data scientist's (one statement each way: the values of a
    condition are alternatives)."""
    return (
        (
            "Tag",
            Condition.of("StringEquals", f"aws:PrincipalTag/{PERSONA_TAG}", *data_scientists),
        ),
        (
            "Name",
            Condition.of(
                "ArnLike", "aws:PrincipalArn", *data_scientist_name_patterns(data_scientists)
            ),
        ),
    )


def deny_data_scientists(data_scientists: Sequence[str]) -> PolicyDocument:
    """SCP for the acc and prd units: data-scientist principals may do nothing."""
    return PolicyDocument(
        tuple(
            Statement(
                f"DenyDataScientistsBy{how}",
                "Deny",
                actions=("*",),
                resources=("*",),
                conditions=(match,),
            )
            for how, match in _data_scientist_matchers(data_scientists)
        )
    )


def lower_environment_denials(
    actions: Sequence[str],
    resources: Sequence[str],
    lower_account_ids: Sequence[str],
    shared_read: SharedRead | None,
    data_scientists: Sequence[str],
) -> tuple[Statement, ...]:
    """Resource-side statements (RCP, bucket policy, key policy): refuse principals of
    the lower environments and data-scientist principals, except the shared read."""
    anyone = (Principal.anyone(),)
    from_lower = Condition.of("StringEquals", "aws:PrincipalAccount", *sorted(lower_account_ids))
    not_service = Condition.of("BoolIfExists", "aws:PrincipalIsAWSService", "false")
    statements: list[Statement] = []
    if shared_read is None:
        statements.append(
            Statement(
                "DenyLowerEnvironments",
                "Deny",
                principals=anyone,
                actions=tuple(actions),
                resources=tuple(resources),
                conditions=(from_lower,),
            )
        )
    else:
        shared = tuple(shared_read.resources)
        statements += [
            Statement(
                "DenyLowerEnvironmentsOutsideSharedData",
                "Deny",
                principals=anyone,
                actions=tuple(actions),
                not_resources=shared,
                conditions=(from_lower,),
            ),
            Statement(
                "DenyLowerEnvironmentsWritingSharedData",
                "Deny",
                principals=anyone,
                actions=S3_KMS_WRITES,
                resources=shared,
                conditions=(from_lower,),
            ),
            Statement(
                "DenyLowerEnvironmentsOtherThanTheReader",
                "Deny",
                principals=anyone,
                actions=tuple(actions),
                resources=shared,
                conditions=(
                    from_lower,
                    Condition.of("ArnNotEquals", "aws:PrincipalArn", shared_read.reader_role_arn),
                ),
            ),
        ]
    # Data-scientist principals anywhere (a mistaken role in acc/prd, a renamed one): denied
    # everything. The configured reader is bounded by the statements above instead.
    for how, match in _data_scientist_matchers(data_scientists):
        conditions: tuple[Condition, ...] = (match, not_service)
        if shared_read is not None:
            conditions += (
                Condition.of("ArnNotEquals", "aws:PrincipalArn", shared_read.reader_role_arn),
            )
        statements.append(
            Statement(
                f"DenyDataScientistsBy{how}",
                "Deny",
                principals=anyone,
                actions=tuple(actions),
                resources=tuple(resources),
                conditions=conditions,
            )
        )
    return tuple(statements)


def deny_lower_environment_principals(
    lower_account_ids: Sequence[str],
    shared_read: SharedRead | None,
    data_scientists: Sequence[str],
) -> PolicyDocument:
    """RCP for the acc and prd units, over the services RCPs support."""
    actions = tuple(f"{service}:*" for service in RCP_SERVICES)
    return PolicyDocument(
        lower_environment_denials(actions, ("*",), lower_account_ids, shared_read, data_scientists)
    )


def only_pipelines_from_lower_environments(
    actions: Sequence[str],
    writes: Sequence[str],
    resources: Sequence[str],
    lower_account_ids: Sequence[str],
    pipeline_role_pattern: str,
    data_scientists: Sequence[str],
) -> tuple[Statement, ...]:
    """Resource-side statements for the tooling (delivery) account (its RCP, and its
    artifact bucket and key policies): principals of the lower environments are refused,
    except the pipeline roles there (the dev deployer reads its project's dev artifacts),
    which may never write; data-scientist principals are refused everything."""
    anyone = (Principal.anyone(),)
    from_lower = Condition.of("StringEquals", "aws:PrincipalAccount", *sorted(lower_account_ids))
    not_service = Condition.of("BoolIfExists", "aws:PrincipalIsAWSService", "false")
    statements = [
        Statement(
            "DenyLowerEnvironmentsButPipelines",
            "Deny",
            principals=anyone,
            actions=tuple(actions),
            resources=tuple(resources),
            conditions=(
                from_lower,
                Condition.of("ArnNotLike", "aws:PrincipalArn", pipeline_role_pattern),
            ),
        ),
        Statement(
            "DenyLowerEnvironmentsWriting",
            "Deny",
            principals=anyone,
            actions=tuple(writes),
            resources=tuple(resources),
            conditions=(from_lower,),
        ),
    ]
    for how, match in _data_scientist_matchers(data_scientists):
        statements.append(
            Statement(
                f"DenyDataScientistsBy{how}",
                "Deny",
                principals=anyone,
                actions=tuple(actions),
                resources=tuple(resources),
                conditions=(match, not_service),
            )
        )
    return tuple(statements)


def protect_tooling_resources(
    lower_account_ids: Sequence[str], pipeline_role_pattern: str, data_scientists: Sequence[str]
) -> PolicyDocument:
    """RCP for the tooling unit, over the services RCPs support: dev and nonprod principals
    (but the dev pipeline roles' reads) and data-scientist principals are refused."""
    actions = tuple(f"{service}:*" for service in RCP_SERVICES)
    writes = (*S3_KMS_WRITES, *(f"{s}:*" for s in RCP_SERVICES if s not in ("s3", "kms")))
    return PolicyDocument(
        only_pipelines_from_lower_environments(
            actions, writes, ("*",), lower_account_ids, pipeline_role_pattern, data_scientists
        )
    )


def deny_nonprod_principals(nonprod_account_id: str) -> PolicyDocument:
    """RCP for the dev unit: dev's resources refuse every nonprod principal, whatever a
    resource policy in dev grants (a data scientist may copy production data anywhere in
    dev and share it: the replica bucket alone was guarded, #21 finding 4)."""
    return PolicyDocument(
        (
            Statement(
                "DenyNonProduction",
                "Deny",
                principals=(Principal.anyone(),),
                actions=tuple(f"{service}:*" for service in RCP_SERVICES),
                resources=("*",),
                conditions=(
                    Condition.of("StringEquals", "aws:PrincipalAccount", nonprod_account_id),
                ),
            ),
        )
    )


def store_configuration_denials(bucket_arn: str, deployers: Sequence[str]) -> Statement:
    """Bucket-policy statement of a platform data store: nobody but the platform's
    deployers changes its configuration (lifecycle, replication, ACLs and ownership,
    encryption, versioning, policy) or deletes it. The same rule as the protect-baseline
    SCP's ProtectDataStores, held by the bucket itself too (defense in depth: an SCP does
    not bind the management account, a bucket policy binds every caller)."""
    return Statement(
        "OnlyThePlatformConfiguresTheStore",
        "Deny",
        principals=(Principal.anyone(),),
        actions=DATA_STORE_CHANGES,
        resources=(bucket_arn,),
        conditions=(Condition.of("ArnNotLike", "aws:PrincipalArn", *deployers),),
    )


def key_configuration_denials(deployers: Sequence[str]) -> Statement:
    """Key-policy statement of a platform data store's key: nobody but the platform's
    deployers changes its policy, disables or deletes it, or points an alias at it or
    away from it (repointing an alias needs the old key's permission too)."""
    return Statement(
        "OnlyThePlatformConfiguresTheKey",
        "Deny",
        principals=(Principal.anyone(),),
        actions=(*KEY_CHANGES, *KEY_ALIAS_CHANGES),
        resources=("*",),
        conditions=(Condition.of("ArnNotLike", "aws:PrincipalArn", *deployers),),
    )


def data_key_policy(base: PolicyDocument, deployers: Sequence[str]) -> PolicyDocument:
    """An account's data key policy (``base``: the EBS default's) with
    ``key_configuration_denials``: the same in every account (parity)."""
    return PolicyDocument((*base.statements, key_configuration_denials(deployers)))
