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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ndap_infra.access.data import receives_data
from ndap_infra.config.enums import (
    PROTECTED_ENVIRONMENTS,
    Access,
    AnyPersona,
    DataSharingMode,
    Environment,
    Persona,
)
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
)
from ndap_infra.names.access import (
    account_access_role_arn,
    dataset_bucket_name,
)
from ndap_infra.names.platform import bucket_name, environment_stack, kms_alias
from ndap_infra.proofs.access_model import (
    PlatformModel,
)
from ndap_infra.proofs.principals import (
    Attack,
    Mutation,
    base_context,
    reachable_principals,
)


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
    Action("delete-production-data", "s3:DeleteObject on a production dataset (empties it)"),
    Action("change-data-lifecycle", "s3:PutLifecycleConfiguration on the datasets bucket"),
    Action("change-data-replication", "s3:PutReplicationConfiguration on the datasets bucket"),
    Action("change-data-acl", "s3:PutBucketAcl on the datasets bucket"),
    Action("delete-data-bucket", "s3:DeleteBucket on the datasets bucket"),
    Action("change-data-key-policy", "kms:PutKeyPolicy on the datasets key"),
    Action("repoint-data-key-alias", "kms:UpdateAlias on the datasets key's alias"),
)
DATA_STORE_CHANGES = {
    "change-data-lifecycle": ("s3:PutLifecycleConfiguration", "bucket"),
    "change-data-replication": ("s3:PutReplicationConfiguration", "bucket"),
    "change-data-acl": ("s3:PutBucketAcl", "bucket"),
    "delete-data-bucket": ("s3:DeleteBucket", "bucket"),
    "change-data-key-policy": ("kms:PutKeyPolicy", "key"),
    "repoint-data-key-alias": ("kms:UpdateAlias", "alias"),
}
"""The production-data stores' configuration (the dev replica, the acc copy, the prd
source): only the platform changes it (#21, finding 4)."""
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
    Access.READ_ONLY: {
        "read-working-data",
        "read-production-data",
        "read-reports",
        "describe-trail",
    },
    Access.SECURITY_AUDIT: {"describe-trail"},
    Access.UAT: {"invoke-endpoint", "read-reports"},
    Access.FULL: FULL_ALLOWS,
    Access.ADMIN: FULL_ALLOWS | {"write-production-data"},
    Access.DEPLOY: FULL_ALLOWS
    | set(DATA_STORE_CHANGES)
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


def expected(config: NdapConfig, persona: AnyPersona, env: Environment, action: str) -> bool | None:
    """What the model says; None where the action has no target in that environment."""
    if action in (
        "read-production-data",
        "write-production-data",
        "read-reports",
        "delete-production-data",
        *DATA_STORE_CHANGES,
    ) and not has_production_data(config, env):
        return None
    if action == "delete-production-data":
        return expected(config, persona, env, "write-production-data")
    access = config.access(persona, env)
    allowed = action in LEVEL_ALLOWS[access]
    if persona.is_data_scientist_like and action == "create-role-without-boundary":
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


def forbidden(config: NdapConfig, persona: AnyPersona, env: Environment, action: str) -> bool:
    """What invariant 2 forbids whatever the matrix says: a data-scientist-like persona
    may do nothing in acc or prd (but the built-in data scientist's configured read of
    named prd data). So a matrix that slipped past validation (a custom persona given
    acc access) cannot make an allowed cell there pass: the cell fails either way (the
    guardrails deny what the matrix grants, or, if they do not, the invariant does)."""
    if not persona.is_data_scientist_like or env not in PROTECTED_ENVIRONMENTS:
        return False
    exception = persona is Persona.DATA_SCIENTIST and action == "read-production-data"
    return not (exception and expected(config, persona, env, action))


# ---- evaluation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    action: str
    resource: Resource
    context: dict[str, str]
    assume: Role | None = None
    also: tuple[tuple[Resource, dict[str, str]], ...] = ()
    """Further resources the same action must be allowed on (AWS authorizes an alias
    change on the alias and on the key it points to, whose key policy then counts)."""


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
    if action == "delete-production-data":
        if datasets not in model.buckets:
            return None
        return Target(
            "s3:DeleteObject", model.bucket_object(datasets, f"{dataset}/part-0.parquet"), {}
        )
    if action in DATA_STORE_CHANGES:
        return _data_store_target(model, env, action, datasets)
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
        arn = (
            f"arn:aws:organizations::{management}:policy/o-example/service_control_policy/p-example"
        )
        return Target("organizations:UpdatePolicy", Resource(arn, management), {})
    raise KeyError(action)


