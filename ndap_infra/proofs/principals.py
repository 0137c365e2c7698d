"""Who a person can act as, and the attacks the negative controls try: shared by the access,
pipeline and platform-pipeline proofs (passed in, never imported back)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ndap_infra.config.enums import AnyPersona, Environment, Persona
from ndap_infra.config.model import NdapConfig
from ndap_infra.evaluator import (
    NamedPolicy,
    Principal,
    Request,
    Resource,
    Role,
    evaluate,
    principal_for,
    reachable_roles,
)
from ndap_infra.names.access import boundary_policy_arn
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


CREATED_NAME = "helper"
"""What a data scientist names what they create: nothing in the name gives it away (a
name-based deny gets no credit a real attacker would avoid)."""
CREATED_SERVICE = "lambda.amazonaws.com"
"""The service a data scientist's service-trusted role names: one that runs their code."""


def _dev_boundary(model: PlatformModel) -> NamedPolicy | None:
    dev = model.config.account_id(Environment.DEV)
    ds_roles = [
        r for r in model.roles.values() if r.permission_boundary is not None and r.account_id == dev
    ]
    boundary = ds_roles[0].permission_boundary if ds_roles else None
    return None if model.boundaries_removed else boundary


def _created_access() -> tuple[NamedPolicy, ...]:
    return (NamedPolicy("hypothetical/created-in-dev-access.json", ADMINISTRATOR),)


def data_scientist_created_role(model: PlatformModel) -> Role:
    """What a data scientist could create in dev: any trust within dev, full access, and
    (necessarily) their boundary, under a neutral name."""
    dev = model.config.account_id(Environment.DEV)
    return _created_role(
        model,
        f"arn:aws:iam::{dev}:role/{CREATED_NAME}",
        {"AWS": f"arn:aws:iam::{dev}:root"},
        "hypothetical/role-created-in-dev-trust.json",
    )


def data_scientist_service_role(model: PlatformModel) -> Role:
    """A role a data scientist creates in dev for a service that runs their code
    (Lambda): reached by passing it to the service, not by assuming it."""
    dev = model.config.account_id(Environment.DEV)
    return _created_role(
        model,
        f"arn:aws:iam::{dev}:role/service-role/{CREATED_NAME}-function",
        {"Service": CREATED_SERVICE},
        "hypothetical/service-role-created-in-dev-trust.json",
    )


def _created_role(
    model: PlatformModel, arn: str, principal: dict[str, str], trust_name: str
) -> Role:
    """A role created in dev with full access and the data scientists' boundary."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    }
    return Role(
        arn=arn,
        account_id=model.config.account_id(Environment.DEV),
        trust_policy=NamedPolicy(trust_name, trust),
        identity_policies=_created_access(),
        permission_boundary=_dev_boundary(model),
    )


def data_scientist_created_user(model: PlatformModel) -> Principal:
    """An IAM user a data scientist creates in dev (with access keys): full access, and
    their boundary."""
    dev = model.config.account_id(Environment.DEV)
    return Principal(
        arn=f"arn:aws:iam::{dev}:user/{CREATED_NAME}",
        account_id=dev,
        kind="user",
        identity_policies=_created_access(),
        permission_boundary=_dev_boundary(model),
    )


def _created_by_hand(
    model: PlatformModel, reached: list[tuple[str, Principal]]
) -> list[tuple[str, Principal]]:
    """The user and the service role a data scientist creates, each added when a principal
    they reach may create it (carrying the boundary) and, for the role, pass it."""
    dev = model.config.account_id(Environment.DEV)
    boundary = _dev_boundary(model)
    context = {**base_context(model.config)}
    if boundary is not None:
        context["iam:PermissionsBoundary"] = boundary_arn(model)
    found: list[tuple[str, Principal]] = []
    user = data_scientist_created_user(model)
    service_role = data_scientist_service_role(model)
    for via, principal in reached:
        if principal.account_id != dev:
            continue
        creates_user = evaluate(
            Request(principal, "iam:CreateUser", Resource(user.arn, dev), context),
            model.organization,
        ).allowed
        if creates_user and all(p.arn != user.arn for _, p in found):
            found.append((f"{via} -> creates IAM user {user.arn}", user))
        passes = evaluate(
            Request(
                principal,
                "iam:PassRole",
                Resource(service_role.arn, dev),
                {**context, "iam:PassedToService": CREATED_SERVICE},
            ),
            model.organization,
        ).allowed
        creates_role = evaluate(
            Request(principal, "iam:CreateRole", Resource(service_role.arn, dev), context),
            model.organization,
        ).allowed
        if passes and creates_role and all(p.role_arn != service_role.arn for _, p in found):
            found.append(
                (
                    f"{via} -> creates {service_role.arn} and passes it to {CREATED_SERVICE}",
                    principal_for(service_role),
                )
            )
    return found


def boundary_arn(model: PlatformModel) -> str:
    return boundary_policy_arn(
        model.config.organization.name, model.config.account_id(Environment.DEV)
    )


def starting_principal(model: PlatformModel, persona: AnyPersona) -> Principal:
    if persona is Persona.DEPLOYER:
        return pipeline_principal(model.config)
    return identity_user(model, persona)


def reachable_principals(model: PlatformModel, persona: AnyPersona) -> list[tuple[str, Principal]]:
    """Every principal a person of ``persona`` can act as, with the chain that gets there
    (a data-scientist-like persona's includes what it could create in dev)."""
    start = starting_principal(model, persona)
    roles = [*model.roles.values()]
    if persona.is_data_scientist_like:
        roles.append(data_scientist_created_role(model))
    paths = reachable_roles(start, roles, model.organization, base_context(model.config))
    reached = [
        (start.arn, start),
        *((path.describe(), principal_for(path.target)) for path in paths),
    ]
    if persona.is_data_scientist_like:
        reached += _created_by_hand(model, reached)
    return reached


Mutation = Callable[[PlatformModel], PlatformModel]


@dataclass(frozen=True)
class Attack:
    name: str
    persona: AnyPersona
    environment: Environment
    action: str
    setup: Mutation | None = None  # a mistake the attack exploits (e.g. a loosened trust)
    decide: Callable[[PlatformModel, AnyPersona, str], bool] | None = None
    """How to decide the attack when it is not a cell of the access table (the pipeline
    proof's attacks bring their own)."""
