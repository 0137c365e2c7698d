"""The jobs table: what every machine identity the platform creates must be able to do.

Written from the configuration and the pure builders' names (never from the synthesized
policies it is checked against): one row per identity, operation and resource, with why
the job needs it. ``ndap_infra/proofs/jobs.py`` evaluates each row through the
synthesized guardrails, trusts, boundaries and resource policies; ``policies/JOBS.md``
shows it to reviewers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ndap_infra.access.data import receives_data
from ndap_infra.access.sampling import integration_sampler
from ndap_infra.config.accounts import security_account_id
from ndap_infra.config.enums import (
    LOG_ARCHIVE,
    SECURITY_TOOLING,
    TOOLING,
    Environment,
    Persona,
    ProjectKind,
)
from ndap_infra.config.model import NdapConfig
from ndap_infra.names import pipelines as names
from ndap_infra.names.access import (
    dataset_bucket_name,
    persona_role_arn,
    replication_role_name,
    role_arn,
)
from ndap_infra.names.features import feature_sources
from ndap_infra.names.pipelines import (
    build_role_arn,
    deployer_role_arn,
    execution_role_arn,
    register_role_arn,
)
from ndap_infra.names.platform import bucket_name, environment_stack, kms_alias, log_bucket_name
from ndap_infra.names.security import (
    ARCHIVE_CLOUDTRAIL_PREFIX,
    ORGANIZATION_TRAIL_STACK,
    archive_bucket,
    archive_key_alias,
    config_aggregator_role,
)
from ndap_infra.pipelines.drift import drift_detection_spec
from ndap_infra.pipelines.feature_pipeline import feature_pipelines, team_groups
from ndap_infra.pipelines.features import feature_store
from ndap_infra.pipelines.platform import platform_pipeline_spec
from ndap_infra.pipelines.policies import registry_arns
from ndap_infra.pipelines.retraining import retraining_triggers
from ndap_infra.pipelines.spec import (
    ProjectPipelines,
    StageSpec,
    environment_deployers,
    tooling_spec,
)
from ndap_infra.proofs.access_model import key_arn

Context = tuple[tuple[str, str | tuple[str, ...]], ...]


@dataclass(frozen=True)
class Job:
    """One operation a machine identity needs. ``identity`` is a role ARN or a service
    principal (``codebuild.amazonaws.com``); ``context`` holds the condition keys AWS
    sends with that request (the calling service's source ARN, the key's aliases...)."""

    job: str
    identity: str
    operation: str
    resource: str
    why: str
    context: Context = ()
    expected: bool = True
    """False for a power the identity must NOT hold (a project-code build registering a
    model package): the row is evaluated like the others and must come out denied."""

    @property
    def service_principal(self) -> bool:
        return not self.identity.startswith("arn:")


def _service(
    job: str, service: str, role: str, source_arn: str, source_account: str, why: str
) -> Job:
    """A service assuming the role it runs as, as the service calls it."""
    context: Context = (("aws:SourceArn", source_arn), ("aws:SourceAccount", source_account))
    return Job(job, service, "sts:AssumeRole", role, why, context)


def _via_s3(region: str, alias: str, object_arn: str) -> Context:
    """What S3 sends KMS for an object it encrypts or decrypts."""
    return (
        ("kms:ViaService", f"s3.{region}.amazonaws.com"),
        ("kms:ResourceAliases", (alias,)),
        ("kms:EncryptionContext:aws:s3:arn", object_arn),
    )


def _drift_jobs(config: NdapConfig) -> Iterator[Job]:
    spec = drift_detection_spec(config)
    if spec is None:
        return
    job = "scheduled drift detection"
    tooling = spec.account_id
    schedule_arn = (
        f"arn:aws:scheduler:{spec.region}:{tooling}:schedule/default/{spec.schedule_name}"
    )
    yield _service(
        job,
        "scheduler.amazonaws.com",
        role_arn(tooling, spec.schedule_role),
        schedule_arn,
        tooling,
        "EventBridge Scheduler starts the drift build as the schedule role",
    )
    yield Job(
        job,
        role_arn(tooling, spec.schedule_role),
        "codebuild:StartBuild",
        spec.project_arn,
        "the schedule starts the drift build",
    )
    yield _service(
        job,
        "codebuild.amazonaws.com",
        spec.build_role_arn,
        spec.project_arn,
        tooling,
        "CodeBuild runs the drift check as the build role",
    )
    yield Job(
        job,
        spec.build_role_arn,
        "logs:PutLogEvents",
        f"{spec.log_group_arn}:log-stream:run",
        "the drift build writes its log",
    )
    for account in spec.reader_accounts:
        reader = spec.reader_arn(account)
        yield Job(
            job,
            spec.build_role_arn,
            "sts:AssumeRole",
            reader,
            "the drift build plans every stack as that account's drift reader",
        )
        yield Job(
            job,
            reader,
            "iam:GetRole",
            role_arn(account, spec.reader_role),
            "a plan reads the deployed configuration (here: a role)",
        )


def _platform_pipeline_jobs(config: NdapConfig) -> Iterator[Job]:
    spec = platform_pipeline_spec(config)
    if spec is None:
        return
    job = "the platform's own pipeline"
    tooling = spec.tooling
    yield _service(
        job,
        "codepipeline.amazonaws.com",
        role_arn(tooling, spec.pipeline_role, names.PIPELINE_PATH),
        spec.pipeline_arn,
        tooling,
        "CodePipeline runs the platform pipeline as its role",
    )
    for build, role in (
        (spec.plan_project, spec.plan_role_arn),
        (spec.apply_project, spec.apply_role_arn),
    ):
        yield _service(
            job,
            "codebuild.amazonaws.com",
            role,
            spec.project_arn(build),
            tooling,
            f"CodeBuild runs {build} as its role",
        )
    yield Job(
        job,
        spec.apply_role_arn,
        "s3:PutObject",
        f"arn:aws:s3:::{spec.artifact_bucket}/{names.TOOLS_POINTER}",
        "the apply build publishes the approved tooling wheel and points the builds at it",
    )
    for account in spec.accounts:
        yield Job(
            job,
            spec.plan_role_arn,
            "sts:AssumeRole",
            spec.planner_arn(account),
            "the plan build plans that account's stack as its planner",
        )
        yield Job(
            job,
            spec.apply_role_arn,
            "sts:AssumeRole",
            spec.deployer_arn(account),
            "the apply build applies that account's stack as its deployer (after approval)",
        )
        yield Job(
            job,
            spec.planner_arn(account),
            "iam:GetRole",
            spec.deployer_arn(account),
            "a plan reads the deployed configuration (here: a role)",
        )
        yield Job(
            job,
            spec.deployer_arn(account),
            "iam:UpdateAssumeRolePolicy",
            role_arn(account, f"{spec.org}-drift-reader"),
            "the deployer changes the platform's own roles",
        )


def _project_stage_jobs(config: NdapConfig) -> Iterator[Job]:
    spec = tooling_spec(config)
    if spec is None:
        return
    tooling, region = spec.account_id, spec.region
    artifact_key = key_arn(region, tooling, "pipelines/artifact-key/key")
    for project in spec.projects:
        for stage in project.stages:
            env = stage.environment
            job = f"{project.name}: {env.value} pipeline"
            build_role = role_arn(tooling, stage.build_role, names.PIPELINE_PATH)
            pipeline_role = role_arn(tooling, stage.pipeline_role, names.PIPELINE_PATH)
            pipeline_arn = f"arn:aws:codepipeline:{region}:{tooling}:{stage.pipeline}"
            yield _service(
                job,
                "codepipeline.amazonaws.com",
                pipeline_role,
                pipeline_arn,
                tooling,
                "CodePipeline runs the stage as its pipeline role",
            )
            for step in stage.builds:
                runs_as = build_role
                if step.platform and stage.register_role is not None:
                    runs_as = role_arn(tooling, stage.register_role, names.PIPELINE_PATH)
                yield _service(
                    job,
                    "codebuild.amazonaws.com",
                    runs_as,
                    f"arn:aws:codebuild:{region}:{tooling}:project/{step.project}",
                    tooling,
                    f"CodeBuild runs the {step.purpose} step as "
                    + ("the stage's register role" if step.platform else "the stage's build role"),
                )
            yield Job(
                job,
                pipeline_role,
                "s3:PutObject",
                f"arn:aws:s3:::{spec.bucket}/{names.artifact_prefix(stage.pipeline)}/source.zip",
                "the pipeline stores the source artifact",
            )
            yield Job(
                job,
                build_role,
                "s3:GetObject",
                f"arn:aws:s3:::{spec.bucket}/{names.artifact_prefix(stage.pipeline)}/source.zip",
                "the build reads the source artifact",
            )
            yield Job(
                job,
                build_role,
                "kms:Decrypt",
                artifact_key,
                "the build decrypts the artifacts",
            )
            log_group = f"arn:aws:logs:{region}:{tooling}:log-group:{stage.log_group}"
            yield Job(
                job,
                build_role,
                "logs:PutLogEvents",
                f"{log_group}:log-stream:run",
                "the build writes its own environment's log",
            )
            yield Job(
                job,
                build_role,
                "sts:AssumeRole",
                stage.deployer_arn,
                "the build deploys as the project's deployer in the environment",
            )
            yield Job(
                job,
                build_role,
                "s3:GetObject",
                f"arn:aws:s3:::{spec.bucket}/{names.TOOLS_POINTER}",
                "the build installs the platform's tooling (the change classifier) by sha256",
            )
            yield Job(
                job,
                build_role,
                "ecr:PutImage",
                project.image_repository_arn,
                "the pipeline build pushes the project's images to the platform registry",
            )
            execution = names.execution_role_arn(spec.org, project.name, config.account_id(env))
            yield Job(
                job,
                execution,
                "ecr:BatchGetImage",
                project.image_repository_arn,
                "the project's jobs pull its image, by digest, from the platform registry",
            )
            yield from _build_powers(spec.bucket, project, stage, build_role, region, tooling)
            yield from _lower_logs(project, stage, build_role, region, tooling)
            if stage.register_role is not None:
                yield from _register_jobs(spec.bucket, project, stage, region, tooling)
    yield from _deployer_jobs(config)


def _release_objects(bucket: str, project: str) -> str:
    return f"arn:aws:s3:::{bucket}/{names.artifacts_prefix(project, names.RELEASE_ARTIFACTS)}"


def _build_powers(
    bucket: str,
    project: ProjectPipelines,
    stage: StageSpec,
    build_role: str,
    region: str,
    tooling: str,
) -> Iterator[Job]:
    """What a build that runs project code must NOT be able to do (#21, finding 3): register
    or approve a model package, or write a release."""
    job = f"{project.name}: {stage.environment.value} pipeline"
    group, packages = registry_arns(region, tooling, project.model_package_group)
    refuse = "project code runs here: only acc's register step"
    for operation, resource, what in (
        ("sagemaker:CreateModelPackage", group, "registers model packages"),
        ("sagemaker:UpdateModelPackage", packages.replace("*", "1"), "approves model packages"),
        ("s3:PutObject", f"{_release_objects(bucket, project.name)}/v1/model.tar.gz", "writes "
         "releases"),
    ):  # fmt: skip
        yield Job(job, build_role, operation, resource, f"{refuse} {what}", expected=False)


def _lower_logs(
    project: ProjectPipelines, stage: StageSpec, build_role: str, region: str, tooling: str
) -> Iterator[Job]:
    """A build never writes a higher environment's log group (#21, finding 4): the log an
    approver reads is written by that environment's builds alone."""
    job = f"{project.name}: {stage.environment.value} pipeline"
    order = list(names.PIPELINE_ENVIRONMENTS)
    for other in project.stages:
        if order.index(other.environment) <= order.index(stage.environment):
            continue
        yield Job(
            job,
            build_role,
            "logs:PutLogEvents",
            f"arn:aws:logs:{region}:{tooling}:log-group:{other.log_group}:log-stream:run",
            f"approvers read {other.environment.value}'s build log: no "
            f"{stage.environment.value} build writes it",
            expected=False,
        )


def _register_jobs(
    bucket: str, project: ProjectPipelines, stage: StageSpec, region: str, tooling: str
) -> Iterator[Job]:
    """acc's register step (platform script only): what it needs to register a release."""
    assert stage.register_role is not None
    job = f"{project.name}: {stage.environment.value} pipeline"
    register = role_arn(tooling, stage.register_role, names.PIPELINE_PATH)
    group, packages = registry_arns(region, tooling, project.model_package_group)
    deploy = names.codebuild_project(project.name, "deploy", stage.environment)
    staged = f"arn:aws:s3:::{bucket}/{names.artifacts_prefix(project.name, names.BUILD_ARTIFACTS)}"
    source = f"arn:aws:s3:::{bucket}/{names.artifact_prefix(stage.pipeline)}/source.zip"
    for operation, resource, why in (
        ("s3:GetObject", source,
         "the register step reads the source reference (to clone the tag it registers)"),
        ("codebuild:BatchGetBuilds", f"arn:aws:codebuild:{region}:{tooling}:project/{deploy}",
         "the register step checks the acc deploy build it is handed (project, commit, status)"),
        ("s3:GetObject", f"{staged}/build-id/model.tar.gz",
         "the register step reads what that build staged"),
        ("s3:PutObject", f"{_release_objects(bucket, project.name)}/v1/model.tar.gz",
         "the register step writes the release"),
        ("kms:GenerateDataKey", key_arn(region, tooling, "pipelines/artifact-key/key"),
         "... encrypted with the artifact key"),
        ("sagemaker:CreateModelPackage", group,
         "the register step registers the release with its build, commit and digests"),
        ("sagemaker:UpdateModelPackage", packages.replace("*", "1"),
         "the register step approves the release acc deployed"),
        ("logs:PutLogEvents",
         f"arn:aws:logs:{region}:{tooling}:log-group:{stage.log_group}:log-stream:run",
         "the register step writes acc's build log"),
    ):  # fmt: skip
        yield Job(job, register, operation, resource, why)
    yield Job(
        job,
        register,
        "sts:AssumeRole",
        stage.deployer_arn,
        "the register step runs no deployment: it assumes no role",
        expected=False,
    )


def _deployer_jobs(config: NdapConfig) -> Iterator[Job]:
    tooling = config.tooling_account_id
    if tooling is None:
        return
    org = config.organization.name
    region = config.organization.home_region
    artifacts = names.artifact_bucket(org, tooling)
    for env in config.enabled_environments():
        account = config.account_id(env)
        data = bucket_name(org, env, "data", account)
        data_key = key_arn(region, account, "data-key/key")
        for deployment in environment_deployers(config, env):
            p = deployment.project
            job = f"{p}: {env.value} deployment"
            deployer = role_arn(account, deployment.deployer.name, names.PIPELINE_PATH)
            execution = role_arn(account, deployment.execution.name, names.PIPELINE_PATH)
            kind = names.artifacts_kind(env)
            artifact = f"arn:aws:s3:::{artifacts}/{names.artifacts_prefix(p, kind)}/model.tar.gz"
            yield Job(
                job,
                deployer,
                "s3:GetObject",
                artifact,
                "the deployer reads the release's artifacts from the tooling account",
            )
            yield Job(
                job,
                deployer,
                "kms:Decrypt",
                key_arn(region, tooling, "pipelines/artifact-key/key"),
                "... decrypted with the artifact key, through S3",
                _via_s3(region, names.artifact_key_alias(org), artifact),
            )
            yield Job(
                job,
                deployer,
                "iam:PassRole",
                execution,
                "the deployer hands the execution role to SageMaker",
                (("iam:PassedToService", "sagemaker.amazonaws.com"),),
            )
            orchestration = names.orchestration_pipeline(p, deployment.kind is ProjectKind.BATCH)
            yield Job(
                job,
                deployer,
                "sagemaker:CreatePipeline",
                f"arn:aws:sagemaker:{region}:{account}:pipeline/{orchestration}",
                "the deployer creates the project's orchestration",
            )
            if env is not Environment.DEV:
                group = names.model_package_group(p)
                yield Job(
                    job,
                    deployer,
                    "sagemaker:DescribeModelPackageGroup",
                    f"arn:aws:sagemaker:{region}:{tooling}:model-package-group/{group}",
                    "the deployer finds the release in the tooling account's registry",
                )
            yield _service(
                job,
                "sagemaker.amazonaws.com",
                execution,
                f"arn:aws:sagemaker:{region}:{account}:training-job/run",
                account,
                "SageMaker runs the project's jobs as the execution role",
            )
            project_object = f"arn:aws:s3:::{data}/{names.project_data_prefix(p)}/x.parquet"
            yield Job(
                job,
                execution,
                "s3:PutObject",
                project_object,
                "the jobs write the project's data",
            )
            yield Job(
                job,
                execution,
                "kms:GenerateDataKey",
                data_key,
                "... encrypted with the data key, through S3",
                _via_s3(region, kms_alias(org, env, "data"), project_object),
            )
            yield Job(
                job,
                execution,
                "logs:PutLogEvents",
                f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/TrainingJobs:"
                "log-stream:run",
                "the jobs write their logs",
            )
            if receives_data(config, env):
                datasets = dataset_bucket_name(org, env, account)
                yield Job(
                    job,
                    execution,
                    "s3:GetObject",
                    f"arn:aws:s3:::{datasets}/dataset/part-0.parquet",
                    "the jobs read the production data this environment holds",
                )
            schedule = deployment.schedule
            if schedule is not None:
                schedule_role = role_arn(account, schedule.role.name, names.PIPELINE_PATH)
                yield _service(
                    job,
                    "scheduler.amazonaws.com",
                    schedule_role,
                    f"arn:aws:scheduler:{region}:{account}:schedule/default/{schedule.name}",
                    account,
                    "EventBridge Scheduler starts the batch prediction as the schedule role",
                )
                yield Job(
                    job,
                    schedule_role,
                    "sagemaker:StartPipelineExecution",
                    schedule.pipeline_arn,
                    "the schedule starts the batch prediction",
                )


def _untrusted_input_jobs(config: NdapConfig) -> Iterator[Job]:
    """dev's data bucket is untrusted input (data scientists write it, unreviewed): no
    identity that builds or runs for acc or prd reads it (#21, finding 4; see
    docs/security-model.md, "Untrusted inputs")."""
    tooling = config.tooling_account_id
    if tooling is None or Environment.DEV not in config.enabled_environments():
        return
    org = config.organization.name
    dev = config.account_id(Environment.DEV)
    data = bucket_name(org, Environment.DEV, "data", dev)
    job = "dev's data bucket: untrusted input"
    for project in config.ml_projects:
        p = project.name
        readers = [
            build_role_arn(org, p, env, tooling) for env in (Environment.ACC, Environment.PRD)
        ]
        readers.append(register_role_arn(org, p, tooling))
        for env in (Environment.ACC, Environment.PRD):
            if env in config.enabled_environments():
                account = config.account_id(env)
                readers += [deployer_role_arn(org, p, account), execution_role_arn(org, p, account)]
        for reader in readers:
            yield Job(
                job,
                reader,
                "s3:GetObject",
                f"arn:aws:s3:::{data}/{names.project_data_prefix(p)}/input.parquet",
                "a data scientist writes dev's data bucket unreviewed: nothing built or run "
                "for acc or prd reads it",
                expected=False,
            )


def _retraining_jobs(config: NdapConfig) -> Iterator[Job]:
    if config.tooling_account_id is None:
        return
    for env in config.enabled_environments():
        account = config.account_id(env)
        for trigger in retraining_triggers(config, env):
            job = f"{trigger.project}: {env.value} retraining ({trigger.kind.value})"
            role = role_arn(account, trigger.role.name, names.PIPELINE_PATH)
            service = (
                "scheduler.amazonaws.com"
                if trigger.source_arn.startswith("arn:aws:scheduler:")
                else "events.amazonaws.com"
            )
            yield _service(
                job, service, role, trigger.source_arn, account, "the trigger runs as its role"
            )
            yield Job(
                job,
                role,
                "sagemaker:StartPipelineExecution",
                trigger.pipeline_arn,
                f"the trigger starts the training pipeline ({trigger.reason})",
            )


def _data_jobs(config: NdapConfig) -> Iterator[Job]:
    org = config.organization.name
    region = config.organization.home_region
    if not receives_data(config, Environment.PRD):
        return
    prd = config.account_id(Environment.PRD)
    source = dataset_bucket_name(org, Environment.PRD, prd)
    replication = role_arn(prd, replication_role_name(org))
    job = "production data replication"
    yield _service(
        job,
        "s3.amazonaws.com",
        replication,
        f"arn:aws:s3:::{source}",
        prd,
        "S3 replicates the production datasets as the replication role",
    )
    yield Job(
        job,
        replication,
        "s3:GetObjectVersionForReplication",
        f"arn:aws:s3:::{source}/dataset/part-0.parquet",
        "replication reads each new object version",
    )
    for env in (Environment.DEV, Environment.ACC):
        if env not in config.enabled_environments() or not receives_data(config, env):
            continue
        account = config.account_id(env)
        copy = f"arn:aws:s3:::{dataset_bucket_name(org, env, account)}/dataset/part-0.parquet"
        yield Job(
            job,
            replication,
            "s3:ReplicateObject",
            copy,
            f"replication writes the {env.value} copy",
        )
        yield Job(
            job,
            replication,
            "kms:GenerateDataKey",
            key_arn(region, account, "data-access/key/key"),
            f"... encrypted with the {env.value} copy's key, through S3",
            _via_s3(region, kms_alias(org, env, "datasets"), copy),
        )
    sampler = integration_sampler(config, source, prd, tuple(d.name for d in config.data.datasets))
    if sampler is not None:
        job = "the integration-subset sampler"
        sampler_role = role_arn(prd, sampler.role_name, "/ndap/data/")
        schedule_role = role_arn(prd, sampler.schedule_role_name, "/ndap/data/")
        yield _service(
            job,
            "scheduler.amazonaws.com",
            schedule_role,
            sampler.schedule_arn,
            prd,
            "EventBridge Scheduler starts the sampler as the schedule role",
        )
        yield Job(
            job,
            schedule_role,
            "codebuild:StartBuild",
            sampler.project_arn,
            "the schedule starts the sampling build",
        )
        yield _service(
            job,
            "codebuild.amazonaws.com",
            sampler_role,
            sampler.project_arn,
            prd,
            "CodeBuild runs the sampler as its role",
        )
        dataset = sampler.datasets[0]
        yield Job(
            job,
            sampler_role,
            "s3:GetObject",
            f"arn:aws:s3:::{source}/{dataset}/part-0.parquet",
            "the sampler reads the production datasets",
        )
        yield Job(
            job,
            sampler_role,
            "s3:PutObject",
            f"arn:aws:s3:::{source}/{names.INTEGRATION_SUBSET}/{dataset}/part-0.parquet",
            "the sampler writes the subset that replication carries to dev",
        )


def _feature_store_jobs(config: NdapConfig) -> Iterator[Job]:
    org = config.organization.name
    region = config.organization.home_region
    for env in config.enabled_environments():
        store = feature_store(config, env)
        if store is None:
            continue
        account = config.account_id(env)
        job = f"{env.value} feature store"
        role = role_arn(account, store.role.name, names.PIPELINE_PATH)
        yield _service(
            job,
            "sagemaker.amazonaws.com",
            role,
            f"arn:aws:sagemaker:{region}:{account}:feature-group/{store.groups[0].name}",
            account,
            "SageMaker Feature Store writes the offline store as this role",
        )
        data = bucket_name(org, env, "data", account)
        offline = f"arn:aws:s3:::{data}/{names.FEATURE_STORE_PREFIX}/{account}/x.parquet"
        yield Job(
            job,
            role,
            "s3:PutObject",
            offline,
            "the offline store is written to the data bucket",
        )
        yield Job(
            job,
            role,
            "kms:GenerateDataKey",
            key_arn(region, account, "data-key/key"),
            "... encrypted with the data key, through S3",
            _via_s3(region, store.key_alias, offline),
        )


def _feature_pipeline_jobs(config: NdapConfig) -> Iterator[Job]:
    """Each team's feature pipelines: the build runs as its own role, acts in its
    environment only as the team's publisher, which creates and backfills exactly the
    team's versions configured there, and nothing else."""
    tooling = config.tooling_account_id
    if tooling is None:
        return
    org = config.organization.name
    region = config.organization.home_region
    bucket = names.artifact_bucket(org, tooling)
    artifact_key = key_arn(region, tooling, "pipelines/artifact-key/key")
    other_build = next(
        (
            f"arn:aws:codebuild:{region}:{tooling}:project/{s.builds[0].project}"
            for p in tooling_spec(config).projects  # type: ignore[union-attr]
            for s in p.stages
        ),
        None,
    )
    for team in feature_pipelines(config):
        for stage in team.stages:
            env = stage.environment
            account = config.account_id(env)
            job = f"{team.name}: {env.value} feature pipeline"
            build_role = role_arn(tooling, stage.build_role, names.PIPELINE_PATH)
            pipeline_role = role_arn(tooling, stage.pipeline_role, names.PIPELINE_PATH)
            yield _service(
                job,
                "codepipeline.amazonaws.com",
                pipeline_role,
                f"arn:aws:codepipeline:{region}:{tooling}:{stage.pipeline}",
                tooling,
                "CodePipeline runs the stage as its pipeline role",
            )
            for step in stage.builds:
                yield _service(
                    job,
                    "codebuild.amazonaws.com",
                    build_role,
                    f"arn:aws:codebuild:{region}:{tooling}:project/{step.project}",
                    tooling,
                    f"CodeBuild runs the {step.purpose} step as the stage's feature build role",
                )
            if other_build is not None:
                yield Job(
                    job,
                    "codebuild.amazonaws.com",
                    "sts:AssumeRole",
                    build_role,
                    "a project's build (another pipeline) cannot run as the feature build role",
                    (("aws:SourceArn", other_build), ("aws:SourceAccount", tooling)),
                    expected=False,
                )
            source = f"arn:aws:s3:::{bucket}/{names.artifact_prefix(stage.pipeline)}/source.zip"
            yield Job(job, build_role, "s3:GetObject", source, "the build reads the source")
            yield Job(job, build_role, "kms:Decrypt", artifact_key, "... with the artifact key")
            log_group = f"arn:aws:logs:{region}:{tooling}:log-group:{stage.log_group}"
            yield Job(
                job,
                build_role,
                "logs:PutLogEvents",
                f"{log_group}:log-stream:run",
                "the build writes its own environment's log",
            )
            yield Job(
                job,
                build_role,
                "sts:AssumeRole",
                stage.deployer_arn,
                "the build acts in the environment as the team's publisher",
            )
            for project in config.ml_projects[:1]:
                yield Job(
                    job,
                    build_role,
                    "sts:AssumeRole",
                    deployer_role_arn(org, project.name, account),
                    "the feature build cannot deploy a model (a project's deployer)",
                    expected=False,
                )
            yield from _publisher_jobs(config, team.team, job, stage.deployer_arn, env)


def _publisher_jobs(
    config: NdapConfig, team: str, job: str, publisher: str, env: Environment
) -> Iterator[Job]:
    org = config.organization.name
    region = config.organization.home_region
    account = config.account_id(env)
    data = bucket_name(org, env, "data", account)
    groups = team_groups(config, team, env)

    def group_arn(name: str) -> str:
        return f"arn:aws:sagemaker:{region}:{account}:feature-group/{name}"

    for group in groups:
        yield Job(
            job,
            publisher,
            "sagemaker:CreateFeatureGroup",
            group_arn(group.name),
            f"the publisher creates {group.name}, configured for {env.value}",
        )
    if groups:
        first = groups[0]
        yield Job(
            job,
            publisher,
            "sagemaker:PutRecord",
            group_arn(first.name),
            "... and backfills it",
        )
        yield Job(
            job,
            publisher,
            "iam:PassRole",
            role_arn(account, names.feature_store_role_name(org), names.PIPELINE_PATH),
            "the publisher hands SageMaker the offline-store role",
            (("iam:PassedToService", "sagemaker.amazonaws.com"),),
        )
        source = f"arn:aws:s3:::{data}/{feature_sources(first.group, first.version)}/part.jsonl"
        yield Job(job, publisher, "s3:GetObject", source, "it reads the backfill records here")
        yield Job(
            job,
            publisher,
            "kms:Decrypt",
            key_arn(region, account, "data-key/key"),
            "... decrypted with the data key, through S3",
            _via_s3(region, kms_alias(org, env, "data"), source),
        )
    configured = {g.name for g in groups}
    elsewhere = [
        names.feature_group_name(g.name, v.version)
        for g in config.feature_groups
        for v in g.versions
        if names.feature_group_name(g.name, v.version) not in configured
    ]
    for name in elsewhere:
        yield Job(
            job,
            publisher,
            "sagemaker:CreateFeatureGroup",
            group_arn(name),
            f"{name} is another team's or not promoted to {env.value}: not this publisher's",
            expected=False,
        )
    sagemaker = f"arn:aws:sagemaker:{region}:{account}"
    for operation, resource, what in (
        ("sagemaker:CreateModelPackage", f"{sagemaker}:model-package-group/x", "registers none"),
        ("sagemaker:CreateEndpoint", f"{sagemaker}:endpoint/x", "deploys no endpoint"),
        ("s3:GetObject", f"arn:aws:s3:::{data}/projects/x/model.tar.gz", "reads no other data"),
    ):  # fmt: skip
        yield Job(
            job, publisher, operation, resource, f"the feature publisher {what}", expected=False
        )


def _baseline_jobs(config: NdapConfig) -> Iterator[Job]:
    org = config.organization.name
    region = config.organization.home_region
    accounts: list[tuple[str, str]] = [
        (environment_stack(env), config.account_id(env)) for env in config.enabled_environments()
    ]
    if config.tooling_account_id is not None:
        accounts.append((TOOLING, config.tooling_account_id))
    for stack, account in accounts:
        job = f"{stack}: security baseline"
        bucket = log_bucket_name(org, account)
        trail = f"arn:aws:cloudtrail:{region}:{account}:trail/{org}-baseline"
        owner = (("s3:x-amz-acl", "bucket-owner-full-control"),)
        yield Job(
            job,
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            f"arn:aws:s3:::{bucket}/cloudtrail/AWSLogs/{account}/CloudTrail/log.json.gz",
            "CloudTrail delivers the account's trail",
            (("aws:SourceArn", trail), ("aws:SourceAccount", account), *owner),
        )
        yield Job(
            job,
            "config.amazonaws.com",
            "s3:PutObject",
            f"arn:aws:s3:::{bucket}/config/AWSLogs/{account}/Config/snapshot.json.gz",
            "AWS Config delivers the configuration history",
            (("aws:SourceAccount", account), *owner),
        )
        yield _service(
            job,
            "config.amazonaws.com",
            role_arn(account, f"{org}-baseline-config"),
            f"arn:aws:config:{region}:{account}:config-recorder/default",
            account,
            "AWS Config records as the baseline's config role",
        )


def _security_account_jobs(config: NdapConfig) -> Iterator[Job]:
    """The security accounts' own identities (#18): the security auditors read the archive
    and delete nothing; the Config aggregator reads the organization; the platform
    pipeline's planner and deployer and the drift reader plan, apply and read these
    stacks, and none of them reads or deletes the evidence."""
    if config.security_accounts is None:
        return
    org = config.organization.name
    region = config.organization.home_region
    archive_account = security_account_id(config, LOG_ARCHIVE)
    admin = security_account_id(config, SECURITY_TOOLING)
    bucket = f"arn:aws:s3:::{archive_bucket(org, archive_account)}"
    evidence = f"{bucket}/{ARCHIVE_CLOUDTRAIL_PREFIX}/AWSLogs/{archive_account}/log.json.gz"
    job = f"{LOG_ARCHIVE}: the evidence"
    auditor = persona_role_arn(org, Persona.SECURITY_AUDITOR, archive_account)
    yield Job(job, auditor, "s3:GetObject", evidence, "a security auditor reads the evidence")
    yield Job(
        job,
        auditor,
        "s3:DeleteObject",
        evidence,
        "nobody deletes evidence, its readers included",
        expected=False,
    )
    aggregator = role_arn(admin, config_aggregator_role(org))
    job = f"{SECURITY_TOOLING}: the Config aggregator"
    yield _service(
        job,
        "config.amazonaws.com",
        aggregator,
        f"arn:aws:config:{region}:{admin}:config-aggregator/config-aggregator-example",
        admin,
        "AWS Config aggregates the organization's configuration as the aggregator role",
    )
    yield Job(
        job,
        aggregator,
        "organizations:ListAccounts",
        # ListAccounts has no resource of its own ("*"); the evaluator needs an account:
        # the delegated administrator's own, where the call is made.
        f"arn:aws:organizations::{admin}:account/o-example/{admin}",
        "the aggregator lists the organization's accounts (AWSConfigRoleForOrganizations)",
    )
    platform = platform_pipeline_spec(config)
    if platform is not None:
        job = "the platform's own pipeline: the security accounts"
        planner = platform.planner_arn(archive_account)
        deployer = platform.deployer_arn(archive_account)
        yield Job(
            job, planner, "s3:GetBucketPolicy", bucket, "a plan reads the archive's configuration"
        )
        yield Job(
            job,
            planner,
            "s3:GetObject",
            evidence,
            "a plan reads configuration, never the evidence",
            expected=False,
        )
        yield Job(
            job,
            deployer,
            "s3:PutBucketPolicy",
            bucket,
            "the deployer keeps the archive's policy (a new member's Config delivery)",
        )
        for operation in ("s3:DeleteObject", "s3:PutBucketObjectLockConfiguration"):
            target = evidence if operation == "s3:DeleteObject" else bucket
            yield Job(
                job,
                deployer,
                operation,
                target,
                "after creation the evidence is nobody's to remove or unlock, the deployer's "
                "neither",
                expected=False,
            )
        yield from _archive_key_reads(config, planner, "the plan build")
        yield Job(
            job,
            platform.deployer_arn(admin),
            "guardduty:UpdateOrganizationConfiguration",
            f"arn:aws:guardduty:{region}:{admin}:detector/example",
            "the deployer keeps the administrator's auto-enable for every member",
        )
    drift = drift_detection_spec(config)
    if drift is not None:
        yield from _archive_key_reads(config, drift.reader_arn(archive_account), "drift detection")
        yield Job(
            "scheduled drift detection",
            drift.reader_arn(archive_account),
            "s3:GetObject",
            evidence,
            "the drift reader reads configuration, never the evidence",
            expected=False,
        )


def _archive_key_reads(config: NdapConfig, reader: str, who: str) -> Iterator[Job]:
    """A plan of the organization-trail stack reads the archive key's ARN by its alias, in
    the log-archive account, as the identity that plans the log-archive stack there (the
    stack's second provider); reading the key's description opens no evidence."""
    org = config.organization.name
    region = config.organization.home_region
    account = security_account_id(config, LOG_ARCHIVE)
    key = key_arn(region, account, "archive/archive-key/key")
    aliases: Context = (("kms:ResourceAliases", (archive_key_alias(org),)),)
    job = f"{ORGANIZATION_TRAIL_STACK}: the archive key's ARN"
    yield Job(
        job,
        reader,
        "kms:DescribeKey",
        key,
        f"{who} reads the key ARN the trail names (CloudTrail reads back the key ARN)",
        aliases,
    )
    yield Job(
        job,
        reader,
        "kms:Decrypt",
        key,
        "reading the key's ARN decrypts no evidence",
        aliases,
        expected=False,
    )


def required_jobs(config: NdapConfig) -> list[Job]:
    """Every row of the jobs table, in a stable order."""
    return [
        *_drift_jobs(config),
        *_platform_pipeline_jobs(config),
        *_project_stage_jobs(config),
        *_untrusted_input_jobs(config),
        *_retraining_jobs(config),
        *_data_jobs(config),
        *_feature_store_jobs(config),
        *_feature_pipeline_jobs(config),
        *_baseline_jobs(config),
        *_security_account_jobs(config),
    ]
