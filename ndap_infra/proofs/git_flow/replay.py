"""The synthesized pipelines replayed for each git event: which pipelines start, which
deployers each reaches, the pull-request workflow, and who can run as each build role."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ndap_infra.config.enums import TOOLING, Environment, GitHost
from ndap_infra.config.model import MlProjectConfig
from ndap_infra.evaluator import Principal, can_assume, principal_for
from ndap_infra.names import pipelines as names
from ndap_infra.names.features import publisher_role_arn
from ndap_infra.pipelines.buildspecs import FAIL, VERIFY_RELEASE
from ndap_infra.pipelines.workflows import JOB_PATHS
from ndap_infra.proofs.access_model import PlatformModel
from ndap_infra.proofs.git_flow.events import (
    Flowing,
    GitEvent,
    Reach,
    expected_reach,
    expected_started,
    filter_matches,
    git_events,
    shell_case_matches,
)
from ndap_infra.proofs.git_flow.host_jobs import bitbucket_findings, gitlab_findings

Stacks = Mapping[str, Mapping[str, Any]]
Repositories = Mapping[str, str]
"""Generated repository files by ``<project>/<path>`` (``<out>/repositories/``)."""

# ---- the GitHub workflow: no cloud identity on pull requests -----------------------------

UNSAFE_EVENTS = ("pull_request_target", "workflow_run")
"""Events that run with the base repository's secrets and a writable token."""


def _writes(permissions: Any) -> list[str]:
    if permissions is None:
        return []
    if isinstance(permissions, str):
        return [] if permissions in ("read-all", "{}") else [f"permissions: {permissions}"]
    return [
        f"{scope}: {level}" for scope, level in permissions.items() if level not in ("read", "none")
    ]


def workflow_findings(text: str) -> list[str]:
    """What in a pull-request workflow would hand its runs a cloud identity or a secret:
    an OIDC token (``id-token``) or any write permission, a missing top-level
    ``permissions`` (the repository default applies), ``secrets.*``, an AWS credentials
    action or ``AWS_*`` variables, a checkout keeping its token, a privileged event."""
    workflow = YAML(typ="safe").load(text)
    findings: list[str] = []
    events = workflow.get("on", workflow.get(True))
    names_of = [events] if isinstance(events, str) else list(events or ())
    findings += [
        f"runs on {e} (with the base repository's secrets)" for e in names_of if e in UNSAFE_EVENTS
    ]
    if "permissions" not in workflow:
        findings.append("no top-level permissions: the repository's default token applies")
    findings += [f"workflow grants {w}" for w in _writes(workflow.get("permissions"))]
    if re.search(r"\$\{\{[^}]*\bsecrets\.", text):
        findings.append("names a secret (secrets.*)")
    for job_name, job in (workflow.get("jobs") or {}).items():
        findings += [f"job {job_name} grants {w}" for w in _writes(job.get("permissions"))]
        if "secrets" in job:
            findings.append(f"job {job_name} passes secrets")
        envs = [job.get("env") or {}] + [s.get("env") or {} for s in job.get("steps") or ()]
        findings += [
            f"job {job_name} sets {k}" for env in envs for k in env if str(k).startswith("AWS_")
        ]
        for step in job.get("steps") or ():
            uses = str(step.get("uses", ""))
            if "configure-aws-credentials" in uses:
                findings.append(f"job {job_name} uses {uses}")
            if (
                uses.startswith("actions/checkout")
                and (step.get("with") or {}).get("persist-credentials") is not False
            ):
                findings.append(f"job {job_name}: the checkout keeps its token")
    return findings


# ---- the synthesized pipelines, replayed ---------------------------------------------------

BUILD_REFERENCE = re.compile(r"\$\{aws_codebuild_project\.([^.}\[]+)(?:\[0\])?\.name\}")
REFERENCE = re.compile(r"\$\{aws_iam_role\.([^.}\[]+)(?:\[0\])?\.arn\}")


@dataclass(frozen=True)
class Run:
    """One pipeline started by an event, and how far it got."""

    pipeline: str
    environment: Environment | None
    outcome: str
    reached: tuple[tuple[str, bool], ...]
    """Roles its builds can assume (ARN), and whether only after a manual approval."""


