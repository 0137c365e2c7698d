"""The platform's own pipeline: configuration, the synthesized pipeline and roles, the
stacks' remote state, the proof, and the plan and apply scripts run for real against
stand-in ``terraform``, ``aws``, ``ndap`` and ``python`` (pip) executables."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ndap_infra.config.load import validate_data
from ndap_infra.names.pipelines import TOOLS_PREFIX
from ndap_infra.pipelines.platform import (
    APPROVAL_STAGE,
    PlatformPipelineSpec,
    platform_pipeline_spec,
)
from tests.helpers import bash, git, reference_data, resources

STATE = {"bucket": "acme-ml-terraform-state"}
TOOLING = "600000000006"
STACKS = (
    "organization",
    "log-archive",
    "security-tooling",
    "tooling",
    "organization-trail",
    "env-nonprod",
    "env-dev",
    "env-acc",
    "env-prd",
)
"""The pipeline's stacks in their apply order: with the security accounts (#18), the
log-archive and security-tooling stacks after the organization, the organization trail
after tooling."""
WITH_ROLES = tuple(s for s in STACKS if s != "organization-trail")
"""The stacks holding a planner and a deployer: one pair per account (the organization
trail is in the management account, whose pair the organization stack holds)."""


def aws_data(**state: Any) -> dict[str, Any]:
    data = reference_data()
    data["deploy"] = {"target": "aws", "state": {**STATE, **state}}
    return data


def issues_of(data: dict[str, Any]) -> dict[str, str]:
    config, issues = validate_data(data)
    assert config is None
    return {i.dotted_path: i.message for i in issues}


# -- configuration ---------------------------------------------------------------------------


def test_the_section_has_documented_defaults(reference_config: Any) -> None:
    pipeline = reference_config.platform_pipeline
    assert pipeline.repository == "acme/ml-platform-infra"
    assert pipeline.branch == "main"
    assert [p.value for p in pipeline.approvers] == ["platform-engineer"]
    assert pipeline.config_path == "examples/reference.yaml"


def test_only_platform_engineers_and_security_auditors_approve() -> None:
    data = reference_data()
    data["platform_pipeline"]["approvers"] = ["platform-engineer", "data-scientist"]
    message = issues_of(data)["platform_pipeline.approvers"]
    assert "data-scientist cannot approve the platform's changes" in message
    assert "remove data-scientist" in message
    data["platform_pipeline"]["approvers"] = ["security-auditor"]
    assert validate_data(data)[0] is not None


def test_unknown_keys_are_rejected_by_name() -> None:
    data = reference_data()
    data["platform_pipeline"]["auto_apply"] = ["dev"]
    assert "platform_pipeline.auto_apply" in issues_of(data)


def test_the_pipeline_needs_the_tooling_account() -> None:
    data = reference_data()
    del data["organization"]["tooling_account_id"]
    data["ml_projects"] = []
    del data["drift_detection"]
    # tooling_email alone means: the organization stack creates the account
    assert validate_data(data)[0] is not None
    del data["organization"]["tooling_email"]
    assert "tooling_account_id" in issues_of(data)["platform_pipeline"]


def test_on_aws_the_pipeline_needs_the_remote_state_and_local_refuses_one() -> None:
    data = reference_data()
    data["deploy"] = {"target": "aws"}
    assert "deploy.state.bucket" in issues_of(data)["deploy.state"]
    assert validate_data(aws_data())[0] is not None
    data = reference_data()
    data["deploy"]["state"] = STATE
    assert "keeps every stack's state on the emulator" in issues_of(data)["deploy.state"]
    bad = aws_data(bucket="Not_A_Bucket")
    assert "deploy.state.bucket" in issues_of(bad)


def test_a_project_may_not_share_the_platform_pipeline_s_artifact_prefix() -> None:
    data = reference_data()
    data["organization"]["name"] = "acme-ml-longname"
    data["ml_projects"][0]["name"] = "acme-ml-longname-pla"
    issues = issues_of(data)
    assert "artifact prefix 'acme-ml-longname-pla'" in issues["ml_projects[0].name"]


# -- synthesized -------------------------------------------------------------------------------


def _pipeline(stacks: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = resources(stacks["tooling"], "aws_codepipeline")[
        "platform-pipeline/pipeline"
    ]
    return body


def test_source_plan_approval_apply_on_pushes_to_the_branch(reference_stacks: Any) -> None:
    pipeline = _pipeline(reference_stacks)
    assert pipeline["name"] == "acme-ml-platform" and pipeline["pipeline_type"] == "V2"
    stages = [s["name"] for s in pipeline["stage"]]
    assert stages == ["Source", "Plan", APPROVAL_STAGE, "Apply"]
    source = pipeline["stage"][0]["action"][0]["configuration"]
    assert source["FullRepositoryId"] == "acme/ml-platform-infra"
    assert source["BranchName"] == "main"
    (trigger,) = pipeline["trigger"]
    push = trigger["git_configuration"][0]["push"][0]
    assert push["branches"][0]["includes"] == ["main"] and "tags" not in push
    approval = pipeline["stage"][2]["action"][0]
    assert approval["category"] == "Approval"
    assert "#{PlanVariables.MANIFEST_SHA256}" in approval["configuration"]["CustomData"]
    link = approval["configuration"]["ExternalEntityLink"]
    assert "projects/acme-ml-platform-plan/build/#{PlanVariables.PLAN_BUILD_ID}" in link
    apply = pipeline["stage"][3]["action"][0]
    assert apply["input_artifacts"] == ["PlanArtifact"]
    variables = {
        v["name"]: v["value"] for v in json.loads(apply["configuration"]["EnvironmentVariables"])
    }
    assert variables == {
        "MANIFEST_SHA256": "#{PlanVariables.MANIFEST_SHA256}",
        "PIPELINE_EXECUTION_ID": "#{codepipeline.PipelineExecutionId}",
    }


def test_planner_and_deployer_are_the_same_in_every_account(reference_stacks: Any) -> None:
    trusts: dict[str, set[str]] = {"planner": set(), "deployer": set()}
    for stack in WITH_ROLES:
        roles = resources(reference_stacks[stack], "aws_iam_role")
        attachments = resources(reference_stacks[stack], "aws_iam_role_policy_attachment")
        for kind, managed in (("planner", "ReadOnlyAccess"), ("deployer", "AdministratorAccess")):
            role = roles[f"platform-roles/{kind}-role"]
            assert role["path"] == "/ndap/platform/"
            assert role["name"] == f"acme-ml-platform-{kind}"
            trusts[kind].add(role["assume_role_policy"])
            managed_arn = attachments[f"platform-roles/{kind}-managed"]["policy_arn"]
            assert managed_arn.endswith(f"/{managed}")
    build = {"planner": "plan", "deployer": "apply"}
    for kind, documents in trusts.items():
        (document,) = documents  # one and the same trust everywhere
        (statement,) = json.loads(document)["Statement"]
        # the tooling root, narrowed to the build role by aws:PrincipalArn: the
        # organization stack creates these roles before tooling creates the builds (#16)
        assert statement["Principal"] == {"AWS": f"arn:aws:iam::{TOOLING}:root"}
        assert statement["Condition"] == {
            "ArnEquals": {
                "aws:PrincipalArn": (
                    f"arn:aws:iam::{TOOLING}:role/ndap/pipelines/acme-ml-platform-{build[kind]}"
                )
            }
        }


def test_only_the_configured_approvers_may_approve(reference_stacks: Any) -> None:
    policies = resources(reference_stacks["tooling"], "aws_iam_role_policy")
    approving = {
        path.split("/")[1]
        for path, body in policies.items()
        if path.startswith("personas/") and "ApproveReviewedPlatformPlans" in body["policy"]
    }
    assert approving == {"platform-engineer"}


def test_the_build_roles_may_assume_only_their_own_platform_roles(reference_stacks: Any) -> None:
    policies = resources(reference_stacks["tooling"], "aws_iam_role_policy")
    for build, role in (("plan", "planner"), ("apply", "deployer")):
        document = json.loads(policies[f"platform-pipeline/{build}-access"]["policy"])
        by_sid = {s["Sid"]: s for s in document["Statement"]}
        allowed = by_sid["AssumeOnlyThePlatformRoles"]["Resource"]
        assert sorted(allowed) == sorted(
            f"arn:aws:iam::{a}:role/ndap/platform/acme-ml-platform-{role}"
            for a in {"100000000001", TOOLING, "200000000002", "300000000003", "400000000004",
                      "500000000005", "700000000007", "800000000008"}
        )  # fmt: skip
        assert by_sid["AssumeNoOtherRole"]["NotResource"] == allowed
        artifact_actions = by_sid["PipelineArtifacts"]["Action"]
        assert ("s3:PutObject" in artifact_actions) == (build == "plan")


# -- the stacks' state and the pipeline's identities --------------------------------------------


def _synth_in_memory(data: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    from cdktf import App
    from cdktf import Testing as CdktfTesting

    from ndap_infra.stacks.platform import build_platform

    config, issues = validate_data(data)
    assert config is not None, issues
    app = App(outdir=str(tmp_path))
    build_platform(app, config)
    return {s.node.id: json.loads(CdktfTesting.synth(s)) for s in app.node.children}


def test_on_aws_every_stack_keeps_its_state_in_the_configured_bucket(tmp_path: Path) -> None:
    stacks = _synth_in_memory(aws_data(key_prefix="platform/state"), tmp_path)
    for name in STACKS:
        backend = stacks[name]["terraform"]["backend"]["s3"]
        assert backend == {
            "bucket": "acme-ml-terraform-state",
            "key": f"platform/state/{name}.tfstate",
            "region": "eu-west-1",
            "encrypt": True,
            "use_lockfile": True,
        }, name
        provider = stacks[name]["provider"]["aws"][0]
        assert "profile" not in provider  # people deploy as before
    member = stacks["env-prd"]["provider"]["aws"][0]
    assert member["assume_role"][0]["role_arn"].endswith(":role/OrganizationAccountAccessRole")


def test_the_local_target_keeps_the_emulator_s_state(reference_stacks: Any) -> None:
    backend = reference_stacks["env-prd"]["terraform"]["backend"]["s3"]
    assert backend["bucket"] == "ndap-terraform-state" and backend["key"] == "env-prd.tfstate"


def test_pipeline_builds_name_a_profile_per_stack_instead_of_a_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kms = "arn:aws:kms:eu-west-1:100000000001:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    monkeypatch.setenv("NDAP_STACK_CREDENTIALS", "profiles")
    stacks = _synth_in_memory(aws_data(kms_key_arn=kms), tmp_path)
    for name in STACKS:
        provider = stacks[name]["provider"]["aws"][0]
        assert provider["profile"] == f"ndap-{name}"
        assert "assume_role" not in provider
        backend = stacks[name]["terraform"]["backend"]["s3"]
        assert "profile" not in backend and backend["kms_key_id"] == kms
        # every other provider too names the profile of a stack the builds configure
        for other in stacks[name]["provider"]["aws"][1:]:
            assert other["profile"] in {f"ndap-{s}" for s in STACKS}, (name, other)
            assert "assume_role" not in other
    # the organization trail reads the archive key in the log-archive account as the
    # identity that plans (applies) the log-archive stack, not through the management one
    (reader,) = [
        p
        for p in stacks["organization-trail"]["provider"]["aws"]
        if p.get("alias") == "log_archive"
    ]
    assert reader["profile"] == "ndap-log-archive"


# -- the proof -----------------------------------------------------------------------------------


def test_the_reference_proof_holds(reference_proof: Any) -> None:
    proof = reference_proof.platform
    assert proof is not None and proof.ok
    allowed = {(c.who, c.action) for c in proof.cells if c.allowed}
    for persona in ("data-scientist", "ml-engineer", "business-user", "security-auditor"):
        assert not any(who == persona for who, _ in allowed), persona
    assert {a for w, a in allowed if w == "platform-engineer"} == {"approve-plan"}
    for who in ("break-glass", "deployer"):  # administrators of the tooling account
        assert not any(w == who and a.startswith("assume-") for w, a in allowed)
    plan = {a for w, a in allowed if w == "plan build role"}
    assert plan == {"read-plans", "write-plans"} | {f"assume-planner:{s}" for s in STACKS}
    apply = {a for w, a in allowed if w == "apply build role"}
    assert apply == {"read-plans"} | {f"assume-deployer:{s}" for s in STACKS}
    for stack in STACKS:
        assert not any(w == f"planner in {stack}" for w, _ in allowed)
        assert ("deployer in " + stack, "change-platform-roles") in allowed
    # a planner and a deployer in each of the 8 accounts (the security accounts' too)
    assert all(t.ok for t in proof.trust) and len(proof.trust) == 16


def test_loosened_trusts_make_the_proof_fail(reference_proof: Any) -> None:
    controls = reference_proof.platform.controls
    assert len(controls) == 3 and all(c.ok for c in controls)
    planner, deployer, guardrails = controls
    assert guardrails.refused  # without its exception the deployer cannot apply
    assert f"arn:aws:iam::{TOOLING}:role/OrganizationAccountAccessRole" in planner.check.assumers
    assert len(deployer.check.assumers) > 10


def test_the_plan_build_reads_the_state_and_only_the_apply_build_writes_it(
    tmp_path: Path,
) -> None:
    from ndap_infra.proofs.access_model import build_model
    from ndap_infra.proofs.platform_pipeline import prove_platform_pipeline
    from ndap_infra.stacks.synthesis import synthesize

    config, issues = validate_data(aws_data())
    assert config is not None, issues
    stacks = synthesize(config, tmp_path / "out").stack_json()
    proof = prove_platform_pipeline(build_model(config, stacks))
    assert proof is not None and proof.ok, [c for c in proof.cells if not c.ok]
    decided = {(c.who, c.action): c.allowed for c in proof.cells}
    assert decided[("plan build role", "read-state")]
    assert not decided[("plan build role", "write-state")]
    assert decided[("apply build role", "write-state")]
    for who in (
        "data-scientist",
        "break-glass",
        "planner in env-prd",
        "deployer in env-prd",
        "deployer in organization",  # administers the account the bucket is in
    ):
        assert not decided[(who, "read-state")] and not decided[(who, "write-state")], who


# -- the scripts, run for real -------------------------------------------------------------------

FAKE_TERRAFORM = r"""#!/usr/bin/env bash
# A stand-in for terraform: plan -out writes a plan naming the stack and the profile
# its provider would use; apply records what it applied.
stack="$(basename "$PWD")"
case "$1" in
  init) echo "initialized $stack"; touch .terraform.lock.hcl ;;
  plan)
    for arg in "$@"; do case "$arg" in -out=*) out="${arg#-out=}" ;; esac; done
    echo "plan of $stack as profile ndap-$stack: 1 to change" > "$out"
    echo "Plan: 0 to add, 1 to change, 0 to destroy." ;;
  apply) echo "$stack $(cat "${@: -1}")" >> "$APPLY_LOG" ;;
  *) echo "unexpected terraform $*" >&2; exit 2 ;;
