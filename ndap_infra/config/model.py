"""The typed configuration model: one YAML file is the whole input.

Every model is frozen and rejects unknown keys. Defaults follow the N-D-A-P model in
``shared/design/ndap-model.md``. Structural checks (types, formats) live here; the
model's hard invariants, which need several fields at once, live in ``rules/``
so that each is a small named function with its own tests.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from ndap_infra.config.enums import (
    AcceptanceRetraining,
    Access,
    DataSharingMode,
    Environment,
    FeatureValueType,
    GitHost,
    IdentitySource,
    Persona,
    ProductionData,
    ProductionRetraining,
    ProjectKind,
    RetrainingStrategy,
)
from ndap_infra.config.schedules import schedule_problem


def _account_id_from_yaml(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            "account ids must be quoted strings in YAML (an unquoted number loses leading "
            f"zeros): write '{value:012d}'"
        )
    return value


AccountId = Annotated[
    str,
    BeforeValidator(_account_id_from_yaml),
    StringConstraints(pattern=r"^\d{12}$"),
    Field(description="A 12-digit AWS account id, quoted in YAML.", examples=["123456789012"]),
]
Region = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$"),
    Field(description="An AWS region name.", examples=["eu-west-1"]),
]
Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$"),
    Field(
        description="Lowercase letters, digits and hyphens; 3-24 characters; starts with a "
        "letter. Used in resource names.",
    ),
]
RoleName = Annotated[str, StringConstraints(pattern=r"^[\w+=,.@-]{1,64}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TagValue = Annotated[str, StringConstraints(max_length=256)]

DEFAULT_ACCEPTANCE_SCHEDULE = "rate(7 days)"


class StrictModel(BaseModel):
    """Base: frozen, unknown keys rejected, enums kept as enums."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class OrganizationConfig(StrictModel):
    """The AWS organization the platform is built in."""

    name: Slug = Field(description="Short name of the organization, used as a name prefix.")
    management_account_id: AccountId = Field(
        description="The organization's management account; the organization stack deploys here."
    )
    home_region: Region = Field(description="Region of the platform's own resources.")
    allowed_regions: tuple[Region, ...] = Field(
        min_length=1,
        description="Regions workloads may use in every environment (guardrails deny others; "
        "global services excepted). Must include home_region.",
    )
    account_access_role: RoleName = Field(
        default="OrganizationAccountAccessRole",
        description="Role in each member account that the stacks' providers assume.",
    )
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict, description="Tags applied to every resource."
    )
    create_organization: bool = Field(
        default=False,
        description="true: the organization stack creates the AWS organization (a new "
        "organization, or the local emulator). false: it looks up the existing one.",
    )
    tooling_account_id: AccountId | None = Field(
        default=None,
        description="The delivery (tooling) account: the ML projects' pipelines, artifact "
        "store and model registry live here, in their own organizational unit with the "
        "common guardrails. Data scientists have no access to it. Optional: without it no "
        "pipelines are generated (ml_projects are then only validated).",
    )
    tooling_email: Email | None = Field(
        default=None,
        description="Root e-mail of the tooling account. With tooling_account_id the "
        "organization stack adopts the account (by id) and places it in its unit, which "
        "needs the e-mail (without it the account is left where it is). Without "
        "tooling_account_id the organization stack creates the account, and `ndap deploy` "
        "records its id here.",
    )


DEFAULT_CONFIG_RULES = (
    "CLOUD_TRAIL_ENABLED",
    "MULTI_REGION_CLOUD_TRAIL_ENABLED",
    "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
    "CLOUD_TRAIL_ENCRYPTION_ENABLED",
    "GUARDDUTY_ENABLED_CENTRALIZED",
    "SECURITYHUB_ENABLED",
    "EC2_EBS_ENCRYPTION_BY_DEFAULT",
    "IAM_PASSWORD_POLICY",
    "ROOT_ACCOUNT_MFA_ENABLED",
    "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC",
    "S3_BUCKET_SSL_REQUESTS_ONLY",
    "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
    "S3_BUCKET_VERSIONING_ENABLED",
    "CMK_BACKING_KEY_ROTATION_ENABLED",
    "IAM_ROOT_ACCESS_KEY_CHECK",
)
DEFAULT_SECURITY_HUB_STANDARDS = (
    "aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark/v/1.4.0",
)


