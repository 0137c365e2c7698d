"""Read the organization back from the emulator: is every account in its unit?

Every enabled environment's account and the tooling account must sit in its own unit, or
the guardrails attached to that unit do not cover the account its stack deployed into.
With ``create_organization: false`` (the reference example) the organization stack adopts
the configured accounts and places them (``ndap_infra.config.accounts``); on the emulator,
``ndap deploy`` first builds the organization being adopted (``ndap_infra.emulator.seed``).
With ``create_organization: true`` a new organization holds no member yet (accounts join
by invitation, by hand): they are reported outside the organization, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ndap_infra.config.accounts import SECURITY_ACCOUNT_KEYS, security_account_id
from ndap_infra.config.enums import TOOLING
from ndap_infra.config.model import NdapConfig
from ndap_infra.emulator.lifecycle import EmulatorInfo, client
from ndap_infra.names.pipelines import tooling_unit
from ndap_infra.names.platform import organizational_unit
from ndap_infra.names.security import security_unit


class Placement(StrEnum):
    IN_UNIT = "in its unit"
    OTHER_UNIT = "in the organization, but not in its unit"
    OUTSIDE = "not in the organization"
    NO_UNIT = "its unit does not exist"


@dataclass(frozen=True)
class AccountPlacement:
    environment: str
    account_id: str
    unit: str
    placement: Placement
    where: str = ""

    @property
    def ok(self) -> bool:
        return self.placement is Placement.IN_UNIT


@dataclass(frozen=True)
class OrganizationReport:
    found: bool
    management_account_id: str
    master_account_id: str
    placements: list[AccountPlacement]
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.found and all(p.ok for p in self.placements)

    def render(self) -> str:
        if not self.found:
            return f"organization: not found on the emulator ({self.note})"
        lines = [
            f"organization: management account {self.master_account_id}"
            + (
                ""
                if self.master_account_id == self.management_account_id
                else f" (configured: {self.management_account_id})"
            )
        ]
        for p in self.placements:
            mark = "ok  " if p.ok else "MISS"
            lines.append(
                f"  {mark} {p.environment:<8} account {p.account_id} {p.placement.value}"
                f" ({p.unit}{', found in ' + p.where if p.where else ''})"
            )
        outside = [p for p in self.placements if p.placement is Placement.OUTSIDE]
        if outside:
            lines.append(
                f"  {len(outside)} account(s) are not members of the organization: with "
                "create_organization: true the organization is new and accounts join it by "
                "invitation (by hand); their stacks were deployed into those account ids all "
                "the same, outside the organization, so no guardrail applies to them there. "
                "Invite them, then set create_organization: false so the organization stack "
                "adopts them into their units."
            )
        return "\n".join(lines)


def _all(method: Any, key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    token: str | None = None
    while True:
        page = method(**kwargs, **({"NextToken": token} if token else {}))
        items.extend(page.get(key, []))
        token = page.get("NextToken")
        if not token:
            return items


def expected_units(config: NdapConfig) -> list[tuple[str, str, str]]:
    """(environment or ``tooling``, account id, unit name) for every account to check."""
    org = config.organization
    expected = [
        (env.value, config.account_id(env), organizational_unit(org.name, env))
        for env in config.enabled_environments()
    ]
    if org.tooling_account_id is not None:
        expected.append((TOOLING, org.tooling_account_id, tooling_unit(org.name)))
    if config.security_accounts is not None:
        # Both security accounts share the security unit.
        expected += [
            (key, security_account_id(config, key), security_unit(org.name))
            for key in SECURITY_ACCOUNT_KEYS
        ]
    return expected


def check_organization(info: EmulatorInfo, config: NdapConfig) -> OrganizationReport:
    """Where each enabled environment's account sits in the emulator's organization."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    management = config.organization.management_account_id
    orgs = client(info, "organizations", account_id=management)
    try:
        described = orgs.describe_organization()["Organization"]
    except ClientError as error:
        return OrganizationReport(False, management, "", [], note=str(error))
    roots = _all(orgs.list_roots, "Roots")
    units: dict[str, str] = {}  # name -> id, anywhere under the root
    pending = [r["Id"] for r in roots]
    while pending:
        parent = pending.pop()
        for unit in _all(
            orgs.list_organizational_units_for_parent, "OrganizationalUnits", ParentId=parent
        ):
            units[unit["Name"]] = unit["Id"]
            pending.append(unit["Id"])
    members = {a["Id"] for a in _all(orgs.list_accounts, "Accounts")}
    unit_names = {v: k for k, v in units.items()}
    placements = []
    for key, account, unit in expected_units(config):
        if unit not in units:
            placements.append(AccountPlacement(key, account, unit, Placement.NO_UNIT))
            continue
        if account not in members:
            placements.append(AccountPlacement(key, account, unit, Placement.OUTSIDE))
            continue
        parents = orgs.list_parents(ChildId=account)["Parents"]
        parent_id = parents[0]["Id"] if parents else ""
        if parent_id == units[unit]:
            placements.append(AccountPlacement(key, account, unit, Placement.IN_UNIT))
        else:
            placements.append(
                AccountPlacement(
                    key,
                    account,
                    unit,
                    Placement.OTHER_UNIT,
                    where=unit_names.get(parent_id, parent_id or "nowhere"),
                )
            )
    return OrganizationReport(True, management, str(described["MasterAccountId"]), placements)
