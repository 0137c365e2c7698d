"""The platform's own pipeline, proved from the synthesized policies.

Why and how: docs/design-notes.md, section ndap_infra/proofs/platform_pipeline.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ndap_infra.config.enums import TOOLING, AnyPersona, Persona
from ndap_infra.evaluator import NamedPolicy, Principal, Resource, principal_for
from ndap_infra.names import pipelines as names
from ndap_infra.names.platform import deployer_pattern, trail_name
from ndap_infra.pipelines.platform import (
    PLAN_ARTIFACT,
    PlatformPipelineSpec,
    platform_pipeline_spec,
)
from ndap_infra.proofs.access_model import PlatformModel
from ndap_infra.proofs.pipelines import Goal, achieves, identity_principals, persona_principals
from ndap_infra.proofs.trusts import assumers, every_principal


@dataclass(frozen=True)
class PlatformAction:
    name: str
    description: str


TOOLING_ACTIONS: tuple[PlatformAction, ...] = (
    PlatformAction("start-pipeline", "codepipeline:StartPipelineExecution on <org>-platform"),
    PlatformAction("approve-plan", "codepipeline:PutApprovalResult on its approval action"),
    PlatformAction("edit-pipeline", "codepipeline:UpdatePipeline on <org>-platform"),
    PlatformAction("edit-apply-build", "codebuild:UpdateProject on <org>-platform-apply"),
    PlatformAction(
        "start-apply-build", "codebuild:StartBuild on <org>-platform-apply, outside the pipeline"
    ),
    PlatformAction(
        "change-build-roles", "iam:PutRolePolicy on the plan and apply build roles (either)"
    ),
    PlatformAction(
        "read-plans",
        "s3:GetObject of a saved plan in the artifact store, and kms:Decrypt of it through S3",
    ),
    PlatformAction(
        "write-plans",
        "s3:PutObject of a saved plan in the artifact store, and kms:GenerateDataKey through S3",
    ),
)
STATE_ACTIONS: tuple[PlatformAction, ...] = (
    PlatformAction("read-state", "s3:GetObject of a stack's Terraform state"),
    PlatformAction("write-state", "s3:PutObject of a stack's Terraform state"),
)
ACCOUNT_ACTIONS: tuple[PlatformAction, ...] = (
    PlatformAction("assume-planner", "sts:AssumeRole into <org>-platform-planner (per stack)"),
    PlatformAction("assume-deployer", "sts:AssumeRole into <org>-platform-deployer (per stack)"),
)
OWN_ACCOUNT_ACTIONS: tuple[PlatformAction, ...] = (
    PlatformAction(
        "change-platform-roles",
        "iam:CreateRole under /ndap/ in the identity's own account (what an apply does)",
    ),
    PlatformAction(
        "stop-trail", "cloudtrail:StopLogging of the baseline trail in the identity's own account"
    ),
)
TOOLING_ADMIN = frozenset(a.name for a in TOOLING_ACTIONS)


@dataclass(frozen=True)
class PlatformCell:
    who: str
    action: str
    """An action name; per-stack actions carry the stack: ``assume-planner:env-prd``."""
    expected: bool
    allowed: bool
    via: str

    @property
    def ok(self) -> bool:
        return self.expected == self.allowed


def _spec(model: PlatformModel) -> PlatformPipelineSpec | None:
    return platform_pipeline_spec(model.config)


def _artifact_goal(model: PlatformModel, spec: PlatformPipelineSpec, write: bool) -> Goal:
    org = model.config.organization.name
    region = model.config.organization.home_region
    bucket = spec.artifact_bucket
    key = f"{names.artifact_prefix(spec.pipeline)}/{PLAN_ARTIFACT[:20]}/abc123.zip"
    context = {
        "kms:ViaService": f"s3.{region}.amazonaws.com",
        "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}/{key}",
        "kms:ResourceAliases": [names.artifact_key_alias(org)],
    }
    artifact_key = model.key(TOOLING, "pipelines/artifact-key/key")
    return Goal(
        (
            ("s3:PutObject" if write else "s3:GetObject", model.bucket_object(bucket, key), {}),
            ("kms:GenerateDataKey" if write else "kms:Decrypt", artifact_key, context),
        )
    )


def _state_goal(model: PlatformModel, spec: PlatformPipelineSpec, write: bool) -> Goal:
    assert spec.state_bucket is not None
    policy = spec.state_bucket_policy()
    assert policy is not None
    key = spec.state_keys[-1]
    resource = Resource(
        f"arn:aws:s3:::{spec.state_bucket}/{key}",
        model.config.organization.management_account_id,
        "s3",
        NamedPolicy("platform-pipeline/state-bucket-policy.json", policy.to_dict()),
    )
    return Goal((("s3:PutObject" if write else "s3:GetObject", resource, {}),))


def goal(model: PlatformModel, spec: PlatformPipelineSpec, action: str, account: str) -> Goal:
    """``account``: the stack's account (per-stack actions) or the identity's own."""
    region, tooling = spec.region, spec.tooling
    if action in ("start-pipeline", "edit-pipeline"):
        api = "StartPipelineExecution" if action == "start-pipeline" else "UpdatePipeline"
        return Goal(((f"codepipeline:{api}", Resource(spec.pipeline_arn, tooling), {}),))
    if action == "approve-plan":
        return Goal((("codepipeline:PutApprovalResult", Resource(spec.approval_arn, tooling), {}),))
    if action in ("edit-apply-build", "start-apply-build"):
        api = "UpdateProject" if action == "edit-apply-build" else "StartBuild"
        arn = spec.project_arn(spec.apply_project)
        return Goal(((f"codebuild:{api}", Resource(arn, tooling), {}),))
    if action == "change-build-roles":
        return Goal(
            alternatives=tuple(
                Goal((("iam:PutRolePolicy", Resource(arn, tooling), {}),))
                for arn in (spec.plan_role_arn, spec.apply_role_arn)
            )
        )
    if action in ("read-plans", "write-plans"):
        return _artifact_goal(model, spec, action == "write-plans")
    if action in ("read-state", "write-state"):
        return _state_goal(model, spec, action == "write-state")
    if action == "assume-planner":
        return Goal(assume=model.roles[spec.planner_arn(account)])
    if action == "assume-deployer":
        return Goal(assume=model.roles[spec.deployer_arn(account)])
    if action == "change-platform-roles":
        arn = f"arn:aws:iam::{account}:role/ndap/platform/new-role"
        return Goal((("iam:CreateRole", Resource(arn, account), {}),))
    if action == "stop-trail":
        arn = f"arn:aws:cloudtrail:{region}:{account}:trail/{trail_name(spec.org)}"
        return Goal((("cloudtrail:StopLogging", Resource(arn, account), {}),))
    raise KeyError(action)


def _persona_allows(spec: PlatformPipelineSpec, persona: AnyPersona) -> frozenset[str]:
    """Written from the model: approvers approve; the tooling account's administrators
    (break-glass, and the platform's deployment identity through the account access
    role) administer the pipeline, its builds and artifacts, but no person becomes a
    planner or a deployer; only the account access role changes the build roles (the
    organization-integrity SCP keeps break-glass from it)."""
    if persona is Persona.BREAK_GLASS:
        return TOOLING_ADMIN - {"change-build-roles"}
    if persona is Persona.DEPLOYER:
        return TOOLING_ADMIN
    return frozenset({"approve-plan"}) if persona in spec.approvers else frozenset()


@dataclass(frozen=True)
class PlatformQuestion:
    """A cell of the platform pipeline's table before it is evaluated: the proof answers
    every one, ``ndap explain`` only those it is asked about (the same evaluation)."""

    who: str
    action: str
    """As in PlatformCell."""
    account: str
    """Where the action is asked."""
    expected: bool
    principals: Callable[[], Sequence[tuple[str, Principal]]] = field(compare=False, repr=False)

    def answer(self, model: PlatformModel, spec: PlatformPipelineSpec) -> PlatformCell:
        target = goal(model, spec, self.action.split(":")[0], self.account)
        via = next((v for v, p in self.principals() if achieves(model, p, target)), None)
        return PlatformCell(self.who, self.action, self.expected, via is not None, via or "")


def _questions(
    spec: PlatformPipelineSpec,
    who: str,
    principals: Callable[[], Sequence[tuple[str, Principal]]],
    allowed: frozenset[str],
    own_account: str | None,
) -> list[PlatformQuestion]:
    asked: list[tuple[str, str]] = [(a.name, spec.tooling) for a in TOOLING_ACTIONS]
    if spec.state_bucket is not None:
        asked += [(a.name, spec.tooling) for a in STATE_ACTIONS]
    asked += [
        (f"{a.name}:{stack}", account) for a in ACCOUNT_ACTIONS for stack, account in spec.stacks
    ]
    if own_account is not None:
        asked += [(a.name, own_account) for a in OWN_ACCOUNT_ACTIONS]
    return [
        PlatformQuestion(
            who,
            name,
            account,
            name in allowed or name.split(":")[0] in allowed,
            principals,
        )
        for name, account in asked
    ]


def _role(model: PlatformModel, arn: str) -> Callable[[], Sequence[tuple[str, Principal]]]:
    return identity_principals(model.roles[arn])


def platform_questions(model: PlatformModel) -> list[PlatformQuestion]:
    """Question 1's cells, unevaluated (none without a platform pipeline)."""
    spec = _spec(model)
    if spec is None:
        return []
    questions: list[PlatformQuestion] = []
    for persona in model.config.all_personas():
        questions += _questions(
            spec,
            persona.value,
            persona_principals(model, persona),
            _persona_allows(spec, persona),
            None,
        )
    state = {"read-state", "write-state"} if spec.state_bucket else set()
    questions += _questions(
        spec,
        "plan build role",
        _role(model, spec.plan_role_arn),
        frozenset({"read-plans", "write-plans", "assume-planner"} | (state - {"write-state"})),
        None,
    )
    questions += _questions(
        spec,
        "apply build role",
        _role(model, spec.apply_role_arn),
        frozenset({"read-plans", "assume-deployer"} | state),
        None,
    )
    for stack, account in spec.stacks:
        questions += _questions(
            spec,
            f"planner in {stack}",
            _role(model, spec.planner_arn(account)),
            frozenset(),
            account,
        )
        # A deployer does what applying its stack needs, in its own account; the tooling
        # account's deployer applies the tooling stack, which holds this pipeline.
        deployer_allows = {"change-platform-roles", "stop-trail"}
        if account == spec.tooling:
            deployer_allows |= TOOLING_ADMIN
        questions += _questions(
            spec,
            f"deployer in {stack}",
            _role(model, spec.deployer_arn(account)),
            frozenset(deployer_allows),
            account,
        )
    return questions


