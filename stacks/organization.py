"""The organization stack: deployed into the management account."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from ndap_infra.access.people import people_policy
from ndap_infra.access.personas import permission_sets
from ndap_infra.accounts import adopted_accounts
from ndap_infra.config.model import NdapConfig
from ndap_infra.constructs.access import IdentityCenterAccess
from ndap_infra.constructs.drift import DriftReader
from ndap_infra.constructs.organization import (
    AdoptedAccounts,
    Guardrails,
    OrganizationalUnits,
    OrganizationRoot,
)
from ndap_infra.constructs.platform_pipeline import PlatformRoles
from ndap_infra.constructs.provider import account_provider, provider_target
from ndap_infra.guardrails.catalog import (
    access_guardrails,
    check_attachment_quota,
    organization_guardrails,
)
from ndap_infra.naming import organizational_unit
from ndap_infra.pipelines.names import TOOLING, tooling_unit
from ndap_infra.resources.aws import IamPolicy
from ndap_infra.tags import platform_tags


class OrganizationStack(TerraformStack):
    """Organizational units per environment and the guardrails attached to them."""

    def __init__(self, scope: Construct, id_: str, config: NdapConfig) -> None:
        super().__init__(scope, id_)
        org = config.organization
        account_provider(
            self,
            region=org.home_region,
            tags=platform_tags(config, None),
            target=provider_target(config),
        )
        root = OrganizationRoot(self, "root", create=org.create_organization)
        units = OrganizationalUnits(
            self,
            "units",
            root_id=root.root_id,
            units=organization_units(config),
        )
        AdoptedAccounts(
            self,
            "accounts",
            accounts=adopted_accounts(config),
            unit_ids=units.unit_ids(),
        )
        common, by_environment = organization_guardrails(config), access_guardrails(config)
        check_attachment_quota(common + by_environment)
        Guardrails(
            self,
            "guardrails",
            depends_on=root.dependables,
            guardrails=common,
            target_ids=units.unit_ids(),
        )
        Guardrails(
            self,
            "access-guardrails",
            depends_on=root.dependables,
            guardrails=by_environment,
            target_ids=units.unit_ids(),
        )
        center = config.identity.identity_center
        if center is not None:
            IdentityCenterAccess(
                self, "identity-center", center.instance_arn, permission_sets(config)
            )
        if config.identity_account_id == org.management_account_id:
            # People sign in here: they may assume their own persona's roles, nothing else.
            IamPolicy(
                self,
                "people-policy",
                name=f"{org.name}-people-assume-persona-roles",
                description="Attach to the groups of people; each person carries ndap:persona",
                policy=people_policy(org.name, org.account_access_role).to_terraform_json(),
            )
        DriftReader.for_config(self, "drift-reader", config)
        PlatformRoles.for_config(self, "platform-roles", config)
        for key, unit_id in units.unit_ids().items():
            TerraformOutput(self, f"unit-{key}", value=unit_id)


def organization_units(config: NdapConfig) -> dict[str, str]:
    """One unit per enabled environment, and the delivery account's when configured."""
    org = config.organization.name
    units: dict[str, str] = {
        env.value: organizational_unit(org, env) for env in config.enabled_environments()
    }
    if config.tooling_account_id is not None:
        units[TOOLING] = tooling_unit(org)
    return units
