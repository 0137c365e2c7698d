"""Names of the feature pipelines' resources (docs/pipelines.md, the feature-store pipeline)."""

from __future__ import annotations

from ndap_infra.config.enums import Environment
from ndap_infra.names.pipelines import PIPELINE_PATH, build_role_name, codebuild_project

PUBLISH = "publish"
"""The step that creates and backfills the feature group versions."""
VERIFY = "verify"
FEATURE_SOURCES_PREFIX = "feature-sources"
"""Where each environment's data bucket holds the records a new version is backfilled
from: ``feature-sources/<group>/v<version>/*.jsonl``."""


def feature_build_role_name(org: str, pipeline: str, env: Environment) -> str:
    """``<org>-<team>-features-build-<env>``: the CodeBuild role of one stage."""
    return build_role_name(org, pipeline, env)


def publisher_role_name(org: str, pipeline: str) -> str:
    """``<org>-<team>-features-publisher``: what a stage's build acts as in its environment."""
    return f"{org}-{pipeline}-publisher"


def publisher_role_arn(org: str, pipeline: str, account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:role{PIPELINE_PATH}{publisher_role_name(org, pipeline)}"


def publish_project(pipeline: str, env: Environment) -> str:
    return codebuild_project(pipeline, PUBLISH, env)


def feature_sources(group: str, version: int) -> str:
    """The prefix a version is backfilled from, in the environment's data bucket."""
    return f"{FEATURE_SOURCES_PREFIX}/{group}/v{version}"