def prove_platform_actions(model: PlatformModel) -> list[PlatformCell]:
    """Question 1."""
    spec = _spec(model)
    if spec is None:
        return []
    return [question.answer(model, spec) for question in platform_questions(model)]


# ---- who can assume each planner and deployer ---------------------------------------------


@dataclass(frozen=True)
class PlatformTrust:
    role: str
    expected: str
    assumers: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.assumers == (self.expected,)


def check_platform_trust(model: PlatformModel) -> list[PlatformTrust]:
    """Question 2."""
    spec = _spec(model)
    if spec is None:
        return []
    principals = every_principal(model)
    checks = []
    for account in spec.accounts:
        for role, builder in (
            (spec.planner_arn(account), spec.plan_role_arn),
            (spec.deployer_arn(account), spec.apply_role_arn),
        ):
            checks.append(
                PlatformTrust(role, builder, assumers(model, model.roles[role], principals))
            )
    return checks


# ---- negative controls ----------------------------------------------------------------------

Mutation = Callable[[PlatformModel], PlatformModel]


def replace_trust(arn: str, statement: Mapping[str, object]) -> Mutation:
    """A mistake: the role's trust is ``statement`` instead of what was synthesized."""

    def mutate(model: PlatformModel) -> PlatformModel:
        role = model.roles[arn]
        trust = role.trust_policy
        document = {**trust.document, "Statement": [statement]}
        return model.with_roles(
            {arn: replace(role, trust_policy=NamedPolicy(trust.name, document))}
        )

    return mutate


