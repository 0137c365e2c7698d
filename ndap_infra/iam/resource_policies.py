"""Resource policies (keys, buckets) as named pure functions."""

from __future__ import annotations

from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement


def account_root(account_id: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:root"


def bucket_arn(name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{name}"


def key_policy_account_administers(account_id: str) -> PolicyDocument:
    """The account (through IAM policies) administers and uses the key: AWS's default key
    policy, written out so reviewers see it."""
    return PolicyDocument(
        (
            Statement(
                "AccountAdministersKey",
                "Allow",
                principals=(Principal.aws(account_root(account_id)),),
                actions=("kms:*",),
                resources=("*",),
            ),
        )
    )


EBS_KEY_USE = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)


def key_policy_ebs_default(account_id: str, region: str) -> PolicyDocument:
    """A key that is also the account's default EBS key: the account administers it, and
    any principal of the account uses it through EC2 only. Service-linked roles (Auto
    Scaling's, Spot's...) launch encrypted volumes with it, and no IAM policy of theirs can
    allow a customer key, so the key policy must; naming each role would fail while it does
    not exist yet, so the grant is by account and ``kms:ViaService`` (the pattern of AWS's
    own ``aws/ebs`` key)."""
    through_ec2 = (
        Condition.of("StringEquals", "kms:CallerAccount", account_id),
        Condition.of("StringEquals", "kms:ViaService", f"ec2.{region}.amazonaws.com"),
    )
    return PolicyDocument(
        (
            *key_policy_account_administers(account_id).statements,
            Statement(
                "AccountUsesForEbsThroughEc2",
                "Allow",
                principals=(Principal.anyone(),),
                actions=EBS_KEY_USE,
                resources=("*",),
                conditions=through_ec2,
            ),
            Statement(
                "AccountGrantsForEbsThroughEc2",
                "Allow",
                principals=(Principal.anyone(),),
                actions=("kms:CreateGrant",),
                resources=("*",),
                conditions=(
                    *through_ec2,
                    Condition.of("Bool", "kms:GrantIsForAWSResource", "true"),
                ),
            ),
        )
    )


def bucket_policy_tls_only(bucket: str) -> PolicyDocument:
    """Deny every request that is not over TLS 1.2 or newer."""
    arn = bucket_arn(bucket)
    return PolicyDocument(
        (
            Statement(
                "DenyInsecureTransport",
                "Deny",
                principals=(Principal.anyone(),),
                actions=("s3:*",),
                resources=(arn, f"{arn}/*"),
                conditions=(Condition.of("Bool", "aws:SecureTransport", "false"),),
            ),
            Statement(
                "DenyOutdatedTls",
                "Deny",
                principals=(Principal.anyone(),),
                actions=("s3:*",),
                resources=(arn, f"{arn}/*"),
                conditions=(Condition.of("NumericLessThan", "s3:TlsVersion", "1.2"),),
            ),
        )
    )
