"""Names of stacks and resources: pure functions, a contract with deployed state.

Renaming a stack or a construct id replaces real resources, so these are chosen once and
pinned by tests (tests/stacks/test_stacks.py).
"""

from __future__ import annotations

from ndap_infra.config.enums import Environment
from ndap_infra.config.model import NdapConfig

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


PLATFORM_PATH = "/ndap/platform/"


def planner_name(org: str) -> str:
    return f"{org}-platform-planner"


def deployer_name(org: str) -> str:
    return f"{org}-platform-deployer"


def deployer_pattern(org: str) -> str:
    """The platform deployer in any account: a platform deployment identity, like the
    account access role (the guardrails let it change platform roles and the baseline)."""
    return f"arn:aws:iam::*:role{PLATFORM_PATH}{deployer_name(org)}"


def platform_deployers(config: NdapConfig) -> tuple[str, ...]:
    """Every identity that deploys the platform's stacks, as ARN patterns: the account
    access role (people, ``ndap deploy``) and, with the platform pipeline, its deployer."""
    patterns = [f"arn:aws:iam::*:role/{config.organization.account_access_role}"]
    if config.platform_pipeline is not None and config.tooling_account_id is not None:
        patterns.append(deployer_pattern(config.organization.name))
    return tuple(patterns)
