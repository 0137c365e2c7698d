"""Security alarms on the CloudTrail log group: metric filter patterns as plain data.

The patterns are those of the CIS AWS Foundations Benchmark (as Security Hub's
CloudWatch.1-4 controls check them), plus one alarm on any attempt to switch off or
weaken the baseline itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FILTER_PATTERN_LIMIT = 1024
"""CloudWatch Logs' maximum metric filter pattern length."""


@dataclass(frozen=True)
class AlarmSpec:
    """One metric filter on the trail's log group and the alarm on its metric."""

    name: str
    description: str
    filter_pattern: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9-]*[a-z0-9]", self.name):
            raise ValueError(f"alarm name {self.name!r} must be lowercase words and hyphens")
        if len(self.filter_pattern) > FILTER_PATTERN_LIMIT:
            raise ValueError(
                f"filter pattern of {self.name} is {len(self.filter_pattern)} characters, "
                f"over CloudWatch Logs' {FILTER_PATTERN_LIMIT}"
            )

    @property
    def metric_name(self) -> str:
        """CamelCase metric name, e.g. ``RootAccountUse``."""
        return "".join(word.capitalize() for word in self.name.split("-"))


def events_of(source: str, names: Sequence[str]) -> str:
    """Filter term matching any of ``names`` from one event source."""
    alternatives = "||".join(f'($.eventName="{name}")' for name in names)
    return f'(($.eventSource="{source}")&&({alternatives}))'


BASELINE_EVENTS: Mapping[str, tuple[str, ...]] = {
    "cloudtrail.amazonaws.com": ("StopLogging", "DeleteTrail", "UpdateTrail"),
    "config.amazonaws.com": (
        "StopConfigurationRecorder",
        "DeleteDeliveryChannel",
        "DeleteConfigurationRecorder",
    ),
    "guardduty.amazonaws.com": ("DeleteDetector", "UpdateDetector"),
    "securityhub.amazonaws.com": ("DisableSecurityHub",),
    "kms.amazonaws.com": ("DisableKey", "ScheduleKeyDeletion"),
    "s3.amazonaws.com": ("PutBucketPolicy", "DeleteBucketPolicy"),
    "access-analyzer.amazonaws.com": ("DeleteAnalyzer",),
}
"""API calls that switch off or weaken a baseline control, by event source."""


def baseline_changes_pattern(events: Mapping[str, Sequence[str]] = BASELINE_EVENTS) -> str:
    return "{" + "||".join(events_of(source, names) for source, names in events.items()) + "}"


ROOT_ACCOUNT_USE = AlarmSpec(
    "root-account-use",
    "The root user was used (CIS 1.7 / CloudWatch.1).",
    '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
    '&& $.eventType != "AwsServiceEvent" }',
)
UNAUTHORIZED_API_CALLS = AlarmSpec(
    "unauthorized-api-calls",
    "API calls were denied (CIS 4.1 / CloudWatch.2).",
    '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") '
    '&& ($.sourceIPAddress != "delivery.logs.amazonaws.com") '
    '&& ($.eventName != "HeadBucket") }',
)
CONSOLE_SIGN_IN_WITHOUT_MFA = AlarmSpec(
    "console-sign-in-without-mfa",
    "An IAM user signed in to the console without MFA (CIS 4.2 / CloudWatch.3).",
    '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
    '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
)
IAM_POLICY_CHANGES = AlarmSpec(
    "iam-policy-changes",
    "An IAM policy was created, changed, attached or detached (CIS 4.4 / CloudWatch.4).",
    "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)"
    "||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)"
    "||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)"
    "||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)"
    "||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)"
    "||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)"
    "||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)"
    "||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
)
BASELINE_CHANGES = AlarmSpec(
    "control-changes",
    "A baseline control was stopped, deleted or weakened (CloudTrail, Config, GuardDuty, "
    "Security Hub, KMS keys, bucket policies, Access Analyzer).",
    baseline_changes_pattern(),
)

BREAK_GLASS_USE = AlarmSpec(
    "break-glass-use",
    "The break-glass role was assumed (or its Identity Center permission set used): every "
    "use is an incident to review.",
    '{ ($.eventName = "AssumeRole" || $.eventName = "AssumeRoleWithSAML") '
    '&& ($.requestParameters.roleArn = "*break-glass*") }',
)

BASELINE_ALARMS: tuple[AlarmSpec, ...] = (
    ROOT_ACCOUNT_USE,
    UNAUTHORIZED_API_CALLS,
    CONSOLE_SIGN_IN_WITHOUT_MFA,
    IAM_POLICY_CHANGES,
    BASELINE_CHANGES,
    BREAK_GLASS_USE,
)
"""Every alarm of the baseline, in a stable order (construct ids derive from the names)."""
