"""Probes: persona actions tried for real on the emulator, read with the emulator's limits.

Why and how: docs/design-notes.md, section ndap_infra/deploy/probes.py."""

from __future__ import annotations

import contextlib
import fnmatch
import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ndap_infra.config.enums import Environment, Persona
from ndap_infra.config.model import NdapConfig
from ndap_infra.emulator.lifecycle import EmulatorInfo, client
from ndap_infra.evaluator import Principal, Request, Resource, evaluate, principal_for
from ndap_infra.names.access import PERSONA_PATH, persona_role_arn
from ndap_infra.names.pipelines import deployer_role_arn
from ndap_infra.proofs import access as access_proof
from ndap_infra.proofs.access import Target, decide, target
from ndap_infra.proofs.access_model import build_model

if TYPE_CHECKING:
    from ndap_infra.evaluator import NamedPolicy, Role
    from ndap_infra.proofs.access_model import PlatformModel
    from ndap_infra.stacks.synthesis import Synthesis

PROBE_USER = "ndap-probe"

# (persona, environment, action of the access table)
PROBES: tuple[tuple[Persona, Environment, str], ...] = (
    (Persona.DATA_SCIENTIST, Environment.DEV, "read-working-data"),
    (Persona.DATA_SCIENTIST, Environment.DEV, "write-working-data"),
    (Persona.DATA_SCIENTIST, Environment.DEV, "read-production-data"),
    (Persona.DATA_SCIENTIST, Environment.DEV, "write-production-data"),
    (Persona.DATA_SCIENTIST, Environment.DEV, "create-role-without-boundary"),
    (Persona.DATA_SCIENTIST, Environment.DEV, "describe-trail"),
    (Persona.DATA_SCIENTIST, Environment.PRD, "read-working-data"),
    (Persona.DATA_SCIENTIST, Environment.PRD, "write-working-data"),
    (Persona.PLATFORM_ENGINEER, Environment.PRD, "read-working-data"),
    (Persona.PLATFORM_ENGINEER, Environment.PRD, "write-working-data"),
    (Persona.PLATFORM_ENGINEER, Environment.PRD, "create-role-without-boundary"),
    (Persona.PLATFORM_ENGINEER, Environment.PRD, "describe-trail"),
)


class ProbeError(RuntimeError):
    """The probes could not run (the message says why)."""


@dataclass(frozen=True)
class ProbeRow:
    who: str
    """A persona (``data-scientist``) or a pipeline identity (``fraud-scoring deployer``)."""
    environment: Environment
    action: str
    expected: bool | None
    observed: str  # "allowed", "denied" or "error: ..."
    witness: bool
    why: str

    @property
    def observed_allowed(self) -> bool | None:
        if self.observed == "allowed":
            return True
        if self.observed == "denied":
            return False
        return None

    @property
    def contradicts(self) -> bool:
        """A witnessable row where the emulator disagrees with the model."""
        return (
            self.witness
            and self.expected is not None
            and self.observed_allowed is not None
            and (self.observed_allowed != self.expected)
        )

    @property
    def verdict(self) -> str:
        if not self.witness:
            return "no evidence either way"
        if self.contradicts:
            return "DIFFERS from the model (identity policies)"
        if self.observed_allowed is None:
            return "inconclusive"
        return "agrees (identity policies only)"


# -- what the emulator can witness ------------------------------------------------------


def _statements(policy: NamedPolicy) -> list[Mapping[str, Any]]:
    statements = policy.document.get("Statement", [])
    return list(statements) if isinstance(statements, list) else [statements]


def _matches(patterns: Any, action: str) -> bool:
    values = [patterns] if isinstance(patterns, str) else list(patterns or [])
    return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in values)


def conditioned_statements(policies: Sequence[NamedPolicy], action: str) -> list[str]:
    """Statements concerning ``action`` that carry a condition (moto counts them as
    denials when it cannot match the condition)."""
    found = []
    for policy in policies:
        for index, statement in enumerate(_statements(policy)):
            if "Condition" not in statement:
                continue
            if "NotAction" in statement:
                concerned = not _matches(statement["NotAction"], action)
            else:
                concerned = _matches(statement.get("Action"), action)
            if concerned:
                found.append(f"{statement.get('Sid', index)} in {policy.name}")
    return found


# moto passes the request's resource ARN to its authorization check only for these
# services; for every other service it checks the action against resource "*".
RESOURCE_AWARE_SERVICES = frozenset({"s3", "iam", "sts", "sqs"})


