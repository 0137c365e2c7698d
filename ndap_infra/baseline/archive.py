"""The log archive's policy documents (``organization.security_accounts``): pure functions
of names, ids and ARNs.

The archive receives the organization trail (CloudTrail, for that trail only) and every
member account's AWS Config delivery (each account into its own prefix); the security
auditor persona reads it, nobody deletes from it (the bucket policy denies deletion to
every principal, the platform's deployer and the account's root user included; Object
Lock in compliance mode holds every version for the retention besides)."""

from __future__ import annotations

from collections.abc import Sequence

from ndap_infra.baseline.policies import BUCKET_OWNER_FULL_CONTROL, CLOUDTRAIL, CONFIG
from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement
from ndap_infra.iam.resource_policies import (
    bucket_arn,
    bucket_policy_tls_only,
    key_policy_account_administers,
)
from ndap_infra.names.security import ARCHIVE_CLOUDTRAIL_PREFIX, ARCHIVE_CONFIG_PREFIX

ARCHIVE_DELETIONS = (
    "s3:BypassGovernanceRetention",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
)
"""What would delete archived logs, or let them be deleted: denied to every principal."""
ARCHIVE_READS = ("s3:GetObject", "s3:GetObjectVersion")
ARCHIVE_LISTS = ("s3:ListBucket", "s3:ListBucketVersions")


def archive_bucket_policy(
    bucket: str,
    trail_arn: str,
    member_accounts: Sequence[str],
    auditor_role_arn: str,
    config_role_name: str,
) -> PolicyDocument:
    """TLS only; deletion denied to everyone; objects read by the security auditor role
    alone; the organization trail's delivery (``aws:SourceArn``: that trail) and each member
    account's Config delivery into its own prefix, by the Config service (for that account)
    or by the account's Config role, named by ``aws:PrincipalArn`` under the account root
    because the role is created after the archive (a principal that does not exist yet is
    refused by S3)."""
    arn = bucket_arn(bucket)
    accounts = tuple(sorted(set(member_accounts)))
    trail = Condition.of("StringEquals", "aws:SourceArn", trail_arn)
    config_role = Condition.of(
        "ArnLike", "aws:PrincipalArn", f"arn:aws:iam::*:role/{config_role_name}"
    )
    return PolicyDocument(
        (
            *bucket_policy_tls_only(bucket).statements,
            Statement(
                "NobodyDeletesEvidence",
                "Deny",
                principals=(Principal.anyone(),),
                actions=ARCHIVE_DELETIONS,
                resources=(arn, f"{arn}/*"),
            ),
            Statement(
                "OnlySecurityAuditorsRead",
                "Deny",
                principals=(Principal.anyone(),),
                actions=ARCHIVE_READS,
                resources=(f"{arn}/*",),
                conditions=(Condition.of("ArnNotEquals", "aws:PrincipalArn", auditor_role_arn),),
            ),
            Statement(
                "AWSCloudTrailAclCheck",
                "Allow",
                principals=(Principal.service(CLOUDTRAIL),),
                actions=("s3:GetBucketAcl",),
                resources=(arn,),
                conditions=(trail,),
            ),
            Statement(
                "AWSCloudTrailWrite",
                "Allow",
                principals=(Principal.service(CLOUDTRAIL),),
                actions=("s3:PutObject",),
                resources=(f"{arn}/{ARCHIVE_CLOUDTRAIL_PREFIX}/AWSLogs/*",),
                conditions=(trail, BUCKET_OWNER_FULL_CONTROL),
            ),
            Statement(
                "AWSConfigBucketChecks",
                "Allow",
                principals=(Principal.service(CONFIG),),
                actions=("s3:GetBucketAcl", "s3:ListBucket"),
                resources=(arn,),
                conditions=(Condition.of("StringEquals", "aws:SourceAccount", *accounts),),
            ),
            Statement(
                "AWSConfigBucketDelivery",
                "Allow",
                principals=(Principal.service(CONFIG),),
                actions=("s3:PutObject",),
                resources=tuple(
                    f"{arn}/{ARCHIVE_CONFIG_PREFIX}/AWSLogs/{a}/Config/*" for a in accounts
                ),
                conditions=(
                    Condition.of("StringEquals", "aws:SourceAccount", *accounts),
                    BUCKET_OWNER_FULL_CONTROL,
                ),
            ),
            Statement(
                "ConfigRolesCheckBucket",
                "Allow",
                principals=(Principal.aws(*(f"arn:aws:iam::{a}:root" for a in accounts)),),
                actions=("s3:GetBucketAcl", "s3:ListBucket"),
                resources=(arn,),
                conditions=(config_role,),
            ),
            *(
                Statement(
                    f"ConfigRoleDelivers{a}",
                    "Allow",
                    principals=(Principal.aws(f"arn:aws:iam::{a}:root"),),
                    actions=("s3:PutObject",),
                    resources=(f"{arn}/{ARCHIVE_CONFIG_PREFIX}/AWSLogs/{a}/Config/*",),
                    conditions=(config_role, BUCKET_OWNER_FULL_CONTROL),
                )
                for a in accounts
            ),
        )
    )


