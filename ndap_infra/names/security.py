"""Names of the security accounts' resources (``organization.security_accounts``): the
archive, its key, the organization trail, the delegated administrators' resources."""

from __future__ import annotations

from ndap_infra.config.enums import SECURITY_UNIT

ORGANIZATION_TRAIL_STACK = "organization-trail"
"""The stack of the organization trail, in the management account: applied after the
log-archive stack, since CloudTrail refuses a trail whose bucket does not exist yet."""
ARCHIVE_CLOUDTRAIL_PREFIX = "cloudtrail"
ARCHIVE_CONFIG_PREFIX = "config"
ARCHIVE_ACCESS_LOGS_PREFIX = "s3-access/"
ARCHIVE_READER_ALIAS = "log_archive"
"""The alias of the organization-trail stack's provider into the log-archive account."""


def security_unit(org: str) -> str:
    return f"{org}-{SECURITY_UNIT}"


def archive_bucket(org: str, archive_account_id: str) -> str:
    return f"{org}-log-archive-{archive_account_id}"


def archive_access_log_bucket(org: str, archive_account_id: str) -> str:
    return f"{org}-log-archive-access-{archive_account_id}"


def archive_key_alias(org: str) -> str:
    return f"alias/{org}/log-archive"


def organization_trail(org: str) -> str:
    return f"{org}-organization-trail"


def organization_trail_arn(org: str, region: str, management_account_id: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{management_account_id}:trail/{organization_trail(org)}"


def organization_analyzer(org: str) -> str:
    return f"{org}-organization"


def config_aggregator(org: str) -> str:
    return f"{org}-organization"


def config_aggregator_role(org: str) -> str:
    """Under the baseline's prefix: the guardrails protect it like the baseline's roles."""
    return f"{org}-baseline-config-aggregator"


def findings_topic(org: str) -> str:
    return f"{org}-security-findings"


def findings_rule(org: str) -> str:
    return f"{org}-high-severity-findings"


def findings_key_alias(org: str) -> str:
    return f"alias/{org}/security-findings"


def security_hub_policy(org: str) -> str:
    return f"{org}-baseline-standards"
