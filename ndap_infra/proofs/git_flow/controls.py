"""The git-flow proof's negative controls: each loosens one trigger, check or trust, and
the proof must catch it (or, where noted, rightly still pass)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ndap_infra.config.enums import TOOLING, Environment
from ndap_infra.evaluator import NamedPolicy
from ndap_infra.names import pipelines as names
from ndap_infra.names.features import publish_project
from ndap_infra.pipelines.buildspecs import VERIFY_RELEASE
from ndap_infra.pipelines.workflows import WORKFLOW_PATH
from ndap_infra.proofs.access_model import PlatformModel
from ndap_infra.proofs.git_flow.replay import (
    Repositories,
    Stacks,
    buildspec_of,
    check_build_trust,
    flow_rows,
)
from ndap_infra.proofs.trusts import check_deployer_trust

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


Edit = Callable[[dict[str, Any]], None]


def _stacks_edit(
    model: PlatformModel, stacks: Stacks, repositories: Repositories, only: str, baseline: set[str]
) -> Callable[[Edit], Callable[[], list[str]]]:
    """A control that edits a copy of the tooling stack: what the proof newly finds about
    ``only`` (not in ``baseline``)."""

    def control(edit: Edit) -> Callable[[], list[str]]:
        def run() -> list[str]:
            mutated = {**stacks, TOOLING: copy.deepcopy(stacks[TOOLING])}
            edit(mutated)
            return [x for x in _findings(model, mutated, repositories, only) if x not in baseline]

        return run

    return control


def _widen_acc_tags(stem: str) -> Edit:
    def edit(s: dict[str, Any]) -> None:
        _push(s, stem, Environment.ACC)["tags"] = [{"includes": ["*"]}]

    return edit


def _feature_branches_to_dev(stem: str) -> Edit:
    def edit(s: dict[str, Any]) -> None:
        _push(s, stem, Environment.DEV)["branches"][0]["includes"].append("feature/**")

    return edit


def _without_ref_check(build_name: str) -> Edit:
    """The build's first command without its release check."""

    def edit(s: dict[str, Any]) -> None:
        build = next(
            b
            for b in s[TOOLING]["resource"]["aws_codebuild_project"].values()
            if b["name"] == build_name
        )
        spec = buildspec_of(build)
        commands = spec["phases"]["build"]["commands"]
        commands[0] = commands[0].replace(VERIFY_RELEASE, "")
        build["source"][0]["buildspec"] = json.dumps(spec).replace("${", "$${")

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

    stacks_edit = _stacks_edit(model, stacks, repositories, p, baseline)
    widen_tags, feature_branches_to_dev = _widen_acc_tags(p), _feature_branches_to_dev(p)

    def pull_requests_to_dev(s: dict[str, Any]) -> None:
        git = _pipeline(s, p, Environment.DEV)["trigger"][0]["git_configuration"][0]
        git["pull_request"] = [
            {"events": ["OPEN"], "branches": [{"includes": [project.pipeline.develop_branch]}]}
        ]

    no_ref_check_in_acc = _without_ref_check(names.codebuild_project(p, "deploy", Environment.ACC))

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
    cases += _feature_cases(model, stacks, repositories)
    return [FlowControl(name, expect, tuple(run()), why) for name, expect, run, why in cases]


def _feature_cases(
    model: PlatformModel, stacks: Stacks, repositories: Repositories
) -> list[tuple[str, bool, Callable[[], list[str]], str]]:
    """The first feature pipeline's triggers and acc ref check loosened: its rows must fail
    like a project's (a feature pipeline publishes with acc and prd powers too)."""
    if not model.config.feature_pipelines:
        return []
    f = model.config.feature_pipelines[0].name
    stacks_edit = _stacks_edit(
        model, stacks, repositories, f, set(_findings(model, stacks, repositories, f))
    )
    widen_tags, feature_branches_to_dev = _widen_acc_tags(f), _feature_branches_to_dev(f)
    no_ref_check_in_acc = _without_ref_check(publish_project(f, Environment.ACC))

    return [
        (f"{f}-acc's tag filter widened to *", True, stacks_edit(widen_tags), ""),
        (
            f"{f}-dev also triggered by feature/** branches",
            True,
            stacks_edit(feature_branches_to_dev),
            "",
        ),
        (
            f"{f}'s acc publish build without its ref check",
            True,
            stacks_edit(no_ref_check_in_acc),
            "",
        ),
    ]
