"""What a user adopting an organization starts from, built on the emulator.

With ``organization.create_organization: false`` the organization stack adopts: it looks
up the existing organization and places each configured account (by id) in its unit. On
real AWS the organization and its member accounts exist before the first deploy (accounts
join by invitation, a manual handshake). The emulator starts empty, so ``ndap deploy``
first builds that starting point here: an organization of the management account with all
features and service control policies enabled (resource control policies off, as in most
organizations that predate them: the organization stack enables what it uses), whose
members are the configured account ids, all in the root. It never touches an emulator
that already holds an organization beyond adding missing members, and it is never used on
``deploy.target: aws``.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass

from ndap_infra.config.accounts import adopted_accounts
from ndap_infra.config.model import NdapConfig
from ndap_infra.emulator.lifecycle import EmulatorInfo, client

ACCOUNT_IDS_PATH = "/_ndap/account-ids"  # ndap_infra.emulator.server.ACCOUNT_IDS_PATH
POLICY_TYPES = ("SERVICE_CONTROL_POLICY",)


@dataclass(frozen=True)
class Seeded:
    created_organization: bool
    added_accounts: tuple[str, ...]

    def line(self) -> str:
        if not self.created_organization and not self.added_accounts:
            return "emulator: the adopted organization and its accounts are in place"
        made = (
            "created the organization to adopt"
            if self.created_organization
            else "adopted organization present"
        )
        return (
            f"emulator: {made}; member accounts added as if invited: "
            f"{', '.join(self.added_accounts) or 'none'} (create_organization: false)"
        )


def seed_adopted_organization(info: EmulatorInfo, config: NdapConfig) -> Seeded | None:
    """Build the organization and member accounts the configuration adopts (None when it
    creates its organization instead)."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    if config.organization.create_organization:
        return None
    management = config.organization.management_account_id
    orgs = client(info, "organizations", account_id=management)
    created = False
    try:
        orgs.describe_organization()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "AWSOrganizationsNotInUseException":
            raise
        orgs.create_organization(FeatureSet="ALL")
        created = True
    root = orgs.list_roots()["Roots"][0]
    enabled = {p["Type"] for p in root.get("PolicyTypes", []) if p.get("Status") == "ENABLED"}
    for policy_type in POLICY_TYPES:
        if policy_type not in enabled:
            orgs.enable_policy_type(RootId=root["Id"], PolicyType=policy_type)
    accounts = adopted_accounts(config)
    members = {a["Id"] for a in orgs.list_accounts()["Accounts"]}
    missing = [a for a in accounts if a.account_id not in members]
    if missing:
        _register_ids(info, {a.email: str(a.account_id) for a in missing})
        for account in missing:
            orgs.create_account(Email=account.email, AccountName=account.name)
        members = {a["Id"] for a in orgs.list_accounts()["Accounts"]}
        absent = [a.account_id for a in missing if a.account_id not in members]
        if absent:
            raise RuntimeError(f"the emulator did not take the account ids {absent}")
    return Seeded(created, tuple(sorted(a.key for a in missing)))


def _register_ids(info: EmulatorInfo, mapping: dict[str, str]) -> None:
    request = urllib.request.Request(
        info.endpoint + ACCOUNT_IDS_PATH,
        data=json.dumps(mapping).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
