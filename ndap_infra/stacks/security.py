"""The security accounts' stacks (``organization.security_accounts``): the log archive and
the security tooling (delegated administrator), each in its own account, and the
organization trail in the management account."""

from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from ndap_infra.access.personas import persona_trust
from ndap_infra.config.accounts import member_accounts, security_account_id
from ndap_infra.config.enums import LOG_ARCHIVE, SECURITY_TOOLING, Persona
from ndap_infra.config.model import NdapConfig
from ndap_infra.constructs.baseline import ConfigArchive
from ndap_infra.constructs.drift import DriftReader
from ndap_infra.constructs.platform_pipeline import PlatformRoles
from ndap_infra.constructs.provider import account_provider, other_stack_provider, provider_target
from ndap_infra.constructs.security import (
    ArchiveProps,
    DetectionAdminProps,
    LogArchive,
    OrganizationDetection,
    OrganizationTrail,
)
from ndap_infra.names.access import account_access_role_arn, persona_role_name
from ndap_infra.names.baseline import BaselineNames
from ndap_infra.names.security import ARCHIVE_READER_ALIAS, archive_bucket
from ndap_infra.names.tags import ENVIRONMENT_TAG, platform_tags


def config_archive(config: NdapConfig) -> ConfigArchive | None:
    """Where every account's AWS Config delivers: the log archive, with the security
    accounts; None: each account's own log bucket."""
    if config.security_accounts is None:
        return None
    account = security_account_id(config, LOG_ARCHIVE)
    return ConfigArchive(archive_bucket(config.organization.name, account), account)


class LogArchiveStack(TerraformStack):
    """The log-archive account: the archive every account's evidence goes into."""

    def __init__(self, scope: Construct, id_: str, config: NdapConfig) -> None:
        super().__init__(scope, id_)
        org = config.organization
        security = config.security_accounts
        assert security is not None  # the stack exists only with the security accounts
        account_id = security_account_id(config, LOG_ARCHIVE)
        account_provider(
            self,
            region=org.home_region,
            tags={**platform_tags(config, None), ENVIRONMENT_TAG: LOG_ARCHIVE},
            assume_role_arn=account_access_role_arn(account_id, org.account_access_role),
            target=provider_target(config),
        )
        members = {a.account_id for a in member_accounts(config) if a.account_id is not None}
        LogArchive(
            self,
            "archive",
            ArchiveProps(
                org=org.name,
                account_id=account_id,
                management_account_id=org.management_account_id,
                region=org.home_region,
                member_accounts=tuple(sorted(members)),
                retention_days=security.archive_retention_days,
                auditor_role=persona_role_name(org.name, Persona.SECURITY_AUDITOR),
                auditor_trust=persona_trust(
                    config.identity_account_id,
                    Persona.SECURITY_AUDITOR,
                    config.identity.require_mfa,
                ),
                config_role_name=BaselineNames(org.name, account_id, org.home_region).config_role,
            ),
        )
        # Like every account stack: scheduled drift detection reads it, the platform
        # pipeline plans and applies it.
        DriftReader.for_config(self, "drift-reader", config)
        PlatformRoles.for_config(self, "platform-roles", config)


class SecurityToolingStack(TerraformStack):
    """The security-tooling account: delegated administrator of the organization's
    detection (registered by the organization stack)."""

    def __init__(self, scope: Construct, id_: str, config: NdapConfig) -> None:
        super().__init__(scope, id_)
        org = config.organization
        account_id = security_account_id(config, SECURITY_TOOLING)
        providers = account_provider(
            self,
            region=org.home_region,
            other_regions=org.allowed_regions,
            tags={**platform_tags(config, None), ENVIRONMENT_TAG: SECURITY_TOOLING},
            assume_role_arn=account_access_role_arn(account_id, org.account_access_role),
            target=provider_target(config),
        )
        OrganizationDetection(
            self,
            "detection",
            DetectionAdminProps(
                org=org.name,
                account_id=account_id,
                region=org.home_region,
                allowed_regions=tuple(org.allowed_regions),
                baseline=config.security_baseline,
                other_regions={r: p for r, p in providers.items() if r != org.home_region},
                alarm_email=config.security_baseline.alarm_email,
                parent_ou_id=org.parent_ou_id,
            ),
        )
        DriftReader.for_config(self, "drift-reader", config)
        PlatformRoles.for_config(self, "platform-roles", config)


class OrganizationTrailStack(TerraformStack):
    """The organization trail, in the management account, applied once the archive exists
    (its bucket, and the key whose ARN the stack reads in the log-archive account)."""

    def __init__(self, scope: Construct, id_: str, config: NdapConfig) -> None:
        super().__init__(scope, id_)
        org = config.organization
        account_provider(
            self,
            region=org.home_region,
            tags=platform_tags(config, None),
            target=provider_target(config),
        )
        archive_account = security_account_id(config, LOG_ARCHIVE)
        # The log-archive account, reached as the log-archive stack reaches it: the trail
        # reads the archive key's ARN there (it creates nothing there).
        reader = other_stack_provider(
            self,
            alias=ARCHIVE_READER_ALIAS,
            stack=LOG_ARCHIVE,
            region=org.home_region,
            assume_role_arn=account_access_role_arn(archive_account, org.account_access_role),
            target=provider_target(config),
        )
        OrganizationTrail(
            self,
            "organization-trail",
            org=org.name,
            archive_account_id=archive_account,
            archive_reader=reader,
        )
