"""All stacks of the platform, in dependency order."""

from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from ndap_infra.config.model import NdapConfig
from ndap_infra.naming import ORGANIZATION_STACK, environment_stack
from stacks.environment import EnvironmentStack
from stacks.organization import OrganizationStack


def build_platform(scope: Construct, config: NdapConfig) -> dict[str, TerraformStack]:
    """The organization stack, then one stack per enabled environment."""
    stacks: dict[str, TerraformStack] = {
        ORGANIZATION_STACK: OrganizationStack(scope, ORGANIZATION_STACK, config)
    }
    for env in config.enabled_environments():
        name = environment_stack(env)
        stacks[name] = EnvironmentStack(scope, name, config, env)
    return stacks
