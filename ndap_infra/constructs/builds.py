"""The CodeBuild projects and roles the platform's constructs share, as resources.

Every build of the platform (the ML projects' pipeline steps, the integration-subset
sampler, drift detection, the platform's own pipeline) runs on the same standard image
and compute type, unprivileged, and writes to its own log group; ``build_project`` holds
that shape once. ``role`` is a role with its trust and one inline policy.
"""

from __future__ import annotations

from constructs import Construct

from ndap_infra.iam.document import PolicyDocument, escape_terraform
from ndap_infra.pipelines.buildspecs import BUILD_IMAGE
from ndap_infra.resources.aws import (
    CodebuildProject,
    CodebuildProjectArtifacts,
    CodebuildProjectEnvironment,
    CodebuildProjectLogsConfig,
    CodebuildProjectLogsConfigCloudwatchLogs,
    CodebuildProjectSource,
    IamRole,
    IamRolePolicy,
)

COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"


def role(
    scope: Construct,
    id_: str,
    *,
    name: str,
    path: str | None = None,
    trust: PolicyDocument,
    policy: PolicyDocument,
    description: str,
    tags: dict[str, str] | None = None,
    max_session_seconds: int | None = None,
) -> IamRole:
    """A role with its trust (``<id>-role``) and one inline policy (``<id>-access``);
    the documents may name resources of the same stack (cdktf tokens are kept)."""
    made = IamRole(
        scope,
        f"{id_}-role",
        name=name,
        path=path,
        assume_role_policy=trust.to_terraform_json_with_tokens(),
        description=description,
        tags=tags,
        max_session_duration=max_session_seconds,
    )
    IamRolePolicy(
        scope,
        f"{id_}-access",
        name="access",
        role=made.id,
        policy=policy.to_terraform_json_with_tokens(),
    )
    return made


def build_project(
    scope: Construct,
    id_: str,
    *,
    name: str,
    description: str,
    service_role_arn: str,
    timeout_minutes: int,
    log_group: str,
    source: CodebuildProjectSource,
    artifacts: str = "NO_ARTIFACTS",
    encryption_key: str | None = None,
    source_version: str | None = None,
) -> CodebuildProject:
    """A CodeBuild project on the standard image, unprivileged, logging to ``log_group``."""
    return CodebuildProject(
        scope,
        id_,
        name=name,
        description=description,
        service_role=service_role_arn,
        build_timeout=timeout_minutes,
        encryption_key=encryption_key,
        source_version=source_version,
        artifacts=[CodebuildProjectArtifacts(type=artifacts)],
        source=[source],
        environment=[
            CodebuildProjectEnvironment(
                compute_type=COMPUTE_TYPE,
                image=BUILD_IMAGE,
                type="LINUX_CONTAINER",
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
            )
        ],
        logs_config=[
            CodebuildProjectLogsConfig(
                cloudwatch_logs=[
                    CodebuildProjectLogsConfigCloudwatchLogs(group_name=log_group, status="ENABLED")
                ]
            )
        ],
    )


def inline_source(kind: str, buildspec: str) -> CodebuildProjectSource:
    """A source of ``kind`` (``CODEPIPELINE``, ``NO_SOURCE``) with the buildspec inline."""
    return CodebuildProjectSource(type=kind, buildspec=escape_terraform(buildspec))
