"""Names and ARNs of every baseline resource in one account, and the patterns that match
them in any account (for the guardrails that protect the baseline).

Names depend on the organization (and, for the globally unique bucket, the account id),
never on the environment: the baseline is identical in every environment account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ndap_infra.names import arns
from ndap_infra.names import platform as naming

TRAIL_ROLE = "cloudtrail"
CONFIG_ROLE = "config"
LOGS_KEY = "logs"
ALARM_TOPIC = "alarms"
TRAIL_LOG_GROUP = "cloudtrail"
ACCESS_LOGS = "access"


def slug(text: str) -> str:
    """Lowercase words joined by hyphens: ``CLOUD_TRAIL_ENABLED`` -> ``cloud-trail-enabled``,
    ``cis-aws-foundations-benchmark/v/1.4.0`` -> ``cis-aws-foundations-benchmark-v-1-4-0``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def baseline_role_names(org: str) -> tuple[str, ...]:
    """The IAM roles the baseline itself uses (CloudTrail's and AWS Config's): the roles
    a guardrail must keep everybody but the platform from changing or assuming."""
    return (naming.baseline_name(org, TRAIL_ROLE), naming.baseline_name(org, CONFIG_ROLE))


def config_rule_name(org: str, identifier: str) -> str:
    """Stable name of the Config rule for a managed rule identifier."""
    return naming.baseline_name(org, slug(identifier))


@dataclass(frozen=True)
class BaselineNames:
    """Names and ARNs of the baseline's resources in one account."""

    org: str
    account_id: str
    region: str
    partition: str = arns.DEFAULT_PARTITION

    @property
    def prefix(self) -> str:
        return naming.baseline_name(self.org)

    @property
    def trail(self) -> str:
        return naming.trail_name(self.org)

    @property
    def trail_arn(self) -> str:
        return arns.trail_arn(self.region, self.account_id, self.trail, self.partition)

    @property
    def log_bucket(self) -> str:
        return naming.log_bucket_name(self.org, self.account_id)

    @property
    def access_log_bucket(self) -> str:
        """The account's S3 server access log destination. Named under the log bucket's
        prefix (``<org>-baseline-logs-``), so whatever protects the log bucket by pattern
        protects it too."""
        name = f"{naming.baseline_name(self.org, 'logs')}-{ACCESS_LOGS}-{self.account_id}"
        if len(name) > naming.MAX_BUCKET_NAME:
            raise ValueError(
                f"bucket name {name!r} is {len(name)} characters, over S3's "
                f"{naming.MAX_BUCKET_NAME}: shorten organization.name"
            )
        return name

    @property
    def logs_key_alias(self) -> str:
        return naming.baseline_kms_alias(self.org, LOGS_KEY)

    @property
    def trail_log_group(self) -> str:
        return naming.baseline_log_group(self.org, TRAIL_LOG_GROUP)

    @property
    def trail_log_group_arn(self) -> str:
        return arns.log_group_arn(
            self.region, self.account_id, self.trail_log_group, self.partition
        )

    @property
    def trail_role(self) -> str:
        return naming.baseline_name(self.org, TRAIL_ROLE)

    @property
    def config_role(self) -> str:
        return naming.baseline_name(self.org, CONFIG_ROLE)

    @property
    def role_names(self) -> tuple[str, ...]:
        return baseline_role_names(self.org)

    @property
    def recorder(self) -> str:
        """Configuration recorder and delivery channel (one of each per region)."""
        return self.prefix

    @property
    def analyzer(self) -> str:
        return self.prefix

    @property
    def alarm_topic(self) -> str:
        return naming.baseline_name(self.org, ALARM_TOPIC)

    @property
    def alarm_topic_arn(self) -> str:
        return arns.topic_arn(self.region, self.account_id, self.alarm_topic, self.partition)

    @property
    def alarm_arn_pattern(self) -> str:
        """Every baseline alarm of this account."""
        return arns.alarm_arn_pattern(
            self.region, self.account_id, f"{self.prefix}-", self.partition
        )

    @property
    def metric_namespace(self) -> str:
        return naming.baseline_metric_namespace(self.org)

    def alarm(self, alarm: str) -> str:
        """Name of an alarm and of its metric filter."""
        return naming.baseline_name(self.org, alarm)

    def config_rule(self, identifier: str) -> str:
        return config_rule_name(self.org, identifier)


@dataclass(frozen=True)
class BaselineNamePatterns:
    """What identifies baseline resources in any environment account of the organization,
    for guardrail conditions (``ArnLike`` resources, role names)."""

    name_prefix: str
    """Every baseline resource name starts with this (log group and alias paths aside)."""
    role_names: tuple[str, ...]
    role_arns: tuple[str, ...]
    bucket_arns: tuple[str, ...]
    trail_arns: tuple[str, ...]
    log_group_arns: tuple[str, ...]
    kms_alias_arns: tuple[str, ...]
    topic_arns: tuple[str, ...]
    alarm_arns: tuple[str, ...]
    config_recorder_name: str
    analyzer_name: str

    def all_arns(self) -> tuple[str, ...]:
        """Every ARN pattern, sorted (config rules and keys are named by generated ids,
        not by name; protect them by action, or keys through their alias)."""
        return tuple(
            sorted(
                {
                    *self.role_arns,
                    *self.bucket_arns,
                    *self.trail_arns,
                    *self.log_group_arns,
                    *self.kms_alias_arns,
                    *self.topic_arns,
                    *self.alarm_arns,
                }
            )
        )


def baseline_resource_name_patterns(
    org: str, partition: str = arns.DEFAULT_PARTITION
) -> BaselineNamePatterns:
    """Patterns matching the baseline's resources in every account and region."""
    prefix = naming.baseline_name(org)
    return BaselineNamePatterns(
        name_prefix=prefix,
        role_names=baseline_role_names(org),
        role_arns=tuple(f"arn:{partition}:iam::*:role/{r}" for r in baseline_role_names(org)),
        bucket_arns=(
            f"arn:{partition}:s3:::{prefix}-{LOGS_KEY}-*",
            f"arn:{partition}:s3:::{prefix}-{LOGS_KEY}-*/*",
        ),
        trail_arns=(f"arn:{partition}:cloudtrail:*:*:trail/{naming.trail_name(org)}",),
        log_group_arns=(
            f"arn:{partition}:logs:*:*:log-group:{naming.baseline_log_group(org, '')}*",
        ),
        kms_alias_arns=(f"arn:{partition}:kms:*:*:{naming.baseline_kms_alias(org, '')}*",),
        topic_arns=(f"arn:{partition}:sns:*:*:{prefix}-*",),
        alarm_arns=(f"arn:{partition}:cloudwatch:*:*:alarm:{prefix}-*",),
        config_recorder_name=prefix,
        analyzer_name=prefix,
    )
