"""`ndap preflight`: what the first apply needs of an existing organization and its
accounts, read only (issue #16, finding 3).

Each check reads the organization or an account through ``clients(service, account_id,
region)`` (on AWS: a session in that account through its access role; on the emulator:
moto's account header) and says what to do when it fails. With the synthesized stacks it
also counts the quotas the configuration will reach (``deploy.quotas``) and, for each
existing singleton, the Terraform ``import`` block that adopts it into its stack
(``import_blocks``: written only where the user asks, for review). Nothing is written to
AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ndap_infra.config.accounts import MemberAccount, adopted_accounts, detection_administrator
from ndap_infra.config.model import DeployTarget, NdapConfig
from ndap_infra.deploy.quotas import quota_uses
from ndap_infra.names.pipelines import connection_name
from ndap_infra.pipelines.spec import tooling_spec
from ndap_infra.proofs.creation_order import stack_accounts

Clients = Callable[[str, str, str], Any]
"""(service, account id, region) -> a boto3 client acting in that account and region."""
Stacks = Mapping[str, Mapping[str, Any]]

POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")


@dataclass(frozen=True)
class Finding:
    check: str
    where: str
    ok: bool
    detail: str
    todo: str = ""
    blocking: bool = True
    """A failed check the first apply would stop on (else the platform handles it)."""
    imports: tuple[ImportBlock, ...] = ()
    """Terraform import blocks that would adopt what was found (existing singletons)."""

    @property
    def mark(self) -> str:
        if self.ok:
            return "ok"
        return "FAIL" if self.blocking else "note"


@dataclass(frozen=True)
class ImportBlock:
    """``import { to = <address>, id = <id>, provider = <provider> }`` in one stack."""

    stack: str
    to: str
    id: str
    provider: str | None = None

    def to_json(self) -> dict[str, str]:
        block = {"to": self.to, "id": self.id}
        return block if self.provider is None else {**block, "provider": self.provider}


@dataclass(frozen=True)
class PreflightReport:
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = field(default=())

    def import_blocks(self) -> dict[str, list[ImportBlock]]:
        """Per stack, the import blocks of every existing singleton found."""
        blocks: dict[str, list[ImportBlock]] = {}
        for finding in self.findings:
            for block in finding.imports:
                blocks.setdefault(block.stack, []).append(block)
        return blocks

    @property
    def ok(self) -> bool:
        return all(f.ok or not f.blocking for f in self.findings)

    def render(self) -> str:
        rows = [("", "check", "where", "found", "what to do")]
        rows += [(f.mark, f.check, f.where, f.detail, f.todo) for f in self.findings]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
            + ("  " + row[4] if row[4] else "")
            for row in rows
        ]
        failed = sum(1 for f in self.findings if not f.ok and f.blocking)
        verdict = (
            "preflight: ready for the first deploy"
            if self.ok
            else f"preflight: {failed} to do before the first deploy (FAIL rows)"
        )
        return "\n".join([*(line.rstrip() for line in lines), *self.notes, verdict])


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(error).__name__))


def run_preflight(
    config: NdapConfig, clients: Clients, stacks: Stacks | None = None
) -> PreflightReport:
    """Every check, in order: the organization, each adopted account (singletons in every
    allowed region), the git connections, then (with the synthesized ``stacks``) the
    quotas the configuration will reach."""
    org = config.organization
    findings = _organization(config, clients)
    if org.create_organization and findings and not findings[0].ok:
        return PreflightReport(tuple(findings))
    if not org.create_organization:
        members = _members(clients, org.management_account_id, org.home_region)
        for account in adopted_accounts(config):
            findings += _account(config, clients, account, members, stacks or {})
    findings += _connections(config, clients)
    if stacks is not None:
        findings += _quotas(stacks)
    return PreflightReport(tuple(findings))


def _quotas(stacks: Stacks) -> list[Finding]:
    """Only the uses over their quota, and the closest one of each kind, as rows."""
    uses = quota_uses(stacks)
    rows: list[Finding] = []
    closest: dict[str, Any] = {}
    for use in uses:
        if not use.ok:
            rows.append(
                Finding(
                    f"quota: {use.quota}", use.where, False, f"{use.used} of {use.limit}", use.todo
                )
            )
        elif (
            use.quota not in closest
            or use.used / use.limit > closest[use.quota].used / closest[use.quota].limit
        ):
            closest[use.quota] = use
    for quota, use in closest.items():
        rows.append(
            Finding(f"quota: {quota}", use.where, True, f"{use.used} of {use.limit} (the most)")
        )
    return rows


def _connections(config: NdapConfig, clients: Clients) -> list[Finding]:
    """The git connections the tooling stack creates: PENDING until someone completes the
    handshake in the console (no API does). Never blocking: the deploy creates them."""
    spec = tooling_spec(config)
    if spec is None or not spec.hosts:
        return []
    region = config.organization.home_region
    names = {connection_name(spec.org, host): host for host in spec.hosts}
    try:
        client = clients("codestar-connections", spec.account_id, region)
        found = {
            c["ConnectionName"]: c.get("ConnectionStatus", "?")
            for c in client.list_connections().get("Connections", [])
        }
    except Exception as error:
        if config.deploy.target is DeployTarget.LOCAL:
            detail = (
                f"not checked on the emulator (moto has no CodeStar Connections: {_code(error)})"
            )
            return [Finding("git connection", ", ".join(names), False, detail, blocking=False)]
        raise
    rows = []
    for name, host in names.items():
        status = found.get(name)
        where = f"tooling {name} ({host.value})"
        if status == "AVAILABLE":
            rows.append(Finding("git connection", where, True, "AVAILABLE"))
            continue
        rows.append(
            Finding(
                "git connection",
                where,
                False,
                f"{status}" if status else "none yet: the tooling stack creates it PENDING",
                "complete its handshake by hand in the tooling account's console (no API "
                "does) and install the provider's app on the repositories",
                blocking=False,
            )
        )
    return rows


def _organization(config: NdapConfig, clients: Clients) -> list[Finding]:
    org = config.organization
    orgs = clients("organizations", org.management_account_id, org.home_region)
    try:
        described = orgs.describe_organization()["Organization"]
    except Exception as error:  # the client's ClientError; boto3 is optional here
        if _code(error) != "AWSOrganizationsNotInUseException":
            raise
        if org.create_organization:
            return [Finding("organization", "management", True, "none yet: the stack creates it")]
        return [
            Finding(
                "organization",
                "management",
                False,
                "no organization",
                "create it (all features), or set organization.create_organization: true",
            )
        ]
    if org.create_organization:
        return [
            Finding(
                "organization",
                "management",
                False,
                f"already in organization {described['Id']}",
                "set organization.create_organization: false to adopt it",
            )
        ]
    findings = [
        Finding(
            "organization",
            "management",
            described.get("FeatureSet") == "ALL",
            f"{described['Id']}, features {described.get('FeatureSet')}",
            "" if described.get("FeatureSet") == "ALL" else "enable all features (console)",
        )
    ]
    root = orgs.list_roots()["Roots"][0]
    enabled = {p["Type"] for p in root.get("PolicyTypes", []) if p.get("Status") == "ENABLED"}
    for policy_type in POLICY_TYPES:
        on = policy_type in enabled
        findings.append(
            Finding(
                "policy type",
                policy_type,
                on,
                "enabled" if on else "not enabled",
                ""
                if on
                else "the organization stack enables it before attaching its guardrails "
                "(the deploying identity needs organizations:EnablePolicyType)",
                blocking=False,
            )
        )
    return findings + inherited_findings(config, orgs, str(root["Id"]))


FULL_AWS_ACCESS = "FullAWSAccess"


def _levels_above(orgs: Any, parent: str | None, root: str) -> list[str]:
    """The targets whose SCPs apply to the platform's units: the parent unit and its
    ancestors up to the root (only the root without a parent unit)."""
    levels, current = [], parent
    while current is not None and current != root:
        levels.append(current)
        parents = orgs.list_parents(ChildId=current)["Parents"]
        current = str(parents[0]["Id"]) if parents else None
    return [*levels, root]


def inherited_findings(config: NdapConfig, orgs: Any, root: str) -> list[Finding]:
    """The SCPs attached above the platform's units are the declared
    ``organization.inherited_guardrails`` (by name and content): the proofs evaluate
    exactly those, plus FullAWSAccess at every level."""
    declared = {p.name: p.document for p in config.organization.inherited_guardrails}
    found: set[str] = set()
    findings = []
    for level in _levels_above(orgs, config.organization.parent_ou_id, root):
        pages = orgs.get_paginator("list_policies_for_target").paginate(
            TargetId=level, Filter="SERVICE_CONTROL_POLICY"
        )
        attached = [p for page in pages for p in page["Policies"]]
        if not any(p.get("AwsManaged") and p["Name"] == FULL_AWS_ACCESS for p in attached):
            findings.append(
                Finding(
                    "inherited guardrails",
                    level,
                    False,
                    f"no {FULL_AWS_ACCESS} attached: an allow-list of SCPs",
                    "the proofs assume FullAWSAccess at every level above the platform's "
                    "units; attach it there, or place the units elsewhere (parent_ou_id)",
                )
            )
        for policy in attached:
            if policy.get("AwsManaged") and policy["Name"] == FULL_AWS_ACCESS:
                continue
            name = str(policy["Name"])
            found.add(name)
            content = orgs.describe_policy(PolicyId=policy["Id"])["Policy"]["Content"]
            if name not in declared:
                detail, todo = (
                    f"{name} ({policy['Id']}) attached, not declared: no proof knows it",
                    "add it to organization.inherited_guardrails (its Content from `aws "
                    f"organizations describe-policy --policy-id {policy['Id']}`), then build",
                )
            elif json.loads(content) != declared[name]:
                detail, todo = (
                    f"{name} ({policy['Id']}) differs from the declared document",
                    "declare what is attached (describe-policy), then build again",
                )
            else:
                detail, todo = f"{name} as declared", ""
            findings.append(Finding("inherited guardrails", level, not todo, detail, todo))
    for name in sorted(set(declared) - found):
        findings.append(
            Finding(
                "inherited guardrails",
                "above the units",
                False,
                f"{name} declared, attached nowhere above the platform's units",
                "remove it from organization.inherited_guardrails (the proofs are stricter "
                "than the organization), or check parent_ou_id",
                blocking=False,
            )
        )
    return findings


def _members(clients: Clients, management: str, region: str) -> set[str]:
    orgs = clients("organizations", management, region)
    found: set[str] = set()
    for page in orgs.get_paginator("list_accounts").paginate():
        found |= {a["Id"] for a in page["Accounts"]}
    return found


def _account(
    config: NdapConfig,
    clients: Clients,
    account: MemberAccount,
    members: set[str],
    stacks: Stacks,
) -> list[Finding]:
    account_id = str(account.account_id)
    where = f"{account.key} {account_id}"
    if account_id not in members:
        return [
            Finding(
                "member",
                where,
                False,
                "not in the organization",
                "invite it and accept the invitation from the account",
            )
        ]
    role = config.organization.account_access_role
    home = config.organization.home_region
    try:
        clients("iam", account_id, home).get_role(RoleName=role)
    except Exception as error:
        return [
            Finding(
                "access role",
                where,
                False,
                f"{role} not assumable ({_code(error)})",
                f"create {role} in the account, trusting the management account "
                "(invited accounts have none)",
            )
        ]
    stack = {v: k for k, v in stack_accounts(config).items()}.get(account_id, "")
    findings = [Finding("access role", where, True, f"{role} assumable")]
    for region in config.organization.allowed_regions:
        findings += _singletons(
            clients,
            f"{where} {region}",
            account_id,
            region,
            stack,
            stacks.get(stack, {}),
            # the administrator's own detector and hub are its stack's, not a member's
            detection_administrator(config) not in (None, account_id),
        )
    return findings


SINGLETONS = (
    ("Config recorder", "aws_config_configuration_recorder", "config-recorder"),
    ("Config delivery channel", "aws_config_delivery_channel", "config-delivery-channel"),
    ("GuardDuty detector", "aws_guardduty_detector", "guardduty"),
    ("Security Hub", "aws_securityhub_account", "securityhub"),
)
"""What AWS allows once per account and region and the baseline creates in each allowed
region: (check, resource type, construct id under ``baseline/detection/<region>/``)."""


ADMINISTERED = ("GuardDuty detector", "Security Hub")
"""With the security accounts, the delegated administrator's organization configuration
(auto-enable ALL, central configuration) creates these in every member, or makes an
existing one a member: the account's stack holds neither (``detection_administrator``)."""