@dataclass(frozen=True)
class FlowRow:
    project: str
    event: GitEvent
    runs: tuple[Run, ...]
    reach: frozenset[Reach]
    """The deployer roles reached, as environments (other roles reached are ``problems``)."""
    expected: frozenset[Reach]
    started: frozenset[Environment]
    expected_started: frozenset[Environment]
    problems: tuple[str, ...] = ()
    """Anything reached or found that no environment explains (a role that is not a
    deployer of the project, a workflow finding, an action the replay does not model)."""

    @property
    def ok(self) -> bool:
        return (
            self.reach == self.expected
            and self.started == self.expected_started
            and not self.problems
        )

    def differences(self) -> list[str]:
        out = list(self.problems)
        if self.started != self.expected_started:
            out.append(
                f"starts {_envs(self.started)}, the flow allows {_envs(self.expected_started)}"
            )
        if self.reach != self.expected:
            out.append(
                f"reaches {render_reach(self.reach)}, the flow allows {render_reach(self.expected)}"
            )
        return out


def _envs(envs: frozenset[Environment]) -> str:
    order = list(Environment)
    return ", ".join(e.value for e in sorted(envs, key=order.index)) or "no pipeline"


def render_reach(reach: frozenset[Reach]) -> str:
    order = list(Environment)
    parts = [
        f"{env.value} deployer" + (" (after approval)" if approval else "")
        for env, approval in sorted(reach, key=lambda r: order.index(r[0]))
    ]
    return ", ".join(parts) or "no cloud identity"


