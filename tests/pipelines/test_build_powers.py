"""Builds hold no more than their step needs (#21, finding 3): acc's project code runs in
a build that cannot register, approve or write a release; a platform-written register
step (its own project and role, no repository code) does, recording the build that
produced the package; prd refuses a package that acc's build of the tag did not produce."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ndap_infra.config.enums import Environment
from ndap_infra.names import pipelines as names
from ndap_infra.pipelines import buildspecs
from ndap_infra.pipelines.spec import StageSpec, tooling_spec


def _stage(config: Any, env: Environment, project: int = 0) -> StageSpec:
    spec = tooling_spec(config)
    assert spec is not None
    return next(s for s in spec.projects[project].stages if s.environment is env)


def _buildspec(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(StringIO(text))
    return loaded


def _script(text: str) -> str:
    return "\n".join(str(c) for c in _buildspec(text)["phases"]["build"]["commands"])


def test_acc_runs_project_code_and_the_platforms_register_step_as_different_roles(
    reference_config: Any,
) -> None:
    stage = _stage(reference_config, Environment.ACC)
    deploy, register = stage.before_approval
    assert (deploy.purpose, deploy.platform) == ("deploy", False)
    assert (register.purpose, register.platform) == (names.REGISTER, True)
    assert stage.register_role is not None and stage.register_role_trust is not None
    build_trust = stage.build_role_trust.to_json()
    register_trust = stage.register_role_trust.to_json()
    assert f"project/{deploy.project}" in build_trust
    assert f"project/{register.project}" not in build_trust
    assert f"project/{register.project}" in register_trust
    assert f"project/{deploy.project}" not in register_trust
    # the register step is handed the deploy build's id and whether it built a model
    assert dict(register.variables) == {
        name: f"#{{{names.DEPLOY_NAMESPACE}.{name}}}" for name in buildspecs.EXPORTED_BUILD
    }
    assert deploy.namespace == names.DEPLOY_NAMESPACE
    for env in (Environment.DEV, Environment.PRD):
        assert _stage(reference_config, env).register_role is None


def test_the_acc_deploy_build_stages_and_never_registers(reference_config: Any) -> None:
    deploy = _stage(reference_config, Environment.ACC).before_approval[0]
    document = _buildspec(deploy.buildspec)
    script = _script(deploy.buildspec)
    assert "make model" in script
    for power in ("create-model-package", "update-model-package", "RELEASES_PREFIX"):
        assert power not in script
    assert 'ARTIFACTS_KEY="${CODEBUILD_BUILD_ID##*:}"' in script
    assert document["env"]["variables"]["ARTIFACTS_PREFIX"].endswith(f"/{names.BUILD_ARTIFACTS}")
    assert document["env"]["exported-variables"] == list(buildspecs.EXPORTED_BUILD)


def test_the_register_step_runs_only_the_platforms_script(reference_config: Any) -> None:
    register = _stage(reference_config, Environment.ACC).before_approval[1]
    document = _buildspec(register.buildspec)
    script = _script(register.buildspec)
    # nothing of the repository runs, no tooling is installed, no deployer is assumed
    for code in ("make ", "pip ", "python", "pytest", "--profile deployer", "requirements"):
        assert code not in script
    assert "commands" not in document["phases"]["install"]
    for check in (
        "aws codebuild batch-get-builds",
        "$ACC_DEPLOY_PROJECT",
        "resolvedSourceVersion",
        "SUCCEEDED",
        "create-model-package",
        "--model-approval-status Approved",
    ):
        assert check in script
    variables = document["env"]["variables"]
    assert variables["ACC_DEPLOY_PROJECT"] == names.codebuild_project(
        reference_config.ml_projects[0].name, "deploy", Environment.ACC
    )
    assert variables["RELEASES_PREFIX"].endswith(f"/{names.RELEASE_ARTIFACTS}")


def test_the_synthesized_register_project_runs_as_the_register_role(reference_stacks: Any) -> None:
    tooling = reference_stacks["tooling"]["resource"]
    projects = tooling["aws_codebuild_project"]
    registers = {k: v for k, v in projects.items() if v["name"].endswith("-register-acc")}
    assert len(registers) == 3
    for body in registers.values():
        assert "-register_role" in body["service_role"] or "register-role" in body["service_role"]
    deploys = [v for v in projects.values() if v["name"].endswith("-deploy-acc")]
    assert deploys and all("register" not in v["service_role"] for v in deploys)
    groups = {v["name"] for v in tooling["aws_cloudwatch_log_group"].values()}
    for project in ("churn-prediction", "fraud-scoring", "demand-forecast"):
        for env in names.PIPELINE_ENVIRONMENTS:
            assert names.build_log_group(project, env) in groups


# ---- prd refuses a package acc's build of the tag did not produce --------------------------


FAKE_AWS = """#!/bin/bash
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]}"
case "$1 $2" in
  "sagemaker list-model-packages") echo "$FAKE_PACKAGE_ARN" ;;
  "sagemaker describe-model-package") cat "$FAKE_DIR/package.json" ;;
  "s3 cp") cp "$FAKE_DIR/s3/${3##*/}" "$4" ;;
  *) echo "fake aws: $*" >&2; exit 2 ;;
