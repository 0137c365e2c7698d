"""Issue #19, item 3: the feature-store pipeline. GIVEN the reference (the growth team's
feature groups have a pipeline, the risk team's do not) THEN each team pipeline follows the
git flow with roles of its own (what a user sees in the specs, the synthesized stacks and
the proofs), and its publish step, run as CodeBuild runs it against a recording AWS CLI,
creates the configured versions that are missing and backfills them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ndap_infra.config import Environment, Persona
from ndap_infra.config.load import validate_data
from ndap_infra.config.model import NdapConfig
from ndap_infra.deploy.pipeline_run import Event, Run, _project, runnable_names, triggered
from ndap_infra.pipelines.feature_pipeline import (
    feature_pipelines,
    feature_publishers,
    publisher_policy,
)
from ndap_infra.pipelines.features import feature_store
from tests.helpers import reference_data, resources

REGION = "eu-west-1"
TOOLING = "600000000006"
ACCOUNTS = {
    Environment.DEV: "300000000003",
    Environment.ACC: "400000000004",
    Environment.PRD: "500000000005",
}
CONFIGURED = {
    Environment.DEV: {"customer-spend-v1", "customer-spend-v2"},
    Environment.ACC: {"customer-spend-v1", "customer-spend-v2"},
    Environment.PRD: {"customer-spend-v1"},
}
"""The growth team's versions, by promoted_to (v1: prd, v2: acc)."""


def _statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [s for s in document["Statement"] if s["Sid"] == sid]
    return found


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _group_arns(env: Environment, groups: set[str]) -> set[str]:
    return {f"arn:aws:sagemaker:{REGION}:{ACCOUNTS[env]}:feature-group/{g}" for g in groups}


# ---- the specs: what each pipeline is made of ----------------------------------------------


def test_each_team_pipeline_follows_the_git_flow(reference_config: NdapConfig) -> None:
    (growth,) = feature_pipelines(reference_config)
    assert growth.name == "growth-features"
    dev, acc, prd = growth.stages
    assert [s.pipeline for s in growth.stages] == [
        "growth-features-dev",
        "growth-features-acc",
        "growth-features-prd",
    ]
    assert (dev.branches, dev.tags) == (("develop",), ())
    assert (acc.branches, acc.tags, prd.tags) == ((), ("v*",), ("v*",))
    assert [b.stage for b in dev.before_approval] == ["Publish"]
    assert [b.stage for b in acc.before_approval] == ["Publish"]
    # prd: the tag is checked before anyone is asked; the publish step waits for approval
    assert not dev.approval and not acc.approval and prd.approval
    assert [b.stage for b in prd.before_approval] == ["VerifyRelease"]
    assert [b.stage for b in prd.after_approval] == ["Publish"]
    for stage in growth.stages:
        env = stage.environment
        assert stage.build_role == f"acme-ml-growth-features-build-{env.value}"
        assert stage.deployer_arn == (
            f"arn:aws:iam::{ACCOUNTS[env]}:role/ndap/pipelines/acme-ml-growth-features-publisher"
        )
        # trusted by CodeBuild only for this stage's own build projects
        (trust,) = stage.build_role_trust.to_dict()["Statement"]
        assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
        assert set(_as_list(trust["Condition"]["ArnLike"]["aws:SourceArn"])) == {
            f"arn:aws:codebuild:{REGION}:{TOOLING}:project/{b.project}" for b in stage.builds
        }


def test_the_publish_step_creates_exactly_the_versions_configured_there(
    reference_config: NdapConfig,
) -> None:
    (growth,) = feature_pipelines(reference_config)
    for stage in growth.stages:
        (publish,) = [b for b in stage.builds if b.stage == "Publish"]
        variables = YAML(typ="safe").load(publish.buildspec)["env"]["variables"]
        groups = json.loads(variables["NDAP_FEATURE_GROUPS"])
        assert {g["name"] for g in groups} == CONFIGURED[stage.environment]
        assert variables["DATA_BUCKET"] == (
            f"acme-ml-{stage.environment.value}-data-{ACCOUNTS[stage.environment]}"
        )
        v1 = next(g for g in groups if g["name"] == "customer-spend-v1")
        assert [d["FeatureName"] for d in v1["definitions"]] == [
            "customer_id",
            "event_time",
            "spend_30d",
            "transactions_30d",
        ]
        assert v1["sources"] == "feature-sources/customer-spend/v1"
        # acc and prd publish only a release tag on their branch
        assert (
            variables.get("REQUIRED_BRANCH")
            == {
                Environment.DEV: None,
                Environment.ACC: "develop",
                Environment.PRD: "main",
            }[stage.environment]
        )


