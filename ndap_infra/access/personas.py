"""Persona roles per environment account, from the persona matrix: plain data."""

from __future__ import annotations

from dataclasses import dataclass

from ndap_infra.access.boundary import data_scientist_boundary
from ndap_infra.access.identity import policy_for
from ndap_infra.config.enums import (
    Access,
    AnyPersona,
    DataSharingMode,
    Environment,
    IdentitySource,
    Persona,
)
from ndap_infra.config.model import NdapConfig
from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement
from ndap_infra.names.access import (
    PERSONA_PATH,
    PERSONA_TAG,
    boundary_policy_name,
    dataset_bucket_name,
    permission_set_name,
    persona_role_name,
)

PROTECTED = (Environment.ACC, Environment.PRD)
LOWER = (Environment.NONPROD, Environment.DEV)
BREAK_GLASS_SESSION_SECONDS = 3600
DEFAULT_SESSION_SECONDS = 3600 * 4
MFA_PERSONAS = frozenset({Persona.PLATFORM_ENGINEER, Persona.BREAK_GLASS})


@dataclass(frozen=True)
class PersonaRole:
    """One persona's role in one environment account."""

    persona: AnyPersona
    environment: Environment
    access: Access
    name: str
    path: str
    trust: PolicyDocument
    policy: PolicyDocument
    boundary: PolicyDocument | None
    boundary_name: str | None
    max_session_seconds: int
    tags: dict[str, str]


def persona_trust(
    identity_account_id: str, persona: AnyPersona, require_mfa: bool
) -> PolicyDocument:
    """People sign in to the identity account and assume their persona role from there,
    only as that persona (their principal carries the ``ndap:persona`` tag); never from dev
    or nonprod (a dev principal is a data scientist's)."""
    conditions: tuple[Condition, ...] = (
        Condition.of("StringEquals", f"aws:PrincipalTag/{PERSONA_TAG}", persona.value),
    )
    if require_mfa:
        conditions += (Condition.of("Bool", "aws:MultiFactorAuthPresent", "true"),)
    return PolicyDocument(
        (
            Statement(
                "PeopleFromTheIdentityAccount",
                "Allow",
                principals=(Principal.aws(f"arn:aws:iam::{identity_account_id}:root"),),
                actions=("sts:AssumeRole",),
                conditions=conditions,
            ),
        )
    )


def shared_read_resources(config: NdapConfig) -> tuple[str, ...]:
    """The production data dev's data-scientist role may read directly
    (cross-account-read mode only): the named datasets' prefixes in the prd datasets
    bucket, and that bucket itself for listing."""
    if config.data.sharing_mode is not DataSharingMode.CROSS_ACCOUNT_READ:
        return ()
    org = config.organization.name
    bucket = dataset_bucket_name(org, Environment.PRD, config.account_id(Environment.PRD))
    region = config.organization.home_region
    prd = config.account_id(Environment.PRD)
    return (
        f"arn:aws:s3:::{bucket}",
        *(f"arn:aws:s3:::{bucket}/{d.name}/*" for d in config.data.datasets),
        f"arn:aws:kms:{region}:{prd}:key/*",
    )


@dataclass(frozen=True)
class PersonaAccess:
    """What one persona may do in one environment, however people get there."""

    persona: AnyPersona
    environment: Environment
    access: Access
    policy: PolicyDocument
    boundary: PolicyDocument | None
    boundary_name: str | None
    max_session_seconds: int


def persona_access(config: NdapConfig, env: Environment) -> list[PersonaAccess]:
    """Every persona with access in ``env`` (none where the matrix says none; the deployer
    belongs to the pipelines)."""
    org = config.organization.name
    account_id = config.account_id(env)
    result = []
    for persona, cells in config.persona_matrix().items():
        access = cells[env]
        if access in (Access.NONE, Access.DEPLOY):
            continue
        boundary = None
        boundary_name = None
        if persona.is_data_scientist_like:
            boundary = data_scientist_boundary(
                org,
                account_id,
                config.organization.account_access_role,
                [
                    *(config.account_id(e) for e in PROTECTED),
                    # The delivery account: pipelines, artifacts, model registry.
                    *([config.tooling_account_id] if config.tooling_account_id else []),
                ],
                shared_read_resources(config),
            )
            boundary_name = boundary_policy_name(org)
        result.append(
            PersonaAccess(
                persona=persona,
                environment=env,
                access=access,
                policy=policy_for(
                    access,
                    account_id=account_id,
                    region=config.organization.home_region,
                    reports_bucket=dataset_bucket_name(org, env, account_id),
                ),
                boundary=boundary,
                boundary_name=boundary_name,
                max_session_seconds=(
                    BREAK_GLASS_SESSION_SECONDS
                    if persona.like is Persona.BREAK_GLASS
                    else DEFAULT_SESSION_SECONDS
                ),
            )
        )
    return result


def persona_roles(config: NdapConfig, env: Environment) -> list[PersonaRole]:
    """Persona roles of one environment account (iam-roles or both; none when people come
    through IAM Identity Center only)."""
    if config.identity.source is IdentitySource.IDENTITY_CENTER:
        return []
    org = config.organization.name
    return [
        PersonaRole(
            persona=a.persona,
            environment=env,
            access=a.access,
            name=persona_role_name(org, a.persona),
            path=PERSONA_PATH,
            trust=persona_trust(
                config.identity_account_id,
                a.persona,
                config.identity.require_mfa or a.persona.like in MFA_PERSONAS,
            ),
            policy=a.policy,
            boundary=a.boundary,
            boundary_name=a.boundary_name,
            max_session_seconds=a.max_session_seconds,
            tags={PERSONA_TAG: a.persona.value},
        )
        for a in persona_access(config, env)
    ]


def boundaries(config: NdapConfig, env: Environment) -> list[PersonaAccess]:
    """Personas whose access in ``env`` carries a permission boundary (the policy exists in
    the account whatever the identity source)."""
    return [a for a in persona_access(config, env) if a.boundary is not None]


@dataclass(frozen=True)
class PermissionSetSpec:
    """An IAM Identity Center permission set for one persona in one environment, assigned
    to the persona's group in that environment's account."""

    access: PersonaAccess
    name: str
    account_id: str
    group_id: str
    session_duration: str


def permission_sets(config: NdapConfig) -> list[PermissionSetSpec]:
    center = config.identity.identity_center
    if config.identity.source is IdentitySource.IAM_ROLES or center is None:
        return []
    specs = []
    for env in config.enabled_environments():
        for access in persona_access(config, env):
            specs.append(
                PermissionSetSpec(
                    access=access,
                    name=permission_set_name(config.organization.name, access.persona, env),
                    account_id=config.account_id(env),
                    group_id=center.groups[access.persona.value],
                    session_duration=(
                        "PT1H"
                        if access.persona.like is Persona.BREAK_GLASS
                        else center.session_duration
                    ),
                )
            )
    return specs
