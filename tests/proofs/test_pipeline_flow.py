"""Git refs to identities (``checks/git_flow``), the pipeline's secrets, and the negative
controls that loosen a trigger, a ref check, a workflow or a trust condition."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.config.enums import Environment, Persona
from ndap_infra.evaluator import principal_for
from ndap_infra.pipelines import buildspecs
from ndap_infra.pipelines.workflows import WORKFLOW_PATH
from ndap_infra.proofs import git_flow as gf
from ndap_infra.proofs import pipelines as pp
from ndap_infra.proofs import trusts
from ndap_infra.proofs.git_flow import events as gf_events
from ndap_infra.proofs.git_flow import replay as gf_replay

PROJECTS = ("churn-prediction", "fraud-scoring", "demand-forecast")
FLOWS = (*PROJECTS, "growth-features")
DEV, ACC, PRD = Environment.DEV, Environment.ACC, Environment.PRD


@pytest.fixture(scope="module")
def flow(reference_proof: Any) -> gf.GitFlowProof:
    assert reference_proof.pipelines.flow is not None
    result: gf.GitFlowProof = reference_proof.pipelines.flow
    return result


# ---- the table ------------------------------------------------------------------------------


def test_each_git_event_reaches_exactly_what_the_flow_allows(flow: gf.GitFlowProof) -> None:
    """The same flow for the projects' pipelines and the growth team's feature pipelines,
    whose "deployer" in an environment is the team's publisher there."""
    assert len(flow.rows) == len(FLOWS) * 9
    assert [r.differences() for r in flow.rows if not r.ok] == []
    for project in FLOWS:
        row = {r.event.key: r for r in flow.rows if r.project == project}
        assert row["pull-request"].reach == row["feature-push"].reach == frozenset()
        assert row["pull-request"].runs == row["feature-push"].runs == ()
        assert row["develop-merge"].reach == {(DEV, False)}
        assert row["tag-on-develop"].reach == {(ACC, False)}
        assert row["tag-on-main"].reach == {(PRD, True)}
        # its commit is on both branches: both checks pass, prd still waits for the approval
        assert row["tag-on-merged"].reach == {(ACC, False), (PRD, True)}
        assert row["main-merge"].reach == row["other-tag"].reach == frozenset()
        feature_tag = row["tag-on-feature"]
        # both release pipelines start (same tag filter); each build's ref check refuses it
        assert feature_tag.started == {ACC, PRD} and feature_tag.reach == frozenset()
        assert all("refuses it" in r.outcome for r in feature_tag.runs)
        outcomes = {r.environment: r.outcome for r in row["tag-on-develop"].runs}
        assert outcomes[ACC] == "completes"
        assert outcomes[PRD].startswith("VerifyRelease refuses it")


def test_build_roles_run_only_for_their_own_stage(flow: gf.GitFlowProof) -> None:
    """Every build role of the tooling account (each project's stage, the scheduled
    drift check's and the platform pipeline's) is run by CodeBuild for its own builds only."""
    assert [c.role for c in flow.build_trust if not c.ok] == []
    platform = [c for c in flow.build_trust if "-platform-" in c.role]
    assert sorted(c.role.rsplit("/", 1)[1] for c in platform) == [
        "acme-ml-platform-apply",
        "acme-ml-platform-plan",
    ]
    stages = [c for c in flow.build_trust if "drift-detection" not in c.role and c not in platform]
    # each project's dev, acc and prd build roles, and acc's register role (#21, finding 3),
    # and the growth team's three feature build roles
    features = [c for c in stages if "-features-build-" in c.role]
    assert len(features) == 3
    stages = [c for c in stages if c not in features]
    assert len(stages) == len(PROJECTS) * 4
    registers = [c for c in stages if "-register-" in c.role]
    assert len(registers) == len(PROJECTS)
    assert all(len(c.runners) == 1 and "-register-acc" in c.runners[0] for c in registers)
    for check in stages:
        assert check.runners and all(
            r.rsplit("-", 1)[-1] == check.role.rsplit("-", 1)[-1] for r in check.runners
        )
    (drift,) = [c for c in flow.build_trust if "drift-detection" in c.role]
    assert drift.runners == drift.expected and len(drift.runners) == 1


