"""The member accounts the organization stack manages: adopted by id, or created (pure data).

Why and how: docs/design-notes.md, section ndap_infra/config/accounts.py."""

from __future__ import annotations

from dataclasses import dataclass

from ndap_infra.config.enums import (
    LOG_ARCHIVE,
    SECURITY_TOOLING,
    SECURITY_UNIT,
    TOOLING,
    Environment,
)
from ndap_infra.config.model import NdapConfig


@dataclass(frozen=True)
class MemberAccount:
    """A member account the organization stack manages, placed in its unit."""

    key: str
    """The environment (``dev``) or ``tooling``: also the key of its unit."""
    account_id: str | None
    """None: the organization stack creates the account (its id is pending)."""
    name: str
    email: str

    @property
    def created(self) -> bool:
        return self.account_id is None

    @property
    def unit(self) -> str:
        """The key of the organizational unit it is placed in: its own key, but for the two
        security accounts, which share the security unit."""
        return SECURITY_UNIT if self.key in SECURITY_ACCOUNT_KEYS else self.key

    def id_field(self) -> str:
        """Where the configuration holds this account's id."""
        if self.key == TOOLING:
            return "organization.tooling_account_id"
        if self.key in SECURITY_ACCOUNT_KEYS:
            return f"organization.security_accounts.{SECURITY_ACCOUNT_KEYS[self.key]}.account_id"
        return f"environments.{self.key}.account_id"


SECURITY_ACCOUNT_KEYS = {LOG_ARCHIVE: "log_archive", SECURITY_TOOLING: "security_tooling"}
"""The security accounts' keys, with their field in ``organization.security_accounts``."""


def account_name(config: NdapConfig, key: str) -> str:
    return f"{config.organization.name}-{key}"


def has_tooling_account(config: NdapConfig) -> bool:
    """A delivery account is configured: by id, or by e-mail alone (to be created)."""
    org = config.organization
    return org.tooling_account_id is not None or org.tooling_email is not None


def member_accounts(config: NdapConfig) -> list[MemberAccount]:
    """Every account with an e-mail, in the order environments, then tooling."""
    found = []
    for env in config.enabled_environments():
        settings = config.environments.get(env)
        if settings.email is not None:
            found.append(
                MemberAccount(
                    env.value, settings.account_id, account_name(config, env.value), settings.email
                )
            )
    org = config.organization
    if org.tooling_email is not None:
        found.append(
            MemberAccount(
                TOOLING,
                org.tooling_account_id,
                account_name(config, TOOLING),
                org.tooling_email,
            )
        )
    security = config.security_accounts
    if security is not None:
        for key, field in SECURITY_ACCOUNT_KEYS.items():
            account = getattr(security, field)
            found.append(
                MemberAccount(key, account.account_id, account_name(config, key), account.email)
            )
    return found


def security_account_id(config: NdapConfig, key: str) -> str:
    """The id of a security account (``log-archive`` or ``security-tooling``); validation
    and phase 1 guarantee it is set when the stacks are built."""
    security = config.security_accounts
    account = None if security is None else getattr(security, SECURITY_ACCOUNT_KEYS[key])
    if account is None or account.account_id is None:
        raise ValueError(f"organization.security_accounts: the {key} account id is not set")
    return str(account.account_id)


def security_account_ids(config: NdapConfig) -> list[str]:
    """The log-archive and security-tooling account ids known so far, in that order (none
    without the security accounts; a created account's once ``ndap deploy`` recorded it)."""
    security = config.security_accounts
    if security is None:
        return []
    found = (getattr(security, field).account_id for field in SECURITY_ACCOUNT_KEYS.values())
    return [str(account_id) for account_id in found if account_id is not None]


def detection_administrator(config: NdapConfig) -> str | None:
    """The security-tooling account when the security accounts are on: its organization
    configuration (GuardDuty auto-enable ALL, Security Hub central configuration) creates
    every member's detector and hub, so no member's baseline creates its own. None: each
    account's baseline enables both itself."""
    if config.security_accounts is None:
        return None
    return security_account_id(config, SECURITY_TOOLING)


def adopted_accounts(config: NdapConfig) -> list[MemberAccount]:
    """The accounts the organization stack imports by id and places in their units."""
    return [a for a in member_accounts(config) if a.account_id is not None]


def pending_accounts(config: NdapConfig) -> list[MemberAccount]:
    """The accounts the organization stack creates whose ids are not recorded yet."""
    return [a for a in member_accounts(config) if a.account_id is None]


PLACEHOLDER_BASE = 999_999_999_900
"""Stand-in ids for pending accounts while synthesizing phase 1. They never reach the
output: whatever names one is left out (and the build checks that none is left)."""