esac
"""


def _prd_variables(config: Any) -> dict[str, str]:
    deploy = _stage(config, Environment.PRD).after_approval[0]
    variables: dict[str, str] = _buildspec(deploy.buildspec)["env"]["variables"]
    return variables


def _take_approved(tmp_path: Path, variables: dict[str, str], metadata: dict[str, str]) -> Any:
    store = tmp_path / "fake" / "s3"
    store.mkdir(parents=True)
    digests = {}
    for name in ("model.tar.gz", "model-metadata.json", "definition.json"):
        (store / name).write_text(f"{name} as acc built it")
        digests[name] = hashlib.sha256((store / name).read_bytes()).hexdigest()
    package = {
        "CustomerMetadataProperties": {
            "git_tag": "v1.0.0",
            "sha256": digests["model.tar.gz"],
            "metadata_sha256": digests["model-metadata.json"],
            "definition_sha256": digests["definition.json"],
            **metadata,
        },
        "InferenceSpecification": {
            "Containers": [{"ModelDataUrl": "s3://artifacts/releases/v1.0.0/model.tar.gz"}]
        },
    }
    (tmp_path / "fake" / "package.json").write_text(json.dumps(package))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aws = bin_dir / "aws"
    aws.write_text(FAKE_AWS)
    aws.chmod(aws.stat().st_mode | stat.S_IEXEC)
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "release"], cwd=repo, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    package["CustomerMetadataProperties"].setdefault("git_commit", commit)
    (tmp_path / "fake" / "package.json").write_text(json.dumps(package))
    env = {
        **variables,
        "RELEASE_TAG": "v1.0.0",
        "REQUIRED_BRANCH": "main",
        "FAKE_DIR": str(tmp_path / "fake"),
        "FAKE_PACKAGE_ARN": "arn:aws:sagemaker:eu-west-1:600000000006:model-package/x/1",
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    script = buildspecs.script(buildspecs.DIGEST_CHECK, buildspecs.TAKE_APPROVED)
    return subprocess.run(["bash", "-c", script], cwd=repo, env=env, capture_output=True, text=True)


needs_tools = pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("jq") is None, reason="needs git and jq"
)


@needs_tools
def test_prd_takes_the_package_acc_built_and_registered(
    reference_config: Any, tmp_path: Path
) -> None:
    variables = _prd_variables(reference_config)
    ran = _take_approved(
        tmp_path,
        variables,
        {
            "build_arn": variables["ACC_BUILDS"] + "0f1e",
            "registered_by": variables["ACC_REGISTRATIONS"] + "9a8b",
        },
    )
    assert ran.returncode == 0, ran.stderr
    assert "prd deploys arn:aws:sagemaker" in ran.stdout


@needs_tools
@pytest.mark.parametrize(
    ("metadata", "refusal"),
    [
        # what an acc build holding release powers could register itself: no record
        ({}, "records the build 'none', not a build of acc's deploy project"),
        # a build of another project (dev's, whose code nobody released)
        (
            {"build_arn": "arn:aws:codebuild:eu-west-1:600000000006:build/x-deploy-dev:1"},
            "not a build of acc's deploy project",
        ),
        # acc's deploy build named, but registered by something else than the register step
        ({"build_arn": "ACC_BUILDS+1"}, "not by acc's register step"),
    ],
)
def test_prd_refuses_a_package_acc_did_not_build_and_register(
    reference_config: Any, tmp_path: Path, metadata: dict[str, str], refusal: str
) -> None:
    variables = _prd_variables(reference_config)
    resolved = {k: v.replace("ACC_BUILDS+", variables["ACC_BUILDS"]) for k, v in metadata.items()}
    ran = _take_approved(tmp_path, variables, resolved)
    assert ran.returncode == 1
    assert refusal in ran.stderr
    assert "refus" in ran.stderr
