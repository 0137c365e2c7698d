"""The pipelines' part of the access proof, evaluated from the synthesized policies.

Why and how: docs/design-notes.md, section ndap_infra/proofs/pipelines.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, partial
from typing import Any

from ndap_infra.config.enums import TOOLING, AnyPersona, Environment, Persona
from ndap_infra.evaluator import (
    Decision,
    NamedPolicy,
    Principal,
    Request,
    Resource,
    Role,
    can_assume,
    evaluate,
    principal_for,
)
from ndap_infra.names import pipelines as names
from ndap_infra.proofs.access_model import PlatformModel
from ndap_infra.proofs.git_flow import GitFlowProof
from ndap_infra.proofs.principals import Attack, Mutation, reachable_principals
from ndap_infra.proofs.trusts import (
    TrustCheck,
    assumers,
    check_deployer_trust,
    every_principal,
    loosen_deployer_trust,
    pipeline_context,
    pipeline_identity,
    projects,
    tooling_account,
)

# ---- what is asked --------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineAction:
    name: str
    description: str


PIPELINE_ACTIONS: tuple[PipelineAction, ...] = (
    PipelineAction("start-acc-pipeline", "codepipeline:StartPipelineExecution on <project>-acc"),
    PipelineAction("start-prd-pipeline", "codepipeline:StartPipelineExecution on <project>-prd"),
    PipelineAction("edit-acc-pipeline", "codepipeline:UpdatePipeline on <project>-acc"),
    PipelineAction("edit-prd-pipeline", "codepipeline:UpdatePipeline on <project>-prd"),
    PipelineAction(
        "approve-prd-release",
        "codepipeline:PutApprovalResult on <project>-prd's approval action",
    ),
    PipelineAction(
        "read-release-artifacts",
        "s3:GetObject of projects/<project>/releases/ in the artifact store, and kms:Decrypt "
        "of it through S3",
    ),
    PipelineAction(
        "read-model-registry", "sagemaker:DescribeModelPackage in <project>'s model registry"
    ),
    PipelineAction("assume-dev-deployer", "sts:AssumeRole into <project>'s dev deployer role"),
    PipelineAction("assume-acc-deployer", "sts:AssumeRole into <project>'s acc deployer role"),
    PipelineAction("assume-prd-deployer", "sts:AssumeRole into <project>'s prd deployer role"),
    # The pipeline's secrets: what a person could use to act as the pipeline, or learn it.
    PipelineAction(
        "use-git-connection",
        "codeconnections:UseConnection (or the codestar-connections: prefix) of the git "
        "connection, for <project>'s repository",
    ),
    PipelineAction(
        "get-connection-token",
        "codeconnections:GetConnectionToken (or the codestar-connections: prefix) of the git "
        "connection: the git host's token",
    ),
    PipelineAction(
        "read-build-environment",
        "codebuild:BatchGetProjects on <project>'s prd deploy build (its environment "
        "variables and buildspec)",
    ),
    PipelineAction(
        "decrypt-with-artifact-key",
        "kms:Decrypt directly with the artifact key (not through S3)",
    ),
    PipelineAction("read-pipeline-definition", "codepipeline:GetPipeline on <project>-prd"),
    PipelineAction("read-pipeline-state", "codepipeline:GetPipelineState on <project>-prd"),
)
PIPELINE_ACTION_NAMES = tuple(a.name for a in PIPELINE_ACTIONS)
ADMINISTER = frozenset(
    {
        "start-acc-pipeline",
        "start-prd-pipeline",
        "edit-acc-pipeline",
        "edit-prd-pipeline",
        "approve-prd-release",
        "read-release-artifacts",
        "read-model-registry",
        "use-git-connection",
        "get-connection-token",
        "read-build-environment",
        "decrypt-with-artifact-key",
        "read-pipeline-definition",
        "read-pipeline-state",
    }
)
FOLLOW = frozenset({"read-build-environment", "read-pipeline-definition", "read-pipeline-state"})
"""What a release operator (ML and platform engineers in the tooling account) reads to
follow the pipelines: never the git connection, its token or the artifact key."""
PERSONA_ALLOWS: dict[Persona, frozenset[str]] = {
    Persona.DATA_SCIENTIST: frozenset(),
    Persona.BUSINESS_USER: frozenset(),
    Persona.SECURITY_AUDITOR: frozenset(),
    Persona.ML_ENGINEER: FOLLOW | {"approve-prd-release"},
    Persona.PLATFORM_ENGINEER: FOLLOW | {"approve-prd-release"},
    # Administrators of the tooling account (break-glass, and the platform's deployment
    # identity through the account access role) administer the pipelines, but even they
    # cannot become a deployer: its trust names one build role.
    Persona.BREAK_GLASS: ADMINISTER,
    Persona.DEPLOYER: ADMINISTER,
}
"""What each persona may do to every project's pipelines: written from the model."""