@dataclass(frozen=True)
class PlatformControl:
    name: str
    check: PlatformTrust

    @property
    def ok(self) -> bool:
        return not self.check.ok  # the loosened trust must be caught

    def render(self) -> str:
        others = [a for a in self.check.assumers if a != self.check.expected]
        verdict = (
            f"the proof fails (as expected): also assumable by {', '.join(others[:3])}"
            + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            if self.ok
            else "the proof still passes (NOT AS EXPECTED)"
        )
        return f"- {self.name}: {verdict}"


def platform_controls(model: PlatformModel) -> list[PlatformControl]:
    """Question 3: each loosened trust must make question 2 fail for that role."""
    spec = _spec(model)
    if spec is None:
        return []
    prd = spec.stacks[-1][1]
    planner, deployer = spec.planner_arn(prd), spec.deployer_arn(prd)
    cases = (
        (
            f"the planner in {spec.stacks[-1][0]} trusts the tooling account root instead of "
            "the plan build role",
            planner,
            spec.plan_role_arn,
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{spec.tooling}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": spec.tooling}},
            },
        ),
        (
            f"the deployer in {spec.stacks[-1][0]} trusts principal * without aws:PrincipalAccount",
            deployer,
            spec.apply_role_arn,
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
        ),
    )
    controls = []
    for name, arn, expected, statement in cases:
        mutated = replace_trust(arn, statement)(model)
        found = assumers(mutated, mutated.roles[arn], every_principal(mutated))
        controls.append(PlatformControl(name, PlatformTrust(arn, expected, found)))
    return controls


