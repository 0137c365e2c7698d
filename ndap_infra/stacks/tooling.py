"""The tooling stack: deployed into the delivery account (the ML projects' pipelines)."""

from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from ndap_infra.config.accounts import detection_administrator
from ndap_infra.config.enums import TOOLING, GitHost
from ndap_infra.config.model import NdapConfig
from ndap_infra.constructs.baseline import BaselineProps, SecurityBaseline
from ndap_infra.constructs.drift import DriftReader, ScheduledDriftDetection
from ndap_infra.constructs.feature_pipeline import FeaturePipelineResources
from ndap_infra.constructs.pipelines import ToolingPeople, ToolingPipelines
from ndap_infra.constructs.platform_pipeline import PlatformPipeline, PlatformRoles
from ndap_infra.constructs.provider import account_provider, provider_target
from ndap_infra.constructs.storage import KeyProps, ManagedKey
from ndap_infra.guardrails.access import data_key_policy
from ndap_infra.iam.resource_policies import key_policy_ebs_default
from ndap_infra.names.access import account_access_role_arn
from ndap_infra.names.platform import platform_deployers
from ndap_infra.names.tags import platform_tags
from ndap_infra.pipelines.feature_pipeline import feature_pipelines
from ndap_infra.pipelines.spec import ToolingSpec
from ndap_infra.stacks.security import config_archive


class ToolingStack(TerraformStack):
    """The delivery account: the same security baseline as every environment account (and
    the same data key, which encrypts EBS volumes by default), the people who follow the
    pipelines, and the pipelines themselves."""

    def __init__(self, scope: Construct, id_: str, config: NdapConfig, spec: ToolingSpec) -> None:
        super().__init__(scope, id_)
        org = config.organization
        account_id = spec.account_id
        providers = account_provider(
            self,
            region=org.home_region,
            other_regions=org.allowed_regions,
            tags={**platform_tags(config, None), "ndap:environment": TOOLING},
            assume_role_arn=account_access_role_arn(account_id, org.account_access_role),
            target=provider_target(config),
        )
        data_key = ManagedKey(
            self,
            "data-key",
            KeyProps(
                alias=f"alias/{org.name}/{TOOLING}/data",
                description=f"{org.name} {TOOLING}: encrypts ML data and artifacts",
                policy=data_key_policy(
                    key_policy_ebs_default(account_id, org.home_region),
                    platform_deployers(config),
                ),
            ),
        )
        # The security baseline: configuration, names and ids only, as in every environment.
        self.baseline = SecurityBaseline(
            self,
            "baseline",
            BaselineProps(
                org=org.name,
                account_id=account_id,
                region=org.home_region,
                config=config.security_baseline,
                ebs_kms_key_arn=data_key.arn,
                other_regions={r: p for r, p in providers.items() if r != org.home_region},
                config_archive=config_archive(config),
                detection_administrator=detection_administrator(config),
            ),
        )
        ToolingPeople(self, "personas", spec.people)
        pipelines = ToolingPipelines(self, "pipelines", spec)
        teams = feature_pipelines(config)
        if teams:
            FeaturePipelineResources(self, "feature-pipelines", teams, pipelines)
        DriftReader.for_config(self, "drift-reader", config)
        topic = self.baseline.alarm_topic_arn
        github = pipelines.connections.get(GitHost.GITHUB)
        ScheduledDriftDetection.for_config(
            self, "drift-detection", config, topic, github.arn if github else None
        )
        PlatformPipeline.for_config(self, "platform-pipeline", config, pipelines)
        PlatformRoles.for_config(self, "platform-roles", config)
