"""Persona roles per environment account, from the persona matrix: plain data."""

from __future__ import annotations

from dataclasses import dataclass

from ndap_infra.access.boundary import data_scientist_boundary
from ndap_infra.access.identity import policy_for
from ndap_infra.access.names import (
    PERSONA_PATH,
    PERSONA_TAG,
    boundary_policy_name,
    dataset_bucket_name,
    persona_role_arn,
    persona_role_name,
)
from ndap_infra.config.enums import (
    Access,
    DataSharingMode,
    Environment,
    IdentitySource,
    Persona,
)
from ndap_infra.config.model import NdapConfig
from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement

PROTECTED = (Environment.ACC, Environment.PRD)
LOWER = (Environment.NONPROD, Environment.DEV)
BREAK_GLASS_SESSION_SECONDS = 3600
DEFAULT_SESSION_SECONDS = 3600 * 4
MFA_PERSONAS = frozenset({Persona.PLATFORM_ENGINEER, Persona.BREAK_GLASS})


@dataclass(frozen=True)
class PersonaRole:
    """One persona's role in one environment account."""

    persona: Persona
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


def persona_trust(identity_account_id: str, persona: Persona, require_mfa: bool) -> PolicyDocument:
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


def persona_roles(config: NdapConfig, env: Environment) -> list[PersonaRole]:
    """Every persona role of one environment account (none where the matrix says none;
    none at all when people come through IAM Identity Center only)."""
    if config.identity.source is IdentitySource.IDENTITY_CENTER:
        return []
    org = config.organization.name
    account_id = config.account_id(env)
    region = config.organization.home_region
    trust_mfa = config.identity.require_mfa
    roles = []
    for persona, cells in config.persona_matrix().items():
        access = cells[env]
        if access in (Access.NONE, Access.DEPLOY):
            continue
        boundary = None
        boundary_name = None
        if persona is Persona.DATA_SCIENTIST:
            boundary = data_scientist_boundary(
                org,
                account_id,
                config.organization.account_access_role,
                [config.account_id(e) for e in PROTECTED],
                shared_read_resources(config),
            )
            boundary_name = boundary_policy_name(org)
        roles.append(
            PersonaRole(
                persona=persona,
                environment=env,
                access=access,
                name=persona_role_name(org, persona),
                path=PERSONA_PATH,
                trust=persona_trust(
                    config.identity_account_id, persona, trust_mfa or persona in MFA_PERSONAS
                ),
                policy=policy_for(
                    access,
                    account_id=account_id,
                    region=region,
                    reports_bucket=dataset_bucket_name(org, env, account_id),
                ),
                boundary=boundary,
                boundary_name=boundary_name,
                max_session_seconds=(
                    BREAK_GLASS_SESSION_SECONDS
                    if persona is Persona.BREAK_GLASS
                    else DEFAULT_SESSION_SECONDS
                ),
                tags={PERSONA_TAG: persona.value},
            )
        )
    return roles


def data_scientist_role_arn(config: NdapConfig) -> str:
    return persona_role_arn(
        config.organization.name, Persona.DATA_SCIENTIST, config.account_id(Environment.DEV)
    )
