"""Parity proof: every environment carries the same security controls.

Works on synthesized output only (any synthesis, not just ours): each environment stack's
resources are keyed by construct path, their attributes normalized (the environment's
account id and name replaced by placeholders, cdktf metadata dropped), and compared
across environments. The differences the model allows (the data-access rules and the
personas that exist per environment) are declared in one list, with the reason, and
shown in the report. Anything else that differs is reported, naming the resource and
the attribute.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ndap_infra.config.enums import SECURITY_UNIT, TOOLING

ACCOUNT = "<ACCOUNT>"
ENV = "<ENV>"


@dataclass(frozen=True)
class AllowedDifference:
    """A construct subtree whose content may differ between environments, and why."""

    path_prefix: str
    reason: str


# The model (invariant 1) allows only names, ids and data-access rules to differ.
ALLOWED_DIFFERENCES: tuple[AllowedDifference, ...] = (
    AllowedDifference(
        "personas/",
        "persona roles follow the persona x environment matrix (e.g. the data-scientist "
        "role exists only in dev); access rules, not security controls",
    ),
    AllowedDifference(
        "data-access/",
        "production-data access differs by environment by design (dev: read-only "
        "replica, acc: copy, prd: source, nonprod: none)",
    ),
    AllowedDifference(
        "pipelines/",
        "the ML projects' pipeline identities: each project's deployer and execution roles "
        "(and a batch project's schedule) exist in dev, acc and prd, which the git flow "
        "deploys to, not in nonprod; in the tooling account, the pipelines themselves; "
        "access rules, not security controls",
    ),
    AllowedDifference(
        "retraining/",
        "each project's retraining trigger (rule, schedule or drift alarm, and its role) "
        "exists where the project retrains by itself: dev always, acc by "
        "retraining.acceptance, prd by retraining.production; ML workload, not security "
        "controls",
    ),
    AllowedDifference(
        "features/",
        "feature group versions exist in the environments they have been promoted to "
        "(feature_groups[].versions[].promoted_to), with the offline-store role wherever "
        "one exists; ML workload, not security controls",
    ),
    AllowedDifference(
        "feature-publishers/",
        "each feature pipeline's publisher role exists in dev, acc and prd, which the "
        "feature pipelines publish to, not in nonprod; access rules, not security controls",
    ),
)

TOOLING_DIFFERENCES: tuple[AllowedDifference, ...] = (
    AllowedDifference(
        "feature-pipelines/",
        "the teams' feature pipelines (their builds, roles and log groups) run from the "
        "tooling account alone; the publisher roles they assume are in dev, acc and prd",
    ),
    AllowedDifference(
        "data-bucket/",
        "the tooling account holds no ML data: its only bucket is the pipelines' artifact "
        "store (pipelines/artifact-bucket), which carries the same bucket controls",
    ),
    AllowedDifference(
        "drift-detection/",
        "scheduled drift detection (its build, schedule, alarm and their roles) runs from the "
        "tooling account alone; the read-only drift-reader it assumes is in every account",
    ),
    AllowedDifference(
        "drift-reader/",
        "the same read-only role as in every environment account, trusting the same drift "
        "build role; that role is in the tooling account, so here its ARN names the "
        "account's own id, which the comparison reads as a difference",
    ),
    AllowedDifference(
        "platform-pipeline/",
        "the platform's own pipeline (its builds, roles and log group) runs from the tooling "
        "account alone; the planner and deployer it assumes are in every account",
    ),
    AllowedDifference(
        "platform-roles/",
        "the same planner and deployer roles as in every environment account, trusting the "
        "same build roles; those are in the tooling account, so here their ARNs name the "
        "account's own id, which the comparison reads as a difference",
    ),
)
"""Compared with an environment account, the tooling account may also lack these."""

DETECTION = "baseline/detection/"
"""Where each region's detection lives in an account stack: ``<DETECTION><region>/...``."""
REGION = "<REGION>"
REGIONAL_DIFFERENCES: tuple[AllowedDifference, ...] = (
    AllowedDifference(
        "recording_group[0].include_global_resource_types",
        "global resources (IAM) are the same from every region: only the home region's "
        "Config recorder records them, so they are not recorded once per region",
    ),
)
"""Between the regions of one account, only these attributes of detection may differ."""


