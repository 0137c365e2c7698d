"""`ndap preflight`: what the first apply needs of an existing organization and its
accounts, read only (issue #16, finding 3).

Each check reads the organization or an account through ``clients(service, account_id)``
(on AWS: a session in that account through its access role; on the emulator: moto's
account header) and says what to do when it fails. Nothing is written anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ndap_infra.config.accounts import MemberAccount, adopted_accounts
from ndap_infra.config.model import NdapConfig

Clients = Callable[[str, str], Any]
"""(service, account id) -> a boto3 client acting in that account, in the home region."""

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

    @property
    def mark(self) -> str:
        if self.ok:
            return "ok"
        return "FAIL" if self.blocking else "note"


@dataclass(frozen=True)
class PreflightReport:
    findings: tuple[Finding, ...]

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
        return "\n".join([*(line.rstrip() for line in lines), verdict])


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(error).__name__))


def run_preflight(config: NdapConfig, clients: Clients) -> PreflightReport:
    """Every check, in order: the organization, then each adopted account."""
    org = config.organization
    findings = _organization(config, clients)
    if org.create_organization:
        return PreflightReport(tuple(findings))
    members = _members(clients, org.management_account_id)
    for account in adopted_accounts(config):
        findings += _account(config, clients, account, members)
    return PreflightReport(tuple(findings))


def _organization(config: NdapConfig, clients: Clients) -> list[Finding]:
    org = config.organization
    orgs = clients("organizations", org.management_account_id)
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
    return findings


def _members(clients: Clients, management: str) -> set[str]:
    orgs = clients("organizations", management)
    found: set[str] = set()
    for page in orgs.get_paginator("list_accounts").paginate():
        found |= {a["Id"] for a in page["Accounts"]}
    return found


def _account(
    config: NdapConfig, clients: Clients, account: MemberAccount, members: set[str]
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
    try:
        clients("iam", account_id).get_role(RoleName=role)
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
    return [
        Finding("access role", where, True, f"{role} assumable"),
        *_singletons(clients, where, account_id),
    ]


def _singletons(clients: Clients, where: str, account_id: str) -> list[Finding]:
    """What AWS allows once per account and region, which the baseline creates."""
    config = clients("config", account_id)
    recorders = [
        r["name"] for r in config.describe_configuration_recorders()["ConfigurationRecorders"]
    ]
    channels = [c["name"] for c in config.describe_delivery_channels()["DeliveryChannels"]]
    detectors = clients("guardduty", account_id).list_detectors()["DetectorIds"]
    try:
        hub = clients("securityhub", account_id).describe_hub().get("HubArn")
    except Exception as error:
        if _code(error) not in ("InvalidAccessException", "ResourceNotFoundException"):
            raise
        hub = None
    todo = "delete it, or import it into this account's stack before the first deploy"
    found = [
        ("Config recorder", recorders),
        ("Config delivery channel", channels),
        ("GuardDuty detector", detectors),
        ("Security Hub", [hub] if hub else []),
    ]
    return [
        Finding(
            check,
            where,
            not existing,
            f"exists: {', '.join(existing)}" if existing else "none: the baseline creates it",
            todo if existing else "",
        )
        for check, existing in found
    ]
