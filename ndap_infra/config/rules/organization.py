"""Rules on ``organization``: the home region, and that account ids, root e-mails and
the tooling account are each used once across the organization, environments and identity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ndap_infra.config.accounts import has_tooling_account
from ndap_infra.config.enums import SECURITY_UNIT, TOOLING, Environment
from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules.registry import rule


@rule("organization", "environments")
def account_emails_are_unique(config: NdapConfig) -> Iterator[ConfigIssue]:
    """AWS gives every account its own root e-mail: two accounts cannot share one."""
    owners: list[tuple[tuple[str, ...], str]] = []
    for env in Environment:
        settings = config.environments.get(env)
        if settings.enabled and settings.email is not None:
            owners.append((("environments", env.value, "email"), settings.email.lower()))
    if config.organization.tooling_email is not None:
        owners.append(
            (("organization", "tooling_email"), config.organization.tooling_email.lower())
        )
    security = config.security_accounts
    if security is not None:
        for field in ("log_archive", "security_tooling"):
            email = getattr(security, field).email
            owners.append((("organization", "security_accounts", field, "email"), email.lower()))
    counts = Counter(email for _, email in owners)
    for path, email in owners:
        if counts[email] > 1:
            others = [".".join(p) for p, e in owners if e == email and p != path]
            yield ConfigIssue(
                path,
                f"e-mail is also used by {', '.join(others)}: every AWS account needs its own "
                "root e-mail (an alias such as name+dev@domain works)",
                email,
                True,
            )


@rule("organization", "environments", "identity")
def account_ids_are_unique(config: NdapConfig) -> Iterator[ConfigIssue]:
    owners: list[tuple[tuple[str, ...], str]] = [
        (("organization", "management_account_id"), config.organization.management_account_id)
    ]
    for env in Environment:
        settings = config.environments.get(env)
        if settings.enabled and settings.account_id is not None:
            owners.append((("environments", env.value, "account_id"), settings.account_id))
    counts = Counter(account for _, account in owners)
    for path, account in owners:
        if counts[account] > 1:
            others = [".".join(p) for p, a in owners if a == account and p != path]
            yield ConfigIssue(
                path,
                f"account id is also used by {', '.join(others)}: every environment needs "
                "its own account, separate from the management account",
                account,
                True,
            )
    identity = config.identity.identity_account_id
    env_accounts = {a for p, a in owners if p[0] == "environments"}
    if identity is not None and identity in env_accounts:
        yield ConfigIssue(
            ("identity", "identity_account_id"),
            "the identity account must not be an environment account (a principal there "
            "could reach every environment): use the management or a dedicated identity "
            "account",
            identity,
            True,
        )


@rule("organization")
def home_region_is_allowed(config: NdapConfig) -> Iterator[ConfigIssue]:
    org = config.organization
    if org.home_region not in org.allowed_regions:
        yield ConfigIssue(
            ("organization", "home_region"),
            f"must be one of allowed_regions ({', '.join(dict.fromkeys(org.allowed_regions))}): "
            "add it there "
            "or pick one of them",
            org.home_region,
            True,
        )
    for region, count in Counter(org.allowed_regions).items():
        if count > 1:
            yield ConfigIssue(
                ("organization", "allowed_regions"),
                "lists a region twice: remove the copy",
                region,
                True,
            )


@rule("organization", "environments", "identity")
def tooling_account_is_separate(config: NdapConfig) -> Iterator[ConfigIssue]:
    tooling = config.organization.tooling_account_id
    if tooling is None:
        return
    others: list[tuple[str, str]] = [
        ("organization.management_account_id", config.organization.management_account_id)
    ]
    for env in Environment:
        settings = config.environments.get(env)
        if settings.enabled and settings.account_id is not None:
            others.append((f"environments.{env.value}.account_id", settings.account_id))
    if config.identity.identity_account_id is not None:
        others.append(("identity.identity_account_id", config.identity.identity_account_id))
    clashes = [field for field, account in others if account == tooling]
    if clashes:
        yield ConfigIssue(
            ("organization", "tooling_account_id"),
            f"is also {', '.join(clashes)}: the delivery account must be an account of its own "
            "(its pipelines deploy to every environment, and data scientists must not be able "
            "to reach it): give it a dedicated 12-digit account id",
            tooling,
            True,
        )


@rule("organization", "environments", "identity")
def security_accounts_are_separate(config: NdapConfig) -> Iterator[ConfigIssue]:
    """The log-archive and security-tooling accounts are accounts of their own: a workload
    (or the management, identity or delivery) account holding the archive or administering
    the detectors could change the evidence about itself."""
    security = config.security_accounts
    if security is None:
        return
    org = config.organization
    others: list[tuple[str, str]] = [
        ("organization.management_account_id", org.management_account_id)
    ]
    if org.tooling_account_id is not None:
        others.append(("organization.tooling_account_id", org.tooling_account_id))
    for env in Environment:
        settings = config.environments.get(env)
        if settings.enabled and settings.account_id is not None:
            others.append((f"environments.{env.value}.account_id", settings.account_id))
    if config.identity.identity_account_id is not None:
        others.append(("identity.identity_account_id", config.identity.identity_account_id))
    archive = security.log_archive.account_id
    if archive is not None:
        others.append(("organization.security_accounts.log_archive.account_id", archive))
    for field in ("log_archive", "security_tooling"):
        account = getattr(security, field).account_id
        own = f"organization.security_accounts.{field}.account_id"
        clashes = [name for name, other in others if other == account and name != own]
        if account is not None and clashes:
            yield ConfigIssue(
                ("organization", "security_accounts", field, "account_id"),
                f"is also {', '.join(clashes)}: the {field.replace('_', '-')} account must be "
                "an account of its own (the evidence and the detectors of every account may "
                "not be in the hands of an account they watch): give it a dedicated 12-digit "
                "account id",
                account,
                True,
            )


@rule("organization", "environments")
def company_guardrails_are_well_formed(config: NdapConfig) -> Iterator[ConfigIssue]:
    """The company's guardrails: Sids unique among them (the platform's own are checked
    when the guardrails are merged), and only units the platform creates named."""
    created = {env.value for env in config.enabled_environments()}
    if has_tooling_account(config):
        created.add(TOOLING)
    if config.security_accounts is not None:
        created.add(SECURITY_UNIT)
    seen: dict[str, int] = {}
    for index, guardrail in enumerate(config.organization.company_guardrails):
        path: tuple[str | int, ...] = ("organization", "company_guardrails", index)
        if guardrail.sid in seen:
            yield ConfigIssue(
                (*path, "sid"),
                f"Sid is also used by organization.company_guardrails[{seen[guardrail.sid]}]: "
                "every statement needs its own",
                guardrail.sid,
                True,
            )
        seen.setdefault(guardrail.sid, index)
        for unit in guardrail.units:
            if unit not in created:
                yield ConfigIssue(
                    (*path, "units"),
                    f"the platform creates no {unit} unit with this configuration (units: "
                    f"{', '.join(sorted(created))})",
                    unit,
                    True,
                )


@rule("organization")
def inherited_guardrails_are_named_once(config: NdapConfig) -> Iterator[ConfigIssue]:
    """Each inherited policy once: `ndap preflight` matches them by name."""
    seen: dict[str, int] = {}
    for index, policy in enumerate(config.organization.inherited_guardrails):
        if policy.name in seen:
            yield ConfigIssue(
                ("organization", "inherited_guardrails", index, "name"),
                f"also the name of organization.inherited_guardrails[{seen[policy.name]}]: "
                "list each policy attached above the platform's units once",
                policy.name,
                True,
            )
        seen.setdefault(policy.name, index)


@rule("organization")
def parent_unit_is_in_an_existing_organization(config: NdapConfig) -> Iterator[ConfigIssue]:
    """A new organization has no unit to nest under: parent_ou_id names one of an
    existing organization's."""
    org = config.organization
    if org.parent_ou_id is not None and org.create_organization:
        yield ConfigIssue(
            ("organization", "parent_ou_id"),
            "create_organization: true makes a new organization, which has no existing unit "
            "to nest under: drop parent_ou_id, or set create_organization: false",
            org.parent_ou_id,
            True,
        )
