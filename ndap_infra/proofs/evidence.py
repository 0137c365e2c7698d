"""Central evidence (``organization.security_accounts``, #18): who can read and who can
delete the log archive, what no workload account can do to the organization trail, the
member detectors and the archive, and which account administers which service; each
guardrail with its negative control (remove it, and the row it holds flips).

Read on the synthesized JSON with the evaluator (``access_model``): every persona's
reachable principals (``principals.reachable_principals``) and every account's deployer
(the account access role, AdministratorAccess)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ndap_infra.config.accounts import security_account_id
from ndap_infra.config.enums import LOG_ARCHIVE, SECURITY_TOOLING, TOOLING, AnyPersona
from ndap_infra.evaluator import NamedPolicy, Principal, Request, Resource, evaluate, principal_for
from ndap_infra.names.security import (
    ARCHIVE_CLOUDTRAIL_PREFIX,
    archive_bucket,
    organization_trail_arn,
)
from ndap_infra.proofs.access_model import PlatformModel, account_access_role
from ndap_infra.proofs.coverage import CoverageRow, member_coverage
from ndap_infra.proofs.principals import base_context, reachable_principals

Mutation = Callable[[PlatformModel], PlatformModel]
READ = "s3:GetObject"
DELETIONS = ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket")
TRAIL_STOPS = ("cloudtrail:StopLogging", "cloudtrail:DeleteTrail")
DETECTOR_DEPARTURES = (
    "guardduty:DeleteDetector",
    "guardduty:DisassociateFromAdministratorAccount",
    "securityhub:DisassociateFromAdministratorAccount",
)
ARCHIVE_CHANGES = ("s3:PutBucketPolicy", "s3:PutLifecycleConfiguration")


@dataclass(frozen=True)
class EvidenceRow:
    """One question about the evidence, who may, and whether that is what the model says."""

    question: str
    who: tuple[str, ...]
    """Personas or deployers the evaluator allows (empty: nobody)."""
    expected: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return set(self.who) == set(self.expected)

    def render(self) -> str:
        who = ", ".join(self.who) if self.who else "nobody"
        state = (
            "as required" if self.ok else f"FAILS (expected {', '.join(self.expected) or 'nobody'})"
        )
        return f"| {self.question} | {who} | {state} |"


@dataclass(frozen=True)
class ControlRow:
    """A guardrail removed, and whether a row it holds flips (it must)."""

    removed: str
    row: str
    flipped: bool

    def render(self) -> str:
        state = "flips (the guardrail holds it)" if self.flipped else "DOES NOT FLIP"
        return f"| without {self.removed} | {self.row} | {state} |"


@dataclass(frozen=True)
class EvidenceReport:
    rows: tuple[EvidenceRow, ...]
    administrators: tuple[tuple[str, str], ...]
    controls: tuple[ControlRow, ...]
    coverage: tuple[CoverageRow, ...] = ()
    """Every workload account's detector and hub, from the delegated administrator."""

    @property
    def ok(self) -> bool:
        return (
            all(r.ok for r in self.rows)
            and all(c.flipped for c in self.controls)
            and all(c.ok for c in self.coverage)
        )

    def render(self) -> str:
        lines = [
            "# Central evidence",
            "",
            "Who can read and delete the log archive, and what no workload account can do to "
            "the organization trail, the member detectors and the archive (the evaluator, "
            "on the synthesized stacks).",
            "",
            "| question | who may | result |",
            "|---|---|---|",
            *(r.render() for r in self.rows),
            "",
            "## Delegated administrators",
            "",
            "| service | administrator account |",
            "|---|---|",
            *(f"| {service} | {account} |" for service, account in self.administrators),
            "",
            "## Member accounts covered by the administrator",
            "",
            "Workload stacks create no GuardDuty detector or Security Hub of their own: the "
            "administrator's organization configuration creates them in every member account "
            "and allowed region (read from the synthesized organization and security-tooling "
            "stacks).",
            "",
            "| service | region | how | result |",
            "|---|---|---|---|",
            *(c.render() for c in self.coverage),
            "",
            "## Negative controls",
            "",
            "| guardrail removed | row | result |",
            "|---|---|---|",
            *(c.render() for c in self.controls),
        ]
        return "\n".join(lines) + "\n"