def _singletons(
    clients: Clients,
    where: str,
    account_id: str,
    region: str,
    stack_name: str,
    stack: Mapping[str, Any],
    administered: bool = False,
) -> list[Finding]:
    """The singletons already in one account and region, each with its import block;
    ``administered``: GuardDuty and Security Hub are the delegated administrator's."""
    config = clients("config", account_id, region)
    recorders = [
        r["name"] for r in config.describe_configuration_recorders()["ConfigurationRecorders"]
    ]
    channels = [c["name"] for c in config.describe_delivery_channels()["DeliveryChannels"]]
    detectors = clients("guardduty", account_id, region).list_detectors()["DetectorIds"]
    try:
        hub = clients("securityhub", account_id, region).describe_hub().get("HubArn")
    except Exception as error:
        if _code(error) not in ("InvalidAccessException", "ResourceNotFoundException"):
            raise
        hub = None
    found = {
        "Config recorder": recorders,
        "Config delivery channel": channels,
        "GuardDuty detector": detectors,
        # the account's hub is imported by the account id
        "Security Hub": [account_id] if hub else [],
    }
    findings = []
    for check, rtype, construct in SINGLETONS:
        existing = found[check]
        if administered and check in ADMINISTERED:
            findings.append(
                Finding(
                    check,
                    where,
                    True,
                    f"exists: {', '.join(existing)}; the delegated administrator adopts it"
                    if existing
                    else "none: the delegated administrator creates it",
                )
            )
            continue
        if not existing:
            findings.append(Finding(check, where, True, "none: the baseline creates it"))
            continue
        block = _import_block(
            stack_name, stack, rtype, f"baseline/detection/{region}/{construct}", existing[0]
        )
        todo = "delete it, or import it into this account's stack before the first deploy"
        if block is not None:
            todo += f" (preflight --imports-out writes: import {block.to} id {block.id})"
        findings.append(
            Finding(
                check,
                where,
                False,
                f"exists: {', '.join(existing)}",
                todo,
                imports=() if block is None else (block,),
            )
        )
    return findings


def _import_block(
    stack_name: str, stack: Mapping[str, Any], rtype: str, path: str, found_id: str
) -> ImportBlock | None:
    """The import block adopting ``found_id`` as the resource at ``path`` of the stack;
    None when the stack holds no such resource (or leaves it out on the emulator)."""
    for logical_id, body in stack.get("resource", {}).get(rtype, {}).items():
        meta = body.get("//", {})
        if meta.get("metadata", {}).get("path", "").split("/", 1)[-1] != path:
            continue
        if body.get("count") == 0:
            return None
        provider = body.get("provider")
        return ImportBlock(stack_name, f"{rtype}.{logical_id}", found_id, provider)
    return None