class PasswordPolicyConfig(StrictModel):
    """The IAM account password policy (CIS 1.8-1.9 defaults)."""

    minimum_length: int = Field(default=14, ge=14, le=128)
    max_age_days: int = Field(default=90, ge=1, le=1095)
    reuse_prevention: int = Field(default=24, ge=1, le=24)


class SecurityBaselineConfig(StrictModel):
    """The security controls every environment account carries, identically.

    There is deliberately no per-environment variant: invariant 1 of the model."""

    log_retention_days: int = Field(
        default=365, ge=90, description="Days CloudTrail/Config logs are kept before expiry."
    )
    log_archive_transition_days: int = Field(
        default=90, ge=30, description="Days before logs move to Glacier storage."
    )
    cloudwatch_log_retention_days: int = Field(
        default=365, description="Retention of the CloudTrail CloudWatch log group."
    )
    config_rules: tuple[str, ...] = Field(
        default=DEFAULT_CONFIG_RULES,
        min_length=1,
        description="AWS Config managed rule identifiers that check the baseline itself.",
    )
    security_hub_standards: tuple[str, ...] = Field(
        default=DEFAULT_SECURITY_HUB_STANDARDS,
        min_length=1,
        description="Security Hub standards ARNs' suffixes (after 'standards/' or 'ruleset/').",
    )
    password_policy: PasswordPolicyConfig = Field(default_factory=PasswordPolicyConfig)
    alarm_email: Email | None = Field(
        default=None, description="E-mail subscribed to the security alarm topic (optional)."
    )
    guardduty_finding_frequency: str = Field(
        default="FIFTEEN_MINUTES",
        pattern="^(FIFTEEN_MINUTES|ONE_HOUR|SIX_HOURS)$",
        description="How often GuardDuty publishes updated findings.",
    )


class EnvironmentConfig(StrictModel):
    """One environment account."""

    enabled: bool = Field(
        default=True, description="Only nonprod may be switched off; dev, acc, prd always exist."
    )
    account_id: AccountId | None = Field(
        default=None,
        description="The environment's AWS account, adopted by id. An enabled environment "
        "needs it or an email (then the organization stack creates the account and `ndap "
        "deploy` records its id here).",
    )
    email: Email | None = Field(
        default=None,
        description="Root e-mail of the account. With account_id the organization stack "
        "adopts the account (by id) and places it in its unit, which needs the e-mail "
        "(without it the account is left where it is). Without account_id the organization "
        "stack creates the account with this e-mail.",
    )
    production_data: ProductionData | None = Field(
        default=None,
        description="How this environment holds production data. Default: nonprod none, "
        "dev read-only, acc copy, prd source. The model allows no other values.",
    )
    security_baseline: dict[str, Any] | None = Field(
        default=None,
        description="Not allowed: the baseline is identical in every environment "
        "(invariant 1). Set it once in the top-level security_baseline.",
    )
    allowed_regions: tuple[str, ...] | None = Field(
        default=None,
        description="Not allowed: every environment has the organization's allowed_regions "
        "(invariant 1).",
    )


class EnvironmentsConfig(StrictModel):
    """The N-D-A-P environments. nonprod is optional."""

    nonprod: EnvironmentConfig = Field(default_factory=lambda: EnvironmentConfig(enabled=False))
    dev: EnvironmentConfig
    acc: EnvironmentConfig
    prd: EnvironmentConfig

    def get(self, env: Environment) -> EnvironmentConfig:
        result: EnvironmentConfig = getattr(self, env.value)
        return result