def _deployers(model: PlatformModel) -> dict[str, Principal]:
    """Every account's deployer (the account access role: AdministratorAccess), by stack."""
    config = model.config
    keys: list[Any] = [*config.enabled_environments()]
    if config.tooling_account_id is not None:
        keys.append(TOOLING)
    keys += [LOG_ARCHIVE, SECURITY_TOOLING]
    return {f"{k} deployer": principal_for(account_access_role(config, k)) for k in keys}


def _workload_deployers(model: PlatformModel) -> dict[str, Principal]:
    return {
        name: p
        for name, p in _deployers(model).items()
        if not name.startswith((LOG_ARCHIVE, SECURITY_TOOLING))
    }


def _allowed(model: PlatformModel, principal: Principal, action: str, resource: Resource) -> bool:
    return evaluate(
        Request(principal, action, resource, base_context(model.config)), model.organization
    ).allowed


Reach = Mapping[AnyPersona, Sequence[Principal]]


def reach_of(model: PlatformModel) -> Reach:
    """Every principal each persona can act as (computed once: the negative controls change
    resource policies and SCP statements that do not govern assuming roles)."""
    return {
        persona: [p for _, p in reachable_principals(model, persona)]
        for persona in model.config.all_personas()
    }


def _who(
    model: PlatformModel,
    reach: Reach,
    actions: Sequence[str],
    resource: Resource,
    deployers: Mapping[str, Principal],
    accounts: frozenset[str] | None = None,
) -> tuple[str, ...]:
    """Personas (through any principal they reach, in ``accounts`` when given) and
    deployers allowed any of ``actions`` on ``resource``."""
    who = []
    for persona, reached in reach.items():
        acting = [p for p in reached if accounts is None or p.account_id in accounts]
        if any(_allowed(model, p, a, resource) for p in acting for a in actions):
            who.append(persona.value)
    who += [
        name
        for name, p in deployers.items()
        if any(_allowed(model, p, a, resource) for a in actions)
    ]
    return tuple(who)


def _archive(model: PlatformModel) -> tuple[Resource, Resource]:
    config = model.config
    name = archive_bucket(config.organization.name, security_account_id(config, LOG_ARCHIVE))
    account, policy = model.buckets[name]
    obj = Resource(
        f"arn:aws:s3:::{name}/{ARCHIVE_CLOUDTRAIL_PREFIX}/AWSLogs/o-example/log.json.gz",
        account,
        "s3",
        policy,
    )
    return obj, Resource(f"arn:aws:s3:::{name}", account, "s3", policy)


def _workload_accounts(model: PlatformModel) -> frozenset[str]:
    config = model.config
    found = {config.account_id(e) for e in config.enabled_environments()}
    if config.tooling_account_id is not None:
        found.add(config.tooling_account_id)
    return frozenset(found)


def evidence_rows(model: PlatformModel, reach: Reach) -> tuple[EvidenceRow, ...]:
    config = model.config
    inside = _workload_accounts(model)
    obj, bucket = _archive(model)
    org = config.organization
    trail = Resource(
        organization_trail_arn(org.name, org.home_region, org.management_account_id),
        org.management_account_id,
        "cloudtrail",
    )
    detector = Resource("*", config.account_id(next(iter(config.enabled_environments()))))
    deployers = _deployers(model)
    workloads = _workload_deployers(model)
    deletions = tuple(
        dict.fromkeys(
            _who(model, reach, DELETIONS[:2], obj, deployers)
            + _who(model, reach, DELETIONS[2:], bucket, deployers)
        )
    )
    rows = [
        EvidenceRow(
            "read the log archive",
            _who(model, reach, (READ,), obj, deployers),
            ("security-auditor",),
        ),
        EvidenceRow("delete from the log archive (objects, versions, the bucket)", deletions, ()),
        EvidenceRow(
            "delete from or change the log archive from a workload account",
            _who(model, reach, (*DELETIONS[:2], *ARCHIVE_CHANGES), obj, workloads, inside),
            (),
        ),
        EvidenceRow(
            "stop or delete the organization trail from a workload account",
            _who(model, reach, TRAIL_STOPS, trail, workloads, inside),
            (),
        ),
    ]
    for action in DETECTOR_DEPARTURES:
        found = tuple(
            name
            for name, principal in workloads.items()
            if _allowed(
                model, principal, action, replace(detector, account_id=principal.account_id)
            )
        )
        rows.append(EvidenceRow(f"{action} in a workload account", found, ()))
    return tuple(rows)