def archive_key_policy(
    archive_account_id: str,
    management_account_id: str,
    trail_arn: str,
    member_accounts: Sequence[str],
    bucket: str,
    region: str,
) -> PolicyDocument:
    """The archive key: administered by its account through IAM; CloudTrail encrypts for the
    organization trail only; AWS Config and the member accounts' Config roles encrypt
    deliveries through S3 into the archive only (``kms:ViaService`` and the object's S3
    encryption context). Decryption is IAM's: only the security auditor role is granted it."""
    accounts = tuple(sorted(set(member_accounts)))
    trail = Condition.of("StringEquals", "aws:SourceArn", trail_arn)
    via_archive = (
        Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com"),
        Condition.of("StringLike", "kms:EncryptionContext:aws:s3:arn", f"{bucket_arn(bucket)}/*"),
    )
    return PolicyDocument(
        (
            *key_policy_account_administers(archive_account_id).statements,
            Statement(
                "CloudTrailEncryptsOrganizationTrail",
                "Allow",
                principals=(Principal.service(CLOUDTRAIL),),
                actions=("kms:GenerateDataKey*",),
                resources=("*",),
                conditions=(
                    trail,
                    Condition.of(
                        "StringLike",
                        "kms:EncryptionContext:aws:cloudtrail:arn",
                        f"arn:aws:cloudtrail:*:{management_account_id}:trail/*",
                    ),
                ),
            ),
            Statement(
                "CloudTrailDescribesKey",
                "Allow",
                principals=(Principal.service(CLOUDTRAIL),),
                actions=("kms:DescribeKey",),
                resources=("*",),
                conditions=(trail,),
            ),
            Statement(
                "ConfigEncryptsDeliveries",
                "Allow",
                principals=(Principal.service(CONFIG),),
                actions=("kms:GenerateDataKey",),
                resources=("*",),
                conditions=(Condition.of("StringEquals", "aws:SourceAccount", *accounts),),
            ),
            Statement(
                "MemberConfigRolesEncryptDeliveries",
                "Allow",
                principals=(Principal.aws(*(f"arn:aws:iam::{a}:root" for a in accounts)),),
                actions=("kms:GenerateDataKey",),
                resources=("*",),
                conditions=via_archive,
            ),
        )
    )


def archive_reader_policy(bucket: str, region: str, archive_account_id: str) -> PolicyDocument:
    """The security auditor's read of the archive (the objects, their versions and the
    archive key's decryption through S3): nothing else, and no write."""
    arn = bucket_arn(bucket)
    return PolicyDocument(
        (
            Statement("ListArchive", "Allow", actions=ARCHIVE_LISTS, resources=(arn,)),
            Statement("ReadArchive", "Allow", actions=ARCHIVE_READS, resources=(f"{arn}/*",)),
            Statement(
                "DecryptArchive",
                "Allow",
                actions=("kms:Decrypt",),
                resources=(f"arn:aws:kms:{region}:{archive_account_id}:key/*",),
                conditions=(
                    Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com"),
                ),
            ),
        )
    )


def config_archive_delivery_policy(
    bucket: str, account_id: str, archive_account_id: str, region: str
) -> PolicyDocument:
    """What a member account's Config role needs to deliver into the archive: check the
    bucket, write its own prefix, encrypt with the archive key through S3."""
    arn = bucket_arn(bucket)
    return PolicyDocument(
        (
            Statement(
                "ConfigChecksArchive",
                "Allow",
                actions=("s3:GetBucketAcl", "s3:ListBucket"),
                resources=(arn,),
            ),
            Statement(
                "ConfigDeliversToArchive",
                "Allow",
                actions=("s3:PutObject", "s3:PutObjectAcl"),
                resources=(f"{arn}/{ARCHIVE_CONFIG_PREFIX}/AWSLogs/{account_id}/*",),
                conditions=(BUCKET_OWNER_FULL_CONTROL,),
            ),
            Statement(
                "ConfigEncryptsWithArchiveKey",
                "Allow",
                actions=("kms:GenerateDataKey",),
                resources=(f"arn:aws:kms:{region}:{archive_account_id}:key/*",),
                conditions=(
                    Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com"),
                ),
            ),
        )
    )
