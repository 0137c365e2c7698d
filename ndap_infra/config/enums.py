"""The vocabulary of the N-D-A-P model: environments, personas, access levels."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

TOOLING = "tooling"
"""The tooling (delivery) account: its key beside the environments', its stack's name, its
organizational unit's suffix and its ``ndap:environment`` tag. Defined here, once."""

LOG_ARCHIVE = "log-archive"
"""The log-archive account (``organization.security_accounts``): its key and stack name."""
SECURITY_TOOLING = "security-tooling"
"""The security-tooling account, delegated administrator: its key and stack name."""
SECURITY_UNIT = "security"
"""The organizational unit (key and name suffix) holding both security accounts."""


class Environment(StrEnum):
    """The four environments, in promotion order."""

    NONPROD = "nonprod"
    DEV = "dev"
    ACC = "acc"
    PRD = "prd"

    @property
    def holds_production_data(self) -> bool:
        """Acceptance (a copy) and production (the source) hold production data."""
        return self in (Environment.ACC, Environment.PRD)


ENVIRONMENT_ORDER: tuple[Environment, ...] = tuple(Environment)
PROTECTED_ENVIRONMENTS: frozenset[Environment] = frozenset({Environment.ACC, Environment.PRD})


class Persona(StrEnum):
    """The built-in personas of the model."""

    DATA_SCIENTIST = "data-scientist"
    ML_ENGINEER = "ml-engineer"
    PLATFORM_ENGINEER = "platform-engineer"
    BUSINESS_USER = "business-user"
    SECURITY_AUDITOR = "security-auditor"
    BREAK_GLASS = "break-glass"
    DEPLOYER = "deployer"

    @property
    def like(self) -> Persona:
        """The built-in persona whose invariants apply: itself."""
        return self

    @property
    def is_data_scientist_like(self) -> bool:
        return self is Persona.DATA_SCIENTIST


HUMAN_PERSONAS: frozenset[Persona] = frozenset(set(Persona) - {Persona.DEPLOYER})


@dataclass(frozen=True, order=True)
class CustomPersona:
    """A persona defined by configuration (``custom_personas``): its own name, and the
    built-in persona (``like``) whose invariants, guardrails and boundary it takes."""

    value: str
    like: Persona

    @property
    def is_data_scientist_like(self) -> bool:
        return self.like is Persona.DATA_SCIENTIST

    def __str__(self) -> str:
        return self.value


AnyPersona = Persona | CustomPersona
"""A built-in or a custom persona: both have ``value`` (the name), ``like`` and
``is_data_scientist_like``; code asks those, never ``is Persona.DATA_SCIENTIST``."""


class Access(StrEnum):
    """What a persona may do in one environment."""

    NONE = "none"
    READ_ONLY = "read-only"
    SECURITY_AUDIT = "security-audit"
    UAT = "uat"
    FULL = "full"
    DEPLOY = "deploy"
    ADMIN = "admin"


class ProductionData(StrEnum):
    """How an environment holds production data."""

    NONE = "none"
    READ_ONLY = "read-only"
    COPY = "copy"
    SOURCE = "source"


class DataSharingMode(StrEnum):
    """How production data reaches development."""

    REPLICA = "replica"
    CROSS_ACCOUNT_READ = "cross-account-read"


class IdentitySource(StrEnum):
    IAM_ROLES = "iam-roles"
    IDENTITY_CENTER = "identity-center"
    BOTH = "both"


class ProjectKind(StrEnum):
    BATCH = "batch"
    REALTIME = "realtime"


class RetrainingStrategy(StrEnum):
    AD_HOC = "ad-hoc"
    PERIODIC = "periodic"
    DRIFT = "drift"


class AcceptanceRetraining(StrEnum):
    """How a project retrains in acceptance (chosen by training cost)."""

    IF_MODEL_CHANGED = "if-model-changed"
    PERIODIC_FROM_SCRATCH = "periodic-from-scratch"
    FROM_PREVIOUS_STATE = "from-previous-state"


class ProductionRetraining(StrEnum):
    """How a project's model reaches production."""

    REUSE_ACC_ARTIFACTS = "reuse-acc-artifacts"
    RETRAIN = "retrain"


class FeatureValueType(StrEnum):
    """SageMaker Feature Store feature types."""

    STRING = "String"
    INTEGRAL = "Integral"
    FRACTIONAL = "Fractional"


class GitHost(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"
    BITBUCKET = "bitbucket"
