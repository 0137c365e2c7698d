"""Identity policies for each access level of the persona matrix.

Written out as documents (not AWS managed policies) so that reviewers read them and the
evaluator proves decisions from exactly what is deployed.
"""

from __future__ import annotations

from ndap_infra.config.enums import Access
from ndap_infra.iam.document import Condition, PolicyDocument, Statement

READ_VERBS = ("*:Describe*", "*:Get*", "*:List*", "*:BatchGet*", "*:Search*", "*:View*")
SECRET_READS = (
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
)
SECURITY_AUDIT_ACTIONS = (
    "access-analyzer:Get*",
    "access-analyzer:List*",
    "cloudtrail:Describe*",
    "cloudtrail:Get*",
    "cloudtrail:List*",
    "cloudtrail:LookupEvents",
    "cloudwatch:Describe*",
    "cloudwatch:Get*",
    "cloudwatch:List*",
    "config:Describe*",
    "config:Get*",
    "config:List*",
    "config:Select*",
    "ec2:Describe*",
    "ec2:GetEbsDefaultKmsKeyId",
    "ec2:GetEbsEncryptionByDefault",
    "guardduty:Describe*",
    "guardduty:Get*",
    "guardduty:List*",
    "iam:GenerateCredentialReport",
    "iam:Get*",
    "iam:List*",
    "kms:Describe*",
    "kms:Get*",
    "kms:List*",
    "logs:Describe*",
    "organizations:Describe*",
    "organizations:List*",
    "securityhub:Describe*",
    "securityhub:Get*",
    "securityhub:List*",
    "sns:Get*",
    "sns:List*",
    "sts:GetCallerIdentity",
)


def full_access() -> PolicyDocument:
    """Everything (in environments where the matrix says full; a boundary and the
    guardrails still apply)."""
    return PolicyDocument((Statement("FullAccess", "Allow", actions=("*",), resources=("*",)),))


def read_only_access(region: str) -> PolicyDocument:
    """Read configuration and data, never secrets; decrypt only through S3."""
    return PolicyDocument(
        (
            Statement("ReadEverything", "Allow", actions=READ_VERBS, resources=("*",)),
            Statement(
                "DecryptThroughS3",
                "Allow",
                actions=("kms:Decrypt",),
                resources=("*",),
                conditions=(
                    Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com"),
                ),
            ),
            Statement("NoSecrets", "Deny", actions=SECRET_READS, resources=("*",)),
        )
    )


def security_audit_access() -> PolicyDocument:
    """Read the security configuration of the account; no data, no secrets."""
    return PolicyDocument(
        (
            Statement(
                "ReadSecurityConfiguration",
                "Allow",
                actions=SECURITY_AUDIT_ACTIONS,
                resources=("*",),
            ),
            Statement(
                "ReadBucketConfiguration",
                "Allow",
                actions=("s3:GetBucket*", "s3:GetAccountPublicAccessBlock", "s3:ListAllMyBuckets"),
                resources=("*",),
            ),
            Statement("NoSecrets", "Deny", actions=SECRET_READS, resources=("*",)),
        )
    )


def uat_access(account_id: str, region: str, reports_bucket: str) -> PolicyDocument:
    """Business users in acceptance: call the acceptance endpoints, read the reports."""
    return PolicyDocument(
        (
            Statement(
                "InvokeAcceptanceEndpoints",
                "Allow",
                actions=("sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"),
                resources=(f"arn:aws:sagemaker:{region}:{account_id}:endpoint/*",),
            ),
            Statement(
                "ReadReports",
                "Allow",
                actions=("s3:GetObject",),
                resources=(f"arn:aws:s3:::{reports_bucket}/reports/*",),
            ),
            Statement(
                "ListReports",
                "Allow",
                actions=("s3:ListBucket",),
                resources=(f"arn:aws:s3:::{reports_bucket}",),
                conditions=(Condition.of("StringLike", "s3:prefix", "reports/*"),),
            ),
            Statement(
                "DecryptReportsThroughS3",
                "Allow",
                actions=("kms:Decrypt",),
                resources=(f"arn:aws:kms:{region}:{account_id}:key/*",),
                conditions=(
                    Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com"),
                ),
            ),
        )
    )


def policy_for(
    access: Access, *, account_id: str, region: str, reports_bucket: str
) -> PolicyDocument:
    """The identity policy of one access level. ``none`` and ``deploy`` have none here:
    no role at all, and deployment roles belong to the pipelines."""
    if access in (Access.FULL, Access.ADMIN):
        return full_access()
    if access is Access.READ_ONLY:
        return read_only_access(region)
    if access is Access.SECURITY_AUDIT:
        return security_audit_access()
    if access is Access.UAT:
        return uat_access(account_id, region, reports_bucket)
    raise ValueError(f"access level {access.value!r} has no persona identity policy")