class IdentityCenterConfig(StrictModel):
    """IAM Identity Center, in the management account: one permission set per persona and
    environment, assigned to the persona's group in that environment's account."""

    instance_arn: Annotated[
        str,
        StringConstraints(pattern=r"^arn:aws[a-z-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$"),
    ] = Field(description="ARN of the Identity Center instance.")
    groups: dict[Persona, Annotated[str, StringConstraints(min_length=1, max_length=47)]] = Field(
        description="Identity store group id of each persona (personas without access anywhere "
        "may be left out)."
    )
    session_duration: Annotated[str, StringConstraints(pattern=r"^PT([1-9]|1[0-2])H$")] = Field(
        default="PT4H", description="Session length of permission sets (break-glass: PT1H)."
    )


class IdentityConfig(StrictModel):
    """Where people sign in, and how they reach the environment accounts."""

    source: IdentitySource = Field(
        default=IdentitySource.IAM_ROLES,
        description="iam-roles: persona roles in each account trust the identity account "
        "(MFA required). identity-center: IAM Identity Center permission sets. both.",
    )
    identity_account_id: AccountId | None = Field(
        default=None,
        description="Account whose principals may assume persona roles. Default: the "
        "management account.",
    )
    require_mfa: bool = Field(default=True, description="Persona role trusts require MFA.")
    identity_center: IdentityCenterConfig | None = Field(
        default=None,
        description="Required when source is identity-center or both: the instance and the "
        "group of each persona.",
    )


ACCESS_CELLS = dict[Environment, Access]


class DatasetConfig(StrictModel):
    """A production dataset that reaches development and acceptance."""

    name: Slug
    description: str = ""


DEFAULT_SUBSET_SCHEDULE = "rate(1 day)"


class IntegrationSubsetConfig(StrictModel):
    """The sampling job that writes ``integration-subset/`` in prd's datasets bucket: a
    deterministic sample of each dataset, which replication carries to dev's replica, where
    the dev pipeline's integration tests read it. It exists only where that subset is
    replicated (a tooling account, ML projects, ``sharing_mode: replica``)."""

    enabled: bool = Field(
        default=True,
        description="false: no sampling job is provisioned; the data owners write "
        "integration-subset/<dataset>/ in prd themselves.",
    )
    schedule: str = Field(
        default=DEFAULT_SUBSET_SCHEDULE,
        description="When the job runs: an EventBridge Scheduler expression, 'cron(min hour "
        "day-of-month month day-of-week year)' or 'rate(N minutes|hours|days)'.",
    )
    fraction: float = Field(
        default=0.01,
        gt=0,
        le=1,
        description="Share of each dataset's objects sampled, in (0, 1]: an object is taken "
        "when the sha256 of its key, read as a number in [0, 1), falls below it (the same "
        "objects every run while the dataset is unchanged).",
    )
    max_objects: int = Field(
        default=1000, ge=1, le=100_000, description="At most this many objects per dataset."
    )
    max_bytes: int = Field(
        default=5 * 1024**3,
        ge=1,
        description="At most this many bytes per dataset (objects that would exceed it are "
        "skipped). Default: 5 GiB.",
    )


class DataConfig(StrictModel):
    """How production data reaches the other environments."""

    sharing_mode: DataSharingMode = Field(
        default=DataSharingMode.REPLICA,
        description="replica: dev receives a read-only replica (data scientists need no "
        "action on any prd resource). cross-account-read: dev's data-scientist role reads "
        "the named prd datasets directly, read-only.",
    )
    datasets: tuple[DatasetConfig, ...] = Field(
        default=(), description="Production datasets shared with dev (read-only) and acc (copy)."
    )
    integration_subset: IntegrationSubsetConfig = Field(
        default_factory=IntegrationSubsetConfig,
        description="The job in prd that samples the datasets into integration-subset/ "
        "(replicated to dev's replica for the dev pipeline's integration tests).",
    )


