"""Who a person can act as, and the attacks the negative controls try: shared by the access,
pipeline and platform-pipeline proofs (passed in, never imported back)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ndap_infra.config.enums import Environment, Persona
from ndap_infra.config.model import NdapConfig
from ndap_infra.evaluator import (
    NamedPolicy,
    Principal,
    Role,
    principal_for,
    reachable_roles,
)
from ndap_infra.proofs.access_model import (
    ADMINISTRATOR,
    PlatformModel,
    identity_user,
    pipeline_principal,
)


def base_context(config: NdapConfig) -> dict[str, str]:
    """What every modelled request carries: MFA (people sign in with it) and the home
    region (where the platform runs)."""
    return {
        "aws:MultiFactorAuthPresent": "true",
        "aws:RequestedRegion": config.organization.home_region,
    }


def data_scientist_created_role(model: PlatformModel) -> Role:
    """What a data scientist could create in dev: any trust within dev, full access, and
    (necessarily) their boundary."""
    config = model.config
    dev = config.account_id(Environment.DEV)
    ds_roles = [
        r for r in model.roles.values() if r.permission_boundary is not None and r.account_id == dev
    ]
    boundary = ds_roles[0].permission_boundary if ds_roles else None
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{dev}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return Role(
        arn=f"arn:aws:iam::{dev}:role/created-by-a-data-scientist",
        account_id=dev,
        trust_policy=NamedPolicy("hypothetical/role-created-in-dev-trust.json", trust),
        identity_policies=(
            NamedPolicy("hypothetical/role-created-in-dev-access.json", ADMINISTRATOR),
        ),
        permission_boundary=None if model.boundaries_removed else boundary,
    )


def starting_principal(model: PlatformModel, persona: Persona) -> Principal:
    if persona is Persona.DEPLOYER:
        return pipeline_principal(model.config)
    return identity_user(model, persona)


def reachable_principals(model: PlatformModel, persona: Persona) -> list[tuple[str, Principal]]:
    """Every principal a person of ``persona`` can act as, with the chain that gets there."""
    start = starting_principal(model, persona)
    roles = [*model.roles.values()]
    if persona is Persona.DATA_SCIENTIST:
        roles.append(data_scientist_created_role(model))
    paths = reachable_roles(start, roles, model.organization, base_context(model.config))
    reached = [(path.describe(), principal_for(path.target)) for path in paths]
    return [(start.arn, start), *reached]


Mutation = Callable[[PlatformModel], PlatformModel]


@dataclass(frozen=True)
class Attack:
    name: str
    persona: Persona
    environment: Environment
    action: str
    setup: Mutation | None = None  # a mistake the attack exploits (e.g. a loosened trust)
    decide: Callable[[PlatformModel, Persona, str], bool] | None = None
    """How to decide the attack when it is not a cell of the access table (the pipeline
    proof's attacks bring their own)."""
