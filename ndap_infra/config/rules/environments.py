"""Rules on ``environments``: which environments exist and have accounts, the production
data each may hold (the model's environment table), and no per-environment security
controls (invariant 1).
"""

from __future__ import annotations

from collections.abc import Iterator

from ndap_infra.config.enums import Environment, ProductionData
from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules.registry import INVARIANT_1, INVARIANT_3, rule

ALLOWED_PRODUCTION_DATA: dict[Environment, tuple[set[ProductionData], str]] = {
    Environment.NONPROD: ({ProductionData.NONE}, INVARIANT_3),
    Environment.DEV: (
        {ProductionData.NONE, ProductionData.READ_ONLY},
        "development may only read production data (the model's environment table)",
    ),
    Environment.ACC: (
        {ProductionData.COPY},
        "acceptance holds a copy of production data (the model's environment table)",
    ),
    Environment.PRD: (
        {ProductionData.SOURCE},
        "production is the source of production data (the model's environment table)",
    ),
}


@rule("environments")
def production_data_follows_the_model(config: NdapConfig) -> Iterator[ConfigIssue]:
    for env, (allowed, why) in ALLOWED_PRODUCTION_DATA.items():
        configured = config.environments.get(env).production_data
        if configured is not None and configured not in allowed:
            choices = ", ".join(sorted(f"'{a.value}'" for a in allowed))
            yield ConfigIssue(
                ("environments", env.value, "production_data"),
                f"{why}: use {choices} or leave it out",
                configured.value,
                True,
            )


@rule("environments")
def core_environments_exist(config: NdapConfig) -> Iterator[ConfigIssue]:
    for env in (Environment.DEV, Environment.ACC, Environment.PRD):
        if not config.environments.get(env).enabled:
            yield ConfigIssue(
                ("environments", env.value, "enabled"),
                "only nonprod can be switched off; dev, acc and prd always exist: remove "
                "'enabled: false'",
                False,
                True,
            )


@rule("environments")
def enabled_environments_have_accounts(config: NdapConfig) -> Iterator[ConfigIssue]:
    for env in Environment:
        settings = config.environments.get(env)
        if settings.enabled and settings.account_id is None and settings.email is None:
            yield ConfigIssue(
                ("environments", env.value, "account_id"),
                'an enabled environment needs an account: set account_id ("123456789012", '
                f"quoted) to adopt an existing one, or environments.{env.value}.email (a root "
                "e-mail no other AWS account uses) for the organization stack to create it"
                f"{'; or set enabled: false' if env is Environment.NONPROD else ''}",
            )


@rule("environments", "organization")
def adopted_accounts_are_placed(config: NdapConfig) -> Iterator[ConfigIssue]:
    """An account adopted by id without its root e-mail would stay wherever it is in the
    organization (the provider's account resource needs the e-mail to manage the account),
    so none of its unit's guardrails would apply to it: refused, valid but unsafe."""
    why = (
        "an adopted account needs its root e-mail too: the organization stack imports the "
        "account by id and moves it into its {unit} unit, and without the e-mail it would "
        "stay where it is, outside the unit, so none of that unit's guardrails (SCPs and "
        "RCPs) would apply to it: set {field}"
    )
    for env in config.enabled_environments():
        settings = config.environments.get(env)
        if settings.account_id is not None and settings.email is None:
            yield ConfigIssue(
                ("environments", env.value, "email"),
                why.format(unit=env.value, field=f"environments.{env.value}.email"),
            )
    org = config.organization
    if org.tooling_account_id is not None and org.tooling_email is None:
        yield ConfigIssue(
            ("organization", "tooling_email"),
            why.format(unit="tooling", field="organization.tooling_email"),
        )


@rule("environments")
def no_per_environment_security_controls(config: NdapConfig) -> Iterator[ConfigIssue]:
    for env in Environment:
        settings = config.environments.get(env)
        if settings.security_baseline is not None:
            yield ConfigIssue(
                ("environments", env.value, "security_baseline"),
                f"{INVARIANT_1}: remove it and set the control once in the top-level "
                "security_baseline, for every environment",
            )
        if settings.allowed_regions is not None:
            yield ConfigIssue(
                ("environments", env.value, "allowed_regions"),
                f"{INVARIANT_1}: a region set that differs between environments breaks "
                "parity: remove it and use organization.allowed_regions",
            )
