"""policies/BASELINE.md: the security baseline, one row per control, one column per
environment, read from the synthesized stacks (what is deployed, not what is intended)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Resources = list[dict[str, Any]]
Stack = Mapping[str, Any]


def _of(stack: Stack, rtype: str, under: str = "") -> Resources:
    found = []
    for body in stack.get("resource", {}).get(rtype, {}).values():
        path = str(body.get("//", {}).get("metadata", {}).get("path", ""))
        if not under or path.split("/", 1)[-1].startswith(under):
            found.append(body)
    return found


def _first(stack: Stack, rtype: str, under: str = "") -> dict[str, Any] | None:
    found = _of(stack, rtype, under)
    return found[0] if found else None


def _missing() -> str:
    return "**MISSING**"


def trail(stack: Stack) -> str:
    t = _first(stack, "aws_cloudtrail", "baseline/")
    if t is None:
        return _missing()
    flags = [
        "multi-region" if t.get("is_multi_region_trail") else "SINGLE-REGION",
        "log validation" if t.get("enable_log_file_validation") else "NO VALIDATION",
        "KMS" if t.get("kms_key_id") else "NO KMS",
        "to CloudWatch" if t.get("cloud_watch_logs_group_arn") else "no CloudWatch",
    ]
    return ", ".join(flags)


def log_bucket(stack: Stack) -> str:
    bucket = _first(stack, "aws_s3_bucket", "baseline/log-bucket")
    if bucket is None:
        return _missing()
    parts = []
    if bucket.get("lifecycle", {}).get("prevent_destroy"):
        parts.append("deletion protected")
    if _of(stack, "aws_s3_bucket_versioning", "baseline/log-bucket"):
        parts.append("versioned")
    if _of(stack, "aws_s3_bucket_server_side_encryption_configuration", "baseline/log-bucket"):
        parts.append("KMS")
    if _of(stack, "aws_s3_bucket_public_access_block", "baseline/log-bucket"):
        parts.append("public access blocked")
    policy = _first(stack, "aws_s3_bucket_policy", "baseline/log-bucket")
    if policy and "aws:SecureTransport" in str(policy.get("policy")):
        parts.append("TLS only")
    if _of(stack, "aws_s3_bucket_lifecycle_configuration", "baseline/"):
        parts.append("lifecycle")
    return ", ".join(parts)


def config_recorder(stack: Stack) -> str:
    recorders = _of(stack, "aws_config_configuration_recorder", "baseline/")
    status = _first(stack, "aws_config_configuration_recorder_status", "baseline/")
    channel = _first(stack, "aws_config_delivery_channel", "baseline/")
    rules = _of(stack, "aws_config_config_rule", "baseline/")
    if not recorders:
        return _missing()
    on = "recording" if status and status.get("is_enabled") else "NOT RECORDING"
    delivery = "delivery channel" if channel else "NO DELIVERY"
    per_region = len(rules) // len(recorders)
    return f"{on}, {delivery}, {per_region} managed rules, in {len(recorders)} regions"


def single(rtype: str, describe: Callable[[dict[str, Any]], str]) -> Callable[[Stack], str]:
    def check(stack: Stack) -> str:
        body = _first(stack, rtype, "baseline/")
        return _missing() if body is None else describe(body)

    return check


def security_hub(stack: Stack) -> str:
    if _first(stack, "aws_securityhub_account", "baseline/") is None:
        return _missing()
    hubs = _of(stack, "aws_securityhub_account", "baseline/")
    standards = _of(stack, "aws_securityhub_standards_subscription", "baseline/")
    names = sorted({str(s.get("standards_arn", "")).split("/", 1)[-1] for s in standards})
    return "enabled: " + "; ".join(names) + f", in {len(hubs)} regions"


def keys(stack: Stack) -> str:
    found = [*_of(stack, "aws_kms_key", "baseline/"), *_of(stack, "aws_kms_key", "data-key/")]
    rotated = [k for k in found if k.get("enable_key_rotation")]
    return f"{len(rotated)} of {len(found)} customer-managed keys rotate"


def alarms(stack: Stack) -> str:
    filters = _of(stack, "aws_cloudwatch_log_metric_filter", "baseline/")
    alarms_ = _of(stack, "aws_cloudwatch_metric_alarm", "baseline/")
    topic = _first(stack, "aws_sns_topic", "baseline/")
    names = sorted(str(a.get("alarm_name", "")).split("baseline-", 1)[-1] for a in alarms_)
    encrypted = "KMS-encrypted topic" if topic and topic.get("kms_master_key_id") else "topic"
    return f"{len(filters)} filters, {len(alarms_)} alarms ({', '.join(names)}) to a {encrypted}"


@dataclass(frozen=True)
class Control:
    name: str
    where: str  # account or organization
    summarize: Callable[[Stack], str]


CONTROLS: tuple[Control, ...] = (
    Control("CloudTrail", "account", trail),
    Control("Log bucket", "account", log_bucket),
    Control("AWS Config", "account", config_recorder),
    Control(
        "GuardDuty",
        "account",
        single(
            "aws_guardduty_detector",
            lambda b: (
                f"enabled={b.get('enable')}, findings every "
                f"{str(b.get('finding_publishing_frequency', '')).lower().replace('_', ' ')}"
            ),
        ),
    ),
    Control("Security Hub", "account", security_hub),
    Control(
        "IAM Access Analyzer",
        "account",
        single("aws_accessanalyzer_analyzer", lambda b: f"type {b.get('type')}"),
    ),
    Control(
        "S3 account public access block",
        "account",
        single(
            "aws_s3_account_public_access_block",
            lambda b: (
                "all four on"
                if all(
                    b.get(k)
                    for k in (
                        "block_public_acls",
                        "block_public_policy",
                        "ignore_public_acls",
                        "restrict_public_buckets",
                    )
                )
                else "PARTIAL"
            ),
        ),
    ),
    Control(
        "EBS encryption by default",
        "account",
        single("aws_ebs_encryption_by_default", lambda b: f"enabled={b.get('enabled')}"),
    ),
    Control(
        "IAM password policy",
        "account",
        single(
            "aws_iam_account_password_policy",
            lambda b: (
                f"min {b.get('minimum_password_length')} chars, max age "
                f"{b.get('max_password_age')} days, reuse {b.get('password_reuse_prevention')}"
            ),
        ),
    ),
    Control("KMS key rotation", "account", keys),
    Control("Alarms", "account", alarms),
)


def administered(control: str, stack: Stack, administrator: Stack | None) -> str | None:
    """GuardDuty's or Security Hub's cell when the account's stack leaves the control to
    the delegated administrator (``organization.security_accounts``): what the
    administrator's stack configures for every member; None when the account holds its
    own (or there is no administrator)."""
    if administrator is None:
        return None
    if control == "GuardDuty" and not _of(stack, "aws_guardduty_detector", "baseline/"):
        auto = _of(administrator, "aws_guardduty_organization_configuration")
        detectors = _of(administrator, "aws_guardduty_detector")
        if not auto or any(a.get("auto_enable_organization_members") != "ALL" for a in auto):
            return _missing()
        frequency = str(detectors[0].get("finding_publishing_frequency", "")) if detectors else ""
        return (
            f"by the delegated administrator (auto-enable ALL, in {len(auto)} regions), "
            f"findings every {frequency.lower().replace('_', ' ')}"
        )
    if control == "Security Hub" and not _of(stack, "aws_securityhub_account", "baseline/"):
        policies = [
            p
            for b in _of(administrator, "aws_securityhub_configuration_policy")
            for p in b.get("configuration_policy", [])
            if p.get("service_enabled") is True
        ]
        if not policies or not _of(
            administrator, "aws_securityhub_configuration_policy_association"
        ):
            return _missing()
        names = sorted(
            {str(a).split("/", 1)[-1] for p in policies for a in p.get("enabled_standard_arns", [])}
        )
        return "by the delegated administrator (central configuration): " + "; ".join(names)
    return None


def render_baseline_report(
    environments: Sequence[str],
    stacks: Mapping[str, Stack],
    guardrails: Mapping[str, Sequence[str]],
    administrator: Stack | None = None,
) -> str:
    """``environments``: names in order; ``stacks``: env name -> synthesized stack;
    ``guardrails``: env name -> the common guardrail policy names attached to its unit;
    ``administrator``: the security-tooling stack, when the security accounts are on."""
    header = "| control | where | " + " | ".join(environments) + " |"
    lines = [
        "# Security baseline, as synthesized",
        "",
        "Generated by `ndap synth`; do not edit. One row per control, one column per",
        "environment (and one for the delivery account, `tooling`, when there is one), read",
        "from the synthesized stacks. `ndap parity` proves the columns are identical attribute",
        "by attribute (names and account ids aside).",
        "",
        "Account-level controls are resources in every environment account (they must exist",
        "where the API calls happen). Organization-level controls are service control policies",
        "attached to every environment's organizational unit: they make the account-level",
        "controls tamper-proof for everyone but the platform's deployment role.",
        "",
        header,
        "|---|---|" + "---|" * len(environments),
    ]
    for control in CONTROLS:
        cells = [
            administered(control.name, stacks[env], administrator) or control.summarize(stacks[env])
            for env in environments
        ]
        lines.append(f"| {control.name} | {control.where} | " + " | ".join(cells) + " |")
    cells = [", ".join(sorted(guardrails.get(env, ()))) or _missing() for env in environments]
    lines.append("| Guardrails (SCPs) | organization | " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)
