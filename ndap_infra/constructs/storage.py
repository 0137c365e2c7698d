"""Encrypted storage: customer-managed KMS keys and hardened S3 buckets."""

from __future__ import annotations

from dataclasses import dataclass

import jsii
from cdktf import Aspects, IAspect, ITerraformDependable, TerraformResourceLifecycle
from constructs import Construct, IConstruct

from ndap_infra.iam.document import PolicyDocument
from ndap_infra.resources.aws import (
    KmsAlias,
    KmsKey,
    S3Bucket,
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionTransition,
    S3BucketLifecycleConfigurationRuleTransition,
    S3BucketLogging,
    S3BucketLoggingTargetObjectKeyFormat,
    S3BucketLoggingTargetObjectKeyFormatPartitionedPrefix,
    S3BucketNotification,
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
    prevent_destroy: bool = False
    """Terraform refuses to destroy the key (``lifecycle { prevent_destroy = true }``):
    `ndap destroy` keeps it unless told loudly otherwise."""


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
            policy=props.policy.to_terraform_json_with_tokens(),
            lifecycle=(
                TerraformResourceLifecycle(prevent_destroy=True) if props.prevent_destroy else None
            ),
        )
        self.alias = KmsAlias(self, "alias", name=props.alias, target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn


ABORT_INCOMPLETE_UPLOADS_DAYS = 7


@dataclass(frozen=True)
class BucketLifecycle:
    """One lifecycle rule over the whole bucket. Versioned buckets keep every overwritten or
    deleted object as a noncurrent version; the rule bounds how long, and always aborts
    incomplete multipart uploads (their parts are billed but invisible)."""

    rule_id: str
    noncurrent_expire_after_days: int
    abort_incomplete_uploads_after_days: int = ABORT_INCOMPLETE_UPLOADS_DAYS
    noncurrent_archive_after_days: int | None = None
    noncurrent_archive_storage_class: str = "STANDARD_IA"
    archive_after_days: int | None = None
    """Current objects move to ``archive_storage_class`` after this many days (never if None)."""
    archive_storage_class: str = "GLACIER"
    expire_after_days: int | None = None
    """Current objects expire after this many days (never if None)."""

    def __post_init__(self) -> None:
        if (
            self.noncurrent_archive_after_days is not None
            and self.noncurrent_archive_after_days >= self.noncurrent_expire_after_days
        ):
            raise ValueError(
                f"lifecycle {self.rule_id!r}: noncurrent versions are archived after "
                f"{self.noncurrent_archive_after_days} days but expire after "
                f"{self.noncurrent_expire_after_days}"
            )
        if (
            self.archive_after_days is not None
            and self.expire_after_days is not None
            and self.archive_after_days >= self.expire_after_days
        ):
            raise ValueError(
                f"lifecycle {self.rule_id!r}: objects are archived after "
                f"{self.archive_after_days} days but expire after {self.expire_after_days}"
            )


DATA_LIFECYCLE = BucketLifecycle(
    rule_id="bound-noncurrent-versions",
    noncurrent_archive_after_days=30,
    noncurrent_expire_after_days=90,
)
"""Data buckets: current objects are kept (the data is the product, its owners delete it);
overwritten or deleted versions stay recoverable for 90 days (Standard-IA after 30), then
expire; incomplete multipart uploads are aborted after 7 days."""


def lifecycle_configuration(
    scope: Construct,
    id_: str,
    bucket: S3Bucket,
    lifecycle: BucketLifecycle,
    depends_on: list[ITerraformDependable],
) -> S3BucketLifecycleConfiguration:
    """The bucket's lifecycle configuration: one rule, for every object."""
    rule = S3BucketLifecycleConfigurationRule(
        id=lifecycle.rule_id,
        status="Enabled",
        filter=[S3BucketLifecycleConfigurationRuleFilter()],
        transition=(
            None
            if lifecycle.archive_after_days is None
            else [
                S3BucketLifecycleConfigurationRuleTransition(
                    days=lifecycle.archive_after_days,
                    storage_class=lifecycle.archive_storage_class,
                )
            ]
        ),
        expiration=(
            None
            if lifecycle.expire_after_days is None
            else [S3BucketLifecycleConfigurationRuleExpiration(days=lifecycle.expire_after_days)]
        ),
        noncurrent_version_transition=(
            None
            if lifecycle.noncurrent_archive_after_days is None
            else [
                S3BucketLifecycleConfigurationRuleNoncurrentVersionTransition(
                    noncurrent_days=lifecycle.noncurrent_archive_after_days,
                    storage_class=lifecycle.noncurrent_archive_storage_class,
                )
            ]
        ),
        noncurrent_version_expiration=[
            S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                noncurrent_days=lifecycle.noncurrent_expire_after_days
            )
        ],
        abort_incomplete_multipart_upload=[
            S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                days_after_initiation=lifecycle.abort_incomplete_uploads_after_days
            )
        ],
    )
    return S3BucketLifecycleConfiguration(
        scope, id_, bucket=bucket.id, rule=[rule], depends_on=depends_on
    )