def test_the_publisher_may_create_and_backfill_only_its_teams_configured_versions(
    reference_config: NdapConfig,
) -> None:
    for env, configured in CONFIGURED.items():
        (publisher,) = feature_publishers(reference_config, env)
        document = publisher.role.policy.to_dict()
        create = _statement(document, "CreateTheTeamsFeatureGroupVersionsHere")
        assert set(_as_list(create["Resource"])) == _group_arns(env, configured)
        assert set(_as_list(create["Action"])) == {
            "sagemaker:AddTags",
            "sagemaker:CreateFeatureGroup",
            "sagemaker:DescribeFeatureGroup",
        }
        backfill = _statement(document, "BackfillThem")
        assert set(_as_list(backfill["Resource"])) == _group_arns(env, configured)
        actions = {a for s in document["Statement"] for a in _as_list(s["Action"])}
        # no model, endpoint, pipeline or registry power, and never the risk team's group
        assert not [a for a in actions if "Model" in a or "Endpoint" in a or "Pipeline" in a]
        assert "transaction-risk" not in json.dumps(document)
        passes = _statement(document, "HandSageMakerTheOfflineStoreRole")
        assert passes["Resource"] == (
            f"arn:aws:iam::{ACCOUNTS[env]}:role/ndap/pipelines/acme-ml-feature-store"
        )
        assert passes["Condition"] == {
            "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
        }
        # trusted by the team's build role of this environment only
        (trust,) = publisher.role.trust.to_dict()["Statement"]
        assert trust["Principal"] == {
            "AWS": f"arn:aws:iam::{TOOLING}:role/ndap/pipelines/"
            f"acme-ml-growth-features-build-{env.value}"
        }


@settings(max_examples=25, deadline=None)
@given(
    promoted=st.lists(st.sampled_from(["dev", "acc", "prd"]), min_size=1, max_size=4),
)
def test_promotion_decides_what_each_publisher_may_create(promoted: list[str]) -> None:
    """Whatever versions the configuration promotes how far, a publisher may create a
    version in an environment exactly when the version has reached it."""
    data = reference_data()
    data["feature_groups"][0]["versions"] = [
        {"version": i + 1, "features": {"f": "Integral"}, "promoted_to": to}
        for i, to in enumerate(promoted)
    ]
    data["ml_projects"][0]["uses_features"] = []
    data["ml_projects"][1]["uses_features"] = []
    config, issues = validate_data(data)
    assert config is not None, issues
    order = ["dev", "acc", "prd"]
    for env in (Environment.DEV, Environment.ACC, Environment.PRD):
        expected = {
            f"customer-spend-v{i + 1}"
            for i, to in enumerate(promoted)
            if order.index(env.value) <= order.index(to)
        }
        (publisher,) = feature_publishers(config, env)
        text = json.dumps(publisher.role.policy.to_dict())
        if not expected:
            assert "sagemaker:" not in text  # nothing to create: no SageMaker power at all
            continue
        create = _statement(
            publisher.role.policy.to_dict(), "CreateTheTeamsFeatureGroupVersionsHere"
        )
        assert set(_as_list(create["Resource"])) == _group_arns(env, expected)


def test_a_group_is_created_by_its_pipeline_or_by_the_stack_never_both(
    reference_config: NdapConfig,
) -> None:
    store = feature_store(reference_config, Environment.PRD)
    assert store is not None
    owners = {g.name: g.pipeline for g in store.groups}
    assert owners == {"customer-spend-v1": "growth-features", "transaction-risk-v1": None}
    # negative control: without the team's pipeline, the stack creates its versions again
    data = reference_data()
    data["feature_pipelines"] = []
    config, _ = validate_data(data)
    assert config is not None
    store = feature_store(config, Environment.PRD)
    assert store is not None
    assert {g.pipeline for g in store.groups} == {None}
    assert feature_pipelines(config) == ()
    assert feature_publishers(config, Environment.DEV) == ()


