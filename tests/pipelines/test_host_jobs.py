"""Every git host the configuration accepts gets its pull-request job (#19, item 4): the
same checks, valid against the host's published schema (check-jsonschema's vendored
copies), no cloud identity, only for pull requests into develop; and the git-flow proof
reads each host's job and flags what would hand it a credential (negative controls)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ndap_infra.config import load_config
from ndap_infra.config.enums import GitHost
from ndap_infra.config.model import MlProjectConfig
from ndap_infra.pipelines.pr_checks import CHECKS
from ndap_infra.pipelines.workflows import JOB_PATHS, repository_files
from ndap_infra.proofs.git_flow.host_jobs import bitbucket_findings, gitlab_findings
from ndap_infra.proofs.git_flow.replay import workflow_findings
from tests.helpers import REFERENCE

CHECK_JSONSCHEMA = str(Path(sys.executable).parent / "check-jsonschema")
SCHEMAS = {
    GitHost.GITHUB: "vendor.github-workflows",
    GitHost.GITLAB: "vendor.gitlab-ci",
    GitHost.BITBUCKET: "vendor.bitbucket-pipelines",
}
FINDINGS = {
    GitHost.GITHUB: lambda text, develop: workflow_findings(text),
    GitHost.GITLAB: gitlab_findings,
    GitHost.BITBUCKET: bitbucket_findings,
}


def project_on(host: GitHost, develop: str = "develop") -> MlProjectConfig:
    project = load_config(REFERENCE).ml_projects[0]
    pipeline = project.pipeline.model_copy(update={"develop_branch": develop})
    return project.model_copy(update={"git_host": host, "pipeline": pipeline})


@pytest.mark.parametrize("host", list(GitHost), ids=str)
def test_each_host_gets_a_job_valid_against_its_schema(host: GitHost, tmp_path: Path) -> None:
    files = repository_files(project_on(host))
    assert set(files) == {JOB_PATHS[host], "NDAP.md"}
    job = tmp_path / Path(JOB_PATHS[host]).name
    job.write_text(files[JOB_PATHS[host]])
    result = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", SCHEMAS[host], str(job)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for _, run in CHECKS:  # the same checks everywhere
        assert run.splitlines()[0] in files[JOB_PATHS[host]]


@pytest.mark.parametrize("host", list(GitHost), ids=str)
def test_the_generated_job_has_no_cloud_identity(host: GitHost) -> None:
    project = project_on(host, develop="integration")
    text = repository_files(project)[JOB_PATHS[host]]
    assert FINDINGS[host](text, "integration") == []
    assert "integration" in text  # the configured develop branch, not a default


NEGATIVE = {
    "gitlab OIDC token": (
        GitHost.GITLAB,
        lambda t: t.replace("  interruptible: true\n", "  id_tokens:\n    AWS: {aud: sts}\n"),
        "checks requests id_tokens",
    ),
    "gitlab secrets": (
        GitHost.GITLAB,
        lambda t: t.replace("  interruptible: true\n", "  secrets:\n    X: {vault: a/b}\n"),
        "checks requests secrets",
    ),
    "gitlab any branch": (
        GitHost.GITLAB,
        lambda t: t.replace(' && $CI_MERGE_REQUEST_TARGET_BRANCH_NAME == "develop"', ""),
        "runs for more than merge requests into develop",
    ),
    "gitlab AWS variables": (
        GitHost.GITLAB,
        lambda t: t + "variables:\n  AWS_ROLE_ARN: arn\n",
        "names AWS_ROLE_ARN",
    ),
    "bitbucket OIDC": (
        GitHost.BITBUCKET,
        lambda t: t.replace("        max-time: 30\n", "        max-time: 30\n        oidc: true\n"),
        "requests an OIDC token",
    ),
    "bitbucket on push": (
        GitHost.BITBUCKET,
        lambda t: t + "  branches:\n    main:\n    - step: {script: [make]}\n",
        "runs on branches too",
    ),
    "bitbucket without the destination guard": (
        GitHost.BITBUCKET,
        lambda t: t.replace('!= "develop"', '!= "main"'),
        "runs for more than pull requests into develop",
    ),
}


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_the_proof_flags_a_job_that_would_hold_a_credential(name: str) -> None:
    host, edit, expected = NEGATIVE[name]
    text = edit(repository_files(project_on(host))[JOB_PATHS[host]])
    found = FINDINGS[host](text, "develop")
    assert any(expected in f for f in found), found