def _data_store_target(
    model: PlatformModel, env: Environment, action: str, datasets: str
) -> Target | None:
    config = model.config
    verb, kind = DATA_STORE_CHANGES[action]
    if datasets not in model.buckets:
        return None
    if kind == "bucket":
        account, policy = model.buckets[datasets]
        return Target(verb, Resource(f"arn:aws:s3:::{datasets}", account, "s3", policy), {})
    stack = environment_stack(env)
    if (stack, DATASETS_KEY) not in model.keys:
        return None
    key = model.key(env, DATASETS_KEY)
    tags = {
        f"aws:ResourceTag/{tag}": value
        for tag, value in model.key_tags.get((stack, DATASETS_KEY), {}).items()
    }
    if kind == "key":
        return Target(verb, key, tags)
    region = config.organization.home_region
    alias = kms_alias(config.organization.name, env, "datasets")
    alias_arn = f"arn:aws:kms:{region}:{key.account_id}:{alias}"
    return Target(verb, Resource(alias_arn, key.account_id, "kms"), {}, also=((key, tags),))


DATASETS_KEY = "data-access/key/key"


@dataclass(frozen=True)
class Cell:
    persona: AnyPersona
    environment: Environment
    action: str
    expected: bool | None
    allowed: bool | None
    via: str
    decision: Decision | None
    forbidden: bool = False
    """Invariant 2 forbids an allow here, whatever ``expected`` says (``forbidden()``)."""

    @property
    def ok(self) -> bool:
        return self.expected == self.allowed and not (self.forbidden and self.allowed)


def decide(model: PlatformModel, principal: Principal, goal: Target) -> Decision:
    if goal.assume is not None:
        return can_assume(principal, goal.assume, model.organization, base_context(model.config))
    context = {**base_context(model.config), **goal.context}
    decision = evaluate(Request(principal, goal.action, goal.resource, context), model.organization)
    for resource, extra in goal.also:
        if not decision.allowed:
            break
        context = {**base_context(model.config), **extra}
        decision = evaluate(Request(principal, goal.action, resource, context), model.organization)
    return decision


def evaluate_cell(
    model: PlatformModel,
    principals: Sequence[tuple[str, Principal]],
    persona: AnyPersona,
    env: Environment,
    action: str,
) -> Cell:
    goal = target(model, env, action)
    want = expected(model.config, persona, env, action)
    if goal is None:
        return Cell(persona, env, action, want, None, "no such resource here", None)
    barred = forbidden(model.config, persona, env, action)
    first: Decision | None = None
    for via, principal in principals:
        decision = decide(model, principal, goal)
        first = first or decision
        if decision.allowed:
            return Cell(persona, env, action, want, True, via, decision, barred)
    return Cell(persona, env, action, want, False, "no principal reached is allowed", first, barred)


def prove(model: PlatformModel, personas: Iterable[AnyPersona] | None = None) -> list[Cell]:
    """Every cell of every persona (default: the built-in and the custom ones)."""
    cells = []
    for persona in model.config.all_personas() if personas is None else personas:
        principals = reachable_principals(model, persona)
        for env in model.config.enabled_environments():
            for action in ACTION_NAMES:
                cells.append(evaluate_cell(model, principals, persona, env, action))
    return cells


# ---- negative controls: which layers hold each attack ---------------------------------


def _policy(name: str, document: dict[str, Any]) -> NamedPolicy:
    return NamedPolicy(name, document)


def without_org_policy(suffix: str) -> Mutation:
    """Drop every SCP/RCP whose reviewer file ends with ``suffix`` from every level."""

    def mutate(model: PlatformModel) -> PlatformModel:
        org = model.organization

        def keep(
            attached: Mapping[str, tuple[NamedPolicy, ...]],
        ) -> dict[str, tuple[NamedPolicy, ...]]:
            return {
                lvl: tuple(p for p in ps if not p.name.endswith(suffix))
                for lvl, ps in attached.items()
            }

        return replace(model, organization=replace(org, scps=keep(org.scps), rcps=keep(org.rcps)))

    return mutate


