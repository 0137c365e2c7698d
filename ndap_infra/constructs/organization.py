"""The organization's structure: units per environment and the guardrails attached."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import Fn, ITerraformDependable, TerraformProvider, TerraformResourceLifecycle, Token
from constructs import Construct

from ndap_infra.config.accounts import MemberAccount
from ndap_infra.names.tags import ENVIRONMENT_TAG
from ndap_infra.organization.catalog import GuardrailSpec
from ndap_infra.resources.aws import (
    DataAwsOrganizationsOrganization,
    GuarddutyOrganizationAdminAccount,
    OrganizationsAccount,
    OrganizationsDelegatedAdministrator,
    OrganizationsOrganization,
    OrganizationsOrganizationalUnit,
    OrganizationsPolicy,
    OrganizationsPolicyAttachment,
    SecurityhubOrganizationAdminAccount,
)

SERVICE_ACCESS_PRINCIPALS = (
    "cloudtrail.amazonaws.com",
    "config.amazonaws.com",
    "guardduty.amazonaws.com",
    "securityhub.amazonaws.com",
    "access-analyzer.amazonaws.com",
    "sso.amazonaws.com",
)
POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")
# What of an adopted organization the platform never changes: which services have trusted
# access belongs to its owners (and the feature set is read only).
ADOPTED_ORGANIZATION_FIXED = ("aws_service_access_principals", "feature_set")


class OrganizationRoot(Construct):
    """The organization's root: created (new organizations, the local emulator) or
    looked up (an existing organization, whose policy types are then enabled: imported)."""

    def __init__(self, scope: Construct, id_: str, *, create: bool) -> None:
        super().__init__(scope, id_)
        # What must exist before organization policies can be created: the organization
        # itself with its policy types enabled.
        self.dependables: list[ITerraformDependable] = []
        if create:
            org = OrganizationsOrganization(
                self,
                "organization",
                feature_set="ALL",
                aws_service_access_principals=SERVICE_ACCESS_PRINCIPALS,
                enabled_policy_types=POLICY_TYPES,
            )
            self.root_id = org.get_string_attribute("roots.0.id")
            self.dependables.append(org)
        else:
            existing = DataAwsOrganizationsOrganization(self, "organization")
            self.root_id = existing.get_string_attribute("roots.0.id")
            # An adopted organization often has RCPs (or SCPs) off, and attaching a policy
            # of a type not enabled on the root fails (PolicyTypeNotEnabledException). The
            # organization is imported so its policy types are managed: the ones the
            # guardrails use are added to what is enabled already (never removed), and
            # nothing else of it changes (service access and features stay its owners').
            adopted = OrganizationsOrganization(
                self,
                "policy-types",
                feature_set="ALL",
                enabled_policy_types=Token.as_list(
                    Fn.setunion(existing.enabled_policy_types, [list(POLICY_TYPES)])
                ),
                lifecycle=TerraformResourceLifecycle(
                    prevent_destroy=True, ignore_changes=list(ADOPTED_ORGANIZATION_FIXED)
                ),
            )
            adopted.import_from(existing.id)
            self.dependables.append(adopted)


class OrganizationalUnits(Construct):
    """One organizational unit per environment (and one for the delivery account), under
    ``parent_id``: the root, or an existing unit (``organization.parent_ou_id``: nested in
    a landing zone). Units are keyed by environment name or ``"tooling"``."""

    def __init__(
        self, scope: Construct, id_: str, *, parent_id: str, units: Mapping[str, str]
    ) -> None:
        super().__init__(scope, id_)
        self.units = {
            str(key): OrganizationsOrganizationalUnit(
                self, str(key), name=name, parent_id=parent_id
            )
            for key, name in units.items()
        }

    def unit_ids(self) -> dict[str, str]:
        return {key: unit.id for key, unit in self.units.items()}


# What an adopted account's resource must never change or read back differently: the
# account's name and e-mail belong to its owners (and are replace-on-change in the
# provider), role_name and billing access exist only at creation.
ADOPTED_ACCOUNT_FIXED = ("name", "email", "role_name", "iam_user_access_to_billing")
# What a created account's resource ignores afterwards, as the provider's documentation
# recommends: both are used at creation only and never read back from AWS.
CREATED_ACCOUNT_FIXED = ("role_name", "iam_user_access_to_billing")


class MemberAccounts(Construct):
    """Member accounts in their units, so the guardrails attached to a unit cover the
    account its stack deploys into. An adopted account (configured id) is imported by id
    (Terraform ``import``) and only its ``parent_id`` is managed. A created account (no id
    yet) is created here, with the access role the account stacks' providers assume and no
    billing access for IAM users; once its id is recorded in the configuration it is
    adopted at the same address, so the import is a no-op. Deletion-protected both ways,
    and never closed: destroying the resource would take the account out of the
    organization."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        accounts: Sequence[MemberAccount],
        unit_ids: Mapping[str, str],
        access_role: str,
    ) -> None:
        super().__init__(scope, id_)
        self.accounts: dict[str, OrganizationsAccount] = {}
        for account in accounts:
            # The stack's default tags say "organization"; an account belongs to its own
            # environment (or tooling).
            account_tags = {ENVIRONMENT_TAG: account.key}
            if account.account_id is None:
                resource = OrganizationsAccount(
                    self,
                    account.key,
                    name=account.name,
                    email=account.email,
                    parent_id=unit_ids[account.unit],
                    tags=account_tags,
                    role_name=access_role,
                    iam_user_access_to_billing="DENY",
                    close_on_deletion=False,
                    lifecycle=TerraformResourceLifecycle(
                        prevent_destroy=True, ignore_changes=list(CREATED_ACCOUNT_FIXED)
                    ),
                )
            else:
                resource = OrganizationsAccount(
                    self,
                    account.key,
                    name=account.name,
                    email=account.email,
                    parent_id=unit_ids[account.unit],
                    tags=account_tags,
                    close_on_deletion=False,
                    lifecycle=TerraformResourceLifecycle(
                        prevent_destroy=True, ignore_changes=list(ADOPTED_ACCOUNT_FIXED)
                    ),
                )
                resource.import_from(account.account_id)
            self.accounts[account.key] = resource


