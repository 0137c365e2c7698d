"""The access proof: persona x environment x action, evaluated from the synthesized
policies, against a table of expected decisions written from the model.

For each persona we start from a person of that persona in the identity account (or the
platform's deployment identity, for the deployer), follow every role-assumption chain the
policies allow (including a role a data scientist could create in dev: it must carry their
boundary, and trusts anything in dev), and ask whether *any* principal reached can perform
the action on a representative resource of the environment. So a cell is "can this persona,
by any path, do this there", which is what the invariants speak about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ndap_infra.access.data import receives_data
from ndap_infra.access.names import (
    account_access_role_arn,
    boundary_policy_arn,
    dataset_bucket_name,
)
from ndap_infra.checks.access_model import (
    ADMINISTRATOR,
    PlatformModel,
    identity_user,
    pipeline_principal,
)
from ndap_infra.config.enums import Access, DataSharingMode, Environment, Persona
from ndap_infra.config.model import NdapConfig
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
    reachable_roles,
)
from ndap_infra.naming import bucket_name

def base_context(config: NdapConfig) -> dict[str, str]:
    """What every modelled request carries: MFA (people sign in with it) and the home
    region (where the platform runs)."""
    return {
        "aws:MultiFactorAuthPresent": "true",
        "aws:RequestedRegion": config.organization.home_region,
    }


@dataclass(frozen=True)
class Action:
    """A representative action in an environment."""

    name: str
    description: str


ACTIONS: tuple[Action, ...] = (
    Action("read-production-data", "s3:GetObject on a production dataset in the environment"),
    Action("write-production-data", "s3:PutObject on a production dataset in the environment"),
    Action("read-working-data", "s3:GetObject in the environment's data bucket"),
    Action("write-working-data", "s3:PutObject in the environment's data bucket"),
    Action("create-training-job", "sagemaker:CreateTrainingJob"),
    Action("create-endpoint", "sagemaker:CreateEndpoint"),
    Action("invoke-endpoint", "sagemaker:InvokeEndpoint"),
    Action("read-reports", "s3:GetObject under reports/ of the datasets bucket"),
    Action("describe-trail", "cloudtrail:DescribeTrails (security configuration)"),
    Action("create-role-without-boundary", "iam:CreateRole without the boundary"),
    Action("change-platform-role", "iam:UpdateAssumeRolePolicy on a baseline role"),
    Action("assume-deployer-role", "sts:AssumeRole into the platform's deployment role"),
    Action("pass-deployer-role", "iam:PassRole of the platform's deployment role"),
    Action("stop-trail", "cloudtrail:StopLogging on the baseline trail"),
    Action("decrypt-data-key", "kms:Decrypt directly with the data key"),
    Action("decrypt-logs-key", "kms:Decrypt directly with the baseline logs key"),
    Action("change-scp", "organizations:UpdatePolicy on a service control policy"),
)
ACTION_NAMES = tuple(a.name for a in ACTIONS)


# ---- expected decisions, written from the model (not from evaluation) ----------------

FULL_ALLOWS = {
    "read-working-data",
    "write-working-data",
    "create-training-job",
    "create-endpoint",
    "invoke-endpoint",
    "read-reports",
    "describe-trail",
    "create-role-without-boundary",
    "decrypt-data-key",
    "decrypt-logs-key",
    "read-production-data",
}
LEVEL_ALLOWS: dict[Access, set[str]] = {
    Access.NONE: set(),
    Access.READ_ONLY: {"read-working-data", "read-production-data", "read-reports", "describe-trail"},
    Access.SECURITY_AUDIT: {"describe-trail"},
    Access.UAT: {"invoke-endpoint", "read-reports"},
    Access.FULL: FULL_ALLOWS,
    Access.ADMIN: FULL_ALLOWS | {"write-production-data"},
    Access.DEPLOY: FULL_ALLOWS
    | {
        "write-production-data",
        "assume-deployer-role",
        "pass-deployer-role",
        "change-platform-role",
        "stop-trail",
    },
}


def has_production_data(config: NdapConfig, env: Environment) -> bool:
    return receives_data(config, env)


def expected(config: NdapConfig, persona: Persona, env: Environment, action: str) -> bool | None:
    """What the model says; None where the action has no target in that environment."""
    if action in ("read-production-data", "write-production-data", "read-reports") and not (
        has_production_data(config, env)
    ):
        return None
    access = config.access(persona, env)
    allowed = action in LEVEL_ALLOWS[access]
    if persona is Persona.DATA_SCIENTIST and action == "create-role-without-boundary":
        allowed = False  # the boundary: every role they create carries it
    if action == "write-production-data" and env is not Environment.PRD:
        allowed = False  # the dev replica and the acc copy are written by replication only
    if (
        persona is Persona.DATA_SCIENTIST
        and env is Environment.PRD
        and action == "read-production-data"
        and config.data.sharing_mode is DataSharingMode.CROSS_ACCOUNT_READ
        and config.data.datasets
    ):
        allowed = True  # the configured, read-only cross-account exception
    return allowed


# ---- evaluation ------------------------------------------------------------------------


def data_scientist_created_role(model: PlatformModel) -> Role:
    """What a data scientist could create in dev: any trust within dev, full access, and
    (necessarily) their boundary."""
    config = model.config
    dev = config.account_id(Environment.DEV)
    ds_roles = [r for r in model.roles.values() if r.permission_boundary is not None and r.account_id == dev]
    boundary = ds_roles[0].permission_boundary if ds_roles else None
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{dev}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    return Role(
        arn=f"arn:aws:iam::{dev}:role/created-by-a-data-scientist",
        account_id=dev,
        trust_policy=NamedPolicy("hypothetical/role-created-in-dev-trust.json", trust),
        identity_policies=(NamedPolicy("hypothetical/role-created-in-dev-access.json", ADMINISTRATOR),),
        permission_boundary=boundary,
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


@dataclass(frozen=True)
class Target:
    action: str
    resource: Resource
    context: dict[str, str]
    assume: Role | None = None


def target(model: PlatformModel, env: Environment, action: str) -> Target | None:
    config = model.config
    org = config.organization.name
    region = config.organization.home_region
    account = config.account_id(env)
    data = bucket_name(org, env, "data", account)
    datasets = dataset_bucket_name(org, env, account)
    dataset = config.data.datasets[0].name if config.data.datasets else "dataset"
    trail = f"arn:aws:cloudtrail:{region}:{account}:trail/{org}-baseline"
    access_role = account_access_role_arn(account, config.organization.account_access_role)

    def plain(arn: str) -> Resource:
        return Resource(arn, account)

    if action in ("read-production-data", "write-production-data", "read-reports"):
        if datasets not in model.buckets:
            return None
        key = "reports/summary.csv" if action == "read-reports" else f"{dataset}/part-0.parquet"
        verb = "s3:PutObject" if action == "write-production-data" else "s3:GetObject"
        return Target(verb, model.bucket_object(datasets, key), {})
    if action in ("read-working-data", "write-working-data"):
        verb = "s3:PutObject" if action == "write-working-data" else "s3:GetObject"
        return Target(verb, model.bucket_object(data, "features/x.parquet"), {})
    sagemaker = f"arn:aws:sagemaker:{region}:{account}"
    simple = {
        "create-training-job": ("sagemaker:CreateTrainingJob", f"{sagemaker}:training-job/probe"),
        "create-endpoint": ("sagemaker:CreateEndpoint", f"{sagemaker}:endpoint/probe"),
        "invoke-endpoint": ("sagemaker:InvokeEndpoint", f"{sagemaker}:endpoint/probe"),
        "describe-trail": ("cloudtrail:DescribeTrails", trail),
        "stop-trail": ("cloudtrail:StopLogging", trail),
        "create-role-without-boundary": ("iam:CreateRole", f"arn:aws:iam::{account}:role/new-role"),
        "change-platform-role": (
            "iam:UpdateAssumeRolePolicy",
            f"arn:aws:iam::{account}:role/{org}-baseline-cloudtrail",
        ),
        "pass-deployer-role": ("iam:PassRole", access_role),
    }
    if action in simple:
        verb, arn = simple[action]
        return Target(verb, plain(arn), {})
    if action == "assume-deployer-role":
        role = model.roles[access_role]
        return Target("sts:AssumeRole", role.as_resource(), {}, assume=role)
    if action == "decrypt-data-key":
        return Target("kms:Decrypt", model.key(env, "data-key/key"), {})
    if action == "decrypt-logs-key":
        return Target("kms:Decrypt", model.key(env, "baseline/logs-key/key"), {})
    if action == "change-scp":
        management = config.organization.management_account_id
        arn = f"arn:aws:organizations::{management}:policy/o-example/service_control_policy/p-example"
        return Target("organizations:UpdatePolicy", Resource(arn, management), {})
    raise KeyError(action)


@dataclass(frozen=True)
class Cell:
    persona: Persona
    environment: Environment
    action: str
    expected: bool | None
    allowed: bool | None
    via: str
    decision: Decision | None

    @property
    def ok(self) -> bool:
        return self.expected == self.allowed


def decide(model: PlatformModel, principal: Principal, goal: Target) -> Decision:
    if goal.assume is not None:
        return can_assume(principal, goal.assume, model.organization, base_context(model.config))
    context = {**base_context(model.config), **goal.context}
    return evaluate(Request(principal, goal.action, goal.resource, context), model.organization)


def evaluate_cell(
    model: PlatformModel,
    principals: Sequence[tuple[str, Principal]],
    persona: Persona,
    env: Environment,
    action: str,
) -> Cell:
    goal = target(model, env, action)
    want = expected(model.config, persona, env, action)
    if goal is None:
        return Cell(persona, env, action, want, None, "no such resource here", None)
    first: Decision | None = None
    for via, principal in principals:
        decision = decide(model, principal, goal)
        first = first or decision
        if decision.allowed:
            return Cell(persona, env, action, want, True, via, decision)
    return Cell(persona, env, action, want, False, "no principal reached is allowed", first)


def prove(model: PlatformModel, personas: Iterable[Persona] = tuple(Persona)) -> list[Cell]:
    cells = []
    for persona in personas:
        principals = reachable_principals(model, persona)
        for env in model.config.enabled_environments():
            for action in ACTION_NAMES:
                cells.append(evaluate_cell(model, principals, persona, env, action))
    return cells


# ---- negative controls: which layers hold each attack ---------------------------------

Mutation = Callable[[PlatformModel], PlatformModel]


@dataclass(frozen=True)
class Attack:
    name: str
    persona: Persona
    environment: Environment
    action: str
    setup: Mutation | None = None  # a mistake the attack exploits (e.g. a loosened trust)
