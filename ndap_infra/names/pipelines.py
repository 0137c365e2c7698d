"""Names and ARNs of the delivery pipelines: pure functions, a contract with deployed state.

The tooling (delivery) account holds, per ML project, three CodePipeline V2 pipelines
(``<project>-dev``, ``<project>-acc``, ``<project>-prd``), their CodeBuild projects and
roles, and a model package group; one artifact store (bucket + key) and one CodeStar
connection per git host serve every project. Each environment account holds, per project,
the deployer role the project's build in that environment assumes, the execution role
SageMaker runs the project's jobs with and, for batch projects, the schedule's role.

Every pipeline role lives under ``/ndap/pipelines/``: a platform-role path that the
organization's guardrails and the data-scientist boundary protect (only the platform's
deployment role creates, changes, passes or assumes platform roles; pipeline roles may use
only pipeline roles).
"""

from __future__ import annotations

from ndap_infra.config.enums import TOOLING, Environment, GitHost
from ndap_infra.names.access import role_arn

PIPELINE_PATH = "/ndap/pipelines/"
PIPELINE_ROLE_PATTERN = f"arn:aws:iam::*:role{PIPELINE_PATH}*"
"""Any pipeline role, in any account."""
PIPELINE_ENVIRONMENTS: tuple[Environment, ...] = (Environment.DEV, Environment.ACC, Environment.PRD)
"""The environments the git flow deploys to (nonprod is wired by engineers, not pipelines)."""

PROJECT_TAG = "ndap:project"
ARTIFACTS_TAG = "ndap:artifacts"
"""Which artifact prefix of its project a deployer role reads: ``dev`` or ``releases``."""
DEV_ARTIFACTS = "dev"
RELEASE_ARTIFACTS = "releases"
BUILD_ARTIFACTS = "builds"
"""Where acc's project-code build stages what it built (``builds/<build id>/``): the
platform's register step copies it into ``releases/`` (#21, finding 3)."""
REGISTER = "register"

SOURCE_ACTION = "Source"
SOURCE_NAMESPACE = "SourceVariables"
SOURCE_ARTIFACT = "SourceArtifact"
DEPLOY_NAMESPACE = "DeployVariables"
"""Namespace of the variables dev's deploy step exports (its change plan's decisions)."""
APPROVAL_STAGE = "Approve"
APPROVAL_ACTION = "ApproveRelease"
MAX_CONNECTION_NAME = 32
CODEPIPELINE_PREFIX_LENGTH = 20
"""CodePipeline stores a pipeline's artifacts under the first 20 characters of its name."""

INTEGRATION_SUBSET = "integration-subset"
"""Prefix, in dev's datasets replica, of the production-data subset integration tests use."""
ORCHESTRATION_DEFINITION = "pipelines/definition.json"
"""Where a project's repository keeps its orchestration definition (a SageMaker pipeline
definition); the pull-request workflow checks that it parses."""
MODEL_ARCHIVE = "dist/model.tar.gz"
"""What a project's packaging step (``make model``) leaves behind: the model artifact."""
TOOLS_PREFIX = "tools/ndap-infra"
"""Where, in the tooling account's artifact store, the platform pipeline publishes the
platform's own tooling used inside builds (the ndap-infra wheel and the wheels it needs),
each set under ``sha256/<the wheel's sha256>/``; only the platform's apply build writes it."""
TOOLS_POINTER = f"{TOOLS_PREFIX}/current.txt"
"""``<sha256> <wheel file>``: the set builds install (written last, after the set)."""


def image_repository(org: str, project: str) -> str:
    """The project's repository in the platform registry (the tooling account's ECR)."""
    return f"{org}/{project}"


def image_repository_arn(region: str, tooling_account_id: str, org: str, project: str) -> str:
    return f"arn:aws:ecr:{region}:{tooling_account_id}:repository/{image_repository(org, project)}"


def image_repository_uri(region: str, tooling_account_id: str, org: str, project: str) -> str:
    """What images are named after: ``<uri>@sha256:<digest>``, never a tag."""
    registry = f"{tooling_account_id}.dkr.ecr.{region}.amazonaws.com"
    return f"{registry}/{image_repository(org, project)}"


def tools_objects(bucket: str) -> str:
    """Every object of the platform's tooling in the artifact store ``bucket``."""
    return f"arn:aws:s3:::{bucket}/{TOOLS_PREFIX}/*"


def tooling_unit(org: str) -> str:
    return f"{org}-{TOOLING}"


def artifact_bucket(org: str, tooling_account_id: str) -> str:
    return f"{org}-{TOOLING}-artifacts-{tooling_account_id}"


def artifact_key_alias(org: str) -> str:
    return f"alias/{org}/{TOOLING}/artifacts"


def connection_name(org: str, host: GitHost) -> str:
    """At most 32 characters (the CodeStar Connections limit)."""
    name = f"{org}-{host.value}"
    return name if len(name) <= MAX_CONNECTION_NAME else f"ndap-{host.value}"


def connection_provider(host: GitHost) -> str:
    return {
        GitHost.GITHUB: "GitHub",
        GitHost.GITLAB: "GitLab",
        GitHost.BITBUCKET: "Bitbucket",
    }[host]


