"""The feature pipelines as resources: each team's three pipelines in the tooling account
(``FeaturePipelineResources``) and its publisher role in each environment
(``FeaturePublishers``).

Names, documents and buildspecs come from ``ndap_infra.pipelines.feature_pipeline``
(pure); the pipelines share the tooling account's artifact store and git connections."""

from __future__ import annotations

import json
from collections.abc import Sequence

from constructs import Construct

from ndap_infra.config.enums import Environment
from ndap_infra.constructs.builds import build_project, inline_source, role
from ndap_infra.constructs.pipelines import BUILD_TIMEOUT_MINUTES, ToolingPipelines, source_stage
from ndap_infra.iam.trust import service_trust
from ndap_infra.names import pipelines as names
from ndap_infra.pipelines import policies
from ndap_infra.pipelines.feature_pipeline import (
    FeaturePipelines,
    FeaturePublisher,
    feature_build_policy,
)
from ndap_infra.pipelines.spec import BuildStep, StageSpec
from ndap_infra.resources.aws import (
    CloudwatchLogGroup,
    Codepipeline,
    CodepipelineArtifactStore,
    CodepipelineArtifactStoreEncryptionKey,
    CodepipelineStage,
    CodepipelineStageAction,
    CodepipelineTrigger,
    CodepipelineTriggerGitConfiguration,
    CodepipelineTriggerGitConfigurationPush,
    CodepipelineTriggerGitConfigurationPushBranches,
    CodepipelineTriggerGitConfigurationPushTags,
)


class FeaturePipelineResources(Construct):
    """Per team and environment: the pipeline, its build projects, log group, pipeline
    role and build role."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        teams: Sequence[FeaturePipelines],
        tooling: ToolingPipelines,
    ) -> None:
        super().__init__(scope, id_)
        self.tooling = tooling
        for team in teams:
            node = Construct(self, team.name)
            for stage in team.stages:
                self._stage(Construct(node, stage.environment.value), team, stage)

    def _stage(self, node: Construct, team: FeaturePipelines, stage: StageSpec) -> None:
        spec = self.tooling.spec
        key_arn = self.tooling.key.arn
        logs = CloudwatchLogGroup(
            node,
            "build-logs",
            name=stage.log_group,
            retention_in_days=spec.log_retention_days,
            kms_key_id=key_arn,
        )
        connection = self.tooling.connections[team.git_host].arn
        pipeline_objects = f"arn:aws:s3:::{spec.bucket}/{names.artifact_prefix(stage.pipeline)}/*"
        build_role = role(
            node,
            "build",
            name=stage.build_role,
            path=names.PIPELINE_PATH,
            trust=stage.build_role_trust,
            policy=feature_build_policy(
                publisher_arn=stage.deployer_arn,
                pipeline_objects=pipeline_objects,
                key_arn=key_arn,
                connection_arn=connection,
                repository=team.repository,
                log_group_arn=(
                    f"arn:aws:logs:{spec.region}:{spec.account_id}:log-group:{stage.log_group}"
                ),
            ),
            description=f"{team.name}: builds for {stage.environment.value}; may assume only "
            f"the team's {stage.environment.value} feature publisher",
        )
        projects = {
            build.stage: build_project(
                node,
                f"build-{build.purpose}",
                name=build.project,
                description=build.description,
                service_role_arn=build_role.arn,
                timeout_minutes=BUILD_TIMEOUT_MINUTES,
                log_group=logs.name,
                source=inline_source("CODEPIPELINE", build.buildspec),
                artifacts="CODEPIPELINE",
                encryption_key=key_arn,
            )
            for build in stage.builds
        }
        pipeline_role = role(
            node,
            "pipeline",
            name=stage.pipeline_role,
            path=names.PIPELINE_PATH,
            trust=service_trust(
                "codepipeline.amazonaws.com",
                spec.account_id,
                (f"arn:aws:codepipeline:{spec.region}:{spec.account_id}:{stage.pipeline}",),
            ),
            policy=policies.pipeline_role_policy(
                pipeline_objects=pipeline_objects,
                bucket=spec.bucket,
                key_arn=key_arn,
                connection_arn=connection,
                repository=team.repository,
                build_projects=[
                    f"arn:aws:codebuild:{spec.region}:{spec.account_id}:project/{b.project}"
                    for b in stage.builds
                ],
            ),
            description=f"{stage.pipeline}: the pipeline's service role",
        )
        stages = [source_stage(connection, team.repository, stage.source_branch)]
        stages += [_build_stage(b, projects[b.stage].name) for b in stage.before_approval]
        if stage.approval:
            stages.append(_approval(team))
        stages += [_build_stage(b, projects[b.stage].name) for b in stage.after_approval]
        push = CodepipelineTriggerGitConfigurationPush(
            branches=(
                [CodepipelineTriggerGitConfigurationPushBranches(includes=list(stage.branches))]
                if stage.branches
                else None
            ),
            tags=(
                [CodepipelineTriggerGitConfigurationPushTags(includes=list(stage.tags))]
                if stage.tags
                else None
            ),
        )
        Codepipeline(
            node,
            "pipeline",
            name=stage.pipeline,
            role_arn=pipeline_role.arn,
            pipeline_type="V2",
            execution_mode="SUPERSEDED" if stage.environment is Environment.DEV else "QUEUED",
            artifact_store=[
                CodepipelineArtifactStore(
                    location=self.tooling.bucket.bucket.bucket,
                    type="S3",
                    encryption_key=[CodepipelineArtifactStoreEncryptionKey(id=key_arn, type="KMS")],
                )
            ],
            stage=stages,
            trigger=[
                CodepipelineTrigger(
                    provider_type="CodeStarSourceConnection",
                    git_configuration=[
                        CodepipelineTriggerGitConfiguration(
                            source_action_name=names.SOURCE_ACTION, push=[push]
                        )
                    ],
                )
            ],
        )


def _build_stage(build: BuildStep, project_name: str) -> CodepipelineStage:
    configuration = {"ProjectName": project_name}
    if build.variables:
        configuration["EnvironmentVariables"] = json.dumps(
            [{"name": n, "value": v, "type": "PLAINTEXT"} for n, v in build.variables],
            separators=(",", ":"),
        )
    return CodepipelineStage(
        name=build.stage,
        action=[
            CodepipelineStageAction(
                name=build.stage,
                category="Build",
                owner="AWS",
                provider="CodeBuild",
                version="1",
                input_artifacts=[names.SOURCE_ARTIFACT],
                configuration=configuration,
            )
        ],
    )


def _approval(team: FeaturePipelines) -> CodepipelineStage:
    return CodepipelineStage(
        name=names.APPROVAL_STAGE,
        action=[
            CodepipelineStageAction(
                name=names.APPROVAL_ACTION,
                category="Approval",
                owner="AWS",
                provider="Manual",
                version="1",
                configuration={
                    "CustomData": f"Feature release #{{{names.SOURCE_NAMESPACE}.CommitId}} of "
                    f"{team.name} to production: approve once the models that need it have "
                    "passed acceptance in acc."
                },
            )
        ],
    )


class FeaturePublishers(Construct):
    """Each team's publisher role in one environment, trusted only by the team's feature
    build for that environment."""

    def __init__(self, scope: Construct, id_: str, publishers: Sequence[FeaturePublisher]) -> None:
        super().__init__(scope, id_)
        for publisher in publishers:
            role(
                self,
                publisher.pipeline,
                name=publisher.role.name,
                path=names.PIPELINE_PATH,
                trust=publisher.role.trust,
                policy=publisher.role.policy,
                description=publisher.role.description,
                tags=publisher.role.tags,
            )