class RetrainingConfig(StrictModel):
    """When a project's model is retrained, in each environment where it trains."""

    strategy: RetrainingStrategy = Field(
        description="ad-hoc (new objects under the project's input prefix of the "
        "environment's data bucket start retraining), periodic (a schedule) or drift (an "
        "alarm on a monitored metric)."
    )
    schedule: str | None = Field(
        default=None,
        description="periodic only: an EventBridge Scheduler expression, 'cron(min hour "
        "day-of-month month day-of-week year)' or 'rate(N minutes|hours|days)'.",
    )
    metric: str | None = Field(
        default=None,
        description="drift only: the metric the project's monitoring job publishes in the "
        "CloudWatch namespace 'ndap/<project>'.",
    )
    threshold: float | None = Field(
        default=None, description="drift only: the alarm fires when the metric exceeds it."
    )
    acceptance: AcceptanceRetraining = Field(
        default=AcceptanceRetraining.IF_MODEL_CHANGED,
        description="How acc retrains. if-model-changed: only when a release changes the "
        "model (acc's deploy consults the change plan and reuses the approved model whose "
        "fingerprint is unchanged; no data trigger in acc). periodic-from-scratch: acc "
        "retrains from scratch on acceptance_schedule and builds every release from "
        "scratch. from-previous-state: acc gets the project's trigger and warm-starts "
        "from the previously approved model.",
    )
    acceptance_schedule: str | None = Field(
        default=None,
        description="periodic-from-scratch only: when acc retrains. Default: the project's "
        f"schedule if the strategy is periodic, else '{DEFAULT_ACCEPTANCE_SCHEDULE}'.",
    )
    production: ProductionRetraining | None = Field(
        default=None,
        description="reuse-acc-artifacts: prd deploys exactly the artifacts acc verified (by "
        "digest) and never retrains by itself. retrain: prd gets the project's trigger and "
        "builds releases again. Default: pipeline.reuse_acc_artifacts, else "
        "reuse-acc-artifacts. Set one of the two, not both differently.",
    )


FeatureName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$"),
    Field(description="A SageMaker Feature Store feature name."),
]


class FeatureVersionConfig(StrictModel):
    """One version of a feature group's definitions (a new schema is a new version)."""

    version: int = Field(ge=1, le=999, description="The version number.")
    features: dict[FeatureName, FeatureValueType] = Field(
        min_length=1,
        description="The features of this version (besides the record identifier and the "
        "event time), each with its type: String, Integral or Fractional.",
    )
    promoted_to: Environment = Field(
        default=Environment.DEV,
        description="How far along dev > acc > prd this version has been promoted: it "
        "exists there and in every environment before it.",
    )


class FeatureGroupConfig(StrictModel):
    """Feature definitions owned by a team, promoted dev > acc > prd version by version.
    Each version present in an environment is a SageMaker feature group
    '<name>-v<version>' there, with its offline store in the environment's encrypted data
    bucket."""

    name: Slug
    team: Slug = Field(description="Owning team.")
    record_identifier: FeatureName = Field(
        default="record_id", description="The feature that identifies a record (a String)."
    )
    event_time: FeatureName = Field(
        default="event_time", description="The feature holding the event time (a String)."
    )
    versions: tuple[FeatureVersionConfig, ...] = Field(min_length=1)


class FeatureUseConfig(StrictModel):
    """A feature group version a model project is trained and served with."""

    group: Slug = Field(description="A name from feature_groups.")
    version: int = Field(ge=1, description="A version of that group.")


GlobPattern = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class PathRulesConfig(StrictModel):
    """Which paths of the project's repository hold what (git-style globs: ``**`` crosses
    directories). The change classifier maps every changed path to these kinds; a path
    no rule matches means "run everything"."""

    training: tuple[GlobPattern, ...] = ("src/training/**", "training/**")
    features: tuple[GlobPattern, ...] = ("features/**",)
    data_config: tuple[GlobPattern, ...] = ("config/**", "params.yaml", "data.yaml")
    serving: tuple[GlobPattern, ...] = ("src/serving/**", "serving/**")
    orchestration: tuple[GlobPattern, ...] = ("pipeline.yaml", "pipelines/**")
    tests: tuple[GlobPattern, ...] = ("tests/**",)
    docs: tuple[GlobPattern, ...] = ("docs/**", "*.md", "LICENSE")


