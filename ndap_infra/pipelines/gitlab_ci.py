"""The GitLab CI side of the flow: a merge request into develop runs the pull-request checks
(``pr_checks``). No cloud identity: no ``id_tokens`` (GitLab's OIDC), no variables and no
secrets are named; the job token GitLab always issues reads this repository only."""

from __future__ import annotations

from typing import Any

from ndap_infra.config.model import MlProjectConfig
from ndap_infra.pipelines.pr_checks import CHECKS, INSTALL, PYTHON_IMAGE
from ndap_infra.pipelines.yaml_text import dump_yaml

PATH = ".gitlab-ci.yml"


def pull_request_pipeline(project: MlProjectConfig) -> str:
    """The ``.gitlab-ci.yml`` of one project's repository."""
    develop = project.pipeline.develop_branch
    into_develop = (
        f'$CI_PIPELINE_SOURCE == "merge_request_event" && '
        f'$CI_MERGE_REQUEST_TARGET_BRANCH_NAME == "{develop}"'
    )
    pipeline: dict[str, Any] = {
        "workflow": {"rules": [{"if": into_develop}]},
        "checks": {
            "image": PYTHON_IMAGE,
            "timeout": "30 minutes",
            "interruptible": True,
            "script": [INSTALL, *(run for _, run in CHECKS)],
        },
    }
    return dump_yaml(pipeline)
