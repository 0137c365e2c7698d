"""Git refs to cloud identities: which identities each kind of git event reaches.

Why and how: docs/design-notes.md, section ndap_infra/proofs/git_flow.py."""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML

from ndap_infra.config.enums import TOOLING, Environment, GitHost
from ndap_infra.config.model import MlProjectConfig
from ndap_infra.evaluator import NamedPolicy, Principal, can_assume, principal_for
from ndap_infra.names import pipelines as names
from ndap_infra.pipelines.buildspecs import FAIL, VERIFY_RELEASE
from ndap_infra.pipelines.workflows import WORKFLOW_PATH
from ndap_infra.proofs.access_model import PlatformModel
from ndap_infra.proofs.trusts import check_deployer_trust

Stacks = Mapping[str, Mapping[str, Any]]
Repositories = Mapping[str, str]
"""Generated repository files by ``<project>/<path>`` (``<out>/repositories/``)."""

# ---- CodePipeline's glob patterns -------------------------------------------------------


class UnsupportedGlob(ValueError):
    pass


@cache
def codepipeline_glob(pattern: str) -> re.Pattern[str]:
    """A trigger filter pattern as CodePipeline documents it ("Working with glob patterns
    in syntax"): ``*`` any characters within a ``/``-separated component, ``**`` across
    components, ``?`` one character, ``[...]`` a set (``!`` negates), ``{a,b}``
    alternatives, ``\\`` escapes."""
    out: list[str] = []
    i = 0
    depth = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise UnsupportedGlob(f"unterminated [ in {pattern!r}")
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append(("[^" if negate else "[") + body.replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        elif char == "{":
            depth += 1
            out.append("(?:")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        elif char == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(char))
        i += 1
    if depth:
        raise UnsupportedGlob(f"unterminated {{ in {pattern!r}")
    return re.compile("".join(out))


def filter_matches(criteria: Sequence[Mapping[str, Any]] | None, ref: str) -> bool:
    """A branch or tag filter (``[{"includes": [...], "excludes": [...]}]``)."""
    if not criteria:
        return False
    (criterion,) = criteria
    if any(codepipeline_glob(p).fullmatch(ref) for p in criterion.get("excludes") or ()):
        return False
    return any(codepipeline_glob(p).fullmatch(ref) for p in criterion.get("includes") or ())


def shell_case_matches(pattern: str, value: str) -> bool:
    """``case "$value" in $pattern)``: ``*`` also matches ``/``."""
    return fnmatch.fnmatchcase(value, pattern)


# ---- git events -------------------------------------------------------------------------

EventKind = Literal["pull_request", "branch", "tag"]


@dataclass(frozen=True)
class GitEvent:
    key: str
    description: str
    kind: EventKind
    ref: str
    """The pushed branch or tag (for a pull request: its source branch)."""
    on_branches: tuple[str, ...]
    """The branches whose history contains the event's commit."""
    target: str = ""
    """A pull request's destination branch."""


FEATURE_BRANCH = "feature/better-model"


def example_tag(pattern: str, matching: bool) -> str:
    """A tag name that matches the release pattern (in the shell check and, when it can,
    the trigger's glob) or that matches neither."""
    candidates = (
        [pattern.replace("**", "1").replace("*", "1.4.0").replace("?", "1")] if matching else []
    )
    candidates += ["v1.4.0", "1.4.0", "release-1.4.0", "release/1.4.0", "nightly-20250101"]
    for tag in candidates:
        if shell_case_matches(pattern, tag) == matching and (
            codepipeline_glob(pattern).fullmatch(tag) is not None
        ) == (matching and "[" not in pattern):
            return tag
    for tag in candidates:
        if shell_case_matches(pattern, tag) == matching:
            return tag
    raise UnsupportedGlob(f"no example tag {'for' if matching else 'outside'} {pattern!r}")


