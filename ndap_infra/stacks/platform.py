"""All stacks of the platform, in dependency order."""

from __future__ import annotations

import json

from cdktf import App, TerraformStack
from constructs import Construct

from ndap_infra.access.data import replication_destinations
from ndap_infra.config.accounts import pending_named_in, phase_one_config
from ndap_infra.config.enums import LOG_ARCHIVE, SECURITY_TOOLING, TOOLING
from ndap_infra.config.model import NdapConfig
from ndap_infra.names.platform import ORGANIZATION_STACK, environment_stack
from ndap_infra.names.security import ORGANIZATION_TRAIL_STACK
from ndap_infra.pipelines.spec import tooling_spec
from ndap_infra.stacks.environment import EnvironmentStack
from ndap_infra.stacks.organization import OrganizationStack
from ndap_infra.stacks.security import (
    LogArchiveStack,
    OrganizationTrailStack,
    SecurityToolingStack,
)
from ndap_infra.stacks.tooling import ToolingStack


def build_platform(scope: Construct, config: NdapConfig) -> dict[str, TerraformStack]:
    """Every stack the configuration can have now. While created accounts' ids are pending
    (``ndap_infra.config.accounts``), that is the organization stack alone, without what names a
    pending id (phase 1): the account stacks deploy into those accounts and name each
    other's ids, so they wait until ``ndap deploy`` has recorded the ids."""
    filled, stand_ins = phase_one_config(config)
    if stand_ins:
        return {ORGANIZATION_STACK: OrganizationStack(scope, ORGANIZATION_STACK, filled, stand_ins)}
    return _all_stacks(scope, config)


def waiting_stacks(config: NdapConfig) -> dict[str, list[str]]:
    """The stacks phase 1 leaves out, each with the pending accounts (keys) it needs:
    the whole platform is built in memory with stand-in ids and each stack searched for
    them. Empty when no id is pending."""
    filled, stand_ins = phase_one_config(config)
    if not stand_ins:
        return {}
    stacks = _all_stacks(App(), filled)
    waiting = {}
    for name, stack in stacks.items():
        if name == ORGANIZATION_STACK:
            continue
        text = json.dumps(stack.to_terraform())
        waiting[name] = pending_named_in(text, stand_ins)
    return waiting


def _all_stacks(scope: Construct, config: NdapConfig) -> dict[str, TerraformStack]:
    """The organization stack; with the security accounts, the log-archive and
    security-tooling stacks (wave 1: every account's Config delivers into the archive, so
    tooling and the environments depend on it) and the organization trail (in the
    management account, after the archive); the tooling stack (when a delivery account is
    configured: the environments' deployer roles trust its build roles, which must exist
    first), then one stack per enabled environment. The order is declared to cdktf too
    (the manifest's dependencies), so that ``cdktf deploy '*'`` applies the organization first, then
    tooling, then the environments. An environment whose datasets replicate into another
    environment's bucket (prd into dev's replica and acc's copy) depends on that stack:
    AWS refuses a replication configuration whose destination bucket does not exist yet,
    so ``ndap deploy`` applies it in a later wave (``Synthesis.apply_waves``)."""
    organization = OrganizationStack(scope, ORGANIZATION_STACK, config)
    stacks: dict[str, TerraformStack] = {ORGANIZATION_STACK: organization}
    foundation: list[TerraformStack] = [organization]
    if config.security_accounts is not None:
        # The archive exists before anything delivers into it (every account's Config, the
        # organization trail): wave 1, beside the delegated administrator, which the
        # organization stack registers. Tooling and the environments follow it.
        stacks[LOG_ARCHIVE] = LogArchiveStack(scope, LOG_ARCHIVE, config)
        stacks[LOG_ARCHIVE].add_dependency(organization)
        foundation.append(stacks[LOG_ARCHIVE])
        stacks[SECURITY_TOOLING] = SecurityToolingStack(scope, SECURITY_TOOLING, config)
        stacks[SECURITY_TOOLING].add_dependency(organization)
    tooling = tooling_spec(config)
    if tooling is not None:
        stacks[TOOLING] = ToolingStack(scope, TOOLING, config, tooling)
        for earlier in foundation:
            stacks[TOOLING].add_dependency(earlier)
        foundation.append(stacks[TOOLING])
    if config.security_accounts is not None:
        stacks[ORGANIZATION_TRAIL_STACK] = OrganizationTrailStack(
            scope, ORGANIZATION_TRAIL_STACK, config
        )
        stacks[ORGANIZATION_TRAIL_STACK].add_dependency(stacks[LOG_ARCHIVE])
    for env in config.enabled_environments():
        name = environment_stack(env)
        stacks[name] = EnvironmentStack(scope, name, config, env)
        for earlier in foundation:
            stacks[name].add_dependency(earlier)
    for source, targets in replication_destinations(config).items():
        for target in targets:
            stacks[environment_stack(source)].add_dependency(stacks[environment_stack(target)])
    return stacks