def guardrails_without_the_deployer(model: PlatformModel) -> PlatformModel:
    """A mistake: the guardrails' exceptions for the platform's deployment identity name
    the account access role only (the deployer pattern removed from every SCP)."""
    spec = _spec(model)
    assert spec is not None
    pattern = deployer_pattern(spec.org)

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value if v != pattern]
        return value

    org = model.organization
    scps = {
        level: tuple(NamedPolicy(p.name, strip(p.document)) for p in policies)
        for level, policies in org.scps.items()
    }
    return replace(model, organization=replace(org, scps=scps))


@dataclass(frozen=True)
class GuardrailControl:
    """The guardrails without the deployer's exception: the deployer must then be
    refused what an apply needs (the exception is what lets it through, nothing else)."""

    name: str
    refused: bool

    @property
    def ok(self) -> bool:
        return self.refused

    def render(self) -> str:
        verdict = (
            "the deployer is refused (as expected): the exception is load-bearing"
            if self.refused
            else "the deployer is still allowed (NOT AS EXPECTED)"
        )
        return f"- {self.name}: {verdict}"


def guardrail_control(model: PlatformModel) -> GuardrailControl:
    spec = _spec(model)
    assert spec is not None
    stack, account = spec.stacks[-1]
    mutated = guardrails_without_the_deployer(model)
    target = goal(mutated, spec, "change-platform-roles", account)
    allowed = achieves(mutated, principal_for(mutated.roles[spec.deployer_arn(account)]), target)
    return GuardrailControl(
        f"the guardrails except only the account access role: the deployer in {stack} "
        "creates a role under /ndap/",
        not allowed,
    )


@dataclass(frozen=True)
class PlatformProof:
    cells: tuple[PlatformCell, ...]
    trust: tuple[PlatformTrust, ...]
    controls: tuple[PlatformControl | GuardrailControl, ...]

    @property
    def ok(self) -> bool:
        return (
            all(c.ok for c in self.cells)
            and all(t.ok for t in self.trust)
            and all(c.ok for c in self.controls)
        )


def prove_platform_pipeline(model: PlatformModel) -> PlatformProof | None:
    if _spec(model) is None:
        return None
    return PlatformProof(
        tuple(prove_platform_actions(model)),
        tuple(check_platform_trust(model)),
        (*platform_controls(model), guardrail_control(model)),
    )