@dataclass(frozen=True)
class BucketProps:
    """A private, versioned, encrypted bucket owned by its account, with a lifecycle and
    EventBridge notifications."""

    name: str
    kms_key_arn: str | None
    """SSE-KMS with this customer-managed key. ``None`` (SSE-S3) only for the account's
    server access log destination: S3 delivers server access logs only into buckets whose
    default encryption is SSE-S3."""
    policy: PolicyDocument | None = None
    force_destroy: bool = False
    prevent_destroy: bool = False
    """Terraform refuses to destroy the bucket (``lifecycle { prevent_destroy = true }``)."""
    bucket_key_enabled: bool = True
    """S3 Bucket Keys (fewer KMS calls). Off where a key policy conditions a service on its
    own encryption context (CloudTrail), which a bucket-level key would replace."""
    lifecycle: BucketLifecycle | None = DATA_LIFECYCLE
    """The bucket's lifecycle rule; ``None`` where the caller declares the lifecycle itself."""
    eventbridge_notifications: bool = True
    """Send the bucket's events to EventBridge (for rules such as ad-hoc retraining on new
    data). ``aws_s3_bucket_notification`` owns a bucket's whole notification configuration:
    add queue, topic or function targets to this resource, never a second one."""
    receives_access_logs: bool = False
    """The account's server access log destination: it does not log itself (S3 would log
    its own log deliveries, without end)."""
    object_lock: bool = False
    """S3 Object Lock (only at creation; the retention is declared beside the bucket)."""

    def __post_init__(self) -> None:
        if self.kms_key_arn is None and not self.receives_access_logs:
            raise ValueError(
                f"bucket {self.name}: SSE-S3 (no kms_key_arn) is only for the server access "
                "log destination; every other bucket is encrypted with a customer-managed key"
            )


class SecureBucket(Construct):
    """An S3 bucket with versioning, default encryption (SSE-KMS with bucket keys, or SSE-S3
    for the server access log destination), public access blocked, ACLs disabled, a
    lifecycle rule and EventBridge notifications; optionally a bucket policy and deletion
    protection. Server access logging is added by ``ServerAccessLogging``."""

    def __init__(self, scope: Construct, id_: str, props: BucketProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=props.name,
            force_destroy=props.force_destroy,
            object_lock_enabled=True if props.object_lock else None,
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
                    apply_server_side_encryption_by_default=[_default_encryption(props)],
                    bucket_key_enabled=(
                        props.bucket_key_enabled if props.kms_key_arn is not None else None
                    ),
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
                self,
                "policy",
                bucket=bucket_id,
                policy=props.policy.to_terraform_json_with_tokens(),
            )
        self.lifecycle_configuration: S3BucketLifecycleConfiguration | None = None
        if props.lifecycle is not None:
            self.lifecycle_configuration = lifecycle_configuration(
                self, "lifecycle", self.bucket, props.lifecycle, depends_on=[self.versioning]
            )
        self.notifications: S3BucketNotification | None = None
        if props.eventbridge_notifications:
            self.notifications = S3BucketNotification(
                self, "notifications", bucket=bucket_id, eventbridge=True
            )
        self.access_logging: S3BucketLogging | None = None

    def log_access_to(self, destination: SecureBucket, prefix: str) -> S3BucketLogging:
        """Deliver this bucket's server access logs to ``destination`` under ``prefix``,
        partitioned by account, region, source bucket and event date."""
        if self.props.receives_access_logs:
            raise ValueError(f"{self.props.name} receives access logs; it does not log itself")
        if not destination.props.receives_access_logs:
            raise ValueError(f"{destination.props.name} is not a server access log destination")
        if self.access_logging is not None:
            raise ValueError(f"{self.props.name} already delivers server access logs")
        self.access_logging = S3BucketLogging(
            self,
            "access-logging",
            bucket=self.bucket.id,
            target_bucket=destination.bucket.id,
            target_prefix=prefix,
            target_object_key_format=[
                S3BucketLoggingTargetObjectKeyFormat(
                    partitioned_prefix=[
                        S3BucketLoggingTargetObjectKeyFormatPartitionedPrefix(
                            partition_date_source="EventTime"
                        )
                    ]
                )
            ],
            depends_on=[destination.policy] if destination.policy is not None else None,
        )
        return self.access_logging

    @property
    def arn(self) -> str:
        return self.bucket.arn

    @property
    def name(self) -> str:
        return self.bucket.bucket


def _default_encryption(
    props: BucketProps,
) -> S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefault:
    if props.kms_key_arn is None:
        return S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefault(
            sse_algorithm="AES256"
        )
    return S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefault(
        sse_algorithm="aws:kms", kms_master_key_id=props.kms_key_arn
    )


@jsii.implements(IAspect)
class ServerAccessLogging:
    """Every ``SecureBucket`` in a scope delivers its server access logs to one destination
    bucket, whether it was created before or after the destination: an aspect, applied when
    the stack is synthesized. The destination itself and buckets that already log are left
    alone."""

    def __init__(self, destination: SecureBucket, prefix: str) -> None:
        self.destination = destination
        self.prefix = prefix

    @classmethod
    def apply(cls, scope: IConstruct, destination: SecureBucket, prefix: str) -> None:
        Aspects.of(scope).add(cls(destination, prefix))

    def visit(self, node: IConstruct) -> None:
        if (
            isinstance(node, SecureBucket)
            and not node.props.receives_access_logs
            and node.access_logging is None
        ):
            node.log_access_to(self.destination, self.prefix)