def test_an_empty_publisher_policy_grants_nothing() -> None:
    document = publisher_policy(
        region=REGION,
        account_id=ACCOUNTS[Environment.PRD],
        groups=(),
        data_bucket="b",
        data_key_alias="alias/k",
        offline_store_role_arn="arn:aws:iam::1:role/r",
    ).to_dict()
    assert [s["Effect"] for s in document["Statement"]] == ["Deny"]


# ---- the synthesized stacks ------------------------------------------------------------------


def test_the_stacks_hold_the_feature_pipelines_and_publishers(reference_stacks: Any) -> None:
    tooling = reference_stacks["tooling"]
    pipelines = {
        body["name"]: body
        for path, body in resources(tooling, "aws_codepipeline").items()
        if path.startswith("feature-pipelines/")
    }
    assert set(pipelines) == {"growth-features-dev", "growth-features-acc", "growth-features-prd"}
    prd_stages = [s["name"] for s in pipelines["growth-features-prd"]["stage"]]
    assert prd_stages == ["Source", "VerifyRelease", "Approve", "Publish"]
    source = pipelines["growth-features-dev"]["stage"][0]["action"][0]["configuration"]
    assert source["FullRepositoryId"] == "acme/growth-features"
    builds = {
        b["name"]
        for p, b in resources(tooling, "aws_codebuild_project").items()
        if p.startswith("feature-pipelines/")
    }
    assert builds == {
        "growth-features-publish-dev",
        "growth-features-publish-acc",
        "growth-features-verify-prd",
        "growth-features-publish-prd",
    }
    for env, configured in CONFIGURED.items():
        stack = reference_stacks[f"env-{env.value}"]
        groups = {
            g["feature_group_name"]
            for g in resources(stack, "aws_sagemaker_feature_group").values()
        }
        # the pipeline creates growth's versions; the stack only the risk team's
        assert groups == {"transaction-risk-v1"}
        assert not groups & configured
        roles = {r["name"] for r in resources(stack, "aws_iam_role").values()}
        assert "acme-ml-growth-features-publisher" in roles
    nonprod = {
        r["name"] for r in resources(reference_stacks["env-nonprod"], "aws_iam_role").values()
    }
    assert "acme-ml-growth-features-publisher" not in nonprod


# ---- the proofs ------------------------------------------------------------------------------


def test_the_jobs_proof_holds_the_feature_pipelines_rows(reference_proof: Any) -> None:
    rows = [r for r in reference_proof.jobs if "feature pipeline" in r.job.job]
    assert rows and all(r.ok for r in rows)
    publisher = "arn:aws:iam::500000000005:role/ndap/pipelines/acme-ml-growth-features-publisher"
    prd = {
        (r.job.operation, r.job.resource.rsplit("/", 1)[-1], r.job.expected)
        for r in rows
        if r.job.identity == publisher
    }
    assert ("sagemaker:CreateFeatureGroup", "customer-spend-v1", True) in prd
    # not promoted to prd yet, and another team's: both denied
    assert ("sagemaker:CreateFeatureGroup", "customer-spend-v2", False) in prd
    assert ("sagemaker:CreateFeatureGroup", "transaction-risk-v1", False) in prd
    assert ("sagemaker:CreateModelPackage", "x", False) in prd
    controls = [c for c in reference_proof.job_controls if "features-publisher" in c.control.name]
    assert len(controls) == 2
    assert all(c.ok and c.rows > 0 for c in controls)


def test_data_scientists_cannot_run_edit_or_approve_the_feature_stages(
    reference_proof: Any,
) -> None:
    cells = [c for c in reference_proof.pipelines.cells if c.project == "growth-features"]
    assert cells and all(c.ok for c in cells)
    scientist = {c.action: c.allowed for c in cells if c.who == Persona.DATA_SCIENTIST.value}
    assert scientist and not any(scientist.values())
    engineer = {c.action for c in cells if c.who == Persona.ML_ENGINEER.value and c.allowed}
    assert engineer == {"approve-prd-release"}
    build = {c.action for c in cells if c.who == "growth-features/build-acc" and c.allowed}
    assert build == {"assume-acc-publisher"}
    trusts = [t for t in reference_proof.pipelines.trust if t.project == "growth-features"]
    assert len(trusts) == 3 and all(t.ok for t in trusts)


