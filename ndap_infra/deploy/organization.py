"""Read the organization back from the emulator: is every environment's account in its unit?

The reference example adopts account ids from configuration. The emulator's organization
is created by the organization stack and holds only the management account (moto cannot
invite or adopt an existing account id), so adopted accounts are reported as outside the
organization: said plainly, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ndap_infra.config.model import NdapConfig
from ndap_infra.emulator.lifecycle import EmulatorInfo, client
from ndap_infra.naming import organizational_unit


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
                f"  {len(outside)} adopted account(s) are not members of the emulator's "
                "organization: the configuration adopts existing account ids, and the "
                "emulator cannot adopt or invite an account (its organization has only the "
                "accounts it created). Their environment stacks were deployed into those "
                "account ids all the same (moto creates an account on first use), outside "
                "the organization, so no guardrail applies to them there."
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
    for env in config.enabled_environments():
        account = config.account_id(env)
        unit = organizational_unit(config.organization.name, env)
        if unit not in units:
            placements.append(AccountPlacement(env.value, account, unit, Placement.NO_UNIT))
            continue
        if account not in members:
            placements.append(AccountPlacement(env.value, account, unit, Placement.OUTSIDE))
            continue
        parents = orgs.list_parents(ChildId=account)["Parents"]
        parent_id = parents[0]["Id"] if parents else ""
        if parent_id == units[unit]:
            placements.append(AccountPlacement(env.value, account, unit, Placement.IN_UNIT))
        else:
            placements.append(
                AccountPlacement(
                    env.value,
                    account,
                    unit,
                    Placement.OTHER_UNIT,
                    where=unit_names.get(parent_id, parent_id or "nowhere"),
                )
            )
    return OrganizationReport(True, management, str(described["MasterAccountId"]), placements)
