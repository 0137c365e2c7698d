"""What the local emulator (moto 5.2.5 in server mode) cannot create, and why.

Why and how: docs/design-notes.md, section ndap_infra/emulator/gaps.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GAP_COMMENT_KEY = "ndap_emulator_gap"
DRIFT_COMMENT_KEY = "ndap_emulator_drift"

Configuration = Mapping[str, Any]


def _always(configuration: Configuration) -> bool:
    return True


def _kms_policy_denies_describe(configuration: Configuration) -> bool:
    """moto's key-policy check (moto/kms/policy_validator.py) applies every Deny statement
    whose action covers kms:DescribeKey on "*" to every caller: it ignores Principal and
    Condition."""
    try:
        policy = json.loads(str(configuration.get("policy") or "{}"))
    except ValueError:
        return False
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if (
            str(statement.get("Effect", "")).lower() == "deny"
            and statement.get("Resource") == "*"
            and any(a in ("kms:*", "kms:Describe*", "kms:DescribeKey") for a in actions)
        ):
            return True
    return False


def _config_delegation(configuration: Configuration) -> bool:
    return configuration.get("service_principal") == "config.amazonaws.com"


def _codepipeline_source(configuration: Configuration) -> bool:
    sources = configuration.get("source") or []
    return any(isinstance(s, Mapping) and s.get("type") == "CODEPIPELINE" for s in sources)


@dataclass(frozen=True)
class EmulatorGap:
    """Resources of ``resource_type`` (those ``applies`` to) the emulator cannot create or,
    with ``ignore``, creates but reads back without these arguments (they would show as a
    change in every plan: the local target ignores changes to them instead)."""

    resource_type: str
    reason: str
    applies: Callable[[Configuration], bool] = _always
    ignore: tuple[str, ...] = ()

    def matches(self, resource_type: str, configuration: Configuration) -> bool:
        return resource_type == self.resource_type and self.applies(configuration)


KNOWN_GAPS: tuple[EmulatorGap, ...] = (
    EmulatorGap(
        "aws_accessanalyzer_analyzer",
        "moto has no IAM Access Analyzer backend: CreateAnalyzer answers 404",
    ),
    EmulatorGap(
        "aws_codebuild_project",
        "moto's CodeBuild CreateProject rejects the CODEPIPELINE source type",
        _codepipeline_source,
    ),
    EmulatorGap(
        "aws_codestarconnections_connection",
        "moto has no CodeStar Connections backend: CreateConnection answers HTTP 500",
    ),
    EmulatorGap(
        "aws_ebs_default_kms_key",
        "moto does not implement ec2:GetEbsDefaultKmsKeyId (HTTP 500), which the provider "
        "reads after setting the key",
    ),
    EmulatorGap(
        "aws_kms_key",
        "moto applies a key policy's Deny statements to every caller, ignoring Principal and "
        "Condition: the key is created, then DescribeKey is denied to the deployer too",
        _kms_policy_denies_describe,
    ),
    EmulatorGap(
        "aws_s3_bucket_logging",
        "moto checks the target bucket's policy for the logging grant and fails with HTTP "
        "500 on a statement whose Principal is the string '*' (the TLS-only deny every "
        "ndap bucket carries; moto/s3/models.py _log_permissions_enabled_policy)",
    ),
    EmulatorGap(
        "aws_sagemaker_model_package_group_policy",
        "moto does not implement sagemaker:PutModelPackageGroupPolicy (HTTP 500), so the "
        "strict layer cannot check the principals this registry policy names either; "
        "ndap creation-order checks them in the synthesized stacks",
    ),
    EmulatorGap(
        "aws_sagemaker_feature_group",
        "moto creates the feature group, but answers the provider's ListTags on its ARN "
        "with HTTP 500: its ARN lookup (moto/sagemaker/models.py _get_resource_from_arn) "
        "knows no 'feature-group' resource type",
    ),
    EmulatorGap(
        "aws_securityhub_account",
        "moto does not implement securityhub:UpdateSecurityHubConfiguration (HTTP 500), "
        "which the provider calls right after EnableSecurityHub",
    ),
    EmulatorGap(
        "aws_securityhub_standards_subscription",
        "moto has no Security Hub standards API: BatchEnableStandards answers 404",
    ),
    EmulatorGap(
        "aws_organizations_delegated_administrator",
        "moto's Organizations refuses config.amazonaws.com as a delegated administrator's "
        "service principal (InvalidInputException: unrecognized service principal; its list "
        "has config-multiaccountsetup only)",
        _config_delegation,
    ),
    EmulatorGap(
        "aws_guardduty_organization_configuration",
        "moto's GuardDuty has no UpdateOrganizationConfiguration or "
        "DescribeOrganizationConfiguration (auto-enable of the organization's members)",
    ),
    EmulatorGap(
        "aws_securityhub_organization_admin_account",
        "moto's Security Hub enables the administrator but has no "
        "ListOrganizationAdminAccounts, which the provider reads it back with",
    ),
    EmulatorGap(
        "aws_securityhub_organization_configuration",
        "moto refuses it without a designated Security Hub administrator, which the "
        "emulator does not hold (aws_securityhub_organization_admin_account is a gap)",
    ),
    EmulatorGap(
        "aws_securityhub_finding_aggregator",
        "moto has no Security Hub finding aggregators (CreateFindingAggregator)",
    ),
    EmulatorGap(
        "aws_securityhub_configuration_policy",
        "moto has no Security Hub central configuration policies (CreateConfigurationPolicy)",
    ),
)


DRIFTS: tuple[EmulatorGap, ...] = (
    EmulatorGap(
        "aws_s3_bucket_notification",
        "moto stores the notification configuration without EventBridgeConfiguration, so "
        "eventbridge reads back false",
        ignore=("eventbridge",),
    ),
    EmulatorGap(
        "aws_s3_bucket_replication_configuration",
        "moto stores replication rules without filter prefix, delete_marker_replication "
        "status and source_selection_criteria (SSE-KMS objects)",
        ignore=("rule",),
    ),
)


def gap_reason(resource_type: str, configuration: Configuration) -> str | None:
    """Why the emulator cannot create this resource, or None when it can."""
    for gap in KNOWN_GAPS:
        if gap.matches(resource_type, configuration):
            return gap.reason
    return None


# Resources the emulator creates but cannot delete: on the local target ``ndap destroy``
# removes them from the stack's state instead (they go when the emulator stops) and says so.
UNDELETABLE: dict[str, str] = {
    "aws_sagemaker_model_package_group": (
        "moto 5.2.5 does not implement DeleteModelPackageGroup (HTTP 500)"
    ),
    "aws_guardduty_organization_admin_account": (
        "moto 5.2.5 does not implement GuardDuty's DisableOrganizationAdminAccount (HTTP 404)"
    ),
}


def undeletable(addresses: list[str]) -> list[str]:
    """The state addresses (``type.name``) the emulator cannot delete."""
    return sorted(a for a in addresses if a.split(".", 1)[0] in UNDELETABLE)


def drift(resource_type: str, configuration: Configuration) -> EmulatorGap | None:
    """The arguments the emulator does not read back for this resource, if any."""
    for gap in DRIFTS:
        if gap.matches(resource_type, configuration):
            return gap
    return None


@dataclass(frozen=True)
class GapResource:
    """A resource a synthesized local-target stack leaves out (``count = 0``) or whose
    arguments it ignores changes to (``ignored``)."""

    stack: str
    address: str
    path: str
    reason: str
    ignored: tuple[str, ...] = ()
    undeletable: bool = False

    @property
    def effect(self) -> str:
        if self.undeletable:
            return "created; cannot be deleted (`ndap destroy` removes it from the state)"
        if self.ignored:
            return "created; changes ignored to " + ", ".join(self.ignored)
        return "not created (count = 0)"


def synthesized_gaps(stacks: Mapping[str, Mapping[str, Any]]) -> list[GapResource]:
    """Every resource the synthesized stacks leave out on the emulator, with its reason."""
    found: list[GapResource] = []
    for stack, document in stacks.items():
        for resource_type, resources in sorted(document.get("resource", {}).items()):
            for name, body in sorted(resources.items()):
                comment = body.get("//", {})
                path = str(comment.get("metadata", {}).get("path", ""))
                address = f"{resource_type}.{name}"
                reason = comment.get(GAP_COMMENT_KEY)
                if reason is not None:
                    found.append(GapResource(stack, address, path, str(reason)))
                elif resource_type in UNDELETABLE:
                    found.append(
                        GapResource(stack, address, path, UNDELETABLE[resource_type], (), True)
                    )
                drifted = comment.get(DRIFT_COMMENT_KEY)
                if drifted is not None:
                    ignored = tuple(body.get("lifecycle", {}).get("ignore_changes", []))
                    found.append(GapResource(stack, address, path, str(drifted), ignored))
    return found


def render_gaps(gaps: list[GapResource]) -> str:
    """The gap report (``.ndap/emulator-gaps.md``)."""
    lines = [
        "# Resources not created on the local emulator",
        "",
        "Generated by `ndap deploy` (deploy.target: local). moto 5.2.5 cannot create the",
        "resources below (synthesized with `count = 0` for the emulator only), or creates them",
        "but reads some arguments back differently (synthesized with `lifecycle.ignore_changes`",
        "on those arguments for the emulator only, so that the plan after deploy is empty),",
        "or creates them but cannot delete them (`ndap destroy` removes those from the state).",
        "On `deploy.target: aws` none of this is generated: every resource is deployed as is.",
        "",
    ]
    if not gaps:
        return "\n".join([*lines, "None: every resource was created as defined.", ""])
    lines += [
        "| stack | resource | construct path | effect | reason |",
        "|---|---|---|---|---|",
    ]
    for gap in gaps:
        lines.append(
            f"| {gap.stack} | `{gap.address}` | `{gap.path}` | {gap.effect} | {gap.reason} |"
        )
    absent = sum(1 for g in gaps if not g.ignored and not g.undeletable)
    ignored = sum(1 for g in gaps if g.ignored)
    kept = sum(1 for g in gaps if g.undeletable)
    lines += [
        "",
        f"{absent} resources not created, {ignored} created with ignored arguments, "
        f"{kept} created but not deletable, in {len({g.stack for g in gaps})} stacks.",
        "",
    ]
    return "\n".join(lines)


def gap_summary(gaps: Sequence[GapResource], report: Path) -> list[str]:
    """What a deploy says about the gaps: one line when there are none, else the counts and
    one line per effect and reason (the full list is in ``report``)."""
    if not gaps:
        return [f"emulator gaps: none; every resource was created as defined ({report})"]
    absent = [g for g in gaps if not g.ignored and not g.undeletable]
    ignored = [g for g in gaps if g.ignored]
    lines = [
        f"emulator gaps: {len(absent)} resources NOT created on the emulator, "
        f"{len(ignored)} created with arguments it does not keep and "
        f"{len(gaps) - len(absent) - len(ignored)} it cannot delete (local target only; "
        f"every one listed in {report}):"
    ]
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for gap in gaps:
        effect = "not deletable" if gap.undeletable else "drift ignored" if gap.ignored else ""
        key = (effect or "not created", gap.reason)
        groups.setdefault(key, []).append((gap.stack, gap.address.split(".")[0]))
    for (effect, reason), where in groups.items():
        types = ", ".join(sorted({t for _, t in where}))
        stacks_hit = ", ".join(sorted({s for s, _ in where}))
        lines.append(f"  - {effect}: {types} x{len(where)} ({stacks_hit}): {reason}")
    return lines


KNOWN_CALL_GAPS: dict[str, str] = {
    "sagemaker describe-feature-group": (
        "moto 5.2.5 answers DescribeFeatureGroup of a group that does not exist with HTTP 500 "
        "(a KeyError), where AWS answers ResourceNotFound; the builds read any failure as "
        "'absent', so the feature pipeline creates the group and the deploy's feature check "
        "refuses, as on AWS"
    ),
    "sagemaker-featurestore-runtime put-record": (
        "moto 5.2.5 has no Feature Store runtime: PutRecord answers HTTP 404, so a backfill "
        "with records fails there (a version with no records is created and left empty)"
    ),
}
"""AWS CLI calls of the generated builds the emulator does not implement as AWS does,
by ``<service> <operation>``: ``ndap pipeline run`` lists each one it meets with this
reason (docs/emulator-gaps.md, "Builds: what ndap pipeline run met")."""


def explain_call_gap(gap: str) -> str:
    """A gap line of ``ndap pipeline run`` (``<service> <operation>: <error>``), with the
    known reason when there is one."""
    call = gap.split(":", 1)[0]
    reason = KNOWN_CALL_GAPS.get(call)
    return gap if reason is None else f"{gap} [known: {reason}]"