def git_events(project: MlProjectConfig) -> tuple[GitEvent, ...]:
    flow = project.pipeline
    develop, main = flow.develop_branch, flow.main_branch
    release = example_tag(flow.release_tag_pattern, True)
    other = example_tag(flow.release_tag_pattern, False)
    return (
        GitEvent(
            "pull-request",
            f"a pull request from {FEATURE_BRANCH} into {develop}",
            "pull_request",
            FEATURE_BRANCH,
            (FEATURE_BRANCH,),
            develop,
        ),
        GitEvent("feature-push", "a push to a feature branch", "branch", FEATURE_BRANCH, ()),
        GitEvent("develop-merge", f"a merge into {develop}", "branch", develop, (develop,)),
        GitEvent("tag-on-develop", f"a release tag on {develop}", "tag", release, (develop,)),
        GitEvent("main-merge", f"a merge into {main}, no tag", "branch", main, (main,)),
        GitEvent("tag-on-main", f"a release tag on {main}", "tag", release, (main,)),
        GitEvent(
            "tag-on-merged",
            f"a release tag on a {develop} commit already merged into {main}",
            "tag",
            release,
            (develop, main),
        ),
        GitEvent(
            "other-tag",
            f"a tag not matching {flow.release_tag_pattern} on {develop}",
            "tag",
            other,
            (develop,),
        ),
        GitEvent(
            "tag-on-feature",
            "a release tag on a feature branch",
            "tag",
            release,
            (FEATURE_BRANCH,),
        ),
    )


# ---- what the model allows ----------------------------------------------------------------

Reach = tuple[Environment, bool]
"""A deployer reached: its environment, and whether only after a manual approval."""


def is_release_tag(project: MlProjectConfig, event: GitEvent) -> bool:
    return event.kind == "tag" and shell_case_matches(
        project.pipeline.release_tag_pattern, event.ref
    )


def expected_reach(project: MlProjectConfig, event: GitEvent) -> frozenset[Reach]:
    """The git flow of the model: develop > dev; a release tag cut from develop > acc; a
    release tag on main > prd behind an approval; nothing else deploys anywhere."""
    flow = project.pipeline
    reach: set[Reach] = set()
    if event.kind == "branch" and event.ref == flow.develop_branch:
        reach.add((Environment.DEV, False))
    if is_release_tag(project, event):
        if flow.develop_branch in event.on_branches:
            reach.add((Environment.ACC, False))
        if flow.main_branch in event.on_branches:
            reach.add((Environment.PRD, True))
    return frozenset(reach)


def expected_started(project: MlProjectConfig, event: GitEvent) -> frozenset[Environment]:
    """The pipelines the kind of ref may start: develop starts dev's; a release tag starts
    acc's and prd's (the build's ref check decides which one proceeds, by branch)."""
    if event.kind == "branch" and event.ref == project.pipeline.develop_branch:
        return frozenset({Environment.DEV})
    if is_release_tag(project, event):
        return frozenset({Environment.ACC, Environment.PRD})
    return frozenset()


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


def _buildspec(project: Mapping[str, Any]) -> dict[str, Any]:
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
            spec = _buildspec(build)
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
    """Every project's rows (or only the project named ``only``)."""
    replay = Replay(model, stacks)
    config = model.config
    org = config.organization.name
    rows = []
    for project in config.ml_projects:
        if only is not None and project.name != only:
            continue
        own = {names.pipeline_name(project.name, e) for e in names.PIPELINE_ENVIRONMENTS}
        deployers = {
            names.deployer_role_arn(org, project.name, config.account_id(e)): e
            for e in names.PIPELINE_ENVIRONMENTS
        }
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
            if event.kind == "pull_request":
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
    if project.git_host is not GitHost.GITHUB:
        return []  # no workflow is generated: a hand step (README), no cloud identity here
    path = f"{project.name}/{WORKFLOW_PATH}"
    if path not in repositories:
        return [f"{path} was not generated"]
    return [f"{WORKFLOW_PATH}: {f}" for f in workflow_findings(repositories[path])]


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


# ---- negative controls ------------------------------------------------------------------------

StackMutation = Callable[
    [Stacks, Repositories, PlatformModel], tuple[Stacks, Repositories, PlatformModel]
]


@dataclass(frozen=True)
class FlowControl:
    name: str
    expect_caught: bool
    findings: tuple[str, ...]
    """What the proof reports on the loosened platform (nothing: not caught)."""
    why_not: str = ""
    """For a control that must not flip: the lock that still holds."""

    @property
    def caught(self) -> bool:
        return bool(self.findings)

    @property
    def ok(self) -> bool:
        return self.caught == self.expect_caught

    def render(self) -> str:
        verdict = "as expected" if self.ok else "NOT AS EXPECTED"
        if self.caught:
            return f"- {self.name}: the proof fails ({verdict}): " + "; ".join(self.findings[:3])
        return f"- {self.name}: the proof still passes ({verdict}): {self.why_not}"