class PipelineConfig(StrictModel):
    """How the project's code moves along the git flow (develop > dev, release tag > acc,
    main + release tag > approval > prd)."""

    develop_branch: Annotated[str, StringConstraints(min_length=1)] = "develop"
    main_branch: Annotated[str, StringConstraints(min_length=1)] = "main"
    release_tag_pattern: Annotated[str, StringConstraints(min_length=1)] = Field(
        default="v*", description="Tags that release to acc (from develop) and prd (from main)."
    )
    prd_approval: bool = Field(
        default=True, description="A manual approval gates prd. It cannot be switched off."
    )
    reuse_acc_artifacts: bool | None = Field(
        default=None,
        description="Same as retraining.production (true: reuse-acc-artifacts, false: "
        "retrain); kept for existing files. Default: reuse.",
    )
    digest_check: bool = Field(
        default=True,
        description="Reused artifacts are checked by digest; required when reusing.",
    )


class MlProjectConfig(StrictModel):
    """One ML project: its pipeline, its deployed kind, its retraining."""

    name: Slug
    team: Slug = Field(description="Owning team.")
    kind: ProjectKind = Field(description="batch (a scheduled prediction job) or realtime.")
    repository: Annotated[str, StringConstraints(pattern=r"^[\w.-]+/[\w.-]+$")] = Field(
        description="owner/name of the project's repository on the git host."
    )
    git_host: GitHost = GitHost.GITHUB
    retraining: RetrainingConfig = Field(
        default_factory=lambda: RetrainingConfig(strategy=RetrainingStrategy.AD_HOC)
    )
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    paths: PathRulesConfig = Field(default_factory=PathRulesConfig)
    prediction_schedule: str | None = Field(
        default=None,
        description="batch only: when the batch prediction pipeline runs, an EventBridge "
        "expression, cron(...) or rate(...). Default: rate(1 day).",
    )
    uses_features: tuple[FeatureUseConfig, ...] = Field(
        default=(),
        description="The feature group versions the model needs: promotion of the model to "
        "an environment is refused while one of them is not there yet.",
    )

    @property
    def production_retraining(self) -> ProductionRetraining:
        """The one effective choice (``retraining.production``, else the older
        ``pipeline.reuse_acc_artifacts``; a contradiction is a configuration error)."""
        if self.retraining.production is not None:
            return self.retraining.production
        if self.pipeline.reuse_acc_artifacts is False:
            return ProductionRetraining.RETRAIN
        return ProductionRetraining.REUSE_ACC_ARTIFACTS

    @property
    def reuses_acc_artifacts(self) -> bool:
        return self.production_retraining is ProductionRetraining.REUSE_ACC_ARTIFACTS


# -- the stacks' Terraform state on deploy.target aws ---------------------------------------

BucketName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    Field(description="An S3 bucket name (3-63 of a-z, 0-9, '.', '-')."),
]