def unscoped_only(policies: Sequence[NamedPolicy], action: str) -> list[str]:
    """Statements concerning ``action`` scoped to resources other than ``*`` (which moto
    cannot match for a service it checks against resource ``*``)."""
    found = []
    for policy in policies:
        for index, statement in enumerate(_statements(policy)):
            if "NotAction" in statement or not _matches(statement.get("Action"), action):
                continue
            resources = statement.get("Resource", statement.get("NotResource"))
            values = [resources] if isinstance(resources, str) else list(resources or [])
            if "NotResource" in statement or values != ["*"]:
                found.append(f"{statement.get('Sid', index)} in {policy.name}")
    return found


def witness(
    model: PlatformModel, persona: Persona, env: Environment, action: str
) -> tuple[bool, str]:
    """Can the emulator witness this persona row, and why (not)."""

    config = model.config
    role_arn = persona_role_arn(config.organization.name, persona, config.account_id(env))
    goal = target(model, env, action)
    if goal is None:
        return False, "no such resource in this environment"
    return witness_role(model, model.roles.get(role_arn), goal)


def witness_role(model: PlatformModel, role: Role | None, goal: Target) -> tuple[bool, str]:
    """Can the emulator witness ``role`` attempting ``goal``, and why (not)."""

    if role is None:
        return False, (
            "the persona has no role here; the emulator issues credentials for any role ARN "
            "(it checks no cross-account trust), so the attempt proves nothing"
        )
    full = decide(model, principal_for(role), goal)
    identity_only = evaluate(
        Request(
            Principal(
                arn=principal_for(role).arn,
                account_id=role.account_id,
                kind="role",
                identity_policies=role.identity_policies,
                role_arn=role.arn,
            ),
            goal.action,
            Resource(goal.resource.arn, goal.resource.account_id, goal.resource.service),
            goal.context,
        ),
        None,
    )
    if full.allowed != identity_only.allowed:
        layers = sorted({ref.layer for ref in full.deciding if ref.layer != "identity"})
        return False, (
            f"decided by {', '.join(layers) or 'a layer other than identity policies'}, which "
            "the emulator does not evaluate"
        )
    conditioned = conditioned_statements(role.identity_policies, goal.action)
    if conditioned:
        return False, (
            "identity statements with conditions the emulator cannot evaluate: "
            + "; ".join(conditioned[:2])
        )
    service = goal.action.split(":", 1)[0]
    scoped = unscoped_only(role.identity_policies, goal.action)
    if service not in RESOURCE_AWARE_SERVICES and scoped:
        return False, (
            f"the emulator checks {service} actions against resource '*', not the resource's "
            "ARN, so statements scoped to ARNs do not count there: " + "; ".join(scoped[:2])
        )
    policy = goal.resource.resource_policy
    if (
        policy is not None
        and goal.resource.service == "s3"
        and conditioned_statements([policy], goal.action)
    ):
        return False, (
            "the bucket policy has conditioned statements (TLS-only deny), which the "
            "emulator counts as denials for every object request"
        )
    return True, "decided by identity policies alone, without conditions"


# -- the pipeline deployers' rows ---------------------------------------------------------

# What a project's deployer role may do in its environment: manage its own project's
# SageMaker resources, nothing of another project, no IAM role of its own making, no
# reading of the audit trail's configuration. Written here (the model), checked against
# the evaluator in tests and against the emulator where it can witness.
DEPLOYER_ACTIONS: tuple[tuple[str, bool], ...] = (
    ("describe-own-project-model", True),
    ("describe-other-project-model", False),
    ("create-role-without-boundary", False),
    ("describe-trail", False),
)
DEPLOYER_ENVIRONMENTS = (Environment.DEV, Environment.ACC, Environment.PRD)


@dataclass(frozen=True)
class DeployerProbe:
    project: str
    environment: Environment
    action: str
    expected: bool
    role: Role | None
    goal: Target

    @property
    def who(self) -> str:
        return f"{self.project} deployer"