esac
"""

FAKE_AWS = r"""#!/usr/bin/env bash
# A stand-in for the aws CLI: profiles into $HOME/profiles, s3 cp within $STORE, the
# pipeline's state from $PIPELINE_STATE.
case "$1 $2" in
  "configure set") echo "$3=$4" >> "$HOME/profiles" ;;
  "s3 cp")
    shift 2; recursive=""; args=()
    for a in "$@"; do
      case "$a" in --quiet) ;; --recursive) recursive=1 ;; *) args+=("$a") ;; esac
    done
    src="${args[0]}"; dst="${args[1]}"
    if [ "${src#s3://}" != "$src" ]; then
      if [ -n "$recursive" ]; then mkdir -p "$dst"; cp -r "$STORE/${src#s3://}/." "$dst"
      else cp "$STORE/${src#s3://}" "$dst"; fi
    elif [ -n "$recursive" ]; then mkdir -p "$STORE/${dst#s3://}"; cp -r "$src/." "$STORE/${dst#s3://}"
    else mkdir -p "$(dirname "$STORE/${dst#s3://}")"; cp "$src" "$STORE/${dst#s3://}"; fi ;;
  "codepipeline get-pipeline-state") cat "$PIPELINE_STATE" ;;
  *) echo "unexpected aws $*" >&2; exit 2 ;;