def _pipeline(stacks: Stacks, project: str, env: Environment) -> dict[str, Any]:
    name = names.pipeline_name(project, env)
    for body in stacks[TOOLING]["resource"]["aws_codepipeline"].values():
        if body["name"] == name:
            return dict(body)
    raise KeyError(name)


def _push(stacks: Stacks, project: str, env: Environment) -> dict[str, Any]:
    push: dict[str, Any] = _pipeline(stacks, project, env)["trigger"][0]["git_configuration"][0][
        "push"
    ][0]
    return push


def _some(items: Sequence[str], shown: int = 3) -> str:
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def _findings(
    model: PlatformModel, stacks: Stacks, repositories: Repositories, only: str
) -> list[str]:
    """What the proof finds about project ``only`` (the negative controls loosen one
    project's triggers, checks and trusts, so only its rows can change)."""
    found = [
        f"{r.project} / {r.event.description}: {d}"
        for r in flow_rows(model, stacks, repositories, only)
        for d in r.differences()
    ]
    found += [
        f"CodeBuild runs {c.role} for "
        + _some([x.rsplit(":", 1)[-1] for x in c.runners if x not in c.expected])
        for c in check_build_trust(model, stacks, only)
        if not c.ok
    ]
    found += [
        f"{t.deployer} is assumable by " + _some([a for a in t.assumers if a != t.expected])
        for t in check_deployer_trust(model, only)
        if not t.ok
    ]
    return found


def _with_trust(
    model: PlatformModel, arn: str, edit: Callable[[dict[str, Any]], None]
) -> PlatformModel:
    role = model.roles[arn]
    document = copy.deepcopy(role.trust_policy.document)
    for statement in document["Statement"]:
        edit(statement)
    loosened = replace(role, trust_policy=NamedPolicy(role.trust_policy.name, document))
    return model.with_roles({arn: loosened})


def _drop_condition(*keys: str) -> Callable[[dict[str, Any]], None]:
    def edit(statement: dict[str, Any]) -> None:
        for operator in list(statement.get("Condition", {})):
            block = statement["Condition"][operator]
            for key in keys:
                block.pop(key, None)
            if not block:
                del statement["Condition"][operator]
        if not statement.get("Condition"):
            statement.pop("Condition", None)

    return edit