def phase_one_config(config: NdapConfig) -> tuple[NdapConfig, dict[str, str]]:
    """The configuration with a stand-in id for every pending account, and which account
    key each stand-in stands for. Everything downstream reads account ids from the
    configuration, so a stand-in that shows up in an output marks exactly what needs that
    pending id."""
    pending = pending_accounts(config)
    if not pending:
        return config, {}
    security = config.security_accounts
    used = {
        config.organization.management_account_id,
        config.organization.tooling_account_id,
        *(
            ()
            if security is None
            else (security.log_archive.account_id, security.security_tooling.account_id)
        ),
        config.identity.identity_account_id,
        *(config.environments.get(e).account_id for e in Environment),
    }
    stand_ins: dict[str, str] = {}
    candidate = PLACEHOLDER_BASE
    for account in pending:
        while f"{candidate:012d}" in used:
            candidate += 1
        stand_ins[account.key] = f"{candidate:012d}"
        used.add(stand_ins[account.key])
        candidate += 1
    environments = config.environments
    for env in Environment:
        if env.value in stand_ins:
            settings = environments.get(env).model_copy(update={"account_id": stand_ins[env.value]})
            environments = environments.model_copy(update={env.value: settings})
    organization = config.organization
    if TOOLING in stand_ins:
        organization = organization.model_copy(update={"tooling_account_id": stand_ins[TOOLING]})
    if security is not None and any(key in stand_ins for key in SECURITY_ACCOUNT_KEYS):
        filled_security = security
        for key, field in SECURITY_ACCOUNT_KEYS.items():
            if key in stand_ins:
                account = getattr(filled_security, field).model_copy(
                    update={"account_id": stand_ins[key]}
                )
                filled_security = filled_security.model_copy(update={field: account})
        organization = organization.model_copy(update={"security_accounts": filled_security})
    filled = config.model_copy(update={"environments": environments, "organization": organization})
    return filled, {stand_in: key for key, stand_in in stand_ins.items()}


def pending_named_in(text: str, stand_ins: dict[str, str]) -> list[str]:
    """The pending accounts (keys) whose stand-in id occurs in ``text``."""
    return [key for stand_in, key in stand_ins.items() if stand_in in text]


@dataclass(frozen=True)
class PhaseOne:
    """What is synthesized while some ids are pending, and what waits for which account."""

    accounts: tuple[MemberAccount, ...]
    """The pending accounts, which the organization stack creates."""
    left_out: dict[str, list[str]]
    """Parts of the organization stack left out (guardrail, role...) -> accounts they name."""
    waiting: dict[str, list[str]]
    """Stacks not synthesized -> the pending accounts they need."""

    def to_json(self) -> dict[str, object]:
        return {
            "accounts": [
                {"key": a.key, "name": a.name, "email": a.email, "id_field": a.id_field()}
                for a in self.accounts
            ],
            "left_out": self.left_out,
            "waiting": self.waiting,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> PhaseOne:
        accounts = data.get("accounts", [])
        assert isinstance(accounts, list)
        left_out = data.get("left_out", {})
        waiting = data.get("waiting", {})
        assert isinstance(left_out, dict) and isinstance(waiting, dict)
        return cls(
            tuple(MemberAccount(a["key"], None, a["name"], a["email"]) for a in accounts),
            {str(k): list(v) for k, v in left_out.items()},
            {str(k): list(v) for k, v in waiting.items()},
        )

    def render(self, config_path: str) -> str:
        """What a user reads: which accounts are to be created, what phase 1 holds, which
        stacks wait for which account, and the command that moves on."""
        lines = [
            f"{len(self.accounts)} account(s) to be created by the organization stack "
            "(an e-mail and no id in the configuration):"
        ]
        for account in self.accounts:
            lines.append(
                f"  - {account.key}: {account.name} <{account.email}>, in unit {account.name}; "
                f"its id goes to {account.id_field()}"
            )
        lines.append(
            "phase 1: only the organization stack is synthesized: the organization, its "
            "units, the accounts and every guardrail that names no pending id"
        )
        for part, keys in self.left_out.items():
            lines.append(f"  - waits: {part} (names the id of {', '.join(keys)})")
        for stack, keys in self.waiting.items():
            needs = f"needs the id of {', '.join(keys)}" if keys else "follows the accounts"
            lines.append(f"  - not synthesized: {stack} ({needs})")
        lines.append(
            f"next: `ndap deploy -c {config_path}` creates the accounts, records their ids in "
            f"{config_path} and deploys the rest; or create them yourself and set the ids"
        )
        return "\n".join(lines)
