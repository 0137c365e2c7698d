"""The feature pipelines as resources: each team's three pipelines in the tooling account
(``FeaturePipelineResources``) and its publisher role in each environment
(``FeaturePublishers``).

Names, documents and buildspecs come from ``ndap_infra.pipelines.feature_pipeline``
(pure); the pipelines share the tooling account's artifact store and git connections."""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from ndap_infra.constructs.builds import role
from ndap_infra.constructs.pipelines import ToolingPipelines, git_pipeline
from ndap_infra.names import pipelines as names
from ndap_infra.pipelines.feature_pipeline import (
    FeaturePipelines,
    FeaturePublisher,
    feature_build_policy,
)
from ndap_infra.pipelines.spec import StageSpec
from ndap_infra.resources.aws import (
    CloudwatchLogGroup,
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
            build.stage: self.tooling.stage_build(node, build, build_role, logs)
            for build in stage.builds
        }
        approval = (
            f"Feature release #{{{names.SOURCE_NAMESPACE}.CommitId}} of {team.name} to "
            "production: approve once the models that need it have passed acceptance in acc."
        )
        git_pipeline(
            node,
            self.tooling,
            stage,
            repository=team.repository,
            connection=connection,
            project_names={b.stage: projects[b.stage].name for b in stage.builds},
            approval=approval,
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
