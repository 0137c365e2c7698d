"""The delivery pipelines as resources: the tooling account's part and each environment's.

Every name, document and buildspec comes from the pure layer (``ndap_infra.pipelines``);
this module only turns them into resources and wires references (the artifact key's and
the git connections' ARNs, which exist only once created).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from constructs import Construct

from ndap_infra.config.enums import Environment, GitHost
from ndap_infra.constructs.builds import build_project, inline_source, role
from ndap_infra.constructs.storage import BucketProps, KeyProps, ManagedKey, SecureBucket
from ndap_infra.iam.trust import service_trust
from ndap_infra.names import pipelines as names
from ndap_infra.names.access import PERSONA_PATH, PERSONA_TAG
from ndap_infra.pipelines import policies
from ndap_infra.pipelines.roles import RoleSpec
from ndap_infra.pipelines.spec import (
    BuildStep,
    ProjectDeployment,
    ProjectPipelines,
    StageSpec,
    ToolingRole,
    ToolingSpec,
)
from ndap_infra.resources.aws import (
    CloudwatchLogGroup,
    CodebuildProject,
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
    CodestarconnectionsConnection,
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
    EcrRepositoryPolicy,
    IamRole,
    IamRolePolicy,
    SagemakerModelPackageGroup,
    SagemakerModelPackageGroupPolicy,
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetRetryPolicy,
)

BUILD_TIMEOUT_MINUTES = 60


class ToolingPeople(Construct):
    """The people roles of the tooling account (``personas/<persona>/role`` and
    ``access``), trusted like every persona role: from the identity account, as that
    persona, with MFA where the persona matrix asks for it."""

    def __init__(self, scope: Construct, id_: str, roles: Sequence[ToolingRole]) -> None:
        super().__init__(scope, id_)
        for spec in roles:
            node = Construct(self, spec.persona.value)
            role = IamRole(
                node,
                "role",
                name=spec.name,
                path=PERSONA_PATH,
                assume_role_policy=spec.trust.to_terraform_json(),
                max_session_duration=spec.max_session_seconds,
                tags={PERSONA_TAG: spec.persona.value},
                description=f"{spec.persona.value}: {spec.access} access to the delivery account",
            )
            IamRolePolicy(
                node, "access", name="access", role=role.id, policy=spec.policy.to_terraform_json()
            )


class ToolingPipelines(Construct):
    """The artifact store (KMS key + bucket), one git connection per host in use, and per
    project: the build log group, the model registry and its policy, and per environment
    the pipeline, its build projects, its service role and the build role."""

    def __init__(self, scope: Construct, id_: str, spec: ToolingSpec) -> None:
        super().__init__(scope, id_)
        self.spec = spec
        self.key = ManagedKey(
            self,
            "artifact-key",
            KeyProps(
                alias=spec.key_alias,
                description=f"{spec.org} tooling: encrypts pipeline artifacts and build logs",
                policy=spec.key_policy,
            ),
        )
        self.bucket = SecureBucket(
            self,
            "artifact-bucket",
            BucketProps(
                name=spec.bucket,
                kms_key_arn=self.key.arn,
                policy=spec.bucket_policy,
                # The key policy grants each deployer its project's objects by encryption
                # context; a bucket-level key would replace the object ARN there.
                bucket_key_enabled=False,
            ),
        )
        self.connections: dict[GitHost, CodestarconnectionsConnection] = {
            host: CodestarconnectionsConnection(
                self,
                f"connection-{host.value}",
                name=names.connection_name(spec.org, host),
                provider_type=names.connection_provider(host),
            )
            for host in spec.hosts
        }
        for project in spec.projects:
            self._project(project)

    def _project(self, project: ProjectPipelines) -> None:
        node = Construct(self, project.name)
        group = SagemakerModelPackageGroup(
            node,
            "model-registry",
            model_package_group_name=project.model_package_group,
            model_package_group_description=f"{project.name}: releases verified in acc",
        )
        SagemakerModelPackageGroupPolicy(
            node,
            "model-registry-policy",
            model_package_group_name=group.model_package_group_name,
            resource_policy=project.registry_policy.to_terraform_json(),
        )
        repository = EcrRepository(
            node,
            "image-repository",
            name=project.image_repository,
            # a tag names one image forever; acc and prd name images by digest anyway
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=[
                EcrRepositoryImageScanningConfiguration(scan_on_push=True)
            ],
            encryption_configuration=[
                EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=self.key.arn)
            ],
        )
        if project.image_policy is not None:
            EcrRepositoryPolicy(
                node,
                "image-repository-policy",
                repository=repository.name,
                policy=project.image_policy.to_terraform_json(),
            )
        for stage in project.stages:
            self._stage(node, project, stage)

    def _stage(self, scope: Construct, project: ProjectPipelines, stage: StageSpec) -> None:
        spec = self.spec
        node = Construct(scope, stage.environment.value)
        # One log group per environment: no lower environment's build writes the log an
        # approver reads (#21, finding 4).
        logs = CloudwatchLogGroup(
            node,
            "build-logs",
            name=stage.log_group,
            retention_in_days=spec.log_retention_days,
            kms_key_id=self.key.arn,
        )
        log_group_arn = f"arn:aws:logs:{spec.region}:{spec.account_id}:log-group:{stage.log_group}"
        connection = self.connections[project.git_host].arn
        pipeline_objects = f"arn:aws:s3:::{spec.bucket}/{names.artifact_prefix(stage.pipeline)}/*"
        build_role = role(
            node,
            "build",
            name=stage.build_role,
            path=names.PIPELINE_PATH,
            trust=stage.build_role_trust,
            policy=policies.build_role_policy(
                deployer_arn=stage.deployer_arn,
                pipeline_objects=pipeline_objects,
                project_objects=stage.project_objects,
                writes_project_objects=stage.writes_project_objects,
                key_arn=self.key.arn,
                connection_arn=connection,
                repository=project.repository,
                log_group_arn=log_group_arn,
                tools_bucket=spec.bucket,
                image_repository=project.image_repository_arn or None,
            ),
            description=f"{project.name}: builds for {stage.environment.value}; may assume only "
            f"the project's {stage.environment.value} deployer role",
        )
        register_role = None
        if stage.register_role is not None and stage.register_role_trust is not None:
            deploy = next(b for b in stage.builds if b.purpose == "deploy")
            register_role = role(
                node,
                names.REGISTER,
                name=stage.register_role,
                path=names.PIPELINE_PATH,
                trust=stage.register_role_trust,
                policy=policies.register_role_policy(
                    pipeline_objects=pipeline_objects,
                    staged_objects=stage.project_objects,
                    release_objects=(
                        f"arn:aws:s3:::{spec.bucket}/"
                        f"{names.artifacts_prefix(project.name, names.RELEASE_ARTIFACTS)}/*"
                    ),
                    key_arn=self.key.arn,
                    connection_arn=connection,
                    repository=project.repository,
                    log_group_arn=log_group_arn,
                    registry=project.registry_arns,
                    deploy_project_arn=(
                        f"arn:aws:codebuild:{spec.region}:{spec.account_id}:project/"
                        f"{deploy.project}"
                    ),
                ),
                description=f"{project.name}: acc's register step (platform script only); the "
                "only pipeline role that registers and approves releases",
            )
        builds = {}
        for build in stage.builds:
            runs_as = build_role
            if build.platform:
                assert register_role is not None  # the spec gives a platform step its role
                runs_as = register_role
            builds[build.stage] = self.stage_build(node, build, runs_as, logs)
        approval = (
            f"Release #{{{names.SOURCE_NAMESPACE}.CommitId}} of {project.name} to production: "
            "approve once user-acceptance tests in acc have passed."
        )
        git_pipeline(
            node,
            self,
            stage,
            repository=project.repository,
            connection=connection,
            project_names={b.stage: builds[b.stage].name for b in stage.builds},
            approval=approval,
        )

    def stage_build(
        self, scope: Construct, build: BuildStep, role: IamRole, logs: CloudwatchLogGroup
    ) -> CodebuildProject:
        """One step's CodeBuild project, as every pipeline of the tooling account runs it."""
        return build_project(
            scope,
            f"build-{build.purpose}",
            name=build.project,
            description=build.description,
            service_role_arn=role.arn,
            timeout_minutes=BUILD_TIMEOUT_MINUTES,
            log_group=logs.name,
            source=inline_source("CODEPIPELINE", build.buildspec),
            artifacts="CODEPIPELINE",
            encryption_key=self.key.arn,
        )


