"""The baseline's policy documents: named pure functions of names, ids and ARNs.

Each follows the documented policy of the AWS service concerned, narrowed to this
account (``aws:SourceAccount``) or to the one resource that needs it (``aws:SourceArn``,
KMS encryption contexts) wherever the service supports the condition.
"""

from __future__ import annotations

from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement
from ndap_infra.iam.resource_policies import (
    bucket_arn,
    bucket_policy_tls_only,
    key_policy_account_administers,
)
from ndap_infra.names.arns import DEFAULT_PARTITION

CLOUDTRAIL = "cloudtrail.amazonaws.com"
CONFIG = "config.amazonaws.com"
CLOUDWATCH = "cloudwatch.amazonaws.com"
S3_LOGGING = "logging.s3.amazonaws.com"

CLOUDTRAIL_PREFIX = "cloudtrail"
"""Key prefix of CloudTrail's log files in the log bucket."""
CONFIG_PREFIX = "config"
"""Key prefix of AWS Config's snapshots and history in the log bucket."""
ACCESS_LOGS_PREFIX = "s3-access/"
"""Target prefix of S3 server access logs in the access log bucket (S3 adds the source
account, region, bucket and date below it)."""

BUCKET_OWNER_FULL_CONTROL = Condition.of(
    "StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"
)


def logs_service(region: str) -> str:
    """CloudWatch Logs' regional service principal."""
    return f"logs.{region}.amazonaws.com"


def _source_account(account_id: str) -> Condition:
    return Condition.of("StringEquals", "aws:SourceAccount", account_id)


# -- the logs key ---------------------------------------------------------------------