esac
"""

FAKE_PYTHON = r"""#!/usr/bin/env bash
# A stand-in for the build image's python: `pip wheel` writes a wheel naming the commit,
# `pip download` fetches nothing; anything else is python3.
case "$1 $2 $3" in
  "-m pip wheel")
    prev=""; for a in "$@"; do [ "$prev" = --wheel-dir ] && dir="$a"; prev="$a"; done
    git rev-parse HEAD > "$dir/ndap_infra-0.1.0-py3-none-any.whl" ;;
  "-m pip download") ;;
  *) exec python3 "$@" ;;
esac
"""

FAKE_NDAP = r"""#!/usr/bin/env bash
# A stand-in for ndap: build synthesizes every stack (or fails when $NDAP_FAILS is set);
# review writes the pack.
case "$1" in
  build)
    [ "$2" = "--config" ] && [ -n "$3" ] || { echo "ndap build: --config FILE" >&2; exit 2; }
    [ -z "${NDAP_FAILS:-}" ] || { echo "access: 1 differs from the model" >&2; exit 1; }
    for stack in $STACKS; do
      mkdir -p "cdktf.out/stacks/$stack"
      echo "{\"profiles\": \"$NDAP_STACK_CREDENTIALS\"}" > "cdktf.out/stacks/$stack/cdk.tf.json"
    done ;;
  review)
    while [ $# -gt 0 ]; do
      case "$1" in
        --base) base="$2"; shift ;;
        --out) out="$2"; shift ;;
        review) ;;
        *) echo "ndap review: no such option $1" >&2; exit 2 ;;
      esac; shift
    done
    echo "# Security review pack against $base" > "$out" ;;
  *) echo "unexpected ndap $*" >&2; exit 2 ;;