@dataclass(frozen=True)
class EnvironmentStack:
    """One environment's synthesized stack and the names that identify it."""

    environment: str
    account_id: str
    stack: Mapping[str, Any]


@dataclass(frozen=True)
class Difference:
    resource: str
    attribute: str
    values: dict[str, str]

    def render(self) -> str:
        shown = "; ".join(f"{env}: {value}" for env, value in self.values.items())
        return f"{self.resource}: {self.attribute} differs ({shown})"


@dataclass(frozen=True)
class ParityReport:
    environments: tuple[str, ...]
    compared: int
    differences: tuple[Difference, ...]
    allowed: tuple[AllowedDifference, ...] = field(default=ALLOWED_DIFFERENCES)

    @property
    def ok(self) -> bool:
        return not self.differences

    def render(self) -> str:
        envs = ", ".join(self.environments)
        if self.ok:
            head = (
                f"parity: {envs} carry identical security controls "
                f"({self.compared} resources compared per environment)"
            )
        else:
            head = (
                f"parity: {len(self.differences)} difference(s) between {envs} "
                f"({self.compared} resources compared)"
            )
        lines = [head, *(f"  - {d.render()}" for d in self.differences)]
        lines.append("  allowed to differ by the model:")
        lines += [f"    {a.path_prefix}: {a.reason}" for a in self.allowed]
        return "\n".join(lines)


def _normalize(value: Any, account_id: str, environment: str) -> Any:
    text = json.dumps(value, sort_keys=True)
    text = text.replace(account_id, ACCOUNT)
    text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(environment)}(?![A-Za-z0-9])", ENV, text)
    return json.loads(text)


def _construct_path(body: Mapping[str, Any], logical_id: str) -> str:
    path = str(body.get("//", {}).get("metadata", {}).get("path", ""))
    return path.split("/", 1)[1] if "/" in path else logical_id


def controls(
    env: EnvironmentStack, allowed: Sequence[AllowedDifference] = ALLOWED_DIFFERENCES
) -> dict[str, dict[str, Any]]:
    """``{"<type> <construct path>": normalized attributes}`` for one environment, with
    the allowed-to-differ subtrees left out. Providers are compared too."""
    result: dict[str, dict[str, Any]] = {}
    for rtype, resources in env.stack.get("resource", {}).items():
        for logical_id, body in resources.items():
            path = _construct_path(body, logical_id)
            if any(path.startswith(a.path_prefix) for a in allowed):
                continue
            attributes = {k: v for k, v in body.items() if k != "//"}
            result[f"{rtype} {path}"] = _normalize(attributes, env.account_id, env.environment)
    for ptype, providers in env.stack.get("provider", {}).items():
        for index, body in enumerate(providers):
            result[f"provider {ptype}[{index}]"] = _normalize(
                endpoint_targets(body), env.account_id, env.environment
            )
    return result


def endpoint_targets(provider: Mapping[str, Any]) -> dict[str, Any]:
    """A provider's ``endpoints`` (local emulator target) list one entry per service its
    stack's resources use, which the access subtrees change; what must be identical is
    where they point, so that is what is compared."""
    if "endpoints" not in provider:
        return dict(provider)
    targets = sorted({str(url) for block in provider["endpoints"] for url in block.values()})
    return {**provider, "endpoints": targets}


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        flat: dict[str, str] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        flat = {}
        for index, inner in enumerate(value):
            flat.update(_flatten(inner, f"{prefix}[{index}]"))
        return flat
    return {prefix: json.dumps(value, sort_keys=True)}


