"""All stacks of the platform, in dependency order."""

from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from ndap_infra.config.model import NdapConfig
from ndap_infra.naming import ORGANIZATION_STACK, environment_stack
from ndap_infra.pipelines.names import TOOLING
from ndap_infra.pipelines.spec import tooling_spec
from stacks.environment import EnvironmentStack
from stacks.organization import OrganizationStack
from stacks.tooling import ToolingStack


def build_platform(scope: Construct, config: NdapConfig) -> dict[str, TerraformStack]:
    """The organization stack, the tooling stack (when a delivery account is configured:
    the environments' deployer roles trust its build roles, which must exist first), then
    one stack per enabled environment. The order is declared to cdktf too (the manifest's
    dependencies), so that ``cdktf deploy '*'`` applies the organization first, then
    tooling, then the environments."""
    organization = OrganizationStack(scope, ORGANIZATION_STACK, config)
    stacks: dict[str, TerraformStack] = {ORGANIZATION_STACK: organization}
    foundation: list[TerraformStack] = [organization]
    tooling = tooling_spec(config)
    if tooling is not None:
        stacks[TOOLING] = ToolingStack(scope, TOOLING, config, tooling)
        stacks[TOOLING].add_dependency(organization)
        foundation.append(stacks[TOOLING])
    for env in config.enabled_environments():
        name = environment_stack(env)
        stacks[name] = EnvironmentStack(scope, name, config, env)
        for earlier in foundation:
            stacks[name].add_dependency(earlier)
    return stacks