class StateBackendConfig(StrictModel):
    """Where the stacks keep their Terraform state on deploy.target aws: one S3 bucket,
    one object per stack, locked with Terraform's S3 lock file. The bucket is created by
    hand, once, before the first deploy (README: the platform's own pipeline)."""

    bucket: BucketName = Field(
        description="The state bucket, in the management account (or a dedicated account "
        "outside the environment and tooling units): versioned, encrypted, public access "
        "blocked."
    )
    region: Region | None = Field(
        default=None, description="The bucket's region. Default: organization.home_region."
    )
    key_prefix: Annotated[
        str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
    ] = Field(
        default="ndap",
        description="Each stack's state is <key_prefix>/<stack>.tfstate.",
    )
    kms_key_arn: (
        Annotated[
            str, StringConstraints(pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[\w-]+$")
        ]
        | None
    ) = Field(
        default=None,
        description="A customer-managed KMS key the state objects are encrypted with. "
        "Default: the bucket's own server-side encryption (state is always encrypted).",
    )

    def key(self, stack: str) -> str:
        return f"{self.key_prefix}/{stack}.tfstate"


class DeployTarget(StrEnum):
    LOCAL = "local"
    AWS = "aws"


class DeployConfig(StrictModel):
    """Where `ndap deploy` / `cdktf deploy` deploys."""

    target: DeployTarget = Field(
        default=DeployTarget.AWS,
        description="local: a moto server the product starts on a loopback port (every "
        "provider points at it, dummy credentials). aws: real AWS, nothing of the emulator "
        "is generated.",
    )
    state: StateBackendConfig | None = Field(
        default=None,
        description="aws only: the S3 backend of every stack (without it, cdktf's local "
        "state). Required by platform_pipeline. The local target keeps its state on the "
        "emulator.",
    )


DEFAULT_DRIFT_SCHEDULE = "cron(0 6 * * ? *)"


class DriftDetectionConfig(StrictModel):
    """Scheduled drift detection in the tooling account: a build that runs `ndap drift`
    over the platform's own infrastructure repository and alarms when it fails (drift, or
    a plan that could not be made). Needs organization.tooling_account_id."""

    enabled: bool = Field(default=True, description="false: nothing is generated.")
    repository: Annotated[str, StringConstraints(pattern=r"^[\w.-]+/[\w.-]+$")] = Field(
        description="owner/name of the platform's infrastructure repository (this "
        "configuration's repository) on GitHub, cloned by the drift build."
    )
    branch: Annotated[str, StringConstraints(min_length=1)] = Field(
        default="main", description="The branch whose code is compared with what is deployed."
    )
    config_path: Annotated[str, StringConstraints(min_length=1)] = Field(
        default="examples/reference.yaml",
        description="Path of this configuration inside the repository.",
    )
    state_bucket: str | None = Field(
        default=None,
        description="The S3 bucket holding the stacks' Terraform state on deploy.target aws, "
        "which the drift build reads (read only). Default: deploy.state.bucket; without "
        "either the build can read no remote state.",
    )
    schedule: str = Field(
        default=DEFAULT_DRIFT_SCHEDULE,
        description="When the check runs: an EventBridge Scheduler expression, cron(...) or "
        "rate(N unit). Default: every day at 06:00 UTC.",
    )

    @field_validator("schedule")
    @classmethod
    def _is_a_schedule(cls, value: str) -> str:
        problem = schedule_problem(value)
        if problem is not None:
            raise ValueError(f"{value!r} is not an EventBridge schedule: {problem}")
        return value


# -- the platform's own pipeline ---------------------------------------------------------

PLATFORM_APPROVERS = frozenset({Persona.PLATFORM_ENGINEER, Persona.SECURITY_AUDITOR})


class PlatformPipelineConfig(StrictModel):
    """The platform's own infrastructure pipeline, in the tooling account: on a push to
    `branch` of the platform's repository it plans every stack (read-only roles), writes
    the security review pack, waits for a manual approval, and applies exactly the
    reviewed plans. Needs organization.tooling_account_id."""

    repository: Annotated[str, StringConstraints(pattern=r"^[\w.-]+/[\w.-]+$")] = Field(
        description="owner/name of the platform's infrastructure repository (this "
        "configuration's repository) on the git host; the pipeline's source."
    )
    git_host: GitHost = Field(
        default=GitHost.GITHUB,
        description="Where the repository lives: the tooling account's git connection for "
        "that host serves it (the same connection as the ML projects').",
    )
    branch: Annotated[str, StringConstraints(min_length=1)] = Field(
        default="main", description="Pushes to this branch start the pipeline."
    )
    config_path: Annotated[str, StringConstraints(min_length=1)] = Field(
        default="examples/reference.yaml",
        description="Path of this configuration inside the repository.",
    )
    approvers: tuple[Persona, ...] = Field(
        default=(Persona.PLATFORM_ENGINEER,),
        min_length=1,
        description="Who approves the reviewed plan, through their role in the tooling "
        "account: platform-engineer and/or security-auditor.",
    )

    @field_validator("approvers")
    @classmethod
    def _approvers_review_the_platform(cls, value: tuple[Persona, ...]) -> tuple[Persona, ...]:
        wrong = [p.value for p in value if p not in PLATFORM_APPROVERS]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)} cannot approve the platform's changes: only "
                "platform-engineer and security-auditor review and approve them; remove "
                f"{', '.join(wrong)}"
            )
        return tuple(dict.fromkeys(value))