def check_parity(
    environments: Sequence[EnvironmentStack],
    allowed: Sequence[AllowedDifference] = ALLOWED_DIFFERENCES,
) -> ParityReport:
    """Compare the normalized controls of every environment; report each difference."""
    names = tuple(e.environment for e in environments)
    per_env = {e.environment: controls(e, allowed) for e in environments}
    all_keys = sorted(set().union(*(c.keys() for c in per_env.values())))
    differences: list[Difference] = []
    for key in all_keys:
        present = {env: key in c for env, c in per_env.items()}
        if not all(present.values()):
            differences.append(
                Difference(
                    key,
                    "resource",
                    {env: "present" if here else "MISSING" for env, here in present.items()},
                )
            )
            continue
        flat = {env: _flatten(c[key]) for env, c in per_env.items()}
        attributes = sorted(set().union(*(f.keys() for f in flat.values())))
        for attribute in attributes:
            values = {env: f.get(attribute, "(not set)") for env, f in flat.items()}
            if len(set(values.values())) > 1:
                differences.append(Difference(key, attribute or "(value)", values))
    compared = max((len(c) for c in per_env.values()), default=0)
    return ParityReport(names, compared, tuple(differences), tuple(allowed))


def guardrail_attachments(organization_stack: Mapping[str, Any]) -> dict[str, set[str]]:
    """Which common guardrails (construct subtree ``guardrails/``) are attached to each
    environment's unit: ``{environment: {policy name}}``, read from the synthesized
    organization stack."""
    resources = organization_stack.get("resource", {})
    unit_env = {
        logical_id: _construct_path(body, logical_id).rsplit("/", 1)[-1]
        for logical_id, body in resources.get("aws_organizations_organizational_unit", {}).items()
    }
    policy_names = {
        logical_id: str(body.get("name"))
        for logical_id, body in resources.get("aws_organizations_policy", {}).items()
        if _construct_path(body, logical_id).startswith("guardrails/")
    }
    # The security unit carries its own copies of the common guardrails (checked by
    # document in check_security_unit_guardrails): the others are compared by attachment.
    unit_env = {k: v for k, v in unit_env.items() if v != SECURITY_UNIT}
    attached: dict[str, set[str]] = {env: set() for env in unit_env.values()}
    reference = re.compile(r"\$\{aws_organizations_[a-z_]+\.([^.}]+)\.id\}")
    for body in resources.get("aws_organizations_policy_attachment", {}).values():
        policy = reference.fullmatch(str(body.get("policy_id", "")))
        target = reference.fullmatch(str(body.get("target_id", "")))
        if policy and target and policy.group(1) in policy_names and target.group(1) in unit_env:
            attached[unit_env[target.group(1)]].add(policy_names[policy.group(1)])
    return attached


def check_guardrail_parity(organization_stack: Mapping[str, Any]) -> list[Difference]:
    attached = guardrail_attachments(organization_stack)
    every = sorted(set().union(*attached.values())) if attached else []
    differences = []
    for policy in every:
        where = {
            env: ("attached" if policy in names else "MISSING") for env, names in attached.items()
        }
        if "MISSING" in where.values():
            differences.append(Difference(f"guardrail {policy}", "attachment", where))
    return differences


SECURITY_UNIT_EXCEPTIONS: dict[str, str] = {
    "ArchiveIsUntouchable": "in the security unit the platform keeps configuring the log "
    "archive (a new member account's Config delivery is a bucket policy change); deleting "
    "from it or shortening its lock stays denied to everyone there "
    "(protect-security-accounts)",
}
"""Statements of the common guardrails the security unit's copies leave out, and why."""


