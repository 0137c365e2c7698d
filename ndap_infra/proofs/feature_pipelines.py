"""The feature pipelines' part of the pipelines proof: who may start, edit or approve a
team's feature pipelines and who may act as its publisher in an environment, evaluated
from the synthesized policies (docs/pipelines.md, the feature-store pipeline)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

from ndap_infra.config.enums import Environment, Persona
from ndap_infra.evaluator import Principal, Resource, principal_for
from ndap_infra.names import features as feature_names
from ndap_infra.names import pipelines as names
from ndap_infra.proofs.access_model import PlatformModel
from ndap_infra.proofs.pipelines import (
    CellQuestion,
    Goal,
    PipelineCell,
    PipelineProof,
    identity_principals,
    persona_principals,
)
from ndap_infra.proofs.trusts import TrustCheck, assumers, every_principal, tooling_account

FEATURE_ACTIONS: tuple[str, ...] = (
    "start-acc-pipeline",
    "start-prd-pipeline",
    "edit-acc-pipeline",
    "edit-prd-pipeline",
    "approve-prd-release",
    "assume-dev-publisher",
    "assume-acc-publisher",
    "assume-prd-publisher",
)
RUN_AND_EDIT = frozenset(a for a in FEATURE_ACTIONS if not a.startswith("assume-"))
PERSONA_ALLOWS: dict[Persona, frozenset[str]] = {
    Persona.DATA_SCIENTIST: frozenset(),
    Persona.BUSINESS_USER: frozenset(),
    Persona.SECURITY_AUDITOR: frozenset(),
    Persona.ML_ENGINEER: frozenset({"approve-prd-release"}),
    Persona.PLATFORM_ENGINEER: frozenset({"approve-prd-release"}),
    # Administrators of the tooling account run and edit the pipelines, but cannot act as a
    # publisher: its trust names one build role.
    Persona.BREAK_GLASS: RUN_AND_EDIT,
    Persona.DEPLOYER: RUN_AND_EDIT,
}
"""What each persona may do to every team's feature pipelines: written from the model."""


def feature_pipeline_names(model: PlatformModel) -> tuple[str, ...]:
    if model.config.tooling_account_id is None:
        return ()
    return tuple(f.name for f in model.config.feature_pipelines)


def _publisher_arn(model: PlatformModel, pipeline: str, env: Environment) -> str:
    config = model.config
    return feature_names.publisher_role_arn(
        config.organization.name, pipeline, config.account_id(env)
    )


def _build_arn(model: PlatformModel, pipeline: str, env: Environment) -> str:
    return names.build_role_arn(
        model.config.organization.name, pipeline, env, tooling_account(model)
    )


def feature_identity(model: PlatformModel, who: str) -> Principal:
    """The principal of a ``<pipeline>/<build|publisher>-<env>`` row of the cells."""
    pipeline, _, identity = who.rpartition("/")
    kind, _, env = identity.partition("-")
    arn = (_build_arn if kind == "build" else _publisher_arn)(model, pipeline, Environment(env))
    return principal_for(model.roles[arn])


def goal(model: PlatformModel, pipeline: str, action: str) -> Goal:
    region = model.config.organization.home_region
    tooling = tooling_account(model)
    codepipeline = f"arn:aws:codepipeline:{region}:{tooling}"
    if action.startswith(("start-", "edit-")):
        verb, env = action.split("-")[:2]
        api = "StartPipelineExecution" if verb == "start" else "UpdatePipeline"
        arn = f"{codepipeline}:{names.pipeline_name(pipeline, Environment(env))}"
        return Goal(((f"codepipeline:{api}", Resource(arn, tooling), {}),))
    if action == "approve-prd-release":
        arn = (
            f"{codepipeline}:{names.pipeline_name(pipeline, Environment.PRD)}/"
            f"{names.APPROVAL_STAGE}/{names.APPROVAL_ACTION}"
        )
        return Goal((("codepipeline:PutApprovalResult", Resource(arn, tooling), {}),))
    if action.startswith("assume-") and action.endswith("-publisher"):
        env = Environment(action.split("-")[1])
        return Goal(assume=model.roles[_publisher_arn(model, pipeline, env)])
    raise KeyError(action)


def _questions(
    model: PlatformModel,
    who: str,
    principals: Callable[[], Sequence[tuple[str, Principal]]],
    pipeline: str,
    allowed: frozenset[str],
) -> list[CellQuestion]:
    return [
        CellQuestion(
            who,
            pipeline,
            action,
            action in allowed,
            principals,
            partial(goal, model, pipeline, action),
        )
        for action in FEATURE_ACTIONS
    ]


def feature_questions(model: PlatformModel) -> list[CellQuestion]:
    """The feature pipelines' cells, unevaluated: every persona and every feature build and
    publisher role, for every team."""
    questions: list[CellQuestion] = []
    for pipeline in feature_pipeline_names(model):
        for persona in model.config.all_personas():
            # A custom persona has no role in the tooling account: nothing.
            own = PERSONA_ALLOWS[persona] if isinstance(persona, Persona) else frozenset()
            questions += _questions(
                model, persona.value, persona_principals(model, persona), pipeline, own
            )
        for env in names.PIPELINE_ENVIRONMENTS:
            for kind, arn, allowed in (
                ("build", _build_arn(model, pipeline, env), {f"assume-{env.value}-publisher"}),
                ("publisher", _publisher_arn(model, pipeline, env), set()),
            ):
                questions += _questions(
                    model,
                    f"{pipeline}/{kind}-{env.value}",
                    identity_principals(model.roles[arn]),
                    pipeline,
                    frozenset(allowed),
                )
    return questions


def feature_cells(model: PlatformModel) -> list[PipelineCell]:
    """Every persona and every feature build and publisher role, for every team."""
    return [question.answer(model) for question in feature_questions(model)]


def publisher_trust(model: PlatformModel) -> list[TrustCheck]:
    """Each publisher assumable by exactly its stage's feature build role."""
    principals = every_principal(model)
    checks = []
    for pipeline in feature_pipeline_names(model):
        for env in names.PIPELINE_ENVIRONMENTS:
            publisher = model.roles[_publisher_arn(model, pipeline, env)]
            checks.append(
                TrustCheck(
                    pipeline,
                    env,
                    publisher.arn,
                    _build_arn(model, pipeline, env),
                    assumers(model, publisher, principals),
                )
            )
    return checks


def with_feature_pipelines(proof: PipelineProof, model: PlatformModel) -> PipelineProof:
    """The pipelines proof with the feature pipelines' decisions and trusts added."""
    return replace(
        proof,
        cells=(*proof.cells, *feature_cells(model)),
        trust=(*proof.trust, *publisher_trust(model)),
    )