def delegated_administrators(organization_stack: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(service, account) as the synthesized organization stack registers them."""
    resources = organization_stack.get("resource", {})
    found = {
        (str(b["service_principal"]), str(b["account_id"]))
        for b in resources.get("aws_organizations_delegated_administrator", {}).values()
    }
    found |= {
        ("guardduty.amazonaws.com (every allowed region)", str(b["admin_account_id"]))
        for b in resources.get("aws_guardduty_organization_admin_account", {}).values()
    }
    found |= {
        ("securityhub.amazonaws.com (central configuration)", str(b["admin_account_id"]))
        for b in resources.get("aws_securityhub_organization_admin_account", {}).values()
    }
    return tuple(sorted(found))


def without_statements(*sids: str) -> Mutation:
    """Drop every statement with one of ``sids`` from every SCP and bucket policy."""

    def strip(policy: NamedPolicy | None) -> NamedPolicy | None:
        if policy is None:
            return None
        statements = [s for s in policy.document.get("Statement", []) if s.get("Sid") not in sids]
        return NamedPolicy(policy.name, {**policy.document, "Statement": statements})

    def mutate(model: PlatformModel) -> PlatformModel:
        org = model.organization
        scps = {
            level: tuple(p for p in (strip(p) for p in ps) if p is not None)
            for level, ps in org.scps.items()
        }
        buckets = {name: (account, strip(p)) for name, (account, p) in model.buckets.items()}
        return replace(model, organization=replace(org, scps=scps), buckets=buckets)

    return mutate


def archive_grants_the_organization(model: PlatformModel) -> PlatformModel:
    """The mistake a workload guardrail must survive: the archive's bucket policy, without
    its deletion deny, grants every workload account deletion and changes."""
    name = archive_bucket(
        model.config.organization.name, security_account_id(model.config, LOG_ARCHIVE)
    )
    account, policy = model.buckets[name]
    assert policy is not None
    grant = {
        "Sid": "MistakeGrantsWorkloads",
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in sorted(_workload_accounts(model))]},
        "Action": [*DELETIONS[:2], *ARCHIVE_CHANGES],
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
    }
    statements = [
        s for s in policy.document["Statement"] if s.get("Sid") != "NobodyDeletesEvidence"
    ]
    document = {**policy.document, "Statement": [*statements, grant]}
    buckets = {**model.buckets, name: (account, NamedPolicy(policy.name, document))}
    return replace(model, buckets=buckets)


CONTROLS: tuple[tuple[str, tuple[str, ...], str, Mutation | None], ...] = (
    (
        "the archive's NobodyDeletesEvidence (bucket policy and security-unit SCP)",
        ("NobodyDeletesEvidence",),
        "delete from the log archive (objects, versions, the bucket)",
        None,
    ),
    (
        "the archive's OnlySecurityAuditorsRead (bucket policy)",
        ("OnlySecurityAuditorsRead",),
        "read the log archive",
        None,
    ),
    (
        "protect-baseline's ArchiveIsUntouchable, the archive's bucket policy granting "
        "the workload accounts by mistake",
        ("ArchiveIsUntouchable",),
        "delete from or change the log archive from a workload account",
        archive_grants_the_organization,
    ),
    *(
        (
            "protect-baseline's StayWithTheAdministrator",
            ("StayWithTheAdministrator",),
            f"{action} in a workload account",
            None,
        )
        for action in DETECTOR_DEPARTURES
    ),
)
"""(what is removed, the statements, the row that must flip, the mistake it must survive).
The organization trail row has none: AWS lets no member account change an organization
trail (it lives in the management account, with no resource policy), so
``KeepOrganizationTrail`` is defence in depth the evaluator cannot flip."""


def prove_evidence(
    model: PlatformModel, synthesized: Mapping[str, Mapping[str, Any]]
) -> EvidenceReport:
    """The rows, the delegated administrators and the negative controls: each control
    first applies its mistake (the row must still hold), then removes the guardrail (the
    row must flip)."""
    reach = reach_of(model)
    controls = []
    for removed, sids, question, mistake in CONTROLS:
        before = model if mistake is None else mistake(model)
        held = {r.question: r for r in evidence_rows(before, reach)}[question]
        weakened = {r.question: r for r in evidence_rows(without_statements(*sids)(before), reach)}[
            question
        ]
        controls.append(ControlRow(removed, question, held.ok and weakened.who != held.who))
    rows = evidence_rows(model, reach)
    return EvidenceReport(
        rows,
        delegated_administrators(synthesized["organization"]),
        tuple(controls),
        member_coverage(model.config, synthesized),
    )
