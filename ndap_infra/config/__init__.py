"""Configuration: the typed model, its invariants, and loading with all errors at once."""

from ndap_infra.config.enums import (
    Access,
    DataSharingMode,
    Environment,
    IdentitySource,
    Persona,
    ProductionData,
    ProjectKind,
    RetrainingStrategy,
)
from ndap_infra.config.issues import ConfigError, ConfigIssue
from ndap_infra.config.load import load_config, load_config_checked, validate_data
from ndap_infra.config.model import NdapConfig

__all__ = [
    "Access",
    "ConfigError",
    "ConfigIssue",
    "DataSharingMode",
    "Environment",
    "IdentitySource",
    "NdapConfig",
    "Persona",
    "ProductionData",
    "ProjectKind",
    "RetrainingStrategy",
    "load_config",
    "load_config_checked",
    "validate_data",
]