def flow_controls(
    model: PlatformModel, stacks: Stacks, repositories: Repositories
) -> list[FlowControl]:
    """Loosen one thing at a time; the proof must fail, except where another lock holds
    (then it must still pass, and the control says which lock)."""
    config = model.config
    if config.tooling_account_id is None or not config.ml_projects:
        return []
    project = config.ml_projects[0]
    p = project.name
    org = config.organization.name
    tooling = config.tooling_account_id
    build_prd = names.build_role_arn(org, p, Environment.PRD, tooling)
    deployer_prd = names.deployer_role_arn(org, p, config.account_id(Environment.PRD))
    workflow = f"{p}/{WORKFLOW_PATH}"

    baseline = set(_findings(model, stacks, repositories, p))

    def new(found: list[str]) -> list[str]:
        return [f for f in found if f not in baseline]

    def stacks_edit(edit: Callable[[dict[str, Any]], None]) -> Callable[[], list[str]]:
        def run() -> list[str]:
            mutated = {**stacks, TOOLING: copy.deepcopy(stacks[TOOLING])}
            edit(mutated)
            return new(_findings(model, mutated, repositories, p))

        return run

    def widen_tags(s: dict[str, Any]) -> None:
        _push(s, p, Environment.ACC)["tags"] = [{"includes": ["*"]}]

    def feature_branches_to_dev(s: dict[str, Any]) -> None:
        _push(s, p, Environment.DEV)["branches"][0]["includes"].append("feature/**")

    def pull_requests_to_dev(s: dict[str, Any]) -> None:
        git = _pipeline(s, p, Environment.DEV)["trigger"][0]["git_configuration"][0]
        git["pull_request"] = [
            {"events": ["OPEN"], "branches": [{"includes": [project.pipeline.develop_branch]}]}
        ]

    def no_ref_check_in_acc(s: dict[str, Any]) -> None:
        build = next(
            b
            for b in s[TOOLING]["resource"]["aws_codebuild_project"].values()
            if b["name"] == names.codebuild_project(p, "deploy", Environment.ACC)
        )
        spec = _buildspec(build)
        commands = spec["phases"]["build"]["commands"]
        commands[0] = commands[0].replace(VERIFY_RELEASE, "")
        build["source"][0]["buildspec"] = json.dumps(spec).replace("${", "$${")

    def workflow_with(text: str) -> Callable[[], list[str]]:
        def run() -> list[str]:
            changed = {**repositories, workflow: text}
            return new(_findings(model, stacks, changed, p))

        return run

    def model_edit(arn: str, edit: Callable[[dict[str, Any]], None]) -> Callable[[], list[str]]:
        return lambda: new(_findings(_with_trust(model, arn, edit), stacks, repositories, p))

    def principal_star(statement: dict[str, Any]) -> None:
        statement["Principal"] = {"AWS": "*"}

    def principal_star_no_condition(statement: dict[str, Any]) -> None:
        principal_star(statement)
        _drop_condition("aws:PrincipalAccount")(statement)

    original = repositories.get(workflow, "")
    cases: list[tuple[str, bool, Callable[[], list[str]], str]] = [
        (f"{p}-acc's tag filter widened to *", True, stacks_edit(widen_tags), ""),
        (
            f"{p}-dev also triggered by feature/** branches",
            True,
            stacks_edit(feature_branches_to_dev),
            "",
        ),
        (
            f"{p}-dev also triggered by pull requests into {project.pipeline.develop_branch}",
            True,
            stacks_edit(pull_requests_to_dev),
            "",
        ),
        (
            f"{p}'s acc deploy build without its ref check",
            True,
            stacks_edit(no_ref_check_in_acc),
            "",
        ),
        (
            f"{p}'s pull-request workflow asks for id-token: write",
            True,
            workflow_with(original.replace("contents: read", "contents: read\n  id-token: write")),
            "",
        ),
        (
            f"{p}'s pull-request workflow uses an AWS credentials action",
            True,
            workflow_with(
                original.replace(
                    "    - uses: actions/setup-python",
                    "    - uses: aws-actions/configure-aws-credentials@v4\n"
                    "      with:\n        role-to-assume: ${{ secrets.ROLE }}\n"
                    "    - uses: actions/setup-python",
                )
            ),
            "",
        ),
        (
            f"{p}'s prd build role trust without aws:SourceArn",
            True,
            model_edit(build_prd, _drop_condition("aws:SourceArn")),
            "",
        ),
        (
            f"{p}'s prd build role trust without aws:SourceArn and aws:SourceAccount",
            True,
            model_edit(build_prd, _drop_condition("aws:SourceArn", "aws:SourceAccount")),
            "",
        ),
        (
            f"{p}'s prd build role trust without aws:SourceAccount",
            False,
            model_edit(build_prd, _drop_condition("aws:SourceAccount")),
            "aws:SourceArn still names this stage's build projects, and their ARNs carry the "
            "tooling account",
        ),
        (
            f"{p}'s prd deployer trust: principal * (aws:PrincipalAccount kept)",
            True,
            model_edit(deployer_prd, principal_star),
            "",
        ),
        (
            f"{p}'s prd deployer trust: principal * and no aws:PrincipalAccount",
            True,
            model_edit(deployer_prd, principal_star_no_condition),
            "",
        ),
        (
            f"{p}'s prd deployer trust without aws:PrincipalAccount",
            False,
            model_edit(deployer_prd, _drop_condition("aws:PrincipalAccount")),
            "the principal still names the one build role (the condition is a second lock)",
        ),
    ]
    return [FlowControl(name, expect, tuple(run()), why) for name, expect, run, why in cases]


# ---- the whole part -----------------------------------------------------------------------


@dataclass(frozen=True)
class GitFlowProof:
    rows: tuple[FlowRow, ...]
    build_trust: tuple[BuildTrustCheck, ...]
    controls: tuple[FlowControl, ...]

    @property
    def ok(self) -> bool:
        return (
            all(r.ok for r in self.rows)
            and all(c.ok for c in self.build_trust)
            and all(c.ok for c in self.controls)
        )


def prove_git_flow(
    model: PlatformModel, stacks: Stacks, repositories: Repositories, controls: bool = True
) -> GitFlowProof:
    return GitFlowProof(
        tuple(flow_rows(model, stacks, repositories)),
        tuple(check_build_trust(model, stacks)),
        tuple(flow_controls(model, stacks, repositories)) if controls else (),
    )


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
