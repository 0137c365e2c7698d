"""A scaffolded project's git flow, run for real (issue #19, item 1): ``ndap pipeline run``
executes the generated pipelines' build steps with bash, the real AWS CLI and real git
against the emulator, as CodeBuild would.

GIVEN a platform made with ``ndap init`` (adopted accounts, a tooling account) and a project
added with ``ndap add-project --scaffold`` whose scaffold is committed as the project's
repository, and the tooling and environment stacks deployed onto the emulator,
WHEN the flow's events happen in order, THEN: a pull request runs the generated checks
without credentials (and a failing unit test fails it); a push to develop deploys to dev
and runs the integration tests; a docs-only commit skips retraining and says why; a release
tag deploys to acc and registers the release, while prd refuses a tag not on main; with
main containing the tag, prd waits for the approval, then deploys acc's artifacts after
checking their digests; a tampered artifact is refused.

One deploy of four stacks (tooling, env-dev, env-acc, env-prd), then eight events: about
15 minutes on two quiet cores; measured 11.8 minutes under a load of about 17 (deploy 392 s,
the eight events 304 s; each step's time is printed at the end, with -s)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ndap_infra.names.pipelines import image_repository_uri
from tests.helpers import ROOT

NDAP = [sys.executable, "-m", "ndap_infra"]
PROJECT = "churn"
TOOLING, DEV, ACC, PRD = "600000000006", "300000000003", "400000000004", "500000000005"
REGION = "eu-west-1"
# the image by digest in the project's repository of the platform registry (the tooling
# account's ECR), as the deploy and register steps require
BUCKET = f"newco-ml-tooling-artifacts-{TOOLING}"
PACKAGE = f"arn:aws:sagemaker:{REGION}:{TOOLING}:model-package/churn/1"
IMAGE = f"{image_repository_uri(REGION, TOOLING, 'newco-ml', PROJECT)}@sha256:{'ab' * 32}"


@dataclass
class Flow:
    home: Path
    repo: Path
    env: dict[str, str]
    times: dict[str, float] = field(default_factory=dict)

    def ndap(self, step: str, *args: str, code: int = 0) -> str:
        start = time.monotonic()
        done = subprocess.run(
            [*NDAP, *args], cwd=self.home, env=self.env, capture_output=True, text=True
        )
        self.times[step] = time.monotonic() - start
        assert done.returncode == code, (
            f"ndap {step}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout

    def run(self, step: str, event: str, *more: str, code: int = 0) -> str:
        return self.ndap(
            step,
            *("pipeline", "run", PROJECT, "--event", event, *more),
            *("--repo", str(self.repo), "-c", "platform.yaml"),
            code=code,
        )

    def git(self, *args: str) -> str:
        identity = ["-c", "user.email=team@newco.example", "-c", "user.name=team"]
        return subprocess.run(
            ["git", *identity, *args], cwd=self.repo, capture_output=True, text=True, check=True
        ).stdout.strip()

    def commit(self, path: str, text: str, message: str) -> str:
        target = self.repo / path
        target.write_text(text)
        self.git("add", path)
        self.git("commit", "-qm", message)
        return self.git("rev-parse", "HEAD")

    def client(self, service: str, account: str) -> object:
        from ndap_infra.emulator import lifecycle

        info = lifecycle.require_running(self.home / ".ndap")
        return lifecycle.client(info, service, account_id=account, region=REGION)


@pytest.fixture(scope="module")
def pipeline_flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    base = tmp_path_factory.mktemp("flow")
    home = base / "platform"
    home.mkdir()
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        NDAP_WORK_DIR=str(home / ".ndap"),
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    flow = Flow(home, base / PROJECT, env)
    try:
        flow.ndap(
            "init",
            *("init", "-c", "platform.yaml", "--org-name", "newco-ml"),
            *("--management-account-id", "100000000001", "--home-region", REGION),
            *("--dev-account-id", DEV, "--acc-account-id", ACC, "--prd-account-id", PRD),
            *("--tooling-account-id", TOOLING, "--no-nonprod", "--adopt-organization"),
            *("--deploy-target", "local", "--account-email"),
            "dev=d@newco.example,acc=a@newco.example,prd=p@newco.example,tooling=t@newco.example",
        )
        flow.ndap(
            "add-project",
            *("add-project", "-c", "platform.yaml", "--name", PROJECT, "--team", "growth"),
            *("--kind", "batch", "--repository", "newco/churn", "--scaffold", str(flow.repo)),
        )
        # the one value the scaffold asks the team for (README: "set inference_image")
        params = flow.repo / "config" / "params.yaml"
        params.write_text(
            params.read_text().replace('inference_image: ""', f'inference_image: "{IMAGE}"')
        )
        # and the training image its training pipeline names (the scaffold's placeholder,
        # `replace-me`, is refused by the deploy step: images only by digest)
        training = flow.repo / "pipelines" / "training.json"
        training.write_text(training.read_text().replace('"replace-me"', f'"{IMAGE}"'))
        flow.git("init", "-q", "-b", "main")
        flow.git("add", "-A")
        flow.git("commit", "-qm", "scaffold from ndap add-project")
        flow.git("checkout", "-q", "-b", "develop")
        flow.ndap(
            "deploy",
            *("deploy", "-c", "platform.yaml", "--no-check-plan"),
            *("--stacks", "tooling", "--stacks", "env-dev", "--stacks", "env-acc"),
            *("--stacks", "env-prd"),
            # the organization stack (units, guardrails) is left out: the emulator enforces
            # none of it, and the flow needs the accounts' stacks only
            "--ignore-missing-dependencies",
        )
        yield flow
    finally:
        subprocess.run([*NDAP, "emulator", "stop"], cwd=home, env=env, capture_output=True)
        print(
            "pipeline flow:",
            ", ".join(f"{step} {seconds:.0f}s" for step, seconds in flow.times.items()),
        )


@pytest.mark.deploy
def test_a_pull_request_runs_the_generated_checks_without_credentials(
    pipeline_flow: Flow,
) -> None:
    flow = pipeline_flow
    flow.git("checkout", "-q", "-b", "feature/notes", "develop")
    flow.commit("docs/notes.md", "# Notes\n", "docs: notes")
    out = flow.run("pull request", "pull-request", "--head", "feature/notes")
    assert "job .github/workflows/pull-request.yml" in out and "no AWS credentials" in out
    assert "step actions/checkout@v4: skipped" in out
    for step in ("install", "code style", "unit tests", "orchestration definition parses"):
        assert f"step {step}: ran: ok" in out, out

    # the negative control: a failing unit test fails the pull request
    flow.git("checkout", "-q", "-b", "feature/broken", "develop")
    broken_test = (
        "from src.training.train import fit\n\n\n"
        "def test_broken() -> None:\n"
        '    assert fit([1.0]) == {"mean": 2.0}\n'
    )
    flow.commit("tests/test_broken.py", broken_test, "a failing unit test")
    broken = flow.run("broken pull request", "pull-request", "--head", "feature/broken", code=1)
    assert "step unit tests: ran: FAILED" in broken
    assert "orchestration definition parses" not in broken
    flow.git("checkout", "-q", "develop")


@pytest.mark.deploy
def test_a_push_to_develop_deploys_to_dev_and_runs_the_integration_tests(
    pipeline_flow: Flow,
) -> None:
    flow = pipeline_flow
    flow.git("merge", "-q", "--ff-only", "feature/notes")
    head = flow.git("rev-parse", "HEAD")
    out = flow.run("push to develop", "push-develop")
    assert "triggers: churn-dev" in out
    assert "ndap: run every stage: no deployment of churn is recorded in dev" in out
    assert "ndap: run retrain (from-scratch)" in out
    assert f"ndap: dev now runs churn-{head[:12]} from {head}" in out
    assert "variable NDAP_RUN_INTEGRATION_TESTS=true (from the pipeline)" in out
    # the platform's tooling published as the platform publishes it, by sha256
    assert f"s3://{BUCKET}/tools/ndap-infra/sha256/" in out
    assert "emulator gaps met: none" in out
    log = (
        flow.home / ".ndap/pipeline-runs/churn/push-develop/builds"
        / "churn-dev-IntegrationTest/churn-integration-dev.log"
    )  # fmt: skip
    assert "1 passed" in log.read_text()  # the integration test ran, not skipped
    # what the build did is in the dev account, done as the dev deployer
    models = flow.client("sagemaker", DEV).list_models()["Models"]  # type: ignore[attr-defined]
    assert [m["ModelName"] for m in models] == [f"churn-{head[:12]}"]
    pipelines = flow.client("sagemaker", DEV).list_pipelines()["PipelineSummaries"]  # type: ignore[attr-defined]
    assert {p["PipelineName"] for p in pipelines} == {"churn-batch-predict", "churn-training"}


@pytest.mark.deploy
def test_a_docs_only_commit_skips_retraining_and_says_why(pipeline_flow: Flow) -> None:
    flow = pipeline_flow
    first = flow.git("rev-parse", "HEAD")
    flow.commit("docs/model-card.md", "# churn\n\nUpdated card.\n", "docs: model card")
    out = flow.run("docs-only push", "push-develop")
    assert (
        "ndap: skip retrain: no training, features, data_config, orchestration, everything or "
        "unclassified path changed"
    ) in out
    # the change classifier that decided it: the published wheel, installed by its sha256
    assert "ndap: change classifier ndap_infra-" in out
    assert f"(checked by pip --require-hashes), from s3://{BUCKET}/tools/ndap-infra/sha256/" in out
    assert f"ndap: keeping the deployed model churn-{first[:12]}" in out
    assert "ndap: run retrain" not in out
    models = flow.client("sagemaker", DEV).list_models()["Models"]  # type: ignore[attr-defined]
    assert len(models) == 1, "no new model was built"


@pytest.mark.deploy
def test_a_release_tag_deploys_to_acc_and_prd_refuses_a_tag_not_on_main(
    pipeline_flow: Flow,
) -> None:
    flow = pipeline_flow
    flow.git("tag", "v1.0.0")
    out = flow.run("release tag", "tag-develop", "v1.0.0", code=1)
    assert "triggers: churn-acc, churn-prd" in out
    head = flow.git("rev-parse", "HEAD")
    assert f"release v1.0.0 ({head}) is on develop" in out
    assert "ndap: acc now runs churn-v1-0-0" in out
    # the register step ran as its own role and checked the deploy build it was handed
    # (BatchGetBuilds on the build the runner recorded: project, commit, status)
    assert "CodeBuild project churn-register-acc, build churn-register-acc:" in out
    assert "newco-ml-churn-register-acc (assumed through sts:AssumeRole" in out
    assert "CodeBuild project churn-deploy-acc, build churn-deploy-acc:" in out
    assert "newco-ml-churn-build-acc (assumed through sts:AssumeRole" in out
    assert (
        f"ndap: registered and approved {PACKAGE} for v1.0.0: built by "
        f"arn:aws:codebuild:{REGION}:{TOOLING}:build/churn-deploy-acc:"
    ) in out
    assert f"ndap: release tag v1.0.0 ({head}) is not on main" in out
    assert "stage Approval: not reached: VerifyRelease failed" in out
    packages = flow.client("sagemaker", TOOLING).list_model_packages(  # type: ignore[attr-defined]
        ModelPackageGroupName="churn", ModelApprovalStatus="Approved"
    )["ModelPackageSummaryList"]
    assert len(packages) == 1


@pytest.mark.deploy
def test_main_with_the_tag_waits_for_approval_then_deploys_accs_artifacts(
    pipeline_flow: Flow,
) -> None:
    flow = pipeline_flow
    flow.git("checkout", "-q", "main")
    flow.git("merge", "-q", "--ff-only", "develop")
    waiting = flow.run("main, waiting", "merge-main", "v1.0.0")
    assert "triggers: churn-prd" in waiting and "ready for approval" in waiting
    assert "stage Approval: WAITING for a release approver" in waiting
    assert "stage Deploy: not started: waits for the approval" in waiting
    assert not flow.client("sagemaker", PRD).list_models()["Models"]  # type: ignore[attr-defined]

    out = flow.run("main, approved", "merge-main", "v1.0.0", "--approve")
    assert "stage Approval: approved (--approve)" in out
    assert out.count("digest verified:") == 3, out
    assert f"prd deploys {PACKAGE}" in out
    assert f"was built by arn:aws:codebuild:{REGION}:{TOOLING}:build/churn-deploy-acc:" in out
    assert f"registered by arn:aws:codebuild:{REGION}:{TOOLING}:build/churn-register-acc:" in out
    assert "ndap: skip retrain: prd deploys the artifacts acc verified" in out
    models = flow.client("sagemaker", PRD).list_models()["Models"]  # type: ignore[attr-defined]
    assert [m["ModelName"] for m in models] == ["churn-v1-0-0"]


@pytest.mark.deploy
def test_a_tampered_artifact_is_refused(pipeline_flow: Flow) -> None:
    flow = pipeline_flow
    flow.client("s3", TOOLING).put_object(  # type: ignore[attr-defined]
        Bucket=BUCKET, Key="projects/churn/releases/v1-0-0/model.tar.gz", Body=b"tampered"
    )
    out = flow.run("tampered", "merge-main", "v1.0.0", "--approve", code=1)
    assert "ndap: digest mismatch for model package" in out
    assert "refusing to deploy to prd" in out