def test_the_ref_model_agrees_with_the_real_ref_check(tmp_path: Path) -> None:
    """The Python model of VERIFY_RELEASE (``_passes``) against the bash it models."""
    if shutil.which("git") is None:
        pytest.skip("needs git")

    def git(cwd: Path, *args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
            cwd=cwd,
            check=True,
            capture_output=True,
        )

    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "develop")
    for branch, base in (("develop", None), ("main", "develop"), ("feature/x", "develop")):
        if base is not None:
            git(origin, "checkout", "-q", "-b", branch, base)
        (origin / branch.replace("/", "-")).write_text(branch)
        git(origin, "add", ".")
        git(origin, "commit", "-q", "-m", branch)
    events = [
        gf_events.GitEvent("a", "", "tag", "v1.0.0", ("develop",)),
        gf_events.GitEvent("b", "", "tag", "v2.0.0", ("main",)),
        gf_events.GitEvent("c", "", "tag", "v3.0.0", ("feature/x",)),
        gf_events.GitEvent("d", "", "tag", "nightly", ("develop",)),
    ]
    for event in events[:3]:
        git(origin, "tag", event.ref, event.on_branches[0])
    git(origin, "checkout", "-q", "develop")  # a later commit carrying only a non-release tag
    (origin / "later").write_text("later")
    git(origin, "add", ".")
    git(origin, "commit", "-q", "-m", "later")
    git(origin, "tag", "nightly")
    # the branches whose history holds each tagged commit, as git says (develop's commit is
    # also on main, which was cut from it: the model must agree on that case too)
    events = [
        gf_events.GitEvent(
            e.key,
            "",
            "tag",
            e.ref,
            tuple(
                subprocess.run(
                    ["git", "branch", "--format=%(refname:short)", "--contains", e.ref],
                    cwd=origin,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
            ),
        )
        for e in events
    ]
    assert events[0].on_branches == ("develop", "feature/x", "main")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    verify = buildspecs.script(buildspecs.VERIFY_RELEASE)
    for event in events:
        git(clone, "checkout", "-q", event.ref)
        for branch in ("develop", "main"):
            env = {
                "REQUIRED_BRANCH": branch,
                "RELEASE_TAG_PATTERN": "v*",
                "TARGET_ENVIRONMENT": "x",
                "PATH": "/usr/bin:/bin",
            }
            ran = subprocess.run(
                ["bash", "-c", verify], cwd=clone, env=env, capture_output=True, text=True
            )
            assert (ran.returncode == 0) == gf_replay._passes(("v*", branch), event), (
                event,
                branch,
            )


# ---- the pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "ref", "matches"),
    [
        ("v*", "v1.2.0", True),
        ("v*", "v1/2", False),  # * stays within a component
        ("release/**", "release/1/2", True),
        ("v{1,2}.*", "v2.0", True),
        ("v{1,2}.*", "v3.0", False),
        ("v?.0", "v1.0", True),
        ("v[0-9]*", "vx", False),
        ("develop", "develop-old", False),
    ],
)
def test_codepipeline_glob(pattern: str, ref: str, matches: bool) -> None:
    assert (gf_events.codepipeline_glob(pattern).fullmatch(ref) is not None) is matches


def test_excludes_win_over_includes() -> None:
    assert gf_events.filter_matches([{"includes": ["v*"]}], "v1")
    assert not gf_events.filter_matches([{"includes": ["v*"], "excludes": ["v1*"]}], "v1")
    assert not gf_events.filter_matches(None, "v1")


def test_the_generated_workflow_offers_no_cloud_identity(reference_synthesis: Any) -> None:
    repositories = gf_replay.read_repositories(reference_synthesis.out_dir)
    for project in PROJECTS:
        assert gf_replay.workflow_findings(repositories[f"{project}/{WORKFLOW_PATH}"]) == []


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (lambda t: t.replace("pull_request:", "pull_request_target:"), "pull_request_target"),
        (lambda t: t.replace("permissions:\n  contents: read\n", ""), "no top-level permissions"),
        (lambda t: t.replace("contents: read", "contents: write"), "contents: write"),
        (lambda t: t.replace("persist-credentials: false", "fetch-depth: 0"), "keeps its token"),
        (
            lambda t: t.replace(
                "runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    env:\n      AWS_REGION: x"
            ),
            "sets AWS_REGION",
        ),
    ],
)
def test_workflow_findings_name_what_hands_out_an_identity(
    reference_synthesis: Any, change: Any, finding: str
) -> None:
    repositories = gf_replay.read_repositories(reference_synthesis.out_dir)
    text = repositories[f"churn-prediction/{WORKFLOW_PATH}"]
    changed = change(text)
    assert changed != text
    assert any(finding in f for f in gf_replay.workflow_findings(changed))


def test_a_build_that_skips_the_check_before_repository_code_is_unchecked() -> None:
    spec = {
        "env": {"variables": {"REQUIRED_BRANCH": "main", "RELEASE_TAG_PATTERN": "v*"}},
        "phases": {
            "install": {"commands": ["make setup"]},  # repository code before the check
            "build": {"commands": [buildspecs.script(buildspecs.VERIFY_RELEASE)]},
        },
    }
    assert gf_replay.ref_check(spec) is None
    spec["phases"]["install"]["commands"] = ["aws configure set a b"]
    assert gf_replay.ref_check(spec) == ("v*", "main")
    assert gf_replay.check_only(spec)
    spec["phases"]["build"]["commands"] = [
        buildspecs.script(buildspecs.VERIFY_RELEASE, "make model")
    ]
    assert gf_replay.ref_check(spec) is not None and not gf_replay.check_only(spec)


