"""ML projects: their pipelines, retraining strategies, path rules and the feature groups
they use."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import (
    Field,
    StringConstraints,
)

from ndap_infra.config.enums import (
    AcceptanceRetraining,
    Environment,
    FeatureValueType,
    GitHost,
    ProductionRetraining,
    ProjectKind,
    RetrainingStrategy,
)
from ndap_infra.config.model.types import (
    FeatureName,
    GlobPattern,
    RepositoryName,
    Slug,
    StrictModel,
)

DEFAULT_ACCEPTANCE_SCHEDULE = "rate(7 days)"


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


PathKind = Literal[
    "training",
    "features",
    "data_config",
    "serving",
    "orchestration",
    "prediction_orchestration",
    "tests",
    "ci",
    "docs",
    "everything",
]

PATH_KINDS: tuple[str, ...] = get_args(PathKind)
"""The kinds a path rule can give a path, in the order plans list them."""


class SharedPathRule(StrictModel):
    """A path that serves several roles at once, said so (a module both training and
    serving import): a change to it counts for every kind listed."""

    pattern: GlobPattern
    kinds: tuple[PathKind, ...] = Field(min_length=2, description="Two or more kinds.")


class PathRulesConfig(StrictModel):
    """Which paths of the project's repository hold what (git-style globs: ``**`` crosses
    directories; a pattern starting with ``!`` carves paths out of that kind's other
    patterns). The change classifier maps every changed path to these kinds; a path no
    rule matches is unclassified and runs everything. More: docs/pipelines.md#path-rules."""

    training: tuple[GlobPattern, ...] = ("src/training/**", "training/**")
    features: tuple[GlobPattern, ...] = ("features/**",)
    data_config: tuple[GlobPattern, ...] = ("config/**", "params.yaml", "data.yaml")
    serving: tuple[GlobPattern, ...] = ("src/serving/**", "serving/**")
    orchestration: tuple[GlobPattern, ...] = (
        "pipeline.yaml",
        "pipelines/**",
        "!pipelines/prediction/**",
    )
    prediction_orchestration: tuple[GlobPattern, ...] = Field(
        default=("pipelines/prediction/**",),
        description="Orchestration that drives only serving or batch prediction: a change "
        "redeploys the orchestration, without retraining.",
    )
    tests: tuple[GlobPattern, ...] = ("tests/**",)
    ci: tuple[GlobPattern, ...] = Field(
        default=(
            ".github/**",
            ".gitlab-ci.yml",
            "bitbucket-pipelines.yml",
            ".pre-commit-config.yaml",
        ),
        description="The repository's own CI configuration: a change runs the test suites "
        "and deploys nothing.",
    )
    docs: tuple[GlobPattern, ...] = ("docs/**", "*.md", "LICENSE")
    everything: tuple[GlobPattern, ...] = Field(
        default=(
            "Makefile",
            "Dockerfile",
            "pyproject.toml",
            "setup.py",
            "setup.cfg",
            "requirements*.txt",
        ),
        description="Paths that can change anything (build files, dependencies, "
        "infrastructure code): a change runs every stage, said as such rather than "
        "left unclassified.",
    )
    shared: tuple[SharedPathRule, ...] = Field(
        default=(),
        description="Paths that serve several roles, stated as such (the same pattern "
        "under two kinds is refused).",
    )
    docs_run_tests: bool = Field(
        default=False,
        description="Whether a change to docs alone runs the test suites.",
    )

    def patterns(self, kind: str) -> tuple[str, ...]:
        """The patterns of one kind (``PATH_KINDS``)."""
        patterns: tuple[str, ...] = getattr(self, kind)
        return patterns


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
    repository: RepositoryName = Field(
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