def pipeline_name(project: str, env: Environment) -> str:
    return f"{project}-{env.value}"


def artifact_prefix(pipeline: str) -> str:
    """The prefix CodePipeline writes a pipeline's stage artifacts under."""
    return pipeline[:CODEPIPELINE_PREFIX_LENGTH]


def codebuild_project(project: str, purpose: str, env: Environment) -> str:
    """``<project>-<purpose>-<env>``: purpose ``deploy``, ``verify`` or ``integration``."""
    return f"{project}-{purpose}-{env.value}"


def build_log_group(project: str, env: Environment) -> str:
    """One log group per project and environment: approvers read logs that no lower
    environment's build can write (#21, finding 4)."""
    return f"/aws/codebuild/{project}-{env.value}"


def build_role_name(org: str, project: str, env: Environment) -> str:
    """The CodeBuild role of one project's stage: it may assume only the project's deployer
    role in that environment."""
    return f"{org}-{project}-build-{env.value}"


def register_role_name(org: str, project: str) -> str:
    """The role of acc's platform-written register step: the only pipeline role that
    registers and approves the project's model packages and writes its releases."""
    return f"{org}-{project}-register-acc"


def register_role_arn(org: str, project: str, tooling_account_id: str) -> str:
    return role_arn(tooling_account_id, register_role_name(org, project), PIPELINE_PATH)


def pipeline_role_name(org: str, project: str, env: Environment) -> str:
    return f"{org}-{project}-pipeline-{env.value}"


def deployer_role_name(org: str, project: str) -> str:
    return f"{org}-{project}-deployer"


def execution_role_name(org: str, project: str) -> str:
    return f"{org}-{project}-execution"


def schedule_role_name(org: str, project: str) -> str:
    return f"{org}-{project}-schedule"


def build_role_arn(org: str, project: str, env: Environment, tooling_account_id: str) -> str:
    return role_arn(tooling_account_id, build_role_name(org, project, env), PIPELINE_PATH)


def deployer_role_arn(org: str, project: str, account_id: str) -> str:
    return role_arn(account_id, deployer_role_name(org, project), PIPELINE_PATH)


def execution_role_arn(org: str, project: str, account_id: str) -> str:
    return role_arn(account_id, execution_role_name(org, project), PIPELINE_PATH)


def model_package_group(project: str) -> str:
    return project


def batch_pipeline(project: str) -> str:
    """The SageMaker pipeline a batch project's schedule starts."""
    return f"{project}-batch-predict"


def endpoint_name(project: str) -> str:
    """The real-time endpoint a realtime project's deployer creates."""
    return f"{project}-endpoint"


def project_data_prefix(project: str) -> str:
    """The project's prefix in each environment's data bucket."""
    return f"projects/{project}"


def artifacts_prefix(project: str, kind: str) -> str:
    """The project's artifacts in the artifact store: ``dev`` (per commit) or ``releases``
    (per release tag, read by acc and prd)."""
    return f"projects/{project}/{kind}"


def artifacts_kind(env: Environment) -> str:
    return DEV_ARTIFACTS if env is Environment.DEV else RELEASE_ARTIFACTS


def training_pipeline(project: str) -> str:
    """The SageMaker pipeline that (re)trains a project's model in an environment: what
    the retraining triggers start. A realtime project's orchestration definition is this
    pipeline; a batch project deploys it from ``TRAINING_DEFINITION``."""
    return f"{project}-training"


def orchestration_pipeline(project: str, batch: bool) -> str:
    """The SageMaker pipeline a project's orchestration definition is deployed as: the
    batch prediction pipeline (which the schedule starts), or a realtime project's
    training pipeline."""
    return batch_pipeline(project) if batch else training_pipeline(project)


TRAINING_DEFINITION = "pipelines/training.json"
"""A batch project's training pipeline definition (a realtime project's orchestration
definition is its training pipeline)."""


def retraining_name(project: str) -> str:
    """The retraining trigger of a project in an environment: the EventBridge rule or the
    schedule (and, for drift, the alarm's prefix)."""
    return f"{project}-retrain"


def retraining_role_name(org: str, project: str) -> str:
    return f"{org}-{project}-retrain"


def input_prefix(project: str) -> str:
    """Where new training data for a project lands in an environment's data bucket: an
    object created below it starts ad-hoc retraining."""
    return f"{project_data_prefix(project)}/input/"


def metrics_namespace(project: str) -> str:
    """The CloudWatch namespace a project's monitoring job publishes its drift metrics in."""
    return f"ndap/{project}"


def feature_group_name(group: str, version: int) -> str:
    """One version of a feature group in an environment (a new schema is a new group)."""
    return f"{group}-v{version}"


FEATURE_STORE_PREFIX = "feature-store"
"""Prefix of the offline store in each environment's data bucket."""
FEATURE_GROUP_TAG = "ndap:feature-group"
FEATURE_VERSION_TAG = "ndap:feature-version"


DEFAULT_PREDICTION_SCHEDULE = "rate(1 day)"


FEATURE_STORE_ROLE = "feature-store"


def feature_store_role_name(org: str) -> str:
    return f"{org}-{FEATURE_STORE_ROLE}"