# ---- ndap pipeline run takes the feature pipeline like a project -----------------------------


def test_pipeline_run_knows_the_feature_pipeline(
    reference_config: NdapConfig, tmp_path: Path
) -> None:
    assert "growth-features" in runnable_names(reference_config)
    subject, pipelines = _project(reference_config, "growth-features")
    run = Run(reference_config, "growth-features", Event.PUSH_DEVELOP, tmp_path, tmp_path)
    assert [s.pipeline for s in triggered(subject, pipelines, run)] == ["growth-features-dev"]
    tagged = Run(reference_config, "growth-features", Event.MERGE_MAIN, tmp_path, tmp_path, "v1")
    assert [s.pipeline for s in triggered(subject, pipelines, tagged)] == ["growth-features-prd"]


# ---- the publish step, run as CodeBuild runs it -------------------------------------------------

FAKE_AWS = r"""#!/bin/bash
# A recording AWS CLI: S3 is a folder, SageMaker a state file; every call is logged.
echo "$*" >> "$FAKE_LOG"
args=("$@")
[ "${args[0]}" = "--profile" ] && args=("${args[@]:2}")
set -- "${args[@]}"
arg() {
  local want="$1"; shift
  while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done
}
case "$1 $2" in
  "configure set") exit 0 ;;
  "kms describe-key") echo "arn:aws:kms:eu-west-1:300000000003:key/k"; exit 0 ;;
  "s3api list-objects-v2")
    dir="$FAKE_S3/$(arg --bucket "$@")/$(arg --prefix "$@")"
    [ -d "$dir" ] || { echo None; exit 0; }
    cd "$FAKE_S3/$(arg --bucket "$@")" || exit 2
    find "$(arg --prefix "$@")" -type f | sort | paste -sd '\t'; exit 0 ;;
  "s3 cp") cp "$FAKE_S3/${4#s3://}" "$5"; exit 0 ;;
  "sagemaker describe-feature-group")
    name="$(arg --feature-group-name "$@")"
    grep -qx "$name" "$FAKE_STATE" 2> /dev/null && { echo Created; exit 0; }
    echo "An error occurred (ResourceNotFound)" >&2; exit 254 ;;
  "sagemaker create-feature-group") arg --feature-group-name "$@" >> "$FAKE_STATE"; exit 0 ;;
  "sagemaker-featurestore-runtime put-record")
    [ -n "${FAKE_PUT_FAILS:-}" ] && { echo "An error occurred (ValidationError)" >&2; exit 254; }
    exit 0 ;;
esac
echo "fake aws: unhandled: $*" >&2
exit 2
"""


def _publish(
    tmp_path: Path, config: NdapConfig, env: Environment, tag: str | None = None, **extra: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    (growth,) = feature_pipelines(config)
    stage = next(s for s in growth.stages if s.environment is env)
    (step,) = [b for b in stage.builds if b.stage == "Publish"]
    spec = YAML(typ="safe").load(step.buildspec)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "aws").chmod(0o755)
    work = tmp_path / "src"
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    subprocess.run(
        ["git", "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty",
         "-m", "features"], cwd=work, check=True,
    )  # fmt: skip
    # the full clone CodePipeline hands the build: develop and main as remote branches
    for branch in ("develop", "main"):
        subprocess.run(
            ["git", "update-ref", f"refs/remotes/origin/{branch}", "HEAD"], cwd=work, check=True
        )
    if tag is not None:
        subprocess.run(["git", "tag", tag], cwd=work, check=True)
    env_vars = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_REGION": REGION,
        "FAKE_S3": str(tmp_path / "s3"),
        "FAKE_LOG": str(tmp_path / "aws.log"),
        "FAKE_STATE": str(tmp_path / "sagemaker.state"),
        **{k: str(v) for k, v in spec["env"]["variables"].items()},
        **extra,
    }
    script = "\n".join(
        [*spec["phases"]["install"]["commands"], *spec["phases"]["build"]["commands"]]
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env_vars, capture_output=True, text=True, check=False
    )
    log = (tmp_path / "aws.log").read_text().splitlines() if (tmp_path / "aws.log").exists() else []
    return done, log


