"""A generated deploy build, run for real: its buildspec's commands in bash, in a git
repository, with the real AWS CLI against the local emulator, installing the change
classifier the way the platform delivers it (the wheel of this checkout, published under
its sha256 by the platform's own publishing snippet, installed with ``--require-hashes``).

A docs-only commit keeps the deployed model, with the classifier's reason; a training
commit retrains; a wheel whose bytes differ from the digest the platform named is refused.
CodeBuild's container credentials are, here, the run's environment keys (the install
phase's ``credential_source EcsContainer`` becomes ``Environment``): nothing else of the
generated commands is changed."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ndap_infra.changes import plan_changes
from ndap_infra.changes.plan import Stage
from ndap_infra.config.enums import Environment
from ndap_infra.config.model import PathRulesConfig
from ndap_infra.emulator import lifecycle
from ndap_infra.names.pipelines import TOOLS_POINTER, TOOLS_PREFIX
from ndap_infra.pipelines import buildspecs
from ndap_infra.pipelines.spec import _context
from ndap_infra.pipelines.tools import PUBLISH_TOOLS, VERIFY_TOOLS
from ndap_infra.scripts.buildspec import script
from tests.helpers import ROOT, git

PROJECT = "fraud-scoring"
DIGEST = "sha256:" + "ab" * 32
MAKEFILE = """\
model:
\tmkdir -p dist
\tgit rev-parse HEAD > dist/weights.txt
\ttar -czf dist/model.tar.gz -C dist weights.txt
\tprintf '{"image": "%s"}\\n' "$(IMAGE)" > dist/model-metadata.json
"""


def _aws_cli() -> str | None:
    """The AWS CLI beside this interpreter (a pinned ``awscli`` in the virtualenv), else
    the one on PATH."""
    beside = Path(sys.executable).parent / "aws"
    return str(beside) if beside.exists() else shutil.which("aws")


AWS = _aws_cli()
pytestmark = [
    pytest.mark.deploy,  # deploys the build's model and endpoint onto the emulator: minutes
    pytest.mark.skipif(AWS is None, reason="the AWS CLI (PyPI: awscli) is not installed"),
]


@dataclass
class Run:
    ctx: buildspecs.BuildContext
    info: lifecycle.EmulatorInfo
    work: Path
    python_bin: Path
    wheel: Path
    sha256: str
    rules: PathRulesConfig

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "PYTHON", "VIRTUAL_ENV", "PIP_"))
        }
        env.update(
            PATH=f"{self.python_bin}:{Path(str(AWS)).parent}:/usr/bin:/bin",
            AWS_ACCESS_KEY_ID=lifecycle.DUMMY_CREDENTIAL,
            AWS_SECRET_ACCESS_KEY=lifecycle.DUMMY_CREDENTIAL,
            AWS_REGION=self.ctx.region,
            AWS_DEFAULT_REGION=self.ctx.region,
            AWS_ENDPOINT_URL=self.info.endpoint,
            AWS_CONFIG_FILE=str(self.work / "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.work / "aws-credentials"),
            PIP_NO_CACHE_DIR="1",
            HOME=str(self.work / "home"),  # the CLI caches assumed roles' keys under ~/.aws
        )
        return env

    def s3(self, account: str | None = None) -> Any:
        return lifecycle.client(self.info, "s3", account_id=account, region=self.ctx.region)


def _build_wheel(out: Path) -> Path:
    """``pip wheel --no-deps`` of this checkout (copied, so the build leaves nothing here)."""
    source = out / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "ndap_infra", source / "ndap_infra", ignore=shutil.ignore_patterns("__pycache__")
    )
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
    subprocess.run(
        [*command, "--wheel-dir", str(out / "wheel"), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (out / "wheel").glob("ndap_infra-*-py3-none-any.whl")
    return wheel


def _build_python(out: Path) -> Path:
    """A bare virtualenv (no ndap-infra in it) whose path also holds this environment's
    site-packages, without running their ``.pth`` files: pip and the classifier's
    dependencies are there, the editable ndap-infra is not."""
    venv = out / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "build-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def _buildspec_script(ctx: buildspecs.BuildContext) -> str:
    """The generated deploy buildspec as CodeBuild runs it: its variables, then the
    install phase's commands, then the build phase's, stopping at the first failure."""
    document = yaml.safe_load(buildspecs.deploy_buildspec(ctx))
    assert document["env"]["shell"] == "bash"
    exports = [f"export {k}={shlex.quote(str(v))}" for k, v in document["env"]["variables"].items()]
    install = [
        c.replace("credential_source EcsContainer", "credential_source Environment")
        for c in document["phases"]["install"]["commands"]
    ]
    return "\n".join(["set -e", *exports, *install, *document["phases"]["build"]["commands"]])


def _run_build(run: Run, repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", _buildspec_script(run.ctx)],
        cwd=repo,
        env=run.env(),
        capture_output=True,
        text=True,
        check=False,
    )


def _publish(run: Run, wheel: Path, sha256: str) -> subprocess.CompletedProcess[str]:
    """The platform apply build's publishing snippet, on the approved plan artifact."""
    plan = run.work / "platform" / "plan"
    shutil.rmtree(plan.parent, ignore_errors=True)
    (plan / "tools").mkdir(parents=True)
    shutil.copy(wheel, plan / "tools" / wheel.name)
    (plan / "manifest.json").write_text(
        json.dumps({"tools": {"wheel": wheel.name, "sha256": sha256}})
    )
    env = {**run.env(), "ARTIFACT_BUCKET": run.ctx.artifact_bucket}
    return subprocess.run(
        ["bash", "-c", script(VERIFY_TOOLS, PUBLISH_TOOLS)],
        cwd=plan.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def run(reference_config: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    work = tmp_path_factory.mktemp("build-run")
    (work / "home").mkdir()
    project = next(p for p in reference_config.ml_projects if p.name == PROJECT)
    ctx = _context(reference_config, project, Environment.DEV)
    wheel = _build_wheel(work)
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    info = lifecycle.start(work / "emulator").info
    try:
        made = Run(ctx, info, work, _build_python(work), wheel, sha256, project.paths)
        made.s3().create_bucket(
            Bucket=ctx.artifact_bucket,
            CreateBucketConfiguration={"LocationConstraint": ctx.region},
        )
        made.s3(reference_config.account_id(Environment.DEV)).create_bucket(
            Bucket=ctx.data_bucket,
            CreateBucketConfiguration={"LocationConstraint": ctx.region},
        )
        sagemaker = lifecycle.client(
            info,
            "sagemaker",
            account_id=reference_config.account_id(Environment.DEV),
            region=ctx.region,
        )
        for group in ctx.needed_features:  # promoted to dev (the build checks it)
            sagemaker.create_feature_group(
                FeatureGroupName=group,
                RecordIdentifierFeatureName="id",
                EventTimeFeatureName="time",
                FeatureDefinitions=[
                    {"FeatureName": "id", "FeatureType": "String"},
                    {"FeatureName": "time", "FeatureType": "String"},
                ],
                OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{ctx.data_bucket}/f"}},
                RoleArn=ctx.execution_role_arn,
            )
        published = _publish(made, wheel, sha256)
        assert published.returncode == 0, published.stdout + published.stderr
        yield made
    finally:
        lifecycle.stop(work / "emulator")


def _repository(run: Run, name: str) -> tuple[Path, str]:
    """A project repository with one training commit, recorded as what dev runs."""
    repo = run.work / name
    for path, text in {
        "Makefile": MAKEFILE.replace("$(IMAGE)", f"{run.ctx.image_repository}@{DIGEST}"),
        "README.md": "# fraud scoring\n",
        "training/train.py": "EPOCHS = 3\n",
        "serving/app.py": "def handler(event):\n    return event\n",
        "docs/guide.md": "How to run it.\n",
        "pipelines/definition.json": '{"Version": "2020-12-01", "Steps": []}\n',
    }.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "init", "-q", "-b", "develop")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "train with three epochs")
    deployed = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    record = {
        "commit": deployed,
        "version": deployed[:12],
        "model_name": f"{PROJECT}-{deployed[:12]}",
        "sha256": "cd" * 32,
        "package_arn": "",
    }
    run.s3().put_object(
        Bucket=run.ctx.data_bucket,
        Key=f"projects/{PROJECT}/deployed.json",
        Body=json.dumps(record).encode(),
    )
    return repo, deployed