esac
"""


def _buildspec(text: str) -> tuple[dict[str, str], list[str]]:
    document = YAML(typ="safe").load(text)
    return document["env"]["variables"], document["phases"]["build"]["commands"]


@pytest.fixture
def spec(reference_config: Any) -> PlatformPipelineSpec:
    found = platform_pipeline_spec(reference_config)
    assert found is not None
    return found


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Any]:
    repo, bin_dir, store = tmp_path / "repo", tmp_path / "bin", tmp_path / "store"
    for directory in (repo, bin_dir, store):
        directory.mkdir()
    for name, text in (
        ("terraform", FAKE_TERRAFORM),
        ("aws", FAKE_AWS),
        ("ndap", FAKE_NDAP),
        ("python", FAKE_PYTHON),
    ):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    git(repo, "init", "-q", "-b", "main")
    (repo / "platform.yaml").write_text("organization: {}\n")
    git(repo, "add", "platform.yaml")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "platform.yaml").write_text("organization: {name: acme-ml}\n")
    git(repo, "commit", "-q", "-am", "second")
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin:/usr/local/bin",
        "STORE": str(store),
        "APPLY_LOG": str(tmp_path / "applied.log"),
        "AWS_REGION": "eu-west-1",
    }
    return {"repo": repo, "store": store, "env": env, "log": tmp_path / "applied.log"}


def _plan(spec: PlatformPipelineSpec, workspace: dict[str, Any], **extra: str) -> Any:
    variables, commands = _buildspec(spec.plan_buildspec())
    return bash(commands[0], workspace["repo"], {**workspace["env"], **variables, **extra})


def _apply(spec: PlatformPipelineSpec, workspace: dict[str, Any], **extra: str) -> Any:
    variables, commands = _buildspec(spec.apply_buildspec())
    return bash(commands[0], workspace["repo"], {**workspace["env"], **variables, **extra})


def _approved(workspace: dict[str, Any], execution: str, status: str = "Succeeded") -> str:
    state = {
        "stageStates": [
            {"stageName": "Plan", "latestExecution": {"pipelineExecutionId": execution}},
            {
                "stageName": APPROVAL_STAGE,
                "latestExecution": {"pipelineExecutionId": execution, "status": status},
                "actionStates": [
                    {
                        "latestExecution": {
                            "lastUpdatedBy": "arn:aws:sts::600000000006:assumed-role/"
                            "acme-ml-platform-engineer/alice"
                        }
                    }
                ],
            },
        ]
    }
    path = workspace["repo"].parent / f"state-{execution}.json"
    path.write_text(json.dumps(state))
    return str(path)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_plan_step_saves_a_plan_per_stack_and_a_manifest_of_their_digests(
    spec: PlatformPipelineSpec, workspace: dict[str, Any]
) -> None:
    repo = workspace["repo"]
    planned = _plan(spec, workspace)
    assert planned.returncode == 0, planned.stderr
    manifest = json.loads((repo / "plan" / "manifest.json").read_text())
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert manifest["commit"] == head and manifest["stacks"] == list(STACKS)
    for stack in STACKS:
        plan = repo / "plan" / stack / "ndap.tfplan"
        assert manifest["plans"][stack] == _digest(plan)
        assert (repo / "plan" / stack / "cdk.tf.json").is_file()
        assert (repo / "plan" / stack / "providers.lock.hcl").is_file()
        assert '"profiles": "profiles"' in (repo / "plan" / stack / "cdk.tf.json").read_text()
    assert (repo / "plan" / "manifest.sha256").read_text().strip() == _digest(
        repo / "plan" / "manifest.json"
    )
    # No applied commit recorded yet: the review pack compares with the first commit.
    first = subprocess.run(
        ["git", "rev-list", "--max-parents=0", "HEAD"], cwd=repo, capture_output=True,
        text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert f"against {first}" in (repo / "plan" / "REVIEW.md").read_text()
    assert "Security review pack" in planned.stdout  # printed for the approver
    profiles = (repo / "profiles").read_text()
    assert (
        "profile.ndap-env-prd.role_arn=arn:aws:iam::500000000005:role/ndap/platform/"
        "acme-ml-platform-planner" in profiles
    )
    assert "deployer" not in profiles


def test_the_plan_step_stops_when_a_proof_fails(
    spec: PlatformPipelineSpec, workspace: dict[str, Any]
) -> None:
    failed = _plan(spec, workspace, NDAP_FAILS="1")
    assert failed.returncode == 1
    assert "ndap build failed" in failed.stderr and "nothing is planned" in failed.stderr
    assert not (workspace["repo"] / "plan" / "manifest.json").exists()


def _planned(spec: PlatformPipelineSpec, workspace: dict[str, Any]) -> str:
    planned = _plan(spec, workspace)
    assert planned.returncode == 0, planned.stderr
    return (workspace["repo"] / "plan" / "manifest.sha256").read_text().strip()


def _approved_apply(spec: PlatformPipelineSpec, workspace: dict[str, Any], digest: str) -> Any:
    return _apply(
        spec,
        workspace,
        MANIFEST_SHA256=digest,
        PIPELINE_EXECUTION_ID="exec-1",
        PIPELINE_STATE=_approved(workspace, "exec-1"),
    )


def test_the_approved_tooling_wheel_is_published_under_its_sha256(
    spec: PlatformPipelineSpec, workspace: dict[str, Any]
) -> None:
    """The plan builds the platform's tooling wheel from the reviewed commit; the manifest
    the approver approves names its sha256; the apply publishes it under that digest and
    then points the project builds at it."""
    repo = workspace["repo"]
    digest = _planned(spec, workspace)
    manifest = json.loads((repo / "plan" / "manifest.json").read_text())
    wheel = repo / "plan" / "tools" / manifest["tools"]["wheel"]
    assert manifest["tools"]["sha256"] == _digest(wheel)
    applied = _approved_apply(spec, workspace, digest)
    assert applied.returncode == 0, applied.stderr
    published = workspace["store"] / spec.artifact_bucket / TOOLS_PREFIX
    sha = manifest["tools"]["sha256"]
    assert _digest(published / "sha256" / sha / wheel.name) == sha
    assert (published / "current.txt").read_text() == f"{sha} {wheel.name}\n"


def test_a_tooling_wheel_changed_after_the_approval_is_not_published(
    spec: PlatformPipelineSpec, workspace: dict[str, Any]
) -> None:
    repo = workspace["repo"]
    digest = _planned(spec, workspace)
    manifest = json.loads((repo / "plan" / "manifest.json").read_text())
    (repo / "plan" / "tools" / manifest["tools"]["wheel"]).write_text("not the reviewed build")
    applied = _approved_apply(spec, workspace, digest)
    assert applied.returncode == 1
    assert "the approved manifest says" in applied.stderr
    assert "refusing to apply or publish it" in applied.stderr
    assert not workspace["log"].exists(), "nothing applied"
    assert not (workspace["store"] / spec.artifact_bucket / TOOLS_PREFIX).exists()


def test_the_apply_step_applies_exactly_the_approved_plans_in_order(
    spec: PlatformPipelineSpec, workspace: dict[str, Any]
) -> None:
    digest = _planned(spec, workspace)
    applied = _apply(
        spec,
        workspace,
        MANIFEST_SHA256=digest,
        PIPELINE_EXECUTION_ID="exec-1",
        PIPELINE_STATE=_approved(workspace, "exec-1"),
    )
    assert applied.returncode == 0, applied.stderr
    assert "approved by arn:aws:sts::600000000006:assumed-role/acme-ml-platform-engineer" in (
        applied.stdout
    )
    lines = workspace["log"].read_text().splitlines()
    assert [line.split()[0] for line in lines] == list(STACKS)
    assert all(
        f"plan of {s} as profile ndap-{s}" in line for s, line in zip(STACKS, lines, strict=True)
    )
    record = json.loads(
        (workspace["store"] / spec.artifact_bucket / spec.applied_record).read_text()
    )
    assert record["manifest_sha256"] == digest
    profiles = (workspace["repo"] / "profiles").read_text()
    assert "role/ndap/platform/acme-ml-platform-deployer" in profiles
    # The next plan reviews against the commit just applied.
    replanned = _plan(spec, workspace)
    assert f"against {record['commit']}" in (workspace["repo"] / "plan" / "REVIEW.md").read_text()
    assert replanned.returncode == 0


def test_a_tampered_plan_is_refused_and_nothing_is_applied(
    spec: PlatformPipelineSpec, workspace: dict[str, Any]
) -> None:
    digest = _planned(spec, workspace)
    plan = workspace["repo"] / "plan" / "env-prd" / "ndap.tfplan"
    plan.write_text("plan of env-prd: destroy everything\n")
    refused = _apply(
        spec,
        workspace,
        MANIFEST_SHA256=digest,
        PIPELINE_EXECUTION_ID="exec-1",
        PIPELINE_STATE=_approved(workspace, "exec-1"),
    )
    assert refused.returncode == 1
    assert f"the saved plan of env-prd has sha256 {_digest(plan)}" in refused.stderr
    assert "refusing to apply" in refused.stderr
    assert not workspace["log"].exists()


def test_a_manifest_other_than_the_approved_one_is_refused(
    spec: PlatformPipelineSpec, workspace: dict[str, Any]
) -> None:
    digest = _planned(spec, workspace)
    manifest = workspace["repo"] / "plan" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"stacks"', '"stacks" '))
    refused = _apply(
        spec,
        workspace,
        MANIFEST_SHA256=digest,
        PIPELINE_EXECUTION_ID="exec-1",
        PIPELINE_STATE=_approved(workspace, "exec-1"),
    )
    assert refused.returncode == 1
    assert f"the approved one is {digest}: refusing to apply" in refused.stderr
    assert not workspace["log"].exists()


def test_a_missing_manifest_is_refused(
    spec: PlatformPipelineSpec, workspace: dict[str, Any]
) -> None:
    digest = _planned(spec, workspace)
    (workspace["repo"] / "plan" / "manifest.json").unlink()
    refused = _apply(
        spec,
        workspace,
        MANIFEST_SHA256=digest,
        PIPELINE_EXECUTION_ID="exec-1",
        PIPELINE_STATE=_approved(workspace, "exec-1"),
    )
    assert refused.returncode == 1
    assert "holds no plan/manifest.json: refusing to apply" in refused.stderr
    no_digest = _apply(spec, workspace)
    assert no_digest.returncode == 1 and "no approved manifest digest" in no_digest.stderr
    assert not workspace["log"].exists()


@pytest.mark.parametrize(
    "approval",
    ["no execution id", "approval of another execution", "approval rejected"],
)
def test_without_this_execution_s_approval_acc_and_prd_are_not_applied(
    spec: PlatformPipelineSpec, workspace: dict[str, Any], approval: str
) -> None:
    digest = _planned(spec, workspace)
    extra = {"MANIFEST_SHA256": digest}
    if approval == "approval of another execution":
        extra |= {
            "PIPELINE_EXECUTION_ID": "exec-2",
            "PIPELINE_STATE": _approved(workspace, "exec-1"),
        }
    elif approval == "approval rejected":
        extra |= {
            "PIPELINE_EXECUTION_ID": "exec-1",
            "PIPELINE_STATE": _approved(workspace, "exec-1", status="Failed"),
        }
    refused = _apply(spec, workspace, **extra)
    assert refused.returncode == 1
    assert "applies only after an approval of this pipeline execution" in refused.stderr
    assert "refusing to apply" in refused.stderr
    assert not workspace["log"].exists()  # not even the organization stack, nor dev


def test_the_state_bucket_policy_is_printed_for_the_bootstrap(tmp_path: Path) -> None:
    import sys

    from tests.helpers import ROOT

    config = tmp_path / "platform.yaml"
    with config.open("w") as stream:
        YAML(typ="safe").dump(aws_data(), stream)
    printed = subprocess.run(
        [sys.executable, "-m", "ndap_infra", "state-bucket-policy", "-c", str(config)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    statements = {s["Sid"]: s for s in json.loads(printed.stdout)["Statement"]}
    assert statements["PlanBuildReadsTheState"]["Action"] == "s3:GetObject"
    readers = statements["PlanBuildReadsTheState"]["Principal"]["AWS"]
    assert f"arn:aws:iam::{TOOLING}:role/acme-ml-drift-detection-build" in readers
    writer = statements["ApplyBuildWritesTheState"]["Principal"]["AWS"]
    assert writer == f"arn:aws:iam::{TOOLING}:role/ndap/pipelines/acme-ml-platform-apply"
    local = subprocess.run(
        [sys.executable, "-m", "ndap_infra", "state-bucket-policy", "-c",
         str(ROOT / "examples" / "reference.yaml")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert local.returncode == 2 and "set both first" in local.stderr


def test_the_scripts_use_only_options_the_real_ndap_has(spec: PlatformPipelineSpec) -> None:
    """The stand-in ndap accepts only what the scripts pass; the real CLI must too."""
    from typer.testing import CliRunner

    from ndap_infra.cli import app

    script = spec.plan_buildspec()
    assert 'ndap build --config "$CONFIG_PATH"' in script
    assert 'ndap review --base "$base" --out plan/REVIEW.md' in script
    runner = CliRunner()
    build_help = runner.invoke(app, ["build", "--help"]).output
    review_help = runner.invoke(app, ["review", "--help"]).output
    assert "--config" in build_help
    assert "--base" in review_help and "--out" in review_help


def test_the_drift_build_reads_the_configured_state_and_its_key() -> None:
    from ndap_infra.pipelines.drift import drift_detection_spec

    kms = "arn:aws:kms:eu-west-1:100000000001:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    config, issues = validate_data(aws_data(kms_key_arn=kms))
    assert config is not None, issues
    drift = drift_detection_spec(config)
    assert drift is not None and drift.state_bucket == "acme-ml-terraform-state"
    statements = {s.sid: s for s in drift.build_policy().statements}
    assert statements["DecryptTheTerraformState"].resources == (kms,)
    data = aws_data()
    data["drift_detection"]["state_bucket"] = "another-bucket"
    assert "drift_detection.state_bucket" in issues_of(data)


def test_the_apply_build_installs_terraform_only(spec: PlatformPipelineSpec) -> None:
    """The apply build's input is the plan artifact (no repository, no Makefile)."""
    plan = YAML(typ="safe").load(spec.plan_buildspec())
    apply = YAML(typ="safe").load(spec.apply_buildspec())
    assert "make setup" in plan["phases"]["install"]["commands"]
    install = apply["phases"]["install"]["commands"]
    assert "make setup" not in install and all("terraform" in c for c in install)
    assert "artifacts" not in apply and plan["artifacts"] == {"files": ["plan/**/*"]}


def test_while_the_tooling_id_is_pending_the_platform_roles_wait(tmp_path: Path) -> None:
    """A tooling account to be created (tooling_email alone): phase 1 synthesizes the
    organization stack without the planner and deployer, whose trust names the pending
    tooling account's build roles, and says they wait for it."""
    from cdktf import App

    from ndap_infra.stacks.platform import build_platform

    data = reference_data()
    del data["organization"]["tooling_account_id"]
    config, issues = validate_data(data)
    assert config is not None, issues
    stacks = build_platform(App(outdir=str(tmp_path)), config)
    assert list(stacks) == ["organization"]
    organization = stacks["organization"]
    assert organization.waiting["acme-ml-platform-planner"] == ["tooling"]
    paths = [c.node.path for c in organization.node.find_all()]
    assert not any("/platform-roles" in p for p in paths)