class Guardrails(Construct):
    """Organization policies and their attachments. Each policy is created once and
    attached to every target unit: the same document everywhere, by construction."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        guardrails: Sequence[GuardrailSpec],
        target_ids: Mapping[str, str],
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, id_)
        for guardrail in guardrails:
            # A policy's content does not refer to the organization, so without depends_on
            # Terraform creates it while the organization (and its policy types) is still
            # being created: AWSOrganizationsNotInUse / PolicyTypeNotEnabled.
            policy = OrganizationsPolicy(
                self,
                guardrail.name,
                depends_on=list(depends_on) or None,
                name=guardrail.name,
                description=guardrail.description,
                type=guardrail.policy_type,
                content=guardrail.document.to_terraform_json(),
            )
            for target in guardrail.environments:
                OrganizationsPolicyAttachment(
                    self,
                    f"{guardrail.name}-{target}",
                    policy_id=policy.id,
                    target_id=target_ids[str(target)],
                )


DELEGATED_SERVICES = ("access-analyzer.amazonaws.com", "config.amazonaws.com")
"""Services administered from the security-tooling account through Organizations; GuardDuty
and Security Hub register their administrator through their own APIs (below)."""


class DelegatedAdministrators(Construct):
    """The security-tooling account as delegated administrator: of IAM Access Analyzer and
    AWS Config (Organizations), of GuardDuty (in every allowed region) and of Security Hub
    (the home region: central configuration reaches the others)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        account_id: str,
        regional_providers: Mapping[str, TerraformProvider | None],
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, id_)
        needs = list(depends_on) or None
        for service in DELEGATED_SERVICES:
            OrganizationsDelegatedAdministrator(
                self,
                service.split(".")[0],
                account_id=account_id,
                service_principal=service,
                depends_on=needs,
            )
        for region, provider in regional_providers.items():
            GuarddutyOrganizationAdminAccount(
                self,
                f"guardduty-{region}",
                admin_account_id=account_id,
                provider=provider,
                depends_on=needs,
            )
        SecurityhubOrganizationAdminAccount(
            self, "securityhub", admin_account_id=account_id, depends_on=needs
        )