def _commit(repo: Path, path: str, text: str, message: str) -> str:
    (repo / path).write_text(text)
    git(repo, "commit", "-qam", message)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def _deployed(run: Run) -> dict[str, Any]:
    body = run.s3().get_object(Bucket=run.ctx.data_bucket, Key=f"projects/{PROJECT}/deployed.json")
    record: dict[str, Any] = json.loads(body["Body"].read())
    return record


def test_the_builds_python_holds_no_ndap_infra_but_the_wheel(run: Run) -> None:
    """So what classifies in the build is the wheel the platform published, nothing else."""
    bare = subprocess.run(
        [str(run.python_bin / "python"), "-c", "import pydantic, ruamel.yaml, ndap_infra"],
        cwd=run.work,
        env=run.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert "No module named 'ndap_infra'" in bare.stderr


def test_a_docs_only_commit_skips_retraining_with_the_classifiers_reason(run: Run) -> None:
    repo, deployed = _repository(run, "docs-only")
    head = _commit(repo, "docs/guide.md", "How to run it, step by step.\n", "docs")
    result = _run_build(run, repo)
    out = result.stdout
    print(out, result.stderr)  # the transcript, for the closing note
    assert result.returncode == 0, out + result.stderr
    assert (
        f"ndap: change classifier {run.wheel.name}, sha256 {run.sha256} (checked by pip "
        f"--require-hashes), from s3://{run.ctx.artifact_bucket}/{TOOLS_PREFIX}/sha256/{run.sha256}/"
    ) in out
    assert f"(deployed: {deployed}, head: {head})" in out
    # the reason is the classifier's, as the library gives it for these two commits
    plan = plan_changes(repo, deployed, head, run.rules)
    assert not plan.stages[Stage.RETRAIN].run
    reason = "; ".join(plan.stages[Stage.RETRAIN].reasons)
    assert f"ndap:   skip retrain: {reason}\n" in out
    assert (
        "ndap:   skip unit_tests: docs changed alone: no test suite runs "
        "(paths.docs_run_tests: false)" in out
    )
    assert "ndap: run retrain" not in out
    assert "ndap: keeping the deployed model" in out
    assert _deployed(run)["commit"] == head


def test_a_training_commit_retrains(run: Run) -> None:
    repo, _ = _repository(run, "training")
    head = _commit(repo, "training/train.py", "EPOCHS = 5\n", "train longer")
    result = _run_build(run, repo)
    out = result.stdout
    assert "ndap:   run  retrain: " in out, out + result.stderr
    assert "ndap: run retrain (" in out
    assert "keeping the deployed model" not in out
    assert result.returncode == 0, out + result.stderr
    assert _deployed(run)["commit"] == head
    assert (repo / "dist" / "weights.txt").read_text().strip() == head
    assert f"ndap: image by digest: {run.ctx.image_repository}@{DIGEST}" in out


def test_a_wheel_whose_hash_differs_is_refused(run: Run) -> None:
    tampered = run.work / "tampered" / run.wheel.name
    tampered.parent.mkdir()
    shutil.copy(run.wheel, tampered)
    with zipfile.ZipFile(tampered, "a") as archive:
        archive.writestr("ndap_infra/changes/extra.py", "print('not what the platform built')\n")
    key = f"{TOOLS_PREFIX}/sha256/{run.sha256}/{run.wheel.name}"
    run.s3().put_object(Bucket=run.ctx.artifact_bucket, Key=key, Body=tampered.read_bytes())
    try:
        repo, deployed = _repository(run, "tampered")
        _commit(repo, "docs/guide.md", "Changed docs.\n", "docs")
        result = _run_build(run, repo)
        assert result.returncode != 0, result.stdout
        assert f"{run.wheel.name} is not sha256 {run.sha256}" in result.stderr
        assert f"s3://{run.ctx.artifact_bucket}/{TOOLS_POINTER}" in result.stderr
        assert "refused" in result.stderr
        assert "skip retrain" not in result.stdout
        assert _deployed(run)["commit"] == deployed, "nothing was deployed"
    finally:
        run.s3().put_object(Bucket=run.ctx.artifact_bucket, Key=key, Body=run.wheel.read_bytes())
