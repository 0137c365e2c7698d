"""Which existing accounts the organization stack adopts into their units (pure data).

With ``organization.create_organization: false`` the platform adopts an existing
organization and its member accounts (by id). The organization stack then places each
environment's account, and the tooling account, in its unit, so that the guardrails
attached to a unit really cover the account its stack deploys into. The provider's
account resource needs the account's e-mail: an account configured without one is left
where it is (``ndap deploy`` then reports it outside its unit).
"""

from __future__ import annotations

from dataclasses import dataclass

from ndap_infra.config.model import NdapConfig

TOOLING_KEY = "tooling"


@dataclass(frozen=True)
class AdoptedAccount:
    """A configured member account the organization stack places in its unit."""

    key: str
    """The environment (``dev``) or ``tooling``: also the key of its unit."""
    account_id: str
    name: str
    email: str


def adopted_accounts(config: NdapConfig) -> list[AdoptedAccount]:
    """The accounts placed by the organization stack (none when it creates the
    organization: a new organization's members join by invitation first)."""
    org = config.organization
    if org.create_organization:
        return []
    found = []
    for env in config.enabled_environments():
        email = config.environments.get(env).email
        if email is not None:
            name = f"{org.name}-{env.value}"
            found.append(AdoptedAccount(env.value, config.account_id(env), name, email))
    if org.tooling_account_id is not None and org.tooling_email is not None:
        name = f"{org.name}-{TOOLING_KEY}"
        found.append(AdoptedAccount(TOOLING_KEY, org.tooling_account_id, name, org.tooling_email))
    return found
