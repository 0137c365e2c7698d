"""The pipelines' machine identities and who can assume them: the deployer-trust check the
pipeline and git-flow proofs share, and the mistake (a loosened trust) its negative
controls inject."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ndap_infra.config.enums import Environment, Persona
from ndap_infra.evaluator import (
    NamedPolicy,
    Principal,
    Role,
    can_assume,
    principal_for,
    trust_names,
)
from ndap_infra.names import pipelines as names
from ndap_infra.proofs.access_model import PlatformModel, identity_user, pipeline_principal
from ndap_infra.proofs.principals import (
    Mutation,
    data_scientist_created_role,
    data_scientist_created_user,
    data_scientist_service_role,
)


def projects(model: PlatformModel) -> tuple[str, ...]:
    if model.config.tooling_account_id is None:
        return ()
    return tuple(p.name for p in model.config.ml_projects)


def pipeline_identity(model: PlatformModel, project: str, kind: str, env: Environment) -> Role:
    org = model.config.organization.name
    if kind == "build":
        arn = names.build_role_arn(org, project, env, tooling_account(model))
    else:
        arn = names.deployer_role_arn(org, project, model.config.account_id(env))
    return model.roles[arn]


@dataclass(frozen=True)
class TrustCheck:
    project: str
    environment: Environment
    deployer: str
    expected: str
    assumers: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.assumers == (self.expected,)


def every_principal(model: PlatformModel) -> list[tuple[str, Principal]]:
    """Every principal of the model: each person's starting point, the platform's
    deployment identity, every role (as a session of itself) and what a data scientist
    could create in dev (a role, a service-trusted role, a user)."""
    found: dict[str, Principal] = {}
    for persona in model.config.all_personas():
        start = (
            pipeline_principal(model.config)
            if persona is Persona.DEPLOYER
            else identity_user(model, persona)
        )
        found[start.arn] = start
    for role in [
        *model.roles.values(),
        data_scientist_created_role(model),
        data_scientist_service_role(model),
    ]:
        found[role.arn] = principal_for(role)
    user = data_scientist_created_user(model)
    found[user.arn] = user
    return list(found.items())


def assumers(
    model: PlatformModel, role: Role, principals: Iterable[tuple[str, Principal]]
) -> tuple[str, ...]:
    """The principals (by ARN) that may assume ``role``, evaluated (those its trust policy
    names nowhere are denied without a full evaluation: ``trust_names``)."""
    return tuple(
        sorted(
            arn
            for arn, principal in principals
            if trust_names(role, principal)
            and can_assume(principal, role, model.organization, pipeline_context(model)).allowed
        )
    )


def check_deployer_trust(model: PlatformModel, only: str | None = None) -> list[TrustCheck]:
    """Question 2: each deployer role (of every project, or of ``only``), assumable by
    exactly its stage's build role."""
    principals = every_principal(model)
    checks = []
    for project in projects(model):
        if only is not None and project != only:
            continue
        for env in names.PIPELINE_ENVIRONMENTS:
            deployer = pipeline_identity(model, project, "deployer", env)
            build = pipeline_identity(model, project, "build", env)
            checks.append(
                TrustCheck(
                    project, env, deployer.arn, build.arn, assumers(model, deployer, principals)
                )
            )
    return checks


def loosen_deployer_trust(project: str, env: Environment, principal: str, keep: bool) -> Mutation:
    """A mistake: the deployer's trust names ``principal`` (an account root) — instead of
    the build role (``keep=False``) or as well (``keep=True``)."""

    def mutate(model: PlatformModel) -> PlatformModel:
        role = pipeline_identity(model, project, "deployer", env)
        trust = role.trust_policy
        mistake = {
            "Sid": "Mistake",
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": "sts:AssumeRole",
        }
        statements = [*trust.document["Statement"], mistake] if keep else [mistake]
        document = {**trust.document, "Statement": statements}
        loosened = replace(role, trust_policy=NamedPolicy(trust.name, document))
        return model.with_roles({role.arn: loosened})

    return mutate


def pipeline_context(model: PlatformModel) -> dict[str, str]:
    return {
        "aws:MultiFactorAuthPresent": "true",
        "aws:RequestedRegion": model.config.organization.home_region,
    }


def tooling_account(model: PlatformModel) -> str:
    tooling = model.config.tooling_account_id
    assert tooling is not None, "no tooling account configured"
    return tooling
