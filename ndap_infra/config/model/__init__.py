"""The typed configuration model: one YAML file is the whole input.

Every model is frozen and rejects unknown keys. Defaults follow the N-D-A-P model in
``shared/design/ndap-model.md``. Structural checks (types, formats) live here; the
model's hard invariants, which need several fields at once, live in ``rules/``
so that each is a small named function with its own tests.
"""

from __future__ import annotations

from pydantic import Field

from ndap_infra.config.enums import (
    Access,
    AnyPersona,
    CustomPersona,
    Environment,
    Persona,
    ProductionData,
)
from ndap_infra.config.model.data import (
    DEFAULT_SUBSET_SCHEDULE,
    DataConfig,
    DatasetConfig,
    IntegrationSubsetConfig,
)
from ndap_infra.config.model.feature_pipelines import FeaturePipelineConfig
from ndap_infra.config.model.operations import (
    DEFAULT_DRIFT_SCHEDULE,
    PLATFORM_APPROVERS,
    DeployConfig,
    DeployTarget,
    DriftDetectionConfig,
    PlatformPipelineConfig,
    StateBackendConfig,
    ValidationConfig,
)
from ndap_infra.config.model.organization import (
    ACCESS_CELLS,
    DEFAULT_CONFIG_RULES,
    DEFAULT_SECURITY_HUB_STANDARDS,
    EnvironmentConfig,
    EnvironmentsConfig,
    IdentityCenterConfig,
    IdentityConfig,
    OrganizationConfig,
    PasswordPolicyConfig,
    SecurityAccountConfig,
    SecurityAccountsConfig,
    SecurityBaselineConfig,
    default_persona_matrix,
)
from ndap_infra.config.model.personas import CustomPersonaConfig
from ndap_infra.config.model.projects import (
    DEFAULT_ACCEPTANCE_SCHEDULE,
    PATH_KINDS,
    FeatureGroupConfig,
    FeatureUseConfig,
    FeatureVersionConfig,
    MlProjectConfig,
    PathRulesConfig,
    PipelineConfig,
    RetrainingConfig,
    SharedPathRule,
)
from ndap_infra.config.model.types import (
    AccountId,
    BucketName,
    Email,
    FeatureName,
    GlobPattern,
    Region,
    RoleName,
    Slug,
    StrictModel,
    TagKey,
    TagValue,
)


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
    custom_personas: tuple[CustomPersonaConfig, ...] = Field(
        default=(),
        description="Personas of the organization's own, each like a built-in persona "
        "whose invariants it keeps (docs/runbooks/add-persona.md).",
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
    feature_pipelines: tuple[FeaturePipelineConfig, ...] = Field(
        default=(),
        description="Per team, the pipelines that create and backfill its feature group "
        "versions along the git flow (docs/pipelines.md, the feature-store pipeline); "
        "generated only with a tooling account.",
    )
    ml_projects: tuple[MlProjectConfig, ...] = Field(default=())
    validation: ValidationConfig = Field(default_factory=ValidationConfig)

    # -- derived views (the rest of the code reads these, never the raw overrides) --

    def enabled_environments(self) -> tuple[Environment, ...]:
        return tuple(e for e in Environment if self.environments.get(e).enabled)

    def account_id(self, env: Environment) -> str:
        account = self.environments.get(env).account_id
        if account is None:  # guarded by validation; kept for type narrowing
            raise ValueError(f"environments.{env.value}.account_id is not set")
        return account

    def persona_matrix(self) -> dict[AnyPersona, dict[Environment, Access]]:
        """The effective matrix: defaults with the configured cells applied, then the
        custom personas (a custom name equal to a built-in one is rejected by validation
        and left out here)."""
        matrix: dict[AnyPersona, dict[Environment, Access]] = {}
        for persona, cells in default_persona_matrix().items():
            matrix[persona] = {**cells, **self.personas.get(persona, {})}
        for custom in self.custom_personas:
            if all(p.value != custom.name for p in matrix):  # the first of a name counts
                matrix[custom.persona] = custom.cells()
        return matrix

    def access(self, persona: AnyPersona, env: Environment) -> Access:
        return self.persona_matrix()[persona][env]

    def all_personas(self) -> tuple[AnyPersona, ...]:
        """The built-in personas, then the custom ones, in configuration order."""
        return tuple(self.persona_matrix())

    def persona_named(self, name: str) -> AnyPersona | None:
        return next((p for p in self.all_personas() if p.value == name), None)

    def data_scientist_like(self) -> tuple[AnyPersona, ...]:
        """The personas the data-scientist guardrails match (by tag and role name)."""
        return tuple(p for p in self.all_personas() if p.is_data_scientist_like)

    def custom_persona_index(self, persona: CustomPersona) -> int:
        return next(i for i, c in enumerate(self.custom_personas) if c.name == persona.value)

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

    @property
    def security_accounts(self) -> SecurityAccountsConfig | None:
        """The log-archive and security-tooling accounts, when switched on (None: the
        per-account model)."""
        found = self.organization.security_accounts
        return found if found is not None and found.enabled else None


DEFAULT_PRODUCTION_DATA: dict[Environment, ProductionData] = {
    Environment.NONPROD: ProductionData.NONE,
    Environment.DEV: ProductionData.READ_ONLY,
    Environment.ACC: ProductionData.COPY,
    Environment.PRD: ProductionData.SOURCE,
}


__all__ = [
    "ACCESS_CELLS",
    "DEFAULT_ACCEPTANCE_SCHEDULE",
    "DEFAULT_CONFIG_RULES",
    "DEFAULT_DRIFT_SCHEDULE",
    "DEFAULT_SECURITY_HUB_STANDARDS",
    "DEFAULT_SUBSET_SCHEDULE",
    "PATH_KINDS",
    "PLATFORM_APPROVERS",
    "AccountId",
    "BucketName",
    "CustomPersonaConfig",
    "DataConfig",
    "DatasetConfig",
    "DeployConfig",
    "DeployTarget",
    "DriftDetectionConfig",
    "Email",
    "EnvironmentConfig",
    "EnvironmentsConfig",
    "FeatureGroupConfig",
    "FeatureName",
    "FeaturePipelineConfig",
    "FeatureUseConfig",
    "FeatureVersionConfig",
    "GlobPattern",
    "IdentityCenterConfig",
    "IdentityConfig",
    "IntegrationSubsetConfig",
    "MlProjectConfig",
    "NdapConfig",
    "OrganizationConfig",
    "PasswordPolicyConfig",
    "PathRulesConfig",
    "PipelineConfig",
    "PlatformPipelineConfig",
    "Region",
    "RetrainingConfig",
    "RoleName",
    "SecurityAccountConfig",
    "SecurityAccountsConfig",
    "SecurityBaselineConfig",
    "SharedPathRule",
    "Slug",
    "StateBackendConfig",
    "StrictModel",
    "TagKey",
    "TagValue",
    "ValidationConfig",
    "default_persona_matrix",
]
