"""The organization stack: deployed into the management account."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from ndap_infra.access.onboarding import people
from ndap_infra.access.people import people_policy
from ndap_infra.access.personas import permission_sets
from ndap_infra.config.accounts import (
    has_tooling_account,
    member_accounts,
    pending_named_in,
    security_account_id,
)
from ndap_infra.config.enums import SECURITY_TOOLING, SECURITY_UNIT, TOOLING
from ndap_infra.config.model import NdapConfig
from ndap_infra.constructs.access import IdentityCenterAccess, IdentityCenterPeople
from ndap_infra.constructs.drift import DriftReader
from ndap_infra.constructs.organization import (
    DelegatedAdministrators,
    Guardrails,
    MemberAccounts,
    OrganizationalUnits,
    OrganizationRoot,
)
from ndap_infra.constructs.platform_pipeline import PlatformRoles
from ndap_infra.constructs.provider import account_provider, provider_target
from ndap_infra.names.pipelines import tooling_unit
from ndap_infra.names.platform import organizational_unit, planner_name
from ndap_infra.names.security import security_unit
from ndap_infra.names.tags import platform_tags
from ndap_infra.organization.catalog import check_attachment_quota, guardrail_catalog
from ndap_infra.pipelines.drift import drift_detection_spec
from ndap_infra.pipelines.platform import platform_pipeline_spec
from ndap_infra.resources.aws import IamPolicy


class OrganizationStack(TerraformStack):
    """Organizational units per environment, the member accounts in them, and the
    guardrails attached to them.

    ``stand_ins`` (stand-in id -> account key, ``ndap_infra.config.accounts.phase_one_config``):
    while created accounts' ids are pending, ``config`` carries stand-ins for them and
    everything that names one is left out of this stack (phase 1) and listed in
    ``waiting`` instead; the next synthesis, with the ids recorded, adds it."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: NdapConfig,
        stand_ins: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        stand_ins = dict(stand_ins or {})
        self.waiting: dict[str, list[str]] = {}
        """What phase 1 left out (guardrail, permission set, role), with the pending
        accounts (keys) it names."""

        def ready(what: str, text: str) -> bool:
            needs = pending_named_in(text, stand_ins)
            if needs:
                self.waiting[what] = needs
            return not needs

        org = config.organization
        security = config.security_accounts
        providers = account_provider(
            self,
            region=org.home_region,
            tags=platform_tags(config, None),
            target=provider_target(config),
            # GuardDuty's administrator is registered region by region.
            other_regions=org.allowed_regions if security is not None else (),
        )
        root = OrganizationRoot(self, "root", create=org.create_organization)
        units = OrganizationalUnits(
            self,
            "units",
            # Under the root, or nested under an existing landing zone's unit.
            parent_id=org.parent_ou_id or root.root_id,
            units=organization_units(config),
        )
        accounts = [
            replace(a, account_id=None) if a.account_id in stand_ins else a
            for a in member_accounts(config)
        ]
        members = MemberAccounts(
            self,
            "accounts",
            accounts=accounts,
            unit_ids=units.unit_ids(),
            access_role=org.account_access_role,
        )
        catalog = guardrail_catalog(config)
        common, by_environment = catalog.common, catalog.access
        protecting = catalog.security
        check_attachment_quota(common + by_environment + protecting + catalog.company)
        Guardrails(
            self,
            "guardrails",
            depends_on=root.dependables,
            guardrails=[g for g in common if ready(g.name, g.document.to_json())],
            target_ids=units.unit_ids(),
        )
        Guardrails(
            self,
            "access-guardrails",
            depends_on=root.dependables,
            guardrails=[g for g in by_environment if ready(g.name, g.document.to_json())],
            target_ids=units.unit_ids(),
        )
        if security is not None:
            Guardrails(
                self,
                "security-guardrails",
                depends_on=root.dependables,
                guardrails=[g for g in protecting if ready(g.name, g.document.to_json())],
                target_ids=units.unit_ids(),
            )
            admin = security_account_id(config, SECURITY_TOOLING)
            if ready("delegated administrators", admin):
                DelegatedAdministrators(
                    self,
                    "delegated-administrators",
                    account_id=admin,
                    regional_providers={
                        r: (None if r == org.home_region else p) for r, p in providers.items()
                    },
                    depends_on=[*root.dependables, members.accounts[SECURITY_TOOLING]],
                )
        if catalog.company:
            Guardrails(
                self,
                "company-guardrails",
                depends_on=root.dependables,
                guardrails=[g for g in catalog.company if ready(g.name, g.document.to_json())],
                target_ids=units.unit_ids(),
            )
        center = config.identity.identity_center
        if center is not None:
            IdentityCenterAccess(
                self,
                "identity-center",
                center.instance_arn,
                [s for s in permission_sets(config) if ready(s.name, repr(s))],
            )
            if center.people and center.identity_store_id is not None:
                IdentityCenterPeople(
                    self, "identity-center-people", center.identity_store_id, people(config)
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
        reader = drift_detection_spec(config)
        if reader is not None and ready(
            reader.reader_role, reader.reader_trust().to_json() + reader.reader_guard().to_json()
        ):
            DriftReader(self, "drift-reader", reader)
        platform = platform_pipeline_spec(config)
        if platform is not None and ready(
            planner_name(platform.org),
            platform.planner_trust().to_json() + platform.deployer_trust().to_json(),
        ):
            PlatformRoles(self, "platform-roles", platform)
        for key, unit_id in units.unit_ids().items():
            TerraformOutput(self, f"unit-{key}", value=unit_id)
        # Where `ndap deploy` reads the ids of the accounts this stack created.
        for key, account in members.accounts.items():
            TerraformOutput(self, f"account-{key}", value=account.id)


def organization_units(config: NdapConfig) -> dict[str, str]:
    """One unit per enabled environment, and the delivery account's when configured."""
    org = config.organization.name
    units: dict[str, str] = {
        env.value: organizational_unit(org, env) for env in config.enabled_environments()
    }
    if has_tooling_account(config):
        units[TOOLING] = tooling_unit(org)
    if config.security_accounts is not None:
        units[SECURITY_UNIT] = security_unit(org)
    return units