def without_boundaries(model: PlatformModel) -> PlatformModel:
    roles = {arn: replace(role, permission_boundary=None) for arn, role in model.roles.items()}
    return replace(model, roles=roles, boundaries_removed=True)


def _strip(policy: NamedPolicy | None, sid_prefixes: tuple[str, ...]) -> NamedPolicy | None:
    if policy is None:
        return None
    statements = [
        s
        for s in policy.document["Statement"]
        if not str(s.get("Sid", "")).startswith(sid_prefixes)
    ]
    return _policy(policy.name, {**policy.document, "Statement": statements})


def without_resource_denials(model: PlatformModel) -> PlatformModel:
    """Strip the deny statements aimed at lower environments and data scientists, and the
    data stores' configuration denials, from every bucket and key policy."""
    prefixes = (
        "DenyLowerEnvironments",
        "DenyDataScientistsBy",
        "DenyNonProduction",
        "OnlyThePlatformConfigures",
    )
    buckets = {b: (acct, _strip(p, prefixes)) for b, (acct, p) in model.buckets.items()}
    keys = {k: (acct, arn, _strip(p, prefixes) or p) for k, (acct, arn, p) in model.keys.items()}
    return replace(model, buckets=buckets, keys=keys)


@dataclass(frozen=True)
class Layer:
    name: str
    remove: Mutation


LAYERS: tuple[Layer, ...] = (
    Layer("data-scientist permission boundary", without_boundaries),
    Layer(
        "SCP dev-stays-out-of-acc-prd (dev unit)",
        without_org_policy("dev-stays-out-of-acc-prd.json"),
    ),
    Layer(
        "SCP deny-data-scientists (acc/prd/tooling units)",
        without_org_policy("deny-data-scientists.json"),
    ),
    Layer(
        "RCP protect-acc-prd-resources (acc/prd units)",
        without_org_policy("protect-acc-prd-resources.json"),
    ),
    Layer(
        "RCP protect-tooling-resources (tooling unit)",
        without_org_policy("protect-tooling-resources.json"),
    ),
    Layer("bucket and key policy denials", without_resource_denials),
    Layer(
        "SCP organization-integrity (all units)", without_org_policy("organization-integrity.json")
    ),
    Layer("SCP protect-baseline (all units)", without_org_policy("protect-baseline.json")),
)


def is_people_role(arn: str) -> bool:
    """Persona roles (iam-roles) and the roles Identity Center provisions."""
    return "/ndap/personas/" in arn or "/aws-reserved/sso.amazonaws.com/" in arn


def loosen_prd_trust_to_dev(model: PlatformModel) -> PlatformModel:
    """A mistake: a prd persona role's trust also names the dev account."""
    config = model.config
    dev = config.account_id(Environment.DEV)
    prd = config.account_id(Environment.PRD)
    roles = dict(model.roles)
    for arn, role in model.roles.items():
        if role.account_id == prd and is_people_role(arn):
            trust = role.trust_policy
            statement = {
                "Sid": "MistakeTrustsDev",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{dev}:root"},
                "Action": "sts:AssumeRole",
            }
            document = {**trust.document, "Statement": [*trust.document["Statement"], statement]}
            roles[arn] = replace(role, trust_policy=_policy(trust.name, document))
    return replace(model, roles=roles)