def _records(tmp_path: Path, bucket: str, group: str, version: int, lines: list[str]) -> None:
    folder = tmp_path / "s3" / bucket / f"feature-sources/{group}/v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-0.jsonl").write_text("\n".join(lines) + "\n")


def test_the_dev_publish_creates_missing_versions_and_backfills_from_devs_data(
    reference_config: NdapConfig, tmp_path: Path
) -> None:
    bucket = f"acme-ml-dev-data-{ACCOUNTS[Environment.DEV]}"
    _records(
        tmp_path, bucket, "customer-spend", 2,
        ['{"customer_id": "c1", "event_time": "2026-01-01T00:00:00Z", "spend_30d": 1.5, '
         '"transactions_30d": 3, "segment": "a"}',
         '{"customer_id": "c2", "event_time": "2026-01-01T00:00:00Z", "spend_30d": 0, '
         '"transactions_30d": 0, "segment": "b"}'],
    )  # fmt: skip
    (tmp_path / "sagemaker.state").write_text("customer-spend-v1\n")  # v1 exists already
    done, log = _publish(tmp_path, reference_config, Environment.DEV)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ndap: feature group customer-spend-v1 is in dev already (Created)" in done.stdout
    assert "ndap: created feature group customer-spend-v2 in dev" in done.stdout
    assert (
        f"ndap: backfilled 2 records into customer-spend-v2 from s3://{bucket}/"
        "feature-sources/customer-spend/v2/" in done.stdout
    )
    creates = [c for c in log if " create-feature-group " in c]
    assert len(creates) == 1 and "--feature-group-name customer-spend-v2" in creates[0]
    assert f'"S3Uri":"s3://{bucket}/feature-store"' in creates[0]
    assert (
        "--role-arn arn:aws:iam::300000000003:role/ndap/pipelines/acme-ml-feature-store"
        in (creates[0])
    )
    puts = [c for c in log if " put-record " in c]
    assert len(puts) == 2
    assert '{"FeatureName":"spend_30d","ValueAsString":"1.5"}' in puts[0]
    assert all("--profile publisher" in c for c in log if not c.startswith("configure"))


def test_a_failed_backfill_fails_the_build_and_says_so(
    reference_config: NdapConfig, tmp_path: Path
) -> None:
    bucket = f"acme-ml-dev-data-{ACCOUNTS[Environment.DEV]}"
    _records(tmp_path, bucket, "customer-spend", 1, ['{"customer_id": "c1", "event_time": "t"}'])
    done, _ = _publish(tmp_path, reference_config, Environment.DEV, FAKE_PUT_FAILS="1")
    assert done.returncode != 0
    assert "backfill customer-spend-v1 stopped at record 1" in done.stderr
    assert "delete it and run the pipeline again" in done.stderr


def test_the_acc_publish_refuses_a_commit_that_is_no_release(
    reference_config: NdapConfig, tmp_path: Path
) -> None:
    done, log = _publish(tmp_path, reference_config, Environment.ACC)
    assert done.returncode != 0
    assert "carries no tag matching 'v*': acc deploys release tags only" in done.stderr
    assert not [c for c in log if "create-feature-group" in c]
    # the negative control: the same commit tagged as a release is published to acc
    released, log = _publish(tmp_path / "tagged", reference_config, Environment.ACC, "v1.0.0")
    assert released.returncode == 0, released.stderr
    assert "release v1.0.0" in released.stdout and "is on develop" in released.stdout
    assert len([c for c in log if "create-feature-group" in c]) == 2


@pytest.mark.parametrize("env", [Environment.DEV])
def test_with_no_records_the_version_is_created_empty_and_said_so(
    reference_config: NdapConfig, tmp_path: Path, env: Environment
) -> None:
    done, log = _publish(tmp_path, reference_config, env)
    assert done.returncode == 0, done.stderr
    assert "no records under" in done.stdout and "is created empty" in done.stdout
    assert len([c for c in log if "create-feature-group" in c]) == len(CONFIGURED[env])
    assert not [c for c in log if "put-record" in c]
