"""Policy documents of the delivery pipelines: pure functions.

Why and how: docs/design-notes.md, section ndap_infra/pipelines/policies.py."""

from __future__ import annotations

from collections.abc import Sequence

from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement
from ndap_infra.iam.resource_policies import account_root, bucket_arn
from ndap_infra.iam.trust import only_role_trust
from ndap_infra.names.pipelines import (
    APPROVAL_ACTION,
    APPROVAL_STAGE,
    DEV_ARTIFACTS,
    FEATURE_STORE_PREFIX,
    PIPELINE_PATH,
    PROJECT_TAG,
    RELEASE_ARTIFACTS,
    TOOLS_PREFIX,
    tools_objects,
)

S3_READ = ("s3:GetObject", "s3:GetObjectVersion")
IMAGE_PULLS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
IMAGE_PUSHES = (
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
S3_WRITE = ("s3:PutObject",)


def artifact_key_use(key_arn: str) -> Statement:
    """Encrypt and decrypt with the artifact store's key (a pipeline's or a build's)."""
    return Statement(
        "UseTheArtifactKey", "Allow", actions=("kms:Decrypt", "kms:GenerateDataKey"),
        resources=(key_arn,),
    )  # fmt: skip


def build_log_writes(log_group_arn: str) -> Statement:
    """A build writes its own log group's streams."""
    return Statement(
        "WriteBuildLogs", "Allow", actions=("logs:CreateLogStream", "logs:PutLogEvents"),
        resources=(f"{log_group_arn}:*",),
    )  # fmt: skip


REGISTRY_READS = (
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:ListModelPackages",
)
REGISTRY_WRITES = ("sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage")
DEPLOYER_NAME = "*-deployer"


def connection_use(connection_arn: str, repository: str) -> tuple[Statement, ...]:
    """The git connection, for the project's own repository only: one connection serves
    every project of a git host, and the repository is known (``owner/name``). The
    condition key is per service prefix, so one statement each."""
    return tuple(
        Statement(
            f"UseTheGitConnectionFor{prefix.title().replace('-', '')}",
            "Allow",
            actions=(f"{prefix}:UseConnection",),
            resources=(connection_arn,),
            conditions=(Condition.of("StringEquals", f"{prefix}:FullRepositoryId", repository),),
        )
        for prefix in ("codeconnections", "codestar-connections")
    )


def _via_s3(region: str) -> Condition:
    return Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com")


def _aliases(*aliases: str) -> Condition:
    return Condition.of("ForAnyValue:StringEquals", "kms:ResourceAliases", *aliases)


def deployer_pattern(account_id: str) -> str:
    """Any deployer role of an environment account (the platform alone creates roles
    under the pipeline path, and sets their ``ndap:project`` tag)."""
    return f"arn:aws:iam::{account_id}:role{PIPELINE_PATH}{DEPLOYER_NAME}"


def _project_objects(bucket: str, kind: str) -> str:
    return f"{bucket_arn(bucket)}/projects/${{aws:PrincipalTag/{PROJECT_TAG}}}/{kind}/*"


def artifact_bucket_grants(
    bucket: str, dev_account: str, release_accounts: Sequence[str]
) -> tuple[Statement, ...]:
    """The bucket policy's grants: dev's deployer roles read their project's ``dev/``
    artifacts, acc's and prd's their project's ``releases/``."""
    return (
        Statement(
            "DevDeployersReadTheirProjectsDevArtifacts",
            "Allow",
            principals=(Principal.aws(account_root(dev_account)),),
            actions=S3_READ,
            resources=(_project_objects(bucket, DEV_ARTIFACTS),),
            conditions=(
                Condition.of("ArnLike", "aws:PrincipalArn", deployer_pattern(dev_account)),
            ),
        ),
        Statement(
            "ReleaseDeployersReadTheirProjectsReleases",
            "Allow",
            principals=tuple(Principal.aws(account_root(a)) for a in release_accounts),
            actions=S3_READ,
            resources=(_project_objects(bucket, RELEASE_ARTIFACTS),),
            conditions=(
                Condition.of(
                    "ArnLike", "aws:PrincipalArn", *(deployer_pattern(a) for a in release_accounts)
                ),
            ),
        ),
    )


def artifact_key_grants(
    bucket: str,
    region: str,
    tooling_account: str,
    dev_account: str,
    release_accounts: Sequence[str],
) -> tuple[Statement, ...]:
    """The key policy's grants: the same deployers decrypt, through S3 only, only objects of
    their project's prefix (the bucket does not use S3 Bucket Keys, so the encryption
    context is the object's ARN); CloudWatch Logs encrypts the build logs."""

    def context(kind: str) -> Condition:
        return Condition.of(
            "StringLike", "kms:EncryptionContext:aws:s3:arn", _project_objects(bucket, kind)
        )

    return (
        Statement(
            "DevDeployersDecryptTheirProjectsDevArtifacts",
            "Allow",
            principals=(Principal.aws(account_root(dev_account)),),
            actions=("kms:Decrypt",),
            resources=("*",),
            conditions=(
                Condition.of("ArnLike", "aws:PrincipalArn", deployer_pattern(dev_account)),
                _via_s3(region),
                context(DEV_ARTIFACTS),
            ),
        ),
        Statement(
            "ReleaseDeployersDecryptTheirProjectsReleases",
            "Allow",
            principals=tuple(Principal.aws(account_root(a)) for a in release_accounts),
            actions=("kms:Decrypt",),
            resources=("*",),
            conditions=(
                Condition.of(
                    "ArnLike", "aws:PrincipalArn", *(deployer_pattern(a) for a in release_accounts)
                ),
                _via_s3(region),
                context(RELEASE_ARTIFACTS),
            ),
        ),
        Statement(
            "CloudWatchLogsEncryptsBuildLogs",
            "Allow",
            principals=(Principal.service(f"logs.{region}.amazonaws.com"),),
            # As for the baseline's logs key: no Describe request carries an encryption
            # context, so kms:Describe* could never be allowed under this condition.
            actions=(
                "kms:Decrypt*",
                "kms:Encrypt*",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*",
            ),
            resources=("*",),
            conditions=(
                Condition.of(
                    "ArnLike",
                    "kms:EncryptionContext:aws:logs:arn",
                    f"arn:aws:logs:{region}:{tooling_account}:log-group:/aws/codebuild/*",
                ),
            ),
        ),
    )


def registry_arns(region: str, tooling_account: str, group: str) -> tuple[str, str]:
    """The model package group and its versions."""
    prefix = f"arn:aws:sagemaker:{region}:{tooling_account}"
    return (f"{prefix}:model-package-group/{group}", f"{prefix}:model-package/{group}/*")


def registry_policy(
    region: str, tooling_account: str, group: str, release_deployers: Sequence[str]
) -> PolicyDocument:
    """The model package group's resource policy: the project's acc and prd deployer roles
    read (describe, list) the registered releases."""
    accounts = sorted({arn.split(":")[4] for arn in release_deployers})
    return PolicyDocument(
        (
            Statement(
                "ReleaseDeployersReadTheRegistry",
                "Allow",
                principals=tuple(Principal.aws(account_root(a)) for a in accounts),
                actions=REGISTRY_READS,
                resources=registry_arns(region, tooling_account, group),
                conditions=(Condition.of("ArnEquals", "aws:PrincipalArn", *release_deployers),),
            ),
        )
    )


def image_pushes(repository_arn: str) -> tuple[Statement, ...]:
    """Push (and pull) the project's images to its repository of the platform registry."""
    return (
        Statement(
            "RegistryToken", "Allow", actions=("ecr:GetAuthorizationToken",), resources=("*",)
        ),
        Statement(
            "PushTheProjectsImages",
            "Allow",
            actions=(*IMAGE_PULLS, *IMAGE_PUSHES),
            resources=(repository_arn,),
        ),
    )


def image_repository_policy(
    *, build_roles: Sequence[str], execution_roles: Sequence[str]
) -> PolicyDocument:
    """The repository policy of a project's repository in the platform registry: only the
    project's pipeline builds push; only its execution roles (dev, acc, prd) pull, from
    their own accounts."""
    accounts = sorted({arn.split(":")[4] for arn in execution_roles})
    return PolicyDocument(
        (
            Statement(
                "OnlyThePipelineBuildsPush",
                "Deny",
                principals=(Principal.anyone(),),
                actions=IMAGE_PUSHES,
                conditions=(Condition.of("ArnNotLike", "aws:PrincipalArn", *build_roles),),
            ),
            Statement(
                "TheExecutionRolesPull",
                "Allow",
                principals=tuple(Principal.aws(account_root(a)) for a in accounts),
                actions=IMAGE_PULLS,
                conditions=(Condition.of("ArnLike", "aws:PrincipalArn", *execution_roles),),
            ),
        )
    )


def platform_tools_reads(bucket: str) -> tuple[Statement, ...]:
    """Read (and list) only the platform's tooling in the artifact store: what a build
    installs by sha256 (``ndap_infra/pipelines/tools.py``)."""
    return (
        Statement(
            "ReadThePlatformsTooling",
            "Allow",
            actions=("s3:GetObject",),
            resources=(tools_objects(bucket),),
        ),
        Statement(
            "ListThePlatformsTooling",
            "Allow",
            actions=("s3:ListBucket",),
            resources=(bucket_arn(bucket),),
            conditions=(Condition.of("StringLike", "s3:prefix", f"{TOOLS_PREFIX}/*"),),
        ),
    )


def deployer_trust(build_role_arn: str, tooling_account: str) -> PolicyDocument:
    """Only the project's build role for this environment, in the tooling account."""
    return only_role_trust("OnlyThisStagesBuildRole", build_role_arn, tooling_account)


def build_role_policy(
    *,
    deployer_arn: str,
    pipeline_objects: str,
    project_objects: str,
    writes_project_objects: bool,
    key_arn: str,
    connection_arn: str,
    repository: str,
    log_group_arn: str,
    tools_bucket: str | None = None,
    image_repository: str | None = None,
) -> PolicyDocument:
    """A build role, which runs project code: its pipeline's artifacts (read only: the
    source reference the platform's steps clone too), its project's artifacts (dev's
    ``dev/``, acc's staging ``builds/``, prd's ``releases/`` read only), the git
    connection, its own environment's logs, the platform's tooling (read), the project's
    image repository (push), and one role to assume. Never the model registry and never a
    write to ``releases/``: those belong to acc's register step (#21, finding 3)."""
    return PolicyDocument(
        (
            Statement(
                "AssumeOnlyTheProjectsDeployerHere",
                "Allow",
                actions=("sts:AssumeRole",),
                resources=(deployer_arn,),
            ),
            Statement(
                "AssumeNoOtherRole",
                "Deny",
                actions=ASSUME_ACTIONS,
                not_resources=(deployer_arn,),
            ),
            Statement("PipelineArtifacts", "Allow", actions=S3_READ, resources=(pipeline_objects,)),
            Statement(
                "ProjectArtifacts",
                "Allow",
                actions=(*S3_READ, *S3_WRITE) if writes_project_objects else S3_READ,
                resources=(project_objects,),
            ),
            artifact_key_use(key_arn),
            *connection_use(connection_arn, repository),
            build_log_writes(log_group_arn),
            *(platform_tools_reads(tools_bucket) if tools_bucket is not None else ()),
            *(image_pushes(image_repository) if image_repository is not None else ()),
        )
    )


ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity")


def register_role_policy(
    *,
    pipeline_objects: str,
    staged_objects: str,
    release_objects: str,
    key_arn: str,
    connection_arn: str,
    repository: str,
    log_group_arn: str,
    registry: tuple[str, str],
    deploy_project_arn: str,
) -> PolicyDocument:
    """acc's register step, which runs only the platform's script (no repository code):
    it checks the acc deploy build it is handed (``codebuild:BatchGetBuilds``), reads what
    that build staged, writes the release, registers and approves the model package. It
    assumes no role."""
    return PolicyDocument(
        (
            Statement("AssumeNoRole", "Deny", actions=ASSUME_ACTIONS, resources=("*",)),
            Statement(
                "ReadTheSourceReference",
                "Allow",
                actions=S3_READ,
                resources=(pipeline_objects,),
            ),
            Statement(
                "ReadWhatTheAccBuildStaged",
                "Allow",
                actions=S3_READ,
                resources=(staged_objects,),
            ),
            Statement(
                "WriteTheRelease",
                "Allow",
                actions=(*S3_READ, *S3_WRITE),
                resources=(release_objects,),
            ),
            artifact_key_use(key_arn),
            *connection_use(connection_arn, repository),
            build_log_writes(log_group_arn),
            Statement(
                "CheckTheAccDeployBuild",
                "Allow",
                actions=("codebuild:BatchGetBuilds",),
                resources=(deploy_project_arn,),
            ),
            Statement(
                "RegisterAndApproveReleases",
                "Allow",
                actions=(*REGISTRY_READS, *REGISTRY_WRITES),
                resources=registry,
            ),
        )
    )


def pipeline_role_policy(
    *,
    pipeline_objects: str,
    bucket: str,
    key_arn: str,
    connection_arn: str,
    repository: str,
    build_projects: Sequence[str],
) -> PolicyDocument:
    """A pipeline's service role: its artifacts, the git connection, its build projects."""
    return PolicyDocument(
        (
            Statement(
                "PipelineArtifacts",
                "Allow",
                actions=(*S3_READ, *S3_WRITE),
                resources=(pipeline_objects,),
            ),
            Statement(
                "ArtifactBucket",
                "Allow",
                actions=("s3:GetBucketLocation", "s3:GetBucketVersioning"),
                resources=(bucket_arn(bucket),),
            ),
            artifact_key_use(key_arn),
            *connection_use(connection_arn, repository),
            Statement(
                "RunItsBuilds",
                "Allow",
                actions=("codebuild:BatchGetBuilds", "codebuild:StartBuild"),
                resources=tuple(build_projects),
            ),
        )
    )


def deployer_policy(
    *,
    project: str,
    region: str,
    account_id: str,
    tooling_account: str,
    artifact_objects: str,
    artifact_key_alias: str,
    data_bucket: str,
    data_key_alias: str,
    execution_role_arn: str,
    endpoint: str | None,
    registry: tuple[str, str] | None,
    integration_data: tuple[str, str] | None,
    feature_groups: Sequence[str] = (),
) -> PolicyDocument:
    """A deployer role: scoped to its project's artifacts, data prefix and SageMaker
    resources in its environment (and it may look up the feature groups its model needs,
    to refuse a promotion while one is missing)."""
    sagemaker = f"arn:aws:sagemaker:{region}:{account_id}"
    data = bucket_arn(data_bucket)
    statements = [
        Statement(
            "ReadTheProjectsArtifacts", "Allow", actions=S3_READ, resources=(artifact_objects,)
        ),
        Statement(
            "DecryptTheProjectsArtifacts",
            "Allow",
            actions=("kms:Decrypt",),
            resources=(f"arn:aws:kms:{region}:{tooling_account}:key/*",),
            conditions=(_aliases(artifact_key_alias), _via_s3(region)),
        ),
        Statement(
            "WriteTheProjectsData",
            "Allow",
            actions=(*S3_READ, *S3_WRITE, "s3:DeleteObject"),
            resources=(f"{data}/projects/{project}/*",),
        ),
        Statement(
            "ListTheProjectsData",
            "Allow",
            actions=("s3:ListBucket",),
            resources=(data,),
            conditions=(Condition.of("StringLike", "s3:prefix", f"projects/{project}/*"),),
        ),
        Statement(
            "UseTheDataKeyThroughS3",
            "Allow",
            actions=("kms:Decrypt", "kms:GenerateDataKey"),
            resources=(f"arn:aws:kms:{region}:{account_id}:key/*",),
            conditions=(_aliases(data_key_alias), _via_s3(region)),
        ),
        Statement(
            "ManageTheProjectsSageMakerResources",
            "Allow",
            actions=(
                "sagemaker:AddTags",
                "sagemaker:CreateEndpointConfig",
                "sagemaker:CreateModel",
                "sagemaker:CreatePipeline",
                "sagemaker:DeleteEndpointConfig",
                "sagemaker:DeleteModel",
                "sagemaker:DescribeEndpointConfig",
                "sagemaker:DescribeModel",
                "sagemaker:DescribePipeline",
                "sagemaker:DescribePipelineExecution",
                "sagemaker:ListPipelineExecutionSteps",
                "sagemaker:StartPipelineExecution",
                "sagemaker:UpdatePipeline",
            ),
            resources=(
                f"{sagemaker}:endpoint-config/{project}-*",
                f"{sagemaker}:model/{project}-*",
                f"{sagemaker}:pipeline/{project}-*",
                f"{sagemaker}:pipeline/{project}-*/execution/*",
            ),
        ),
        Statement(
            "PassOnlyTheProjectsExecutionRole",
            "Allow",
            actions=("iam:PassRole",),
            resources=(execution_role_arn,),
            conditions=(
                Condition.of("StringEquals", "iam:PassedToService", "sagemaker.amazonaws.com"),
            ),
        ),
    ]
    if endpoint is not None:
        statements.append(
            Statement(
                "ManageTheProjectsEndpoint",
                "Allow",
                actions=(
                    "sagemaker:CreateEndpoint",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:InvokeEndpoint",
                    "sagemaker:UpdateEndpoint",
                ),
                # Creating or updating an endpoint is authorized on its configuration too.
                resources=(
                    f"{sagemaker}:endpoint/{endpoint}",
                    f"{sagemaker}:endpoint-config/{project}-*",
                ),
            )
        )
    if registry is not None:
        statements.append(
            Statement(
                "ReadTheProjectsReleases", "Allow", actions=REGISTRY_READS, resources=registry
            )
        )
    if feature_groups:
        statements.append(
            Statement(
                "CheckTheFeatureGroupsTheModelNeeds",
                "Allow",
                actions=("sagemaker:DescribeFeatureGroup",),
                resources=tuple(f"{sagemaker}:feature-group/{g}" for g in feature_groups),
            )
        )
    if integration_data is not None:
        replica, alias = integration_data
        statements += [
            Statement(
                "ReadTheIntegrationSubset",
                "Allow",
                actions=("s3:GetObject",),
                resources=(f"{bucket_arn(replica)}/integration-subset/*",),
            ),
            Statement(
                "ListTheIntegrationSubset",
                "Allow",
                actions=("s3:ListBucket",),
                resources=(bucket_arn(replica),),
                conditions=(Condition.of("StringLike", "s3:prefix", "integration-subset/*"),),
            ),
            Statement(
                "DecryptTheIntegrationSubset",
                "Allow",
                actions=("kms:Decrypt",),
                resources=(f"arn:aws:kms:{region}:{account_id}:key/*",),
                conditions=(_aliases(alias), _via_s3(region)),
            ),
        ]
    return PolicyDocument(tuple(statements))


def execution_policy(
    *,
    project: str,
    region: str,
    account_id: str,
    role_arn: str,
    data_bucket: str,
    key_aliases: Sequence[str],
    datasets_bucket: str | None,
    image_repositories: Sequence[str],
    feature_groups: Sequence[str] = (),
    metrics_namespace: str | None = None,
) -> PolicyDocument:
    """What the project's SageMaker pipeline and jobs run as; images only from the
    project's repositories of the platform registry. SageMaker Pipelines names the
    jobs it starts itself (``pipelines-<execution>-<step>-...``), so job ARNs are scoped to
    the account; what the jobs reach is bounded by the data below and by passing only
    this role."""
    sagemaker = f"arn:aws:sagemaker:{region}:{account_id}"
    data = bucket_arn(data_bucket)
    statements = [
        Statement(
            "TheProjectsData",
            "Allow",
            actions=(*S3_READ, *S3_WRITE, "s3:DeleteObject"),
            resources=(f"{data}/projects/{project}/*",),
        ),
        Statement(
            "ListTheProjectsData",
            "Allow",
            actions=("s3:ListBucket",),
            resources=(data,),
            conditions=(Condition.of("StringLike", "s3:prefix", f"projects/{project}/*"),),
        ),
        Statement(
            "UseTheKeysThroughS3",
            "Allow",
            actions=("kms:Decrypt", "kms:GenerateDataKey"),
            resources=(f"arn:aws:kms:{region}:{account_id}:key/*",),
            conditions=(_aliases(*key_aliases), _via_s3(region)),
        ),
        Statement(
            "RunJobs",
            "Allow",
            actions=(
                "sagemaker:AddTags",
                "sagemaker:CreateModel",
                "sagemaker:CreateProcessingJob",
                "sagemaker:CreateTrainingJob",
                "sagemaker:CreateTransformJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:DescribeTrainingJob",
                "sagemaker:DescribeTransformJob",
                "sagemaker:StopProcessingJob",
                "sagemaker:StopTrainingJob",
                "sagemaker:StopTransformJob",
            ),
            resources=(
                f"{sagemaker}:model/*",
                f"{sagemaker}:processing-job/*",
                f"{sagemaker}:training-job/*",
                f"{sagemaker}:transform-job/*",
            ),
        ),
        Statement(
            "PassOnlyItself",
            "Allow",
            actions=("iam:PassRole",),
            resources=(role_arn,),
            conditions=(
                Condition.of("StringEquals", "iam:PassedToService", "sagemaker.amazonaws.com"),
            ),
        ),
        Statement(
            "WriteJobLogs",
            "Allow",
            actions=("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
            resources=(f"arn:aws:logs:{region}:{account_id}:log-group:/aws/sagemaker/*",),
        ),
        Statement(
            "PullImagesToken", "Allow", actions=("ecr:GetAuthorizationToken",), resources=("*",)
        ),
        Statement(
            "PullImagesFromThePlatformRegistry",
            "Allow",
            actions=IMAGE_PULLS,
            resources=tuple(image_repositories),
        ),
    ]
    if feature_groups:
        statements += [
            Statement(
                "ReadTheFeatureGroupsTheModelNeeds",
                "Allow",
                # Describe only: the platform's feature groups have no online store, so
                # GetRecord/BatchGetRecord (online-store reads) would grant nothing real.
                actions=("sagemaker:DescribeFeatureGroup",),
                resources=tuple(f"{sagemaker}:feature-group/{g}" for g in feature_groups),
            ),
            Statement(
                "ReadTheOfflineStore",
                "Allow",
                actions=("s3:GetObject",),
                resources=tuple(
                    f"{data}/{FEATURE_STORE_PREFIX}/{account_id}/sagemaker/{region}/offline-store/"
                    f"{g}-*"
                    for g in feature_groups
                ),
            ),
        ]
    if metrics_namespace is not None:
        statements.append(
            Statement(
                "PublishTheProjectsDriftMetrics",
                "Allow",
                actions=("cloudwatch:PutMetricData",),
                resources=("*",),
                conditions=(
                    Condition.of("StringEquals", "cloudwatch:namespace", metrics_namespace),
                ),
            )
        )
    if datasets_bucket is not None:
        statements.append(
            Statement(
                "ReadProductionData",
                "Allow",
                actions=("s3:GetObject",),
                resources=(f"{bucket_arn(datasets_bucket)}/*",),
            )
        )
    return PolicyDocument(tuple(statements))


def schedule_policy(
    pipeline_arn: str, region: str, account_id: str, key_alias: str
) -> PolicyDocument:
    """The batch schedule starts the project's prediction pipeline, nothing else (and reads
    the schedule, which the environment's data key encrypts)."""
    return PolicyDocument(
        (
            Statement(
                "StartTheBatchPredictionPipeline",
                "Allow",
                actions=("sagemaker:StartPipelineExecution",),
                resources=(pipeline_arn,),
            ),
            Statement(
                "DecryptTheSchedule",
                "Allow",
                actions=("kms:Decrypt",),
                resources=(f"arn:aws:kms:{region}:{account_id}:key/*",),
                conditions=(_aliases(key_alias),),
            ),
        )
    )


def release_operator_policy(region: str, tooling_account: str) -> PolicyDocument:
    """ML and platform engineers in the tooling account: follow the pipelines and approve
    production releases; never start, change or stop a pipeline, never read artifacts."""
    codepipeline = f"arn:aws:codepipeline:{region}:{tooling_account}"
    return PolicyDocument(
        (
            Statement(
                "FollowThePipelines",
                "Allow",
                actions=(
                    "codebuild:BatchGetBuilds",
                    "codebuild:BatchGetProjects",
                    "codebuild:ListBuildsForProject",
                    "codepipeline:GetPipeline",
                    "codepipeline:GetPipelineExecution",
                    "codepipeline:GetPipelineState",
                    "codepipeline:ListActionExecutions",
                    "codepipeline:ListPipelineExecutions",
                    "logs:FilterLogEvents",
                    "logs:GetLogEvents",
                ),
                resources=(
                    f"{codepipeline}:*",
                    f"arn:aws:codebuild:{region}:{tooling_account}:project/*",
                    f"arn:aws:logs:{region}:{tooling_account}:log-group:/aws/codebuild/*",
                ),
            ),
            Statement(
                "ListThePipelines",
                "Allow",
                actions=("codepipeline:ListPipelines", "codebuild:ListProjects"),
                resources=("*",),
            ),
            Statement(
                "ApproveProductionReleases",
                "Allow",
                actions=("codepipeline:PutApprovalResult",),
                resources=(f"{codepipeline}:*-prd/{APPROVAL_STAGE}/{APPROVAL_ACTION}",),
            ),
        )
    )