def deployer_probes(model: PlatformModel) -> list[DeployerProbe]:
    """The deployer rows: the first project (by name) in dev, acc and prd, against its own
    and the next project's SageMaker model, IAM and CloudTrail."""

    config = model.config
    projects = sorted(p.name for p in config.ml_projects)
    if not projects or config.tooling_account_id is None:
        return []
    project, other = projects[0], (projects[1] if len(projects) > 1 else None)
    region = config.organization.home_region
    found = []
    for env in DEPLOYER_ENVIRONMENTS:
        if env not in config.enabled_environments():
            continue
        account = config.account_id(env)
        role = model.roles.get(deployer_role_arn(config.organization.name, project, account))
        for action, expected in DEPLOYER_ACTIONS:
            if action.endswith("-project-model"):
                owner = project if action == "describe-own-project-model" else other
                if owner is None:
                    continue
                arn = f"arn:aws:sagemaker:{region}:{account}:model/{owner}-ndap-probe"
                goal: Target | None = Target(
                    "sagemaker:DescribeModel", Resource(arn, account, "sagemaker"), {}
                )
            else:
                goal = target(model, env, action)
            if goal is not None:
                found.append(DeployerProbe(project, env, action, expected, role, goal))
    return found


# -- attempting the actions -------------------------------------------------------------


def _set_auth(info: EmulatorInfo, count: str) -> None:
    request = urllib.request.Request(
        info.endpoint + "/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@contextlib.contextmanager
def authorization(info: EmulatorInfo) -> Iterator[None]:
    """moto's IAM authorization switched on for the duration (off again afterwards, so that
    deploys with dummy credentials keep working)."""
    _set_auth(info, "0")
    try:
        yield
    finally:
        _set_auth(info, "inf")


@dataclass(frozen=True)
class _Attempt:
    call: Callable[[Any], Any]
    service: str
    cleanup: Callable[[EmulatorInfo], None] | None = None
    not_found: frozenset[str] = frozenset({"NoSuchKey", "404"})
    """Error codes meaning the request was authorized and the thing is simply not there."""


def _attempt(model: PlatformModel, env: Environment, goal: Target, token: str) -> _Attempt | None:
    config = model.config
    account = config.account_id(env)
    region = config.organization.home_region
    if goal.action in ("s3:GetObject", "s3:PutObject"):
        bucket, key = goal.resource.arn.removeprefix("arn:aws:s3:::").split("/", 1)
        key = f"{key}.ndap-probe-{token}" if goal.action == "s3:PutObject" else key
        if goal.action == "s3:GetObject":
            return _Attempt(lambda c: c.get_object(Bucket=bucket, Key=key), "s3")

        def remove(info: EmulatorInfo) -> None:
            s3 = client(info, "s3", account_id=account, region=region)
            versions = s3.list_object_versions(Bucket=bucket, Prefix=key)
            for item in [*versions.get("Versions", []), *versions.get("DeleteMarkers", [])]:
                s3.delete_object(Bucket=bucket, Key=key, VersionId=item["VersionId"])

        return _Attempt(lambda c: c.put_object(Bucket=bucket, Key=key, Body=b"probe"), "s3", remove)
    if goal.action == "iam:CreateRole":
        name = f"ndap-probe-{token}"
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )

        def delete_role(info: EmulatorInfo) -> None:
            with contextlib.suppress(Exception):
                client(info, "iam", account_id=account).delete_role(RoleName=name)

        return _Attempt(
            lambda c: c.create_role(RoleName=name, AssumeRolePolicyDocument=trust),
            "iam",
            delete_role,
        )
    if goal.action == "cloudtrail:DescribeTrails":
        return _Attempt(lambda c: c.describe_trails(), "cloudtrail")
    if goal.action == "sagemaker:DescribeModel":
        model_name = goal.resource.arn.rsplit("/", 1)[1]
        # moto authorizes first; a model that does not exist then fails validation
        return _Attempt(
            lambda c: c.describe_model(ModelName=model_name),
            "sagemaker",
            not_found=frozenset({"ValidationException"}),
        )
    return None


DENIED_CODES = {"AccessDenied", "AccessDeniedException", "403", "UnauthorizedOperation"}


def _observe(
    attempt: _Attempt, credentials: Mapping[str, str], info: EmulatorInfo, region: str
) -> str:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
    made = session.client(
        attempt.service,
        endpoint_url=info.endpoint,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )
    try:
        attempt.call(made)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in DENIED_CODES:
            return "denied"
        if code in attempt.not_found:
            return "allowed"  # authorized; the object is simply not there
        return f"error: {code}"
    except BotoCoreError as error:
        return f"error: {type(error).__name__}"
    return "allowed"