def default_persona_matrix() -> dict[Persona, dict[Environment, Access]]:
    """The default matrix of the design document."""
    n, d, a, p = Environment.NONPROD, Environment.DEV, Environment.ACC, Environment.PRD
    full, ro, none = Access.FULL, Access.READ_ONLY, Access.NONE
    return {
        Persona.DATA_SCIENTIST: {n: none, d: full, a: none, p: none},
        Persona.ML_ENGINEER: {n: full, d: full, a: ro, p: none},
        Persona.PLATFORM_ENGINEER: {n: full, d: full, a: ro, p: ro},
        Persona.BUSINESS_USER: {n: none, d: none, a: Access.UAT, p: none},
        Persona.SECURITY_AUDITOR: dict.fromkeys(Environment, Access.SECURITY_AUDIT),
        Persona.BREAK_GLASS: dict.fromkeys(Environment, Access.ADMIN),
        Persona.DEPLOYER: dict.fromkeys(Environment, Access.DEPLOY),
    }


class NdapConfig(StrictModel):
    """The whole input of ndap-infra."""

    organization: OrganizationConfig
    environments: EnvironmentsConfig
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    personas: dict[Persona, dict[Environment, Access]] = Field(
        default_factory=dict,
        description="Overrides of the default persona x environment matrix; cells not "
        "given keep their default. Invariants (e.g. data-scientist has none in acc/prd) "
        "are enforced.",
    )
    data: DataConfig = Field(default_factory=DataConfig)
    security_baseline: SecurityBaselineConfig = Field(default_factory=SecurityBaselineConfig)
    deploy: DeployConfig = Field(default_factory=DeployConfig)
    drift_detection: DriftDetectionConfig | None = Field(
        default=None,
        description="Scheduled drift detection in the tooling account (optional).",
    )
    platform_pipeline: PlatformPipelineConfig | None = Field(
        default=None,
        description="The platform's own infrastructure pipeline in the tooling account: "
        "reviewed plan, approved, applied (optional).",
    )
    feature_groups: tuple[FeatureGroupConfig, ...] = Field(
        default=(),
        description="Feature definitions with their own promotion dev > acc > prd; model "
        "projects name the versions they use (ml_projects[].uses_features).",
    )
    ml_projects: tuple[MlProjectConfig, ...] = Field(default=())

    # -- derived views (the rest of the code reads these, never the raw overrides) --

    def enabled_environments(self) -> tuple[Environment, ...]:
        return tuple(e for e in Environment if self.environments.get(e).enabled)

    def account_id(self, env: Environment) -> str:
        account = self.environments.get(env).account_id
        if account is None:  # guarded by validation; kept for type narrowing
            raise ValueError(f"environments.{env.value}.account_id is not set")
        return account

    def persona_matrix(self) -> dict[Persona, dict[Environment, Access]]:
        """The effective matrix: defaults with the configured cells applied."""
        matrix = default_persona_matrix()
        for persona, cells in self.personas.items():
            matrix[persona] = {**matrix[persona], **cells}
        return matrix

    def access(self, persona: Persona, env: Environment) -> Access:
        return self.persona_matrix()[persona][env]

    def production_data(self, env: Environment) -> ProductionData:
        configured = self.environments.get(env).production_data
        return configured if configured is not None else DEFAULT_PRODUCTION_DATA[env]

    @property
    def identity_account_id(self) -> str:
        return self.identity.identity_account_id or self.organization.management_account_id

    @property
    def tooling_account_id(self) -> str | None:
        """The delivery account of the ML projects' pipelines (None: no pipelines)."""
        return self.organization.tooling_account_id


DEFAULT_PRODUCTION_DATA: dict[Environment, ProductionData] = {
    Environment.NONPROD: ProductionData.NONE,
    Environment.DEV: ProductionData.READ_ONLY,
    Environment.ACC: ProductionData.COPY,
    Environment.PRD: ProductionData.SOURCE,
}