# ---- negative controls ------------------------------------------------------------------------

FLIPS = {
    "churn-prediction-acc's tag filter widened to *": "starts acc",
    "churn-prediction-dev also triggered by feature/** branches": "reaches dev deployer",
    "churn-prediction-dev also triggered by pull requests into develop": "reaches dev deployer",
    "churn-prediction's acc deploy build without its ref check": "reaches acc deployer",
    "churn-prediction's pull-request workflow asks for id-token: write": "id-token: write",
    "churn-prediction's pull-request workflow uses an AWS credentials action": (
        "configure-aws-credentials"
    ),
    # another pipeline's build (the findings name the first three, alphabetically)
    "churn-prediction's prd build role trust without aws:SourceArn": "acme-ml-platform-plan",
    "churn-prediction's prd build role trust without aws:SourceArn and aws:SourceAccount": (
        "data-scientists-build"
    ),
    "churn-prediction's prd deployer trust: principal * (aws:PrincipalAccount kept)": (
        "600000000006:role/OrganizationAccountAccessRole"
    ),
    "churn-prediction's prd deployer trust: principal * and no aws:PrincipalAccount": (
        "ndap-platform-ci"
    ),
    # the feature pipelines publish with acc and prd powers: the same locks, the same flips
    "growth-features-acc's tag filter widened to *": "starts acc",
    "growth-features-dev also triggered by feature/** branches": "reaches dev deployer",
    "growth-features's acc publish build without its ref check": "reaches acc deployer",
}
HOLDS = {
    "churn-prediction's prd build role trust without aws:SourceAccount",
    "churn-prediction's prd deployer trust without aws:PrincipalAccount",
}


def test_each_loosened_condition_flips_the_proof(flow: gf.GitFlowProof) -> None:
    controls = {c.name: c for c in flow.controls}
    assert set(controls) == set(FLIPS) | HOLDS
    for name, evidence in FLIPS.items():
        control = controls[name]
        assert control.expect_caught and control.caught, name
        assert any(evidence in f for f in control.findings), (name, control.findings)
    for name in HOLDS:
        assert not controls[name].caught and controls[name].why_not, name
    assert all(c.ok for c in flow.controls)


def test_a_failed_control_fails_the_proof(flow: gf.GitFlowProof, reference_proof: Any) -> None:
    from dataclasses import replace

    broken = replace(flow.controls[0], findings=())
    assert not broken.ok
    mutated = replace(flow, controls=(broken, *flow.controls[1:]))
    assert not mutated.ok
    assert not replace(reference_proof.pipelines, flow=mutated).ok


# ---- the pipeline's secrets ------------------------------------------------------------------

SECRETS = (
    "use-git-connection",
    "get-connection-token",
    "read-build-environment",
    "decrypt-with-artifact-key",
    "read-pipeline-definition",
    "read-pipeline-state",
)


def test_who_reads_the_pipelines_secrets(reference_proof: Any) -> None:
    cells = [c for c in reference_proof.pipelines.cells if c.action in SECRETS]
    assert len(cells) == (len(Persona) + 6) * len(PROJECTS) * len(SECRETS)
    assert [c for c in cells if not c.ok] == []
    allowed = {(c.who, c.action) for c in cells if c.allowed}
    for persona in (Persona.DATA_SCIENTIST, Persona.BUSINESS_USER, Persona.SECURITY_AUDITOR):
        assert not {a for w, a in allowed if w == persona.value}, persona
    engineers = {a for w, a in allowed if w == Persona.ML_ENGINEER.value}
    assert engineers == {
        "read-build-environment",
        "read-pipeline-definition",
        "read-pipeline-state",
    }
    assert {a for w, a in allowed if w == Persona.BREAK_GLASS.value} == set(SECRETS)
    assert ("churn-prediction/build-prd", "use-git-connection") in allowed
    assert ("churn-prediction/build-prd", "get-connection-token") not in allowed
    assert not {a for w, a in allowed if "/deployer-" in w}


def test_a_build_role_uses_the_connection_for_its_own_repository_only(
    reference_proof: Any,
) -> None:
    model = reference_proof.model
    build = principal_for(trusts.pipeline_identity(model, "churn-prediction", "build", PRD))
    own = pp.goal(model, "churn-prediction", "use-git-connection")
    other = pp.goal(model, "fraud-scoring", "use-git-connection")
    assert pp.achieves(model, build, own)
    assert not pp.achieves(model, build, other)
