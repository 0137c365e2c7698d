"""Names of stacks and resources: pure functions, a contract with deployed state.

Renaming a stack or a construct id replaces real resources, so these are chosen once and
pinned by tests (tests/test_stacks.py).
"""

from __future__ import annotations

from ndap_infra.config.enums import Environment

ORGANIZATION_STACK = "organization"
MAX_BUCKET_NAME = 63


def environment_stack(env: Environment) -> str:
    """Name of the stack that deploys into one environment account."""
    return f"env-{env.value}"


def organizational_unit(org: str, env: Environment) -> str:
    return f"{org}-{env.value}"


def bucket_name(org: str, env: Environment, purpose: str, account_id: str) -> str:
    """Globally unique bucket name: org, environment, purpose and account id."""
    name = f"{org}-{env.value}-{purpose}-{account_id}"
    if len(name) > MAX_BUCKET_NAME:
        raise ValueError(
            f"bucket name {name!r} is {len(name)} characters, over S3's {MAX_BUCKET_NAME}: "
            "shorten organization.name"
        )
    return name


def kms_alias(org: str, env: Environment, purpose: str) -> str:
    return f"alias/{org}/{env.value}/{purpose}"


def scp_name(org: str, purpose: str) -> str:
    return f"{org}-{purpose}"


# -- the security baseline (identical in every environment account) --
#
# Baseline names carry the organization and the word "baseline", never the environment:
# the same name in every account, and one prefix the guardrails can protect.

BASELINE = "baseline"


def baseline_name(org: str, purpose: str | None = None) -> str:
    """``<org>-baseline`` or ``<org>-baseline-<purpose>``: roles, topic, recorder, rules."""
    return f"{org}-{BASELINE}" if purpose is None else f"{org}-{BASELINE}-{purpose}"


def trail_name(org: str) -> str:
    """The account's CloudTrail trail."""
    return baseline_name(org)


def log_bucket_name(org: str, account_id: str) -> str:
    """The account's log bucket (CloudTrail and Config), unique through the account id."""
    name = f"{baseline_name(org, 'logs')}-{account_id}"
    if len(name) > MAX_BUCKET_NAME:
        raise ValueError(
            f"bucket name {name!r} is {len(name)} characters, over S3's {MAX_BUCKET_NAME}: "
            "shorten organization.name"
        )
    return name


def baseline_log_group(org: str, purpose: str) -> str:
    """A baseline CloudWatch log group, e.g. ``/<org>/baseline/cloudtrail``."""
    return f"/{org}/{BASELINE}/{purpose}"


def baseline_kms_alias(org: str, purpose: str) -> str:
    """Alias of a baseline key, e.g. ``alias/<org>/baseline/logs``."""
    return f"alias/{org}/{BASELINE}/{purpose}"


def baseline_metric_namespace(org: str) -> str:
    """CloudWatch namespace of the baseline's metric filters."""
    return f"{org}/{BASELINE}"
