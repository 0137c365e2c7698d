"""What the delivery pipelines consist of, from the configuration: plain data.

``tooling_spec`` describes the tooling account's part (artifact store, git connections,
each project's pipelines, builds, roles and model registry, and the people roles that
follow the pipelines); ``environment_deployers`` the part in one environment account (each
project's deployer, execution and schedule roles, and the batch schedule). Both are empty
without ``organization.tooling_account_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ndap_infra.access.data import receives_data
from ndap_infra.access.identity import policy_for
from ndap_infra.access.personas import (
    BREAK_GLASS_SESSION_SECONDS,
    DEFAULT_SESSION_SECONDS,
    persona_trust,
)
from ndap_infra.config.enums import Access, Environment, GitHost, Persona, ProjectKind
from ndap_infra.config.model import MlProjectConfig, NdapConfig
from ndap_infra.guardrails.access import S3_KMS_WRITES, only_pipelines_from_lower_environments
from ndap_infra.iam.document import PolicyDocument, Principal, Statement
from ndap_infra.iam.resource_policies import (
    account_root,
    bucket_arn,
    bucket_policy_tls_only,
)
from ndap_infra.iam.trust import service_trust
from ndap_infra.names import pipelines as names
from ndap_infra.names.access import (
    PERSONA_PATH,
    PERSONA_TAG,
    data_scientist_names,
    dataset_bucket_name,
    persona_role_name,
)
from ndap_infra.names.platform import bucket_name, kms_alias
from ndap_infra.pipelines import buildspecs, policies
from ndap_infra.pipelines.drift import drift_detection_spec
from ndap_infra.pipelines.platform import platform_pipeline_spec
from ndap_infra.pipelines.roles import RoleSpec

LOWER = (Environment.NONPROD, Environment.DEV)


@dataclass(frozen=True)
class BuildStep:
    """One CodeBuild project, run by one stage of a pipeline."""

    stage: str
    purpose: str
    """``deploy``, ``integration`` or ``verify``: part of the project name and construct id."""
    project: str
    buildspec: str
    description: str
    namespace: str | None = None
    """The CodePipeline namespace of the variables this step exports."""
    variables: tuple[tuple[str, str], ...] = ()
    """Environment variables the pipeline sets for this step (e.g. from an earlier step's
    namespace)."""
    platform: bool = False
    """Runs only the platform's script (no repository code), as the stage's platform role
    (acc's register step), not as the build role that runs project code."""


@dataclass(frozen=True)
class StageSpec:
    """One project's pipeline into one environment."""

    environment: Environment
    pipeline: str
    pipeline_role: str
    build_role: str
    build_role_trust: PolicyDocument
    deployer_arn: str
    branches: tuple[str, ...]
    """Push-to-branch trigger filter (dev)."""
    tags: tuple[str, ...]
    """Push-of-tag trigger filter (acc, prd)."""
    source_branch: str
    before_approval: tuple[BuildStep, ...]
    approval: bool
    after_approval: tuple[BuildStep, ...]
    project_objects: str
    """ARN pattern of the project's artifacts this stage's build reads (and writes)."""
    writes_project_objects: bool
    log_group: str
    """This stage's build log group (one per environment: #21, finding 4)."""
    register_role: str | None = None
    """acc: the role of the platform-written register step, the only one that registers
    and approves model packages and writes ``releases/`` (#21, finding 3)."""
    register_role_trust: PolicyDocument | None = None

    @property
    def registers_releases(self) -> bool:
        return self.register_role is not None

    @property
    def builds(self) -> tuple[BuildStep, ...]:
        return (*self.before_approval, *self.after_approval)


@dataclass(frozen=True)
class ProjectPipelines:
    name: str
    kind: ProjectKind
    repository: str
    git_host: GitHost
    model_package_group: str
    registry_policy: PolicyDocument
    registry_arns: tuple[str, str]
    stages: tuple[StageSpec, ...]
    image_repository: str = ""
    """The project's repository in the platform registry (the tooling account's ECR)."""
    image_repository_arn: str = ""
    image_policy: PolicyDocument | None = None


@dataclass(frozen=True)
class ToolingRole:
    """A people role in the tooling account (same trust as the persona roles)."""

    persona: Persona
    access: str
    name: str
    trust: PolicyDocument
    policy: PolicyDocument
    max_session_seconds: int


@dataclass(frozen=True)
class ToolingSpec:
    org: str
    account_id: str
    region: str
    bucket: str
    key_alias: str
    bucket_policy: PolicyDocument
    key_policy: PolicyDocument
    hosts: tuple[GitHost, ...]
    projects: tuple[ProjectPipelines, ...]
    people: tuple[ToolingRole, ...]
    log_retention_days: int


TOOLING_ACCESS: dict[Persona, str] = {
    Persona.ML_ENGINEER: "release-operator",
    Persona.PLATFORM_ENGINEER: "release-operator",
    Persona.SECURITY_AUDITOR: Access.SECURITY_AUDIT.value,
    Persona.BREAK_GLASS: Access.ADMIN.value,
}
"""Who works in the tooling account: ML and platform engineers follow the pipelines and
approve production releases; security auditors audit; break-glass administers. Data
scientists and business users have no role there."""


def _data_bucket(config: NdapConfig, env: Environment) -> str:
    return bucket_name(config.organization.name, env, "data", config.account_id(env))


def _accounts(config: NdapConfig) -> tuple[str, list[str]]:
    return config.account_id(Environment.DEV), [
        config.account_id(e) for e in (Environment.ACC, Environment.PRD)
    ]


def _lower_accounts(config: NdapConfig) -> list[str]:
    return [config.account_id(e) for e in LOWER if config.environments.get(e).enabled]


def artifact_store_policies(
    config: NdapConfig, tooling: str
) -> tuple[PolicyDocument, PolicyDocument]:
    """The artifact bucket's and key's policies."""
    org = config.organization.name
    region = config.organization.home_region
    bucket = names.artifact_bucket(org, tooling)
    arn = bucket_arn(bucket)
    dev, releases = _accounts(config)
    lower = _lower_accounts(config)
    s3_writes = tuple(a for a in S3_KMS_WRITES if a.startswith("s3:"))
    kms_writes = tuple(a for a in S3_KMS_WRITES if a.startswith("kms:"))
    bucket_policy = PolicyDocument(
        (
            *bucket_policy_tls_only(bucket).statements,
            *policies.artifact_bucket_grants(bucket, dev, releases),
            *only_pipelines_from_lower_environments(
                ("s3:*",),
                s3_writes,
                (arn, f"{arn}/*"),
                lower,
                names.PIPELINE_ROLE_PATTERN,
                data_scientist_names(config),
            ),
        )
    )
    key_policy = PolicyDocument(
        (
            Statement(
                "AccountAdministersKey",
                "Allow",
                principals=(Principal.aws(account_root(tooling)),),
                actions=("kms:*",),
                resources=("*",),
            ),
            *policies.artifact_key_grants(bucket, region, tooling, dev, releases),
            *only_pipelines_from_lower_environments(
                ("kms:*",),
                kms_writes,
                ("*",),
                lower,
                names.PIPELINE_ROLE_PATTERN,
                data_scientist_names(config),
            ),
        )
    )
    return bucket_policy, key_policy


def _context(
    config: NdapConfig, project: MlProjectConfig, env: Environment
) -> buildspecs.BuildContext:
    org = config.organization.name
    region = config.organization.home_region
    tooling = config.tooling_account_id
    assert tooling is not None
    account = config.account_id(env)
    batch = project.kind is ProjectKind.BATCH
    integration = None
    if env is Environment.DEV and receives_data(config, env):
        replica = dataset_bucket_name(org, env, account)
        integration = f"s3://{replica}/{names.INTEGRATION_SUBSET}/"
    group_arn, _ = policies.registry_arns(region, tooling, names.model_package_group(project.name))
    kind = names.BUILD_ARTIFACTS if env is Environment.ACC else names.artifacts_kind(env)

    def builds_of(purpose: str) -> str:
        project_name = names.codebuild_project(project.name, purpose, Environment.ACC)
        return f"arn:aws:codebuild:{region}:{tooling}:build/{project_name}:"

    return buildspecs.BuildContext(
        project=project.name,
        kind=project.kind,
        environment=env,
        region=region,
        deployer_role_arn=names.deployer_role_arn(org, project.name, account),
        execution_role_arn=names.execution_role_arn(org, project.name, account),
        artifact_bucket=names.artifact_bucket(org, tooling),
        artifacts_prefix=names.artifacts_prefix(project.name, kind),
        releases_prefix=names.artifacts_prefix(project.name, names.RELEASE_ARTIFACTS),
        acc_deploy_project=names.codebuild_project(project.name, "deploy", Environment.ACC),
        acc_builds=builds_of("deploy"),
        acc_registrations=builds_of(names.REGISTER),
        data_bucket=_data_bucket(config, env),
        orchestration_pipeline=names.orchestration_pipeline(project.name, batch),
        endpoint=None if batch else names.endpoint_name(project.name),
        model_package_group_arn=group_arn,
        develop_branch=project.pipeline.develop_branch,
        main_branch=project.pipeline.main_branch,
        release_tag_pattern=project.pipeline.release_tag_pattern,
        reuse_acc_artifacts=project.reuses_acc_artifacts,
        integration_data=integration,
        path_rules_json=project.paths.model_dump_json(),
        needed_features=_needed_features(project),
        acceptance=project.retraining.acceptance,
        image_repository=names.image_repository_uri(region, tooling, org, project.name),
    )


def _needed_features(project: MlProjectConfig) -> tuple[str, ...]:
    return tuple(names.feature_group_name(u.group, u.version) for u in project.uses_features)


def _stage(config: NdapConfig, project: MlProjectConfig, env: Environment) -> StageSpec:
    org = config.organization.name
    region = config.organization.home_region
    tooling = config.tooling_account_id
    assert tooling is not None
    p = project.name
    pipeline = project.pipeline
    ctx = _context(config, project, env)
    deploy = BuildStep(
        "Deploy",
        "deploy",
        names.codebuild_project(p, "deploy", env),
        buildspecs.deploy_buildspec(ctx),
        f"{p}: deploy to {env.value}",
        namespace=names.DEPLOY_NAMESPACE if env is Environment.DEV else None,
    )
    before: tuple[BuildStep, ...]
    after: tuple[BuildStep, ...] = ()
    if env is Environment.DEV:
        before = (
            deploy,
            BuildStep(
                "IntegrationTest",
                "integration",
                names.codebuild_project(p, "integration", env),
                buildspecs.integration_buildspec(ctx),
                f"{p}: integration tests in dev on the production-data subset",
                variables=tuple(
                    (name, f"#{{{names.DEPLOY_NAMESPACE}.{name}}}")
                    for name in buildspecs.EXPORTED_PLAN
                ),
            ),
        )
    elif env is Environment.ACC:
        deploy = replace(deploy, namespace=names.DEPLOY_NAMESPACE)
        before = (
            deploy,
            BuildStep(
                "Register",
                names.REGISTER,
                names.codebuild_project(p, names.REGISTER, env),
                buildspecs.register_buildspec(ctx),
                f"{p}: register and approve what acc's deploy build staged (platform script only)",
                variables=tuple(
                    (name, f"#{{{names.DEPLOY_NAMESPACE}.{name}}}")
                    for name in buildspecs.EXPORTED_BUILD
                ),
                platform=True,
            ),
        )
    else:
        before = (
            BuildStep(
                "VerifyRelease",
                "verify",
                names.codebuild_project(p, "verify", env),
                buildspecs.verify_buildspec(ctx),
                f"{p}: the tag is a release on {pipeline.main_branch}",
            ),
        )
        after = (deploy,)

    def project_arn(build: BuildStep) -> str:
        return f"arn:aws:codebuild:{region}:{tooling}:project/{build.project}"

    steps = (*before, *after)
    build_projects = [project_arn(b) for b in steps if not b.platform]
    platform_projects = [project_arn(b) for b in steps if b.platform]
    kind = names.BUILD_ARTIFACTS if env is Environment.ACC else names.artifacts_kind(env)
    bucket = names.artifact_bucket(org, tooling)
    return StageSpec(
        environment=env,
        pipeline=names.pipeline_name(p, env),
        pipeline_role=names.pipeline_role_name(org, p, env),
        build_role=names.build_role_name(org, p, env),
        build_role_trust=service_trust("codebuild.amazonaws.com", tooling, build_projects),
        register_role=names.register_role_name(org, p) if platform_projects else None,
        register_role_trust=(
            service_trust("codebuild.amazonaws.com", tooling, platform_projects)
            if platform_projects
            else None
        ),
        log_group=names.build_log_group(p, env),
        deployer_arn=names.deployer_role_arn(org, p, config.account_id(env)),
        branches=(pipeline.develop_branch,) if env is Environment.DEV else (),
        tags=() if env is Environment.DEV else (pipeline.release_tag_pattern,),
        source_branch=pipeline.main_branch if env is Environment.PRD else pipeline.develop_branch,
        before_approval=before,
        approval=env is Environment.PRD,
        after_approval=after,
        project_objects=f"{bucket_arn(bucket)}/{names.artifacts_prefix(p, kind)}/*",
        writes_project_objects=env is not Environment.PRD,
    )


def _project(config: NdapConfig, project: MlProjectConfig) -> ProjectPipelines:
    org = config.organization.name
    region = config.organization.home_region
    tooling = config.tooling_account_id
    assert tooling is not None
    group = names.model_package_group(project.name)
    release_deployers = [
        names.deployer_role_arn(org, project.name, config.account_id(e))
        for e in (Environment.ACC, Environment.PRD)
    ]
    return ProjectPipelines(
        name=project.name,
        kind=project.kind,
        repository=project.repository,
        git_host=project.git_host,
        model_package_group=group,
        registry_policy=policies.registry_policy(region, tooling, group, release_deployers),
        registry_arns=policies.registry_arns(region, tooling, group),
        stages=tuple(_stage(config, project, env) for env in names.PIPELINE_ENVIRONMENTS),
        image_repository=names.image_repository(org, project.name),
        image_repository_arn=names.image_repository_arn(region, tooling, org, project.name),
        image_policy=policies.image_repository_policy(
            build_roles=[
                names.build_role_arn(org, project.name, e, tooling)
                for e in names.PIPELINE_ENVIRONMENTS
            ],
            execution_roles=[
                names.execution_role_arn(org, project.name, config.account_id(e))
                for e in names.PIPELINE_ENVIRONMENTS
            ],
        ),
    )


def tooling_people(config: NdapConfig) -> tuple[ToolingRole, ...]:
    tooling = config.tooling_account_id
    assert tooling is not None
    region = config.organization.home_region
    org = config.organization.name
    roles = []
    for persona, access in TOOLING_ACCESS.items():
        if access == "release-operator":
            policy = policies.release_operator_policy(region, tooling)
        else:
            policy = policy_for(
                Access(access), account_id=tooling, region=region, reports_bucket="none"
            )
        platform = platform_pipeline_spec(config)
        if platform is not None and persona in platform.approvers:
            # Approves the platform's reviewed plans (platform_pipeline.approvers).
            policy = PolicyDocument((*policy.statements, *platform.approval_statements()))
        roles.append(
            ToolingRole(
                persona=persona,
                access=access,
                name=persona_role_name(org, persona),
                trust=persona_trust(
                    config.identity_account_id,
                    persona,
                    config.identity.require_mfa
                    or persona in (Persona.PLATFORM_ENGINEER, Persona.BREAK_GLASS),
                ),
                policy=policy,
                max_session_seconds=(
                    BREAK_GLASS_SESSION_SECONDS
                    if persona is Persona.BREAK_GLASS
                    else DEFAULT_SESSION_SECONDS
                ),
            )
        )
    return tuple(roles)


def tooling_spec(config: NdapConfig) -> ToolingSpec | None:
    """The tooling account's resources, or None without a tooling account."""
    tooling = config.tooling_account_id
    if tooling is None:
        return None
    org = config.organization.name
    bucket_policy, key_policy = artifact_store_policies(config, tooling)
    return ToolingSpec(
        org=org,
        account_id=tooling,
        region=config.organization.home_region,
        bucket=names.artifact_bucket(org, tooling),
        key_alias=names.artifact_key_alias(org),
        bucket_policy=bucket_policy,
        key_policy=key_policy,
        hosts=tuple(
            dict.fromkeys(
                sorted(
                    [p.git_host for p in config.ml_projects]
                    + [f.git_host for f in config.feature_pipelines]
                    + ([config.platform_pipeline.git_host] if config.platform_pipeline else [])
                    # the drift build clones its GitHub repository through the connection
                    + ([GitHost.GITHUB] if drift_detection_spec(config) is not None else [])
                )
            )
        ),
        projects=tuple(_project(config, p) for p in config.ml_projects),
        people=tooling_people(config),
        log_retention_days=config.security_baseline.cloudwatch_log_retention_days,
    )


# -- the environment side ---------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    expression: str
    pipeline_arn: str
    role: RoleSpec


@dataclass(frozen=True)
class ProjectDeployment:
    """One project's identities (and schedule) in one environment account."""

    project: str
    kind: ProjectKind
    deployer: RoleSpec
    execution: RoleSpec
    schedule: ScheduleSpec | None


def environment_deployers(config: NdapConfig, env: Environment) -> list[ProjectDeployment]:
    """The pipeline identities of every project in ``env`` (none without a tooling account,
    and none in nonprod, which no pipeline deploys to)."""
    tooling = config.tooling_account_id
    if tooling is None or env not in names.PIPELINE_ENVIRONMENTS:
        return []
    org = config.organization.name
    region = config.organization.home_region
    account = config.account_id(env)
    data_bucket = _data_bucket(config, env)
    data_alias = kms_alias(org, env, "data")
    datasets = dataset_bucket_name(org, env, account) if receives_data(config, env) else None
    datasets_alias = kms_alias(org, env, "datasets")
    result = []
    for project in config.ml_projects:
        p = project.name
        batch = project.kind is ProjectKind.BATCH
        kind = names.artifacts_kind(env)
        bucket = names.artifact_bucket(org, tooling)
        execution_arn = names.execution_role_arn(org, p, account)
        group = names.model_package_group(p)
        deployer = RoleSpec(
            name=names.deployer_role_name(org, p),
            trust=policies.deployer_trust(names.build_role_arn(org, p, env, tooling), tooling),
            policy=policies.deployer_policy(
                project=p,
                region=region,
                account_id=account,
                tooling_account=tooling,
                artifact_objects=f"{bucket_arn(bucket)}/{names.artifacts_prefix(p, kind)}/*",
                artifact_key_alias=names.artifact_key_alias(org),
                data_bucket=data_bucket,
                data_key_alias=data_alias,
                execution_role_arn=execution_arn,
                endpoint=None if batch else names.endpoint_name(p),
                registry=(
                    None
                    if env is Environment.DEV
                    else policies.registry_arns(region, tooling, group)
                ),
                integration_data=(
                    (datasets, datasets_alias)
                    if env is Environment.DEV and datasets is not None
                    else None
                ),
                feature_groups=_needed_features(project),
            ),
            tags={names.PROJECT_TAG: p},
            description=f"{p}: deploys to {env.value}; assumed only by the project's "
            f"{env.value} build in the tooling account",
        )
        execution = RoleSpec(
            name=names.execution_role_name(org, p),
            trust=service_trust("sagemaker.amazonaws.com", account),
            policy=policies.execution_policy(
                project=p,
                region=region,
                account_id=account,
                role_arn=execution_arn,
                data_bucket=data_bucket,
                key_aliases=(data_alias, datasets_alias) if datasets else (data_alias,),
                datasets_bucket=datasets,
                image_repositories=(names.image_repository_arn(region, tooling, org, p),),
                feature_groups=_needed_features(project),
                metrics_namespace=names.metrics_namespace(p),
            ),
            tags={names.PROJECT_TAG: p},
            description=f"{p}: what the project's SageMaker pipeline and jobs run as",
        )
        schedule = None
        if batch:
            pipeline_arn = (
                f"arn:aws:sagemaker:{region}:{account}:pipeline/{names.batch_pipeline(p)}"
            )
            schedule = ScheduleSpec(
                name=names.batch_pipeline(p),
                expression=project.prediction_schedule or names.DEFAULT_PREDICTION_SCHEDULE,
                pipeline_arn=pipeline_arn,
                role=RoleSpec(
                    name=names.schedule_role_name(org, p),
                    trust=service_trust(
                        "scheduler.amazonaws.com",
                        account,
                        (
                            f"arn:aws:scheduler:{region}:{account}:schedule/default/{names.batch_pipeline(p)}",
                        ),
                    ),
                    policy=policies.schedule_policy(pipeline_arn, region, account, data_alias),
                    tags={names.PROJECT_TAG: p},
                    description=f"{p}: starts the batch prediction pipeline on schedule",
                ),
            )
        result.append(ProjectDeployment(p, project.kind, deployer, execution, schedule))
    return result


__all__ = [
    "PERSONA_PATH",
    "PERSONA_TAG",
    "BuildStep",
    "ProjectDeployment",
    "ProjectPipelines",
    "StageSpec",
    "ToolingRole",
    "ToolingSpec",
    "environment_deployers",
    "tooling_spec",
]
