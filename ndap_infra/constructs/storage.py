"""Encrypted storage: customer-managed KMS keys and hardened S3 buckets."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from ndap_infra.iam.document import PolicyDocument
from ndap_infra.resources.aws import (
    KmsAlias,
    KmsKey,
    S3Bucket,
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
    S3BucketPolicy,
    S3BucketPublicAccessBlock,
    S3BucketServerSideEncryptionConfiguration,
    S3BucketServerSideEncryptionConfigurationRule,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefault,
    S3BucketVersioning,
    S3BucketVersioningVersioningConfiguration,
)


@dataclass(frozen=True)
class KeyProps:
    """A customer-managed key. Rotation is always on."""

    alias: str
    description: str
    policy: PolicyDocument
    deletion_window_in_days: int = 30


class ManagedKey(Construct):
    """A customer-managed KMS key with yearly rotation and an alias."""

    def __init__(self, scope: Construct, id_: str, props: KeyProps) -> None:
        super().__init__(scope, id_)
        self.key = KmsKey(
            self,
            "key",
            description=props.description,
            enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_in_days,
            policy=props.policy.to_json(),
        )
        self.alias = KmsAlias(self, "alias", name=props.alias, target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn


@dataclass(frozen=True)
class BucketProps:
    """A private, versioned, KMS-encrypted bucket owned by its account."""

    name: str
    kms_key_arn: str
    policy: PolicyDocument | None = None
    force_destroy: bool = False
    prevent_destroy: bool = False
    """Terraform refuses to destroy the bucket (``lifecycle { prevent_destroy = true }``)."""
    bucket_key_enabled: bool = True
    """S3 Bucket Keys (fewer KMS calls). Off where a key policy conditions a service on its
    own encryption context (CloudTrail), which a bucket-level key would replace."""


class SecureBucket(Construct):
    """An S3 bucket with versioning, SSE-KMS (bucket keys on), public access blocked and
    ACLs disabled; optionally a bucket policy and deletion protection."""

    def __init__(self, scope: Construct, id_: str, props: BucketProps) -> None:
        super().__init__(scope, id_)
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=props.name,
            force_destroy=props.force_destroy,
            lifecycle=(
                TerraformResourceLifecycle(prevent_destroy=True) if props.prevent_destroy else None
            ),
        )
        bucket_id = self.bucket.id
        self.versioning = S3BucketVersioning(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration=[S3BucketVersioningVersioningConfiguration(status="Enabled")],
        )
        S3BucketServerSideEncryptionConfiguration(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRule(
                    apply_server_side_encryption_by_default=[
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefault(
                            sse_algorithm="aws:kms", kms_master_key_id=props.kms_key_arn
                        )
                    ],
                    bucket_key_enabled=props.bucket_key_enabled,
                )
            ],
        )
        S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=[S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced")],
        )
        self.policy: S3BucketPolicy | None = None
        if props.policy is not None:
            self.policy = S3BucketPolicy(
                self, "policy", bucket=bucket_id, policy=props.policy.to_json()
            )

    @property
    def arn(self) -> str:
        return self.bucket.arn

    @property
    def name(self) -> str:
        return self.bucket.bucket