def check_security_unit_guardrails(organization_stack: Mapping[str, Any]) -> list[Difference]:
    """With the security accounts: every statement of the common guardrails (subtree
    ``guardrails/``) is attached to the security unit too, in policies of its own, but
    the ``SECURITY_UNIT_EXCEPTIONS``."""
    resources = organization_stack.get("resource", {})
    security_units = {
        logical_id
        for logical_id, body in resources.get("aws_organizations_organizational_unit", {}).items()
        if _construct_path(body, logical_id).rsplit("/", 1)[-1] == SECURITY_UNIT
    }
    if not security_units:
        return []
    policies = resources.get("aws_organizations_policy", {})
    reference = re.compile(r"\$\{aws_organizations_[a-z_]+\.([^.}]+)\.id\}")
    on_security: set[str] = set()
    for body in resources.get("aws_organizations_policy_attachment", {}).values():
        policy = reference.fullmatch(str(body.get("policy_id", "")))
        target = reference.fullmatch(str(body.get("target_id", "")))
        if policy and target and target.group(1) in security_units and policy.group(1) in policies:
            on_security |= _statements(policies[policy.group(1)])
    differences = []
    for logical_id, body in policies.items():
        if not _construct_path(body, logical_id).startswith("guardrails/"):
            continue
        for statement in sorted(_statements(body) - on_security):
            sid = json.loads(statement).get("Sid", "")
            if sid not in SECURITY_UNIT_EXCEPTIONS:
                differences.append(
                    Difference(
                        f"guardrail {body.get('name')}",
                        f"statement {sid}",
                        {SECURITY_UNIT: "MISSING"},
                    )
                )
    return differences


def _statements(policy: Mapping[str, Any]) -> set[str]:
    document = json.loads(str(policy.get("content", "{}")))
    return {json.dumps(s, sort_keys=True) for s in document.get("Statement", [])}


def check_platform_parity(
    synthesized: Mapping[str, Mapping[str, Any]],
    accounts: Mapping[str, str],
    tooling_account: str | None = None,
) -> ParityReport:
    """Parity of every environment stack (``env-<name>``), of the tooling stack (when
    ``tooling_account`` is given: the delivery account carries the same baseline) and of
    the guardrails on their units. ``accounts`` maps environment name to account id."""
    environments = [
        EnvironmentStack(env, account, synthesized[f"env-{env}"])
        for env, account in accounts.items()
    ]
    report = check_parity(environments)
    names = report.environments
    differences = report.differences
    allowed = report.allowed
    if tooling_account is not None and TOOLING in synthesized and environments:
        # The environments are identical (above), so one of them stands for all.
        reference = environments[0]
        tooling = EnvironmentStack(TOOLING, tooling_account, synthesized[TOOLING])
        allowed = (*ALLOWED_DIFFERENCES, *TOOLING_DIFFERENCES)
        against = check_parity([reference, tooling], allowed)
        names += (TOOLING,)
        differences += tuple(
            Difference(d.resource, d.attribute, d.values) for d in against.differences
        )
    organization = synthesized.get("organization")
    guardrails = (
        check_guardrail_parity(organization) + check_security_unit_guardrails(organization)
        if organization
        else []
    )
    regional: list[Difference] = []
    regions = allowed_regions(organization) if organization else None
    for name, stack in synthesized.items():
        if name.startswith("env-") or name == TOOLING:
            regional += check_regional_parity(name, stack, regions)
    return ParityReport(
        names,
        report.compared,
        differences + tuple(guardrails) + tuple(regional),
        (*allowed, *REGIONAL_DIFFERENCES),
    )


def allowed_regions(organization_stack: Mapping[str, Any]) -> set[str] | None:
    """The regions the guardrails allow: the ``aws:RequestedRegion`` values a service
    control policy of the organization stack denies everything outside of; None without
    such a guardrail."""
    found: set[str] | None = None
    for body in organization_stack.get("resource", {}).get("aws_organizations_policy", {}).values():
        try:
            document = json.loads(str(body.get("content", "")))
        except ValueError:
            continue
        statements = document.get("Statement", []) if isinstance(document, dict) else []
        for statement in statements if isinstance(statements, list) else [statements]:
            condition = statement.get("Condition", {}) if isinstance(statement, dict) else {}
            values = condition.get("StringNotEquals", {}).get("aws:RequestedRegion")
            if statement.get("Effect") == "Deny" and values:
                found = {values} if isinstance(values, str) else set(values)
    return found