def _resources(stack: Mapping[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return dict(stack.get("resource", {}).get(rtype, {}))


def buildspec_of(project: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(_parsed_buildspec(str(project["source"][0]["buildspec"])))


@cache
def _parsed_buildspec(text: str) -> dict[str, Any]:
    """A buildspec parsed once per process: with 100 projects the proof reads ~1,400 of
    them, and ruamel's pure-Python loader took a minute; PyYAML's C loader takes a second."""
    import yaml  # type: ignore[import-untyped]

    loaded: dict[str, Any] = yaml.load(text.replace("$${", "${"), Loader=yaml.CSafeLoader)
    return loaded


def ref_check(spec: Mapping[str, Any]) -> tuple[str, str] | None:
    """(pattern, required branch) when the build checks the ref before anything else
    runs: the install phase only configures the CLI, and the build's first command starts
    with the ref check. None otherwise (the build runs whatever the ref is)."""
    phases = spec.get("phases", {})
    install = phases.get("install", {}).get("commands") or []
    if any(not str(c).startswith("aws configure set ") for c in install):
        return None
    commands = phases.get("build", {}).get("commands") or []
    variables = spec.get("env", {}).get("variables", {})
    if not commands or "REQUIRED_BRANCH" not in variables:
        return None
    prelude = f"(\nset -euo pipefail\n{FAIL}\n"
    if not str(commands[0]).startswith(prelude + VERIFY_RELEASE):
        return None
    return str(variables["RELEASE_TAG_PATTERN"]), str(variables["REQUIRED_BRANCH"])


def check_only(spec: Mapping[str, Any]) -> bool:
    """The build runs the ref check and nothing else (but ``echo``): no repository code,
    no use of the deployer profile. Its role's reach is held, not used."""
    phases = spec.get("phases", {})
    if set(phases) - {"install", "build"} or ref_check(spec) is None:
        return False
    commands = phases["build"].get("commands") or []
    rest = str(commands[0]).split(VERIFY_RELEASE, 1)[1].splitlines()
    return len(commands) == 1 and all(
        line.startswith("echo ") or line == ")" for line in rest if line.strip()
    )


def _passes(check: tuple[str, str], event: GitEvent) -> bool:
    pattern, branch = check
    tagged = event.kind == "tag" and shell_case_matches(pattern, event.ref)
    return tagged and branch in event.on_branches


def _started(pipeline: Mapping[str, Any], event: GitEvent) -> bool:
    for trigger in pipeline.get("trigger") or ():
        for git in trigger.get("git_configuration") or ():
            if event.kind == "pull_request":
                for pr in git.get("pull_request") or ():
                    if filter_matches(pr.get("branches"), event.target):
                        return True
                continue
            for push in git.get("push") or ():
                if event.kind == "branch" and filter_matches(push.get("branches"), event.ref):
                    return True
                if event.kind == "tag" and filter_matches(push.get("tags"), event.ref):
                    return True
    return False


def may_name(trust: Mapping[str, Any], role_arn: str) -> bool:
    """Whether a trust policy can admit ``role_arn`` at all: an Allow statement whose
    ``Principal`` names the role, its account (root ARN or bare id) or ``*``, or one with
    ``NotPrincipal``. AWS allows no partial wildcard in ``Principal``, so no other
    statement can let the role in; only the roles that pass are evaluated (with 100
    projects, ~1,000 roles per build role otherwise)."""
    account = role_arn.split(":")[4]
    admitted = {role_arn, f"arn:aws:iam::{account}:root", account, "*"}
    statements = trust.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in statement:
            return True
        principal = statement.get("Principal")
        if principal == "*":
            return True
        values = principal.get("AWS", []) if isinstance(principal, Mapping) else []
        values = [values] if isinstance(values, str) else values
        if admitted & set(values):
            return True
    return False


class Replay:
    """The tooling stack's pipelines and builds, and the evaluated reach of build roles."""

    def __init__(self, model: PlatformModel, stacks: Stacks) -> None:
        self.model = model
        tooling = stacks[TOOLING]
        self.pipelines = _resources(tooling, "aws_codepipeline")
        self.build_ids = _resources(tooling, "aws_codebuild_project")
        self.builds = {b["name"]: b for b in self.build_ids.values()}
        account = model.config.tooling_account_id
        self.role_arns = {
            lid: f"arn:aws:iam::{account}:role{body.get('path', '/')}{body['name']}"
            for lid, body in _resources(tooling, "aws_iam_role").items()
        }
        self._reach: dict[str, tuple[str, ...]] = {}

    def build(self, project_name: str) -> Mapping[str, Any]:
        """A build by name, or by its reference (``${aws_codebuild_project.<id>.name}``)."""
        match = BUILD_REFERENCE.fullmatch(project_name)
        if match is not None:
            return self.build_ids[match.group(1)]
        return self.builds[project_name]

    def build_role(self, build: Mapping[str, Any]) -> str:
        match = REFERENCE.fullmatch(str(build["service_role"]))
        if match is None:
            return str(build["service_role"])
        return self.role_arns[match.group(1)]

    def reachable(self, role_arn: str) -> tuple[str, ...]:
        """Every role of the model the build role can assume (evaluated)."""
        if role_arn not in self._reach:
            model = self.model
            principal = principal_for(model.roles[role_arn])
            context = {"aws:RequestedRegion": model.config.organization.home_region}
            self._reach[role_arn] = tuple(
                sorted(
                    arn
                    for arn, role in model.roles.items()
                    if arn != role_arn
                    and may_name(role.trust_policy.document, role_arn)
                    and can_assume(principal, role, model.organization, context).allowed
                )
            )
        return self._reach[role_arn]

    def run(self, pipeline: Mapping[str, Any], event: GitEvent) -> tuple[Run, list[str]]:
        name = str(pipeline["name"])
        env = next((e for e in names.PIPELINE_ENVIRONMENTS if name.endswith(f"-{e.value}")), None)
        reached: list[tuple[str, bool]] = []
        problems: list[str] = []
        approval = False
        outcome = "completes"
        for stage in pipeline.get("stage") or ():
            (action,) = stage["action"]
            category, provider = action["category"], action["provider"]
            if category == "Source":
                continue
            if category == "Approval" and provider == "Manual":
                approval = True
                continue
            if category != "Build" or provider != "CodeBuild":
                problems.append(
                    f"{name}: stage {stage['name']} ({category}/{provider}) is not modelled"
                )
                continue
            build = self.build(str(action["configuration"]["ProjectName"]))
            spec = buildspec_of(build)
            check = ref_check(spec)
            if check is not None and not _passes(check, event):
                pattern, branch = check
                outcome = f"{stage['name']} refuses it (not a tag matching {pattern} on {branch})"
                break
            if check_only(spec):
                continue  # holds the build role, runs nothing that could use it
            reached += [(arn, approval) for arn in self.reachable(self.build_role(build))]
        if outcome == "completes" and approval:
            outcome = "completes after the approval"
        return Run(name, env, outcome, tuple(dict.fromkeys(reached))), problems


def flow_rows(
    model: PlatformModel, stacks: Stacks, repositories: Repositories, only: str | None = None
) -> list[FlowRow]:
    """Every project's and feature pipeline's rows (or only those of the one named
    ``only``). A feature pipeline's "deployer" in an environment is its publisher there."""
    replay = Replay(model, stacks)
    config = model.config
    org = config.organization.name
    rows = []
    flows: list[tuple[Flowing, dict[str, Environment]]] = [
        (
            project,
            {
                names.deployer_role_arn(org, project.name, config.account_id(e)): e
                for e in names.PIPELINE_ENVIRONMENTS
            },
        )
        for project in config.ml_projects
    ]
    flows += [
        (
            team,
            {
                publisher_role_arn(org, team.name, config.account_id(e)): e
                for e in names.PIPELINE_ENVIRONMENTS
            },
        )
        for team in config.feature_pipelines
    ]
    for project, deployers in flows:
        if only is not None and project.name != only:
            continue
        own = {names.pipeline_name(project.name, e) for e in names.PIPELINE_ENVIRONMENTS}
        for event in git_events(project):
            runs: list[Run] = []
            problems: list[str] = []
            for pipeline in replay.pipelines.values():
                if pipeline["name"] in own and _started(pipeline, event):
                    run, found = replay.run(pipeline, event)
                    runs.append(run)
                    problems += found
            reach: set[Reach] = set()
            for run in runs:
                for arn, approval in run.reached:
                    if arn in deployers:
                        reach.add((deployers[arn], approval))
                    else:
                        problems.append(
                            f"{run.pipeline} reaches {arn}, not a deployer of {project.name}"
                        )
            if event.kind == "pull_request" and isinstance(project, MlProjectConfig):
                # a feature repository gets no generated pull-request job (no scaffold yet)
                problems += _pull_request_findings(project, repositories)
            rows.append(
                FlowRow(
                    project.name,
                    event,
                    tuple(runs),
                    frozenset(reach),
                    expected_reach(project, event),
                    frozenset(r.environment for r in runs if r.environment is not None),
                    expected_started(project, event),
                    tuple(problems),
                )
            )
    return rows


def _pull_request_findings(project: MlProjectConfig, repositories: Repositories) -> list[str]:
    job = JOB_PATHS[project.git_host]
    path = f"{project.name}/{job}"
    if path not in repositories:
        return [f"{path} was not generated"]
    text, develop = repositories[path], project.pipeline.develop_branch
    found = {
        GitHost.GITHUB: lambda: workflow_findings(text),
        GitHost.GITLAB: lambda: gitlab_findings(text, develop),
        GitHost.BITBUCKET: lambda: bitbucket_findings(text, develop),
    }[project.git_host]()
    return [f"{job}: {f}" for f in found]


def read_repositories(out_dir: Path) -> dict[str, str]:
    root = out_dir / "repositories"
    if not root.is_dir():
        return {}
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


# ---- who can run as each build role ----------------------------------------------------------


@dataclass(frozen=True)
class BuildTrustCheck:
    role: str
    expected: tuple[str, ...]
    """The CodeBuild projects (ARNs) the synthesized stack runs as this role."""
    runners: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.runners == self.expected


def _codebuild(account: str, region: str, project: str) -> str:
    return f"arn:aws:codebuild:{region}:{account}:project/{project}"


def check_build_trust(
    model: PlatformModel, stacks: Stacks, only: str | None = None
) -> list[BuildTrustCheck]:
    """For each build role: which CodeBuild projects CodeBuild would run as it, among every
    build of the tooling stack, a project someone else creates in the tooling account and
    one a data scientist creates in dev (the ``aws:SourceArn`` / ``aws:SourceAccount``
    confused-deputy conditions are what tells them apart)."""
    replay = Replay(model, stacks)
    config = model.config
    region = config.organization.home_region
    tooling = config.tooling_account_id
    assert tooling is not None
    dev = config.account_id(Environment.DEV)
    candidates = [(_codebuild(tooling, region, n), tooling) for n in sorted(replay.builds)]
    candidates += [
        (_codebuild(tooling, region, "someone-elses-build"), tooling),
        (_codebuild(dev, region, "data-scientists-build"), dev),
    ]
    own: dict[str, list[str]] = {}
    for name, build in replay.builds.items():
        own.setdefault(replay.build_role(build), []).append(_codebuild(tooling, region, name))
    if only is not None:  # that project's build roles (project names never nest)
        own = {
            role: builds
            for role, builds in own.items()
            if all(b.rsplit("/", 1)[1].startswith(f"{only}-") for b in builds)
        }
    checks = []
    for role_arn in sorted(own):
        role = model.roles[role_arn]
        runners = []
        for source, account in candidates:
            service = Principal("codebuild.amazonaws.com", account, "service")
            context = {
                "aws:SourceArn": source,
                "aws:SourceAccount": account,
                "aws:RequestedRegion": region,
            }
            if can_assume(service, role, model.organization, context).allowed:
                runners.append(source)
        checks.append(
            BuildTrustCheck(role_arn, tuple(sorted(own[role_arn])), tuple(sorted(runners)))
        )
    return checks


def dumps(rows: Sequence[FlowRow]) -> str:
    """The table as JSON (for tools and tests)."""
    return json.dumps(
        [
            {
                "project": r.project,
                "event": r.event.key,
                "ref": r.event.ref,
                "started": sorted(e.value for e in r.started),
                "reach": render_reach(r.reach),
                "ok": r.ok,
            }
            for r in rows
        ],
        indent=2,
    )