def run_probes(info: EmulatorInfo, config: NdapConfig, synthesis: Synthesis) -> list[ProbeRow]:
    """Run every probe whose environment is deployed; the probe user and anything the
    probes created are removed afterwards."""
    from botocore.exceptions import ClientError

    model = build_model(config, synthesis.stack_json())
    identity = config.identity_account_id
    region = config.organization.home_region
    iam = client(info, "iam", account_id=identity)
    token = uuid.uuid4().hex[:8]
    user = f"{PROBE_USER}-{token}"
    enabled = {env for env in config.enabled_environments() if _deployed(info, config, env)}
    if not enabled:
        raise ProbeError(
            "no environment stack is deployed on the emulator (no persona role found): run "
            "`ndap deploy` first"
        )
    try:
        iam.create_user(UserName=user)
        iam.put_user_policy(
            UserName=user,
            PolicyName="assume-any-role",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName=user)["AccessKey"]
    except ClientError as error:
        raise ProbeError(f"could not create the probe user in {identity}: {error}") from None
    rows: list[ProbeRow] = []
    cleanups: list[Callable[[EmulatorInfo], None]] = []
    try:
        with authorization(info):
            sts_user = _client_with_keys(info, "sts", key, region)

            def attempt(who: str, env: Environment, action: str, role_arn: str,
                        goal: Target, want: bool | None, can: bool, why: str) -> None:  # fmt: skip
                tried = _attempt(model, env, goal, token)
                if tried is None:
                    return
                try:
                    credentials = sts_user.assume_role(
                        RoleArn=role_arn, RoleSessionName="ndap-probe"
                    )["Credentials"]
                except ClientError as error:
                    code = error.response.get("Error", {}).get("Code", "")
                    observed = "denied" if code in DENIED_CODES else f"error: {code}"
                else:
                    observed = _observe(tried, credentials, info, region)
                if tried.cleanup is not None and observed == "allowed":
                    cleanups.append(tried.cleanup)
                rows.append(ProbeRow(who, env, action, want, observed, can, why))

            for persona, env, action in PROBES:
                goal = target(model, env, action)
                if env not in enabled or goal is None:
                    continue
                can, why = witness(model, persona, env, action)
                role = persona_role_arn(config.organization.name, persona, config.account_id(env))
                want = access_proof.expected(config, persona, env, action)
                attempt(persona.value, env, action, role, goal, want, can, why)
            for probe in deployer_probes(model):
                if probe.environment not in enabled or probe.role is None:
                    continue
                can, why = witness_role(model, probe.role, probe.goal)
                attempt(probe.who, probe.environment, probe.action, probe.role.arn, probe.goal,
                        probe.expected, can, why)  # fmt: skip
    finally:
        for cleanup in cleanups:
            with contextlib.suppress(Exception):
                cleanup(info)
        with contextlib.suppress(Exception):
            iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
            iam.delete_user_policy(UserName=user, PolicyName="assume-any-role")
            iam.delete_user(UserName=user)
    return rows


def _deployed(info: EmulatorInfo, config: NdapConfig, env: Environment) -> bool:
    """True when the environment's persona roles exist on the emulator."""
    iam = client(info, "iam", account_id=config.account_id(env))
    return bool(iam.list_roles(PathPrefix=PERSONA_PATH, MaxItems=1).get("Roles"))


def _client_with_keys(info: EmulatorInfo, service: str, key: Mapping[str, str], region: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name=region,
    ).client(service, endpoint_url=info.endpoint, config=Config(retries={"max_attempts": 1}))


def render_probes(rows: Sequence[ProbeRow]) -> str:
    def word(value: bool | None) -> str:
        return "n/a" if value is None else ("allowed" if value else "denied")

    header = ("who", "env", "action", "expected", "emulator", "witness?", "verdict")
    table = [
        (
            r.who,
            r.environment.value,
            r.action,
            word(r.expected),
            r.observed,
            "yes" if r.witness else "no",
            r.verdict,
        )
        for r in rows
    ]
    widths = [
        max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(header)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)) for t in table]
    lines.append("")
    lines.append("Why a row cannot be witnessed:")
    for r in rows:
        if not r.witness:
            lines.append(f"  - {r.who} / {r.environment.value} / {r.action}: {r.why}")
    lines.append(
        "The emulator evaluates identity policies only (no SCPs/RCPs, boundaries, key "
        "policies, conditions or cross-account trust): an emulator 'allowed' is not a leak "
        "and an emulator 'denied' is not proof. The proof is the evaluator: `ndap access`, "
        "and `ndap explain <persona> <env> <action>` for one row."
    )
    differs = [r for r in rows if r.contradicts]
    if differs:
        lines.append(
            f"{len(differs)} witnessable row(s) DIFFER from the model: the deployed identity "
            "policies do not match the synthesized ones."
        )
    return "\n".join(lines)