def detection_regions(stack: Mapping[str, Any]) -> dict[str, str]:
    """The region each ``baseline/detection/<name>/`` subtree of an account stack deploys
    into, read from the provider its resources name (the default one without)."""
    providers = {
        f"aws.{body['alias']}" if "alias" in body else "aws": str(body.get("region", ""))
        for body in stack.get("provider", {}).get("aws", [])
    }
    found: dict[str, str] = {}
    for resources in stack.get("resource", {}).values():
        for logical_id, body in resources.items():
            path = _construct_path(body, logical_id)
            if path.startswith(DETECTION):
                name = path.removeprefix(DETECTION).split("/", 1)[0]
                found[name] = providers.get(str(body.get("provider", "aws")), "?")
    return found


def regional_controls(stack: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per detection region, ``{"<type> <path under the region>": attributes}`` with the
    region's name (and references to its resources) normalized and the provider left out."""
    regions = detection_regions(stack)
    logical = {
        logical_id: _construct_path(body, logical_id)
        for resources in stack.get("resource", {}).values()
        for logical_id, body in resources.items()
    }
    result: dict[str, dict[str, dict[str, Any]]] = {region: {} for region in regions.values()}
    for rtype, resources in stack.get("resource", {}).items():
        for logical_id, body in resources.items():
            path = logical[logical_id]
            if not path.startswith(DETECTION):
                continue
            name, rest = path.removeprefix(DETECTION).split("/", 1)
            region = regions[name]
            attributes = {k: v for k, v in body.items() if k not in ("//", "provider")}
            text = json.dumps(attributes, sort_keys=True)
            for other, other_path in sorted(logical.items(), key=lambda i: -len(i[0])):
                if other in text:
                    text = text.replace(other, f"<{other_path}>")
            text = text.replace(f"{DETECTION}{name}/", f"{DETECTION}{REGION}/")
            text = text.replace(region, REGION)
            result[region][f"{rtype} {rest}"] = json.loads(text)
    return result


def check_regional_parity(
    stack_name: str, stack: Mapping[str, Any], allowed: set[str] | None
) -> list[Difference]:
    """Detection in an account stack: present in every region the guardrails allow (when
    known), and identical in each but for the region and ``REGIONAL_DIFFERENCES``."""
    per_region = regional_controls(stack)
    differences: list[Difference] = []
    if allowed is not None and set(per_region) != allowed:
        where = {r: ("present" if r in per_region else "MISSING") for r in sorted(allowed)}
        where.update({r: "NOT ALLOWED" for r in sorted(set(per_region) - allowed)})
        differences.append(Difference(f"{stack_name} {DETECTION}<region>", "regions", where))
    records_global = {
        region: any(
            _flatten(body).get("recording_group[0].include_global_resource_types") == "true"
            for key, body in controls.items()
            if key.startswith("aws_config_configuration_recorder ")
        )
        for region, controls in sorted(per_region.items())
    }
    if per_region and sum(records_global.values()) != 1:
        values = {
            f"{stack_name} {r}": "records global resources" if on else "does not"
            for r, on in records_global.items()
        }
        differences.append(
            Difference(
                f"aws_config_configuration_recorder ({DETECTION}<region>)",
                "exactly one region records global resources",
                values,
            )
        )
    ignored = {a.path_prefix for a in REGIONAL_DIFFERENCES}
    keys = sorted(set().union(*(c.keys() for c in per_region.values())))
    for key in keys:
        present = {r: key in c for r, c in per_region.items()}
        if not all(present.values()):
            values = {
                f"{stack_name} {r}": "present" if here else "MISSING" for r, here in present.items()
            }
            differences.append(Difference(f"{key} ({DETECTION}<region>)", "resource", values))
            continue
        flat = {r: _flatten(c[key]) for r, c in per_region.items()}
        for attribute in sorted(set().union(*(f.keys() for f in flat.values())) - ignored):
            values = {f"{stack_name} {r}": f.get(attribute, "(not set)") for r, f in flat.items()}
            if len(set(values.values())) > 1:
                differences.append(Difference(f"{key} ({DETECTION}<region>)", attribute, values))
    return differences
