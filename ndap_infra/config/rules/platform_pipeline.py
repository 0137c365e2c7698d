"""Rules on ``platform_pipeline``: the platform's own pipeline needs a tooling account,
remote state on AWS, and an artifact prefix no project pipeline shares.
"""

from __future__ import annotations

from collections.abc import Iterator

from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import DeployTarget, NdapConfig
from ndap_infra.config.rules.registry import rule


@rule("platform_pipeline", "organization")
def platform_pipeline_needs_a_tooling_account(config: NdapConfig) -> Iterator[ConfigIssue]:
    org = config.organization
    tooling = org.tooling_account_id is not None or org.tooling_email is not None
    if config.platform_pipeline is not None and not tooling:
        yield ConfigIssue(
            ("platform_pipeline",),
            "the platform's own pipeline runs in the tooling (delivery) account: set "
            "organization.tooling_account_id (or tooling_email, to create it), or remove "
            "platform_pipeline",
        )


@rule("platform_pipeline", "deploy")
def platform_pipeline_needs_remote_state(config: NdapConfig) -> Iterator[ConfigIssue]:
    """On real AWS the pipeline's builds plan and apply against the stacks' remote state;
    on the local target the pipeline is generated (and proved) but runs nowhere."""
    deploy = config.deploy
    if (
        config.platform_pipeline is not None
        and deploy.target is DeployTarget.AWS
        and deploy.state is None
    ):
        yield ConfigIssue(
            ("deploy", "state"),
            "the platform pipeline's builds plan and apply against the stacks' remote "
            "state: set deploy.state.bucket (the S3 state bucket, created once by hand)",
        )


@rule("platform_pipeline", "ml_projects", "organization")
def platform_pipeline_artifacts_are_its_own(config: NdapConfig) -> Iterator[ConfigIssue]:
    """CodePipeline keeps a pipeline's artifacts under the first 20 characters of its
    name: a project pipeline with the same prefix would read and write the saved plans."""
    # Imported here, as in ml_projects.pipeline_artifacts_do_not_collide.
    from ndap_infra.names.pipelines import PIPELINE_ENVIRONMENTS, artifact_prefix, pipeline_name

    if config.platform_pipeline is None:
        return
    platform = artifact_prefix(f"{config.organization.name}-platform")
    for index, project in enumerate(config.ml_projects):
        for env in PIPELINE_ENVIRONMENTS:
            if artifact_prefix(pipeline_name(project.name, env)) == platform:
                yield ConfigIssue(
                    ("ml_projects", index, "name"),
                    f"its {env.value} pipeline would share the artifact prefix {platform!r} "
                    "with the platform's own pipeline (CodePipeline uses the first 20 "
                    "characters of a pipeline's name): rename the project",
                    project.name,
                    True,
                )