def grant_prd_data_to_dev(model: PlatformModel) -> PlatformModel:
    """A mistake: the prd datasets bucket policy grants the dev account read access."""
    config = model.config
    dev = config.account_id(Environment.DEV)
    prd = config.account_id(Environment.PRD)
    bucket = dataset_bucket_name(config.organization.name, Environment.PRD, prd)
    account, policy = model.buckets[bucket]
    statement = {
        "Sid": "MistakeGrantsDev",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{dev}:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    assert policy is not None
    document = {**policy.document, "Statement": [*policy.document["Statement"], statement]}
    return replace(
        model, buckets={**model.buckets, bucket: (account, _policy(policy.name, document))}
    )


ATTACKS: tuple[Attack, ...] = (
    Attack(
        "data scientist assumes a prd role whose trust was loosened to dev",
        Persona.DATA_SCIENTIST,
        Environment.PRD,
        "assume-persona-role",
        loosen_prd_trust_to_dev,
    ),
    Attack(
        "data scientist reads prd data that a bucket policy mistakenly grants to dev",
        Persona.DATA_SCIENTIST,
        Environment.PRD,
        "read-production-data",
        grant_prd_data_to_dev,
    ),
    Attack(
        "data scientist creates a role without the boundary",
        Persona.DATA_SCIENTIST,
        Environment.DEV,
        "create-role-without-boundary",
    ),
    Attack(
        "data scientist changes a platform role in dev",
        Persona.DATA_SCIENTIST,
        Environment.DEV,
        "change-platform-role",
    ),
    Attack(
        "data scientist stops the trail in dev",
        Persona.DATA_SCIENTIST,
        Environment.DEV,
        "stop-trail",
    ),
    Attack(
        "data scientist deletes the dev replica bucket (to recreate it as theirs)",
        Persona.DATA_SCIENTIST,
        Environment.DEV,
        "delete-data-bucket",
    ),
    Attack(
        "data scientist expires the dev replica with a lifecycle rule",
        Persona.DATA_SCIENTIST,
        Environment.DEV,
        "change-data-lifecycle",
    ),
    Attack(
        "data scientist repoints the dev replica's key alias",
        Persona.DATA_SCIENTIST,
        Environment.DEV,
        "repoint-data-key-alias",
    ),
)


@dataclass(frozen=True)
class ControlResult:
    attack: Attack
    denied_with_all_layers: bool
    holding_layers: tuple[str, ...]  # removing any one of these alone does not flip it
    sole_layers: tuple[str, ...]  # removing this one alone flips it (load-bearing)
    flips_without_all: bool  # with every layer removed, the attack succeeds

    def render(self) -> str:
        if not self.denied_with_all_layers:
            return f"- {self.attack.name}: SUCCEEDS with every layer in place"
        if self.sole_layers:
            held = f"load-bearing: {', '.join(self.sole_layers)}"
        else:
            held = "each of these alone stops it: " + ", ".join(self.relevant)
        tail = (
            "succeeds once all are removed"
            if self.flips_without_all
            else "stays denied even with all removed (no grant exists)"
        )
        return f"- {self.attack.name}: denied; {held}; {tail}"

    @property
    def relevant(self) -> tuple[str, ...]:
        return self.holding_layers


def _attack_allowed(model: PlatformModel, attack: Attack) -> bool:
    if attack.decide is not None:
        return attack.decide(model, attack.persona, attack.action)
    principals = reachable_principals(model, attack.persona)
    if attack.action == "assume-persona-role":
        prd = model.config.account_id(attack.environment)
        targets = [
            r for arn, r in model.roles.items() if r.account_id == prd and is_people_role(arn)
        ]
        return any(
            can_assume(p, role, model.organization, base_context(model.config)).allowed
            for _, p in principals
            for role in targets
        )
    return bool(
        evaluate_cell(model, principals, attack.persona, attack.environment, attack.action).allowed
    )


def negative_controls(model: PlatformModel, extra: Sequence[Attack] = ()) -> list[ControlResult]:
    """Each attack (the persona attacks, then ``extra``: the pipeline proof's) denied, and
    which layers hold it."""
    results = []
    for attack in (*ATTACKS, *extra):
        base = attack.setup(model) if attack.setup else model
        denied = not _attack_allowed(base, attack)
        flips_alone = []
        for layer in LAYERS:
            if _attack_allowed(layer.remove(base), attack):
                flips_alone.append(layer.name)
        # Which layers each stop it on their own: remove all others, keep this one.
        sufficient = []
        for layer in LAYERS:
            stripped = base
            for other in LAYERS:
                if other is not layer:
                    stripped = other.remove(stripped)
            if not _attack_allowed(stripped, attack):
                sufficient.append(layer.name)
        everything_removed = base
        for layer in LAYERS:
            everything_removed = layer.remove(everything_removed)
        results.append(
            ControlResult(
                attack,
                denied,
                tuple(sufficient),
                tuple(flips_alone),
                _attack_allowed(everything_removed, attack),
            )
        )
    return results
