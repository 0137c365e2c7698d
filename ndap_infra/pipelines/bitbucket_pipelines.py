"""The Bitbucket Pipelines side of the flow: a pull request into develop runs the
pull-request checks (``pr_checks``). Bitbucket starts ``pull-requests`` pipelines by the
source branch, so the step ends early, successfully, unless the destination is develop. No
cloud identity: no ``oidc`` on the step, no variables or secured variables named."""

from __future__ import annotations

from typing import Any

from ndap_infra.config.model import MlProjectConfig
from ndap_infra.pipelines.pr_checks import CHECKS, INSTALL, PYTHON_IMAGE
from ndap_infra.pipelines.yaml_text import dump_yaml

PATH = "bitbucket-pipelines.yml"


def pull_request_pipeline(project: MlProjectConfig) -> str:
    """The ``bitbucket-pipelines.yml`` of one project's repository."""
    develop = project.pipeline.develop_branch
    only_into_develop = (
        f'if [ "$BITBUCKET_PR_DESTINATION_BRANCH" != "{develop}" ]; then '
        f'echo "not a pull request into {develop}: nothing to check"; exit 0; fi'
    )
    step = {
        "name": "unit tests, style, orchestration definition",
        "max-time": 30,
        "script": [only_into_develop, INSTALL, *(run for _, run in CHECKS)],
    }
    pipeline: dict[str, Any] = {
        "image": PYTHON_IMAGE,
        "pipelines": {"pull-requests": {"**": [{"step": step}]}},
    }
    return dump_yaml(pipeline)
