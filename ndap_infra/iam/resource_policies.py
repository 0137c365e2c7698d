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