def persona_allows(persona: AnyPersona) -> frozenset[str]:
    """A custom persona has no role in the tooling account: nothing, whatever it is like."""
    return PERSONA_ALLOWS[persona] if isinstance(persona, Persona) else frozenset()


def identity_allows(kind: str, env: Environment) -> frozenset[str]:
    """What a project's own build or deployer role in ``env`` may do to its project."""
    if kind == "build":
        allowed = {f"assume-{env.value}-deployer"}
        if env is Environment.PRD:
            allowed.add("read-release-artifacts")  # prd reads the release
        # acc's build runs project code: it stages under builds/ and never touches the
        # registry or releases/ (its register step does: #21, finding 3).
        # The build clones its own repository through the connection and reads and writes
        # its artifacts with the artifact key.
        allowed |= {"use-git-connection", "decrypt-with-artifact-key"}
        return frozenset(allowed)
    if env is Environment.DEV:
        return frozenset()  # dev's deployer reads dev artifacts only
    return frozenset({"read-release-artifacts", "read-model-registry"})


# ---- evaluation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    """One or more requests that must all be allowed (an S3 read of an SSE-KMS object
    needs both the object and the key), or a role to assume."""

    requests: tuple[tuple[str, Resource, dict[str, Any]], ...] = ()
    assume: Role | None = None
    alternatives: tuple[Goal, ...] = ()
    """Goals any one of which achieves this one (an action under two service prefixes)."""


def goal(model: PlatformModel, project: str, action: str) -> Goal:
    config = model.config
    org = config.organization.name
    region = config.organization.home_region
    tooling = tooling_account(model)
    codepipeline = f"arn:aws:codepipeline:{region}:{tooling}"
    if action.startswith(("start-", "edit-")):
        verb, env = action.split("-")[:2]
        api = "StartPipelineExecution" if verb == "start" else "UpdatePipeline"
        arn = f"{codepipeline}:{names.pipeline_name(project, Environment(env))}"
        return Goal(((f"codepipeline:{api}", Resource(arn, tooling), {}),))
    if action == "approve-prd-release":
        arn = (
            f"{codepipeline}:{names.pipeline_name(project, Environment.PRD)}/"
            f"{names.APPROVAL_STAGE}/{names.APPROVAL_ACTION}"
        )
        return Goal((("codepipeline:PutApprovalResult", Resource(arn, tooling), {}),))
    if action == "read-release-artifacts":
        bucket = names.artifact_bucket(org, tooling)
        key = f"{names.artifacts_prefix(project, names.RELEASE_ARTIFACTS)}/v1/model.tar.gz"
        context = {
            "kms:ViaService": f"s3.{region}.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}/{key}",
            "kms:ResourceAliases": [names.artifact_key_alias(org)],
        }
        return Goal(
            (
                ("s3:GetObject", model.bucket_object(bucket, key), {}),
                ("kms:Decrypt", model.key(TOOLING, "pipelines/artifact-key/key"), context),
            )
        )
    if action == "read-model-registry":
        group = names.model_package_group(project)
        account, policy = model.registries[group]
        arn = f"arn:aws:sagemaker:{region}:{tooling}:model-package/{group}/1"
        return Goal(
            (("sagemaker:DescribeModelPackage", Resource(arn, account, "sagemaker", policy), {}),)
        )
    if action in ("use-git-connection", "get-connection-token"):
        return _connection_goal(model, project, action)
    if action == "read-build-environment":
        arn = (
            f"arn:aws:codebuild:{region}:{tooling}:project/"
            f"{names.codebuild_project(project, 'deploy', Environment.PRD)}"
        )
        return Goal((("codebuild:BatchGetProjects", Resource(arn, tooling), {}),))
    if action == "decrypt-with-artifact-key":
        artifact_key = model.key(TOOLING, "pipelines/artifact-key/key")
        aliases = {"kms:ResourceAliases": [names.artifact_key_alias(org)]}
        return Goal((("kms:Decrypt", artifact_key, aliases),))
    if action in ("read-pipeline-definition", "read-pipeline-state"):
        api = "GetPipeline" if action == "read-pipeline-definition" else "GetPipelineState"
        arn = f"{codepipeline}:{names.pipeline_name(project, Environment.PRD)}"
        return Goal(((f"codepipeline:{api}", Resource(arn, tooling), {}),))
    if action.startswith("assume-") and action.endswith("-deployer"):
        env = Environment(action.split("-")[1])
        arn = names.deployer_role_arn(org, project, config.account_id(env))
        return Goal(assume=model.roles[arn])
    raise KeyError(action)


def _connection_goal(model: PlatformModel, project: str, action: str) -> Goal:
    """The project's git connection, under both service prefixes (AWS renamed CodeStar
    Connections to CodeConnections; policies may name either)."""
    config = model.config
    tooling = tooling_account(model)
    spec = next(p for p in config.ml_projects if p.name == project)
    name = names.connection_name(config.organization.name, spec.git_host)
    arn = f"arn:aws:codeconnections:{config.organization.home_region}:{tooling}:connection/{name}"
    api = "UseConnection" if action == "use-git-connection" else "GetConnectionToken"
    return Goal(
        alternatives=tuple(
            Goal(
                (
                    (
                        f"{prefix}:{api}",
                        Resource(arn, tooling),
                        {f"{prefix}:FullRepositoryId": spec.repository},
                    ),
                )
            )
            for prefix in ("codeconnections", "codestar-connections")
        )
    )


def achieves(model: PlatformModel, principal: Principal, target: Goal) -> bool:
    if target.alternatives:
        return any(achieves(model, principal, g) for g in target.alternatives)
    if target.assume is not None:
        return can_assume(
            principal, target.assume, model.organization, pipeline_context(model)
        ).allowed
    return all(
        evaluate(
            Request(principal, action, resource, {**pipeline_context(model), **context}),
            model.organization,
        ).allowed
        for action, resource, context in target.requests
    )


def decisions(
    model: PlatformModel, principal: Principal, target: Goal
) -> tuple[bool, tuple[tuple[str, Decision], ...]]:
    """``achieves`` with its evidence, for ``ndap explain``: whether ``principal``
    achieves ``target`` and every request asked on the way (each alternative's, each
    request of a goal), as ``(what was asked, the evaluator's decision)``."""
    if target.alternatives:
        found = [decisions(model, principal, g) for g in target.alternatives]
        return any(ok for ok, _ in found), tuple(step for _, steps in found for step in steps)
    if target.assume is not None:
        decision = can_assume(principal, target.assume, model.organization, pipeline_context(model))
        return decision.allowed, ((f"sts:AssumeRole on {target.assume.arn}", decision),)
    steps = tuple(
        (
            f"{action} on {resource.arn}",
            evaluate(
                Request(principal, action, resource, {**pipeline_context(model), **context}),
                model.organization,
            ),
        )
        for action, resource, context in target.requests
    )
    return all(decision.allowed for _, decision in steps), steps


@dataclass(frozen=True)
class PipelineCell:
    who: str
    """A persona, or ``<project>/<build|deployer>-<env>`` for a pipeline identity."""
    project: str
    action: str
    expected: bool
    allowed: bool
    via: str

    @property
    def ok(self) -> bool:
        return self.expected == self.allowed


@dataclass(frozen=True)
class CellQuestion:
    """A cell of the pipelines' tables before it is evaluated: the proof answers every
    one, ``ndap explain`` only those it is asked about (the same evaluation either way)."""

    who: str
    project: str
    action: str
    expected: bool
    principals: Callable[[], Sequence[tuple[str, Principal]]] = field(compare=False, repr=False)
    target: Callable[[], Goal] = field(compare=False, repr=False)

    def answer(self, model: PlatformModel) -> PipelineCell:
        """The cell: the first principal reached that achieves the target, if any."""
        target = self.target()
        via = next((v for v, p in self.principals() if achieves(model, p, target)), None)
        return PipelineCell(
            self.who, self.project, self.action, self.expected, via is not None, via or ""
        )


def identity_principals(role: Role) -> Callable[[], Sequence[tuple[str, Principal]]]:
    """The principals of a pipeline identity's row: the role itself (built once, when a
    cell of the row is first answered)."""
    return cache(lambda: [(role.arn, principal_for(role))])


def persona_principals(
    model: PlatformModel, persona: AnyPersona
) -> Callable[[], Sequence[tuple[str, Principal]]]:
    """The principals a persona reaches (found once, when a cell of its rows is first
    answered)."""
    return cache(partial(reachable_principals, model, persona))


def _questions(
    model: PlatformModel,
    who: str,
    principals: Callable[[], Sequence[tuple[str, Principal]]],
    project: str,
    allowed: frozenset[str],
) -> list[CellQuestion]:
    return [
        CellQuestion(
            who,
            project,
            action,
            action in allowed,
            principals,
            partial(goal, model, project, action),
        )
        for action in PIPELINE_ACTION_NAMES
    ]


def pipeline_questions(model: PlatformModel) -> list[CellQuestion]:
    """Question 1's cells, unevaluated: every persona and every pipeline identity, for
    every project."""
    questions: list[CellQuestion] = []
    if not projects(model):
        return questions
    for persona in model.config.all_personas():
        principals = persona_principals(model, persona)
        for project in projects(model):
            questions += _questions(
                model, persona.value, principals, project, persona_allows(persona)
            )
    for project in projects(model):
        for kind in ("build", "deployer"):
            for env in names.PIPELINE_ENVIRONMENTS:
                role = pipeline_identity(model, project, kind, env)
                questions += _questions(
                    model,
                    f"{project}/{kind}-{env.value}",
                    identity_principals(role),
                    project,
                    identity_allows(kind, env),
                )
    return questions


def prove_pipeline_actions(model: PlatformModel) -> list[PipelineCell]:
    """Question 1, for every persona and every pipeline identity, for every project."""
    return [question.answer(model) for question in pipeline_questions(model)]


# ---- who can assume each deployer role --------------------------------------------------


# ---- negative controls: a loosened deployer trust is caught ------------------------------


@dataclass(frozen=True)
class TrustControl:
    """A deployer trust loosened by mistake, and what the checks make of it."""

    name: str
    check: TrustCheck
    expect_caught: bool
    """True: the trust check must fail (someone else can now assume the role). False: the
    guardrails keep everyone new out, so the trust check still passes (and the layer
    analysis of ``proofs.access`` shows which layers do it)."""
    data_scientists_in: bool

    @property
    def caught(self) -> bool:
        return not self.check.ok

    @property
    def ok(self) -> bool:
        return self.caught == self.expect_caught and not self.data_scientists_in

    def render(self) -> str:
        others = [a for a in self.check.assumers if a != self.check.expected]
        if self.caught:
            verdict = f"the trust check fails: also assumable by {', '.join(others)}"
        else:
            verdict = (
                "still assumable only by its build role: the guardrails refuse every new principal"
            )
        expected = "as expected" if self.caught == self.expect_caught else "NOT AS EXPECTED"
        ds = (
            "DATA SCIENTISTS CAN ASSUME IT"
            if self.data_scientists_in
            else "data scientists still cannot assume it"
        )
        return f"- {self.name}: {verdict} ({expected}); {ds}"


def trust_controls(model: PlatformModel) -> list[TrustControl]:
    """Question 3 (the trust check's part; the layer analysis is in ``proofs.access``)."""

    if not projects(model):
        return []
    project = projects(model)[0]
    config = model.config
    tooling_root = f"arn:aws:iam::{tooling_account(model)}:root"
    dev_root = f"arn:aws:iam::{config.account_id(Environment.DEV)}:root"
    cases = (
        (
            f"{project}'s prd deployer trusts the tooling account root instead of its build role",
            Environment.PRD,
            tooling_root,
            False,
            True,
        ),
        (
            f"{project}'s dev deployer also trusts the dev account",
            Environment.DEV,
            dev_root,
            True,
            True,
        ),
        (
            f"{project}'s prd deployer also trusts the dev account",
            Environment.PRD,
            dev_root,
            True,
            False,
        ),
    )
    controls = []
    for name, env, principal, keep, expect_caught in cases:
        mutated = loosen_deployer_trust(project, env, principal, keep)(model)
        deployer = pipeline_identity(mutated, project, "deployer", env)
        build = pipeline_identity(mutated, project, "build", env)
        check = TrustCheck(
            project,
            env,
            deployer.arn,
            build.arn,
            assumers(mutated, deployer, every_principal(mutated)),
        )
        ds = any(
            can_assume(p, deployer, mutated.organization, pipeline_context(mutated)).allowed
            for _, p in reachable_principals(mutated, Persona.DATA_SCIENTIST)
        )
        controls.append(TrustControl(name, check, expect_caught, ds))
    return controls


# ---- the whole part ---------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineProof:
    cells: tuple[PipelineCell, ...]
    trust: tuple[TrustCheck, ...]
    controls: tuple[TrustControl, ...]
    flow: GitFlowProof | None = None
    """Git refs to identities (``git_flow``): needs the synthesized stacks and workflows."""

    @property
    def ok(self) -> bool:
        return (
            all(c.ok for c in self.cells)
            and all(t.ok for t in self.trust)
            and all(c.ok for c in self.controls)
            and (self.flow is None or self.flow.ok)
        )


def prove_pipelines(model: PlatformModel) -> PipelineProof:
    return PipelineProof(
        tuple(prove_pipeline_actions(model)),
        tuple(check_deployer_trust(model)),
        tuple(trust_controls(model)),
    )


def pipeline_attack_allowed(model: PlatformModel, persona: AnyPersona, action: str) -> bool:
    """Can a person of ``persona`` do ``action`` to the first project's pipelines (for the
    negative controls of ``proofs.access``)?"""

    target = goal(model, projects(model)[0], action)
    return any(achieves(model, p, target) for _, p in reachable_principals(model, persona))


# ---- attacks for the layer analysis of ``proofs.access.negative_controls`` ---------------


def _loosen_tooling_role(persona: Persona) -> Mutation:
    """A mistake: the tooling account's role of ``persona`` also trusts the dev account."""

    def mutate(model: PlatformModel) -> PlatformModel:
        config = model.config
        arn = (
            f"arn:aws:iam::{tooling_account(model)}:role/ndap/personas/"
            f"{config.organization.name}-{persona.value}"
        )
        role = model.roles[arn]
        mistake = {
            "Sid": "MistakeTrustsDev",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{config.account_id(Environment.DEV)}:root"},
            "Action": "sts:AssumeRole",
        }
        trust = role.trust_policy
        document = {**trust.document, "Statement": [*trust.document["Statement"], mistake]}
        return model.with_roles(
            {arn: replace(role, trust_policy=NamedPolicy(trust.name, document))}
        )

    return mutate


def grant_artifacts_to_dev(model: PlatformModel) -> PlatformModel:
    """A mistake: the artifact store's bucket and key policies grant the dev account."""
    config = model.config
    tooling = tooling_account(model)
    dev = f"arn:aws:iam::{config.account_id(Environment.DEV)}:root"
    bucket = names.artifact_bucket(config.organization.name, tooling)
    account, policy = model.buckets[bucket]
    assert policy is not None
    grant = {
        "Sid": "MistakeGrantsDev",
        "Effect": "Allow",
        "Principal": {"AWS": dev},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    bucket_policy = NamedPolicy(
        policy.name, {**policy.document, "Statement": [*policy.document["Statement"], grant]}
    )
    key_id = (TOOLING, "pipelines/artifact-key/key")
    key_account, key_arn, key_policy = model.keys[key_id]
    key_grant = {
        "Sid": "MistakeGrantsDev",
        "Effect": "Allow",
        "Principal": {"AWS": dev},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    key_policy = NamedPolicy(
        key_policy.name,
        {**key_policy.document, "Statement": [*key_policy.document["Statement"], key_grant]},
    )
    return replace(
        model,
        buckets={**model.buckets, bucket: (account, bucket_policy)},
        keys={**model.keys, key_id: (key_account, key_arn, key_policy)},
    )


def pipeline_attacks(model: PlatformModel) -> list[Attack]:
    """Attacks on the pipelines, each with the mistake it exploits, deciding for itself."""

    if not projects(model):
        return []
    project = projects(model)[0]
    dev_root = f"arn:aws:iam::{model.config.account_id(Environment.DEV)}:root"
    ds = Persona.DATA_SCIENTIST
    attacks = [
        Attack(
            "data scientist assumes a prd deployer role whose trust was loosened to dev",
            ds,
            Environment.PRD,
            "assume-prd-deployer",
            loosen_deployer_trust(project, Environment.PRD, dev_root, keep=True),
        ),
        Attack(
            "data scientist reads release artifacts that the artifact store mistakenly "
            "grants to dev",
            ds,
            Environment.PRD,
            "read-release-artifacts",
            grant_artifacts_to_dev,
        ),
        Attack(
            "data scientist approves a prd release through a tooling role whose trust was "
            "loosened to dev",
            ds,
            Environment.PRD,
            "approve-prd-release",
            _loosen_tooling_role(Persona.ML_ENGINEER),
        ),
        Attack(
            "data scientist edits the prd pipeline through a tooling role whose trust was "
            "loosened to dev",
            ds,
            Environment.PRD,
            "edit-prd-pipeline",
            _loosen_tooling_role(Persona.BREAK_GLASS),
        ),
    ]
    return [replace(a, decide=pipeline_attack_allowed) for a in attacks]