def logs_key_policy(
    account_id: str, region: str, trail_arn: str, log_group_arn: str
) -> PolicyDocument:
    """Key policy of the logs key (CloudTrail, Config delivery, the trail's log group, the
    alarm topic).

    The account administers the key through IAM (AWS's default statement); CloudTrail may
    encrypt only for this account's trail (``aws:SourceArn`` and the
    ``aws:cloudtrail:arn`` encryption context), CloudWatch Logs only for the trail's log
    group (``aws:logs:arn`` encryption context), AWS Config only for this account, and
    CloudWatch alarms may publish to the encrypted alarm topic.
    """
    trail = Condition.of("StringEquals", "aws:SourceArn", trail_arn)
    return PolicyDocument(
        (
            *key_policy_account_administers(account_id).statements,
            Statement(
                "CloudTrailEncryptsLogs",
                "Allow",
                principals=(Principal.service(CLOUDTRAIL),),
                actions=("kms:GenerateDataKey*",),
                resources=("*",),
                conditions=(
                    trail,
                    Condition.of(
                        "StringEquals", "kms:EncryptionContext:aws:cloudtrail:arn", trail_arn
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
                "CloudWatchLogsEncryptsTrailLogGroup",
                "Allow",
                principals=(Principal.service(logs_service(region)),),
                # AWS's documented statement also lists kms:Describe*, but no Describe
                # request carries an encryption context, so under this condition it could
                # never be allowed; it is left out rather than shown as a grant.
                actions=(
                    "kms:Decrypt*",
                    "kms:Encrypt*",
                    "kms:GenerateDataKey*",
                    "kms:ReEncrypt*",
                ),
                resources=("*",),
                conditions=(
                    Condition.of("ArnEquals", "kms:EncryptionContext:aws:logs:arn", log_group_arn),
                ),
            ),
            Statement(
                "ConfigEncryptsDeliveries",
                "Allow",
                principals=(Principal.service(CONFIG),),
                actions=("kms:Decrypt", "kms:GenerateDataKey"),
                resources=("*",),
                conditions=(_source_account(account_id),),
            ),
            Statement(
                "CloudWatchAlarmsPublishToEncryptedTopic",
                "Allow",
                principals=(Principal.service(CLOUDWATCH),),
                actions=("kms:Decrypt", "kms:GenerateDataKey*"),
                resources=("*",),
            ),
        )
    )


# -- the log bucket -------------------------------------------------------------------


def log_bucket_policy(
    bucket: str, account_id: str, trail_arn: str, partition: str = DEFAULT_PARTITION
) -> PolicyDocument:
    """Bucket policy of the log bucket: TLS only, and delivery by CloudTrail (this
    account's trail only) and AWS Config (this account only), each into its own prefix
    (the documented ``AWSCloudTrailAclCheck``/``AWSCloudTrailWrite`` and
    ``AWSConfigBucketPermissionsCheck``/``ExistenceCheck``/``Delivery`` statements)."""
    arn = bucket_arn(bucket, partition)
    account = _source_account(account_id)
    trail = Condition.of("StringEquals", "aws:SourceArn", trail_arn)
    cloudtrail = (Principal.service(CLOUDTRAIL),)
    config = (Principal.service(CONFIG),)
    return PolicyDocument(
        (
            *bucket_policy_tls_only(bucket).statements,
            Statement(
                "AWSCloudTrailAclCheck",
                "Allow",
                principals=cloudtrail,
                actions=("s3:GetBucketAcl",),
                resources=(arn,),
                conditions=(account, trail),
            ),
            Statement(
                "AWSCloudTrailWrite",
                "Allow",
                principals=cloudtrail,
                actions=("s3:PutObject",),
                resources=(f"{arn}/{CLOUDTRAIL_PREFIX}/AWSLogs/{account_id}/*",),
                conditions=(account, trail, BUCKET_OWNER_FULL_CONTROL),
            ),
            Statement(
                "AWSConfigBucketPermissionsCheck",
                "Allow",
                principals=config,
                actions=("s3:GetBucketAcl",),
                resources=(arn,),
                conditions=(account,),
            ),
            Statement(
                "AWSConfigBucketExistenceCheck",
                "Allow",
                principals=config,
                actions=("s3:ListBucket",),
                resources=(arn,),
                conditions=(account,),
            ),
            Statement(
                "AWSConfigBucketDelivery",
                "Allow",
                principals=config,
                actions=("s3:PutObject",),
                resources=(f"{arn}/{CONFIG_PREFIX}/AWSLogs/{account_id}/Config/*",),
                conditions=(account, BUCKET_OWNER_FULL_CONTROL),
            ),
        )
    )


# -- the access log bucket ------------------------------------------------------------


def access_log_bucket_policy(
    bucket: str, account_id: str, partition: str = DEFAULT_PARTITION
) -> PolicyDocument:
    """Bucket policy of the server access log bucket: TLS only, and delivery by S3's
    logging service, for this account's buckets only, into its prefix (the documented
    ``S3ServerAccessLogsPolicy``; ACLs are disabled, so the policy is the only grant)."""
    arn = bucket_arn(bucket, partition)
    return PolicyDocument(
        (
            *bucket_policy_tls_only(bucket).statements,
            Statement(
                "S3ServerAccessLogsDelivery",
                "Allow",
                principals=(Principal.service(S3_LOGGING),),
                actions=("s3:PutObject",),
                resources=(f"{arn}/{ACCESS_LOGS_PREFIX}*",),
                conditions=(_source_account(account_id),),
            ),
        )
    )


# -- the alarm topic ------------------------------------------------------------------


def alarm_topic_policy(topic_arn: str, account_id: str, alarm_arn_pattern: str) -> PolicyDocument:
    """Topic policy of the alarm topic: only this account's baseline alarms publish, and
    only over TLS. The account manages the topic through IAM, as for any resource."""
    return PolicyDocument(
        (
            Statement(
                "CloudWatchAlarmsPublish",
                "Allow",
                principals=(Principal.service(CLOUDWATCH),),
                actions=("sns:Publish",),
                resources=(topic_arn,),
                conditions=(
                    _source_account(account_id),
                    Condition.of("ArnLike", "aws:SourceArn", alarm_arn_pattern),
                ),
            ),
            Statement(
                "DenyInsecureTransport",
                "Deny",
                principals=(Principal.anyone(),),
                actions=("sns:Publish",),
                resources=(topic_arn,),
                conditions=(Condition.of("Bool", "aws:SecureTransport", "false"),),
            ),
        )
    )


# -- roles ----------------------------------------------------------------------------


def cloudtrail_role_trust() -> PolicyDocument:
    """Trust of the role CloudTrail uses to write to CloudWatch Logs.

    CloudTrail documents that this role's policies support neither ``aws:SourceArn`` nor
    ``aws:SourceAccount``, so the trust names the service alone; the role's permissions
    reach one log group only."""
    return PolicyDocument(
        (
            Statement(
                "CloudTrailAssumesRole",
                "Allow",
                principals=(Principal.service(CLOUDTRAIL),),
                actions=("sts:AssumeRole",),
            ),
        )
    )


def cloudtrail_role_policy(log_group_arn: str, account_id: str) -> PolicyDocument:
    """Least privilege for CloudTrail's CloudWatch Logs delivery: create its streams
    (named ``<account>_CloudTrail_<region>``) in the trail's log group and put events."""
    streams = f"{log_group_arn}:log-stream:{account_id}_CloudTrail_*"
    return PolicyDocument(
        (
            Statement(
                "CloudTrailCreatesLogStream",
                "Allow",
                actions=("logs:CreateLogStream",),
                resources=(streams,),
            ),
            Statement(
                "CloudTrailPutsLogEvents",
                "Allow",
                actions=("logs:PutLogEvents",),
                resources=(streams,),
            ),
        )
    )


def config_role_trust(account_id: str) -> PolicyDocument:
    """Trust of the role AWS Config records with: the service, for this account only."""
    return PolicyDocument(
        (
            Statement(
                "ConfigAssumesRole",
                "Allow",
                principals=(Principal.service(CONFIG),),
                actions=("sts:AssumeRole",),
                conditions=(_source_account(account_id),),
            ),
        )
    )


def config_role_delivery_policy(
    bucket: str, account_id: str, logs_key_arn: str, partition: str = DEFAULT_PARTITION
) -> PolicyDocument:
    """What AWS Config's role needs beyond ``AWS_ConfigRole``: deliver to its prefix of
    the log bucket, encrypted with the logs key."""
    arn = bucket_arn(bucket, partition)
    return PolicyDocument(
        (
            Statement(
                "ConfigChecksBucket",
                "Allow",
                actions=("s3:GetBucketAcl", "s3:ListBucket"),
                resources=(arn,),
            ),
            Statement(
                "ConfigDelivers",
                "Allow",
                actions=("s3:PutObject", "s3:PutObjectAcl"),
                resources=(f"{arn}/{CONFIG_PREFIX}/AWSLogs/{account_id}/*",),
                conditions=(BUCKET_OWNER_FULL_CONTROL,),
            ),
            Statement(
                "ConfigEncryptsWithLogsKey",
                "Allow",
                actions=("kms:Decrypt", "kms:GenerateDataKey"),
                resources=(logs_key_arn,),
            ),
        )
    )
