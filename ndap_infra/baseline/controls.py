"""Settings of the baseline's controls, derived from ``SecurityBaselineConfig`` alone."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ndap_infra.config.model import PasswordPolicyConfig, SecurityBaselineConfig
from ndap_infra.names.arns import DEFAULT_PARTITION, security_hub_standard_arn
from ndap_infra.names.baseline import slug

ABORT_INCOMPLETE_UPLOADS_DAYS = 7
ARCHIVE_STORAGE_CLASS = "GLACIER"


@dataclass(frozen=True)
class LogLifecycle:
    """Lifecycle of the log bucket: archive, then expire; deleted or overwritten log
    files (noncurrent versions) are kept as long as current ones."""

    archive_after_days: int
    expire_after_days: int
    noncurrent_expire_after_days: int
    abort_incomplete_uploads_after_days: int = ABORT_INCOMPLETE_UPLOADS_DAYS
    archive_storage_class: str = ARCHIVE_STORAGE_CLASS

    def __post_init__(self) -> None:
        if self.archive_after_days >= self.expire_after_days:
            raise ValueError(
                f"security_baseline.log_archive_transition_days ({self.archive_after_days}) "
                f"must be less than log_retention_days ({self.expire_after_days})"
            )


def log_lifecycle(config: SecurityBaselineConfig) -> LogLifecycle:
    return LogLifecycle(
        archive_after_days=config.log_archive_transition_days,
        expire_after_days=config.log_retention_days,
        noncurrent_expire_after_days=config.log_retention_days,
    )


@dataclass(frozen=True)
class PasswordPolicySettings:
    """The IAM account password policy: configured lengths and ages, and every character
    class required (CIS 1.8-1.9)."""

    minimum_password_length: int
    max_password_age: int
    password_reuse_prevention: int
    require_lowercase_characters: bool = True
    require_uppercase_characters: bool = True
    require_numbers: bool = True
    require_symbols: bool = True
    allow_users_to_change_password: bool = True
    hard_expiry: bool = False


def password_policy(config: PasswordPolicyConfig) -> PasswordPolicySettings:
    return PasswordPolicySettings(
        minimum_password_length=config.minimum_length,
        max_password_age=config.max_age_days,
        password_reuse_prevention=config.reuse_prevention,
    )


@dataclass(frozen=True)
class ConfigRuleSpec:
    """One AWS Config managed rule."""

    identifier: str
    input_parameters: str | None = None

    @property
    def id(self) -> str:
        """Construct id: stable, derived from the identifier."""
        return slug(self.identifier)


def _password_rule_parameters(policy: PasswordPolicySettings) -> str:
    """The IAM_PASSWORD_POLICY rule checks the policy this baseline sets, not AWS's defaults."""
    flag = {True: "true", False: "false"}
    return json.dumps(
        {
            "MaxPasswordAge": str(policy.max_password_age),
            "MinimumPasswordLength": str(policy.minimum_password_length),
            "PasswordReusePrevention": str(policy.password_reuse_prevention),
            "RequireLowercaseCharacters": flag[policy.require_lowercase_characters],
            "RequireNumbers": flag[policy.require_numbers],
            "RequireSymbols": flag[policy.require_symbols],
            "RequireUppercaseCharacters": flag[policy.require_uppercase_characters],
        },
        sort_keys=True,
    )


def config_rules(config: SecurityBaselineConfig) -> tuple[ConfigRuleSpec, ...]:
    """One rule per configured identifier (duplicates dropped, order kept)."""
    rules: dict[str, ConfigRuleSpec] = {}
    for identifier in config.config_rules:
        parameters = None
        if identifier == "IAM_PASSWORD_POLICY":
            parameters = _password_rule_parameters(password_policy(config.password_policy))
        spec = ConfigRuleSpec(identifier, parameters)
        rules.setdefault(spec.id, spec)
    return tuple(rules.values())


@dataclass(frozen=True)
class StandardSpec:
    """One Security Hub standards subscription."""

    suffix: str
    arn: str

    @property
    def id(self) -> str:
        return slug(self.suffix)


def security_hub_standards(
    config: SecurityBaselineConfig, region: str, partition: str = DEFAULT_PARTITION
) -> tuple[StandardSpec, ...]:
    specs: dict[str, StandardSpec] = {}
    for suffix in config.security_hub_standards:
        spec = StandardSpec(suffix, security_hub_standard_arn(suffix, region, partition))
        specs.setdefault(spec.id, spec)
    return tuple(specs.values())
