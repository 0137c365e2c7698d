"""ARNs of baseline resources, computed from names (known before anything exists).

Policies that name a resource the same stack creates (a key policy naming the trail that
uses the key) must not reference it through Terraform, or the two would depend on each
other; the ARN is built from the name instead.
"""

from __future__ import annotations

DEFAULT_PARTITION = "aws"


def trail_arn(region: str, account_id: str, name: str, partition: str = DEFAULT_PARTITION) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account_id}:trail/{name}"


def log_group_arn(
    region: str, account_id: str, name: str, partition: str = DEFAULT_PARTITION
) -> str:
    """The log group's ARN as IAM and KMS encryption contexts use it (no trailing ``:*``)."""
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{name}"


def topic_arn(region: str, account_id: str, name: str, partition: str = DEFAULT_PARTITION) -> str:
    return f"arn:{partition}:sns:{region}:{account_id}:{name}"


def alarm_arn_pattern(
    region: str, account_id: str, name_prefix: str, partition: str = DEFAULT_PARTITION
) -> str:
    """Every CloudWatch alarm whose name starts with ``name_prefix``."""
    return f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{name_prefix}*"


def aws_managed_policy_arn(path_and_name: str, partition: str = DEFAULT_PARTITION) -> str:
    return f"arn:{partition}:iam::aws:policy/{path_and_name}"


CONFIG_ROLE_POLICY = "service-role/AWS_ConfigRole"
"""The AWS managed policy that lets AWS Config read resource configurations."""

# Security Hub standards whose ARN is the global ``ruleset/`` form, not ``standards/``.
_RULESET_STANDARDS = ("cis-aws-foundations-benchmark/v/1.2.0",)


def security_hub_standard_arn(suffix: str, region: str, partition: str = DEFAULT_PARTITION) -> str:
    """The ARN to subscribe to for a configured standard.

    ``suffix`` is what follows ``standards/`` or ``ruleset/`` in the ARN, e.g.
    ``aws-foundational-security-best-practices/v/1.0.0`` (regional ``standards/`` ARN) or
    ``cis-aws-foundations-benchmark/v/1.2.0`` (the one standard still under the global
    ``ruleset/`` ARN). An explicit ``standards/...`` or ``ruleset/...`` prefix is honoured.
    """
    suffix = suffix.strip("/")
    if suffix.startswith("ruleset/"):
        return f"arn:{partition}:securityhub:::{suffix}"
    if suffix.startswith("standards/"):
        return f"arn:{partition}:securityhub:{region}::{suffix}"
    if suffix in _RULESET_STANDARDS:
        return f"arn:{partition}:securityhub:::ruleset/{suffix}"
    return f"arn:{partition}:securityhub:{region}::standards/{suffix}"
