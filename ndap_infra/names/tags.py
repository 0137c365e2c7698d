"""Tags every resource carries: the configured ones plus the platform's own."""

from __future__ import annotations

from ndap_infra.config.enums import Environment
from ndap_infra.config.model import NdapConfig

MANAGED_BY_TAG = "ndap:managed-by"
MANAGED_BY = "ndap-infra"
ENVIRONMENT_TAG = "ndap:environment"


def platform_tags(config: NdapConfig, env: Environment | None) -> dict[str, str]:
    tags = dict(config.organization.tags)
    tags[MANAGED_BY_TAG] = MANAGED_BY
    tags["ndap:organization"] = config.organization.name
    tags[ENVIRONMENT_TAG] = env.value if env is not None else "organization"
    return dict(sorted(tags.items()))