class PipelineDeployers(Construct):
    """Each project's identities in one environment account: the deployer role (trusted
    only by the project's build role for this environment), the execution role SageMaker
    runs as, and for batch projects the schedule that starts the prediction pipeline, with
    its role."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        deployments: Sequence[ProjectDeployment],
        schedule_key_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        for deployment in deployments:
            node = Construct(self, deployment.project)
            _spec_role(node, "deployer", deployment.deployer)
            _spec_role(node, "execution", deployment.execution)
            schedule = deployment.schedule
            if schedule is None:
                continue
            schedule_role = _spec_role(node, "schedule", schedule.role)
            SchedulerSchedule(
                node,
                "schedule",
                name=schedule.name,
                group_name="default",
                description=f"{deployment.project}: starts the batch prediction pipeline",
                schedule_expression=schedule.expression,
                flexible_time_window=[SchedulerScheduleFlexibleTimeWindow(mode="OFF")],
                kms_key_arn=schedule_key_arn,
                state="ENABLED",
                target=[
                    SchedulerScheduleTarget(
                        arn=schedule.pipeline_arn,
                        role_arn=schedule_role.arn,
                        retry_policy=[SchedulerScheduleTargetRetryPolicy(maximum_retry_attempts=2)],
                    )
                ],
            )


def _spec_role(scope: Construct, id_: str, spec: RoleSpec) -> IamRole:
    return role(
        scope,
        id_,
        name=spec.name,
        path=names.PIPELINE_PATH,
        trust=spec.trust,
        policy=spec.policy,
        description=spec.description,
        tags=spec.tags,
    )


def source_stage(connection: str, repository: str, branch: str) -> CodepipelineStage:
    """The source stage: ``repository``'s ``branch`` through the git connection, as a full
    clone (the builds check a tagged commit's ancestry, or compare with the last applied
    commit)."""
    return CodepipelineStage(
        name=names.SOURCE_ACTION,
        action=[
            CodepipelineStageAction(
                name=names.SOURCE_ACTION,
                category="Source",
                owner="AWS",
                provider="CodeStarSourceConnection",
                version="1",
                namespace=names.SOURCE_NAMESPACE,
                output_artifacts=[names.SOURCE_ARTIFACT],
                configuration={
                    "ConnectionArn": connection,
                    "FullRepositoryId": repository,
                    "BranchName": branch,
                    "OutputArtifactFormat": "CODEBUILD_CLONE_REF",
                },
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
                namespace=build.namespace,
                configuration=configuration,
            )
        ],
    )


def _approval_stage(custom_data: str) -> CodepipelineStage:
    return CodepipelineStage(
        name=names.APPROVAL_STAGE,
        action=[
            CodepipelineStageAction(
                name=names.APPROVAL_ACTION,
                category="Approval",
                owner="AWS",
                provider="Manual",
                version="1",
                configuration={"CustomData": custom_data},
            )
        ],
    )


def git_pipeline(
    node: Construct,
    tooling: ToolingPipelines,
    stage: StageSpec,
    *,
    repository: str,
    connection: str,
    project_names: Mapping[str, str],
    approval: str,
) -> Codepipeline:
    """One stage's CodePipeline V2 and its service role, in ``node``: the source, the
    builds (by the CodeBuild project named for each step), the approval where the stage
    has one; started by pushes of the stage's branches or tags. Shared by the projects'
    and the feature pipelines."""
    spec = tooling.spec
    pipeline_objects = f"arn:aws:s3:::{spec.bucket}/{names.artifact_prefix(stage.pipeline)}/*"
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
            key_arn=tooling.key.arn,
            connection_arn=connection,
            repository=repository,
            build_projects=[
                f"arn:aws:codebuild:{spec.region}:{spec.account_id}:project/{b.project}"
                for b in stage.builds
            ],
        ),
        description=f"{stage.pipeline}: the pipeline's service role",
    )
    stages = [source_stage(connection, repository, stage.source_branch)]
    stages += [_build_stage(b, project_names[b.stage]) for b in stage.before_approval]
    if stage.approval:
        stages.append(_approval_stage(approval))
    stages += [_build_stage(b, project_names[b.stage]) for b in stage.after_approval]
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
    return Codepipeline(
        node,
        "pipeline",
        name=stage.pipeline,
        role_arn=pipeline_role.arn,
        pipeline_type="V2",
        execution_mode="SUPERSEDED" if stage.environment is Environment.DEV else "QUEUED",
        artifact_store=[
            CodepipelineArtifactStore(
                location=tooling.bucket.bucket.bucket,
                type="S3",
                encryption_key=[
                    CodepipelineArtifactStoreEncryptionKey(id=tooling.key.arn, type="KMS")
                ],
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
