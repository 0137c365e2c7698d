"""An environment stack: deployed into one environment account."""

from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from ndap_infra.access.data import dataset_store
from ndap_infra.access.personas import boundaries, persona_roles
from ndap_infra.config.accounts import detection_administrator
from ndap_infra.config.enums import Environment
from ndap_infra.config.model import NdapConfig
from ndap_infra.constructs.access import DatasetBucket, PersonaRoles
from ndap_infra.constructs.baseline import BaselineProps, SecurityBaseline
from ndap_infra.constructs.drift import DriftReader
from ndap_infra.constructs.feature_pipeline import FeaturePublishers
from ndap_infra.constructs.pipelines import PipelineDeployers
from ndap_infra.constructs.platform_pipeline import PlatformRoles
from ndap_infra.constructs.provider import account_provider, provider_target
from ndap_infra.constructs.retraining import FeatureGroups, RetrainingTriggers
from ndap_infra.constructs.storage import BucketProps, KeyProps, ManagedKey, SecureBucket
from ndap_infra.guardrails.access import data_key_policy, store_configuration_denials
from ndap_infra.iam.document import PolicyDocument
from ndap_infra.iam.resource_policies import (
    bucket_arn,
    bucket_policy_tls_only,
    key_policy_ebs_default,
)
from ndap_infra.names.access import account_access_role_arn
from ndap_infra.names.platform import bucket_name, kms_alias, platform_deployers
from ndap_infra.names.tags import platform_tags
from ndap_infra.pipelines.feature_pipeline import feature_publishers
from ndap_infra.pipelines.features import feature_store
from ndap_infra.pipelines.retraining import retraining_triggers
from ndap_infra.pipelines.spec import environment_deployers
from ndap_infra.stacks.security import config_archive


class EnvironmentStack(TerraformStack):
    """One environment account. Every environment gets the same constructs; only the
    configuration (names, ids, data-access rules) differs."""

    def __init__(self, scope: Construct, id_: str, config: NdapConfig, env: Environment) -> None:
        super().__init__(scope, id_)
        org = config.organization
        account_id = config.account_id(env)
        # The data stores' bucket and key policies: only the platform configures them.
        deployers = platform_deployers(config)
        providers = account_provider(
            self,
            region=org.home_region,
            other_regions=org.allowed_regions,
            tags=platform_tags(config, env),
            assume_role_arn=account_access_role_arn(account_id, org.account_access_role),
            target=provider_target(config),
        )
        data_key = ManagedKey(
            self,
            "data-key",
            KeyProps(
                alias=kms_alias(org.name, env, "data"),
                description=f"{org.name} {env.value}: encrypts ML data and artifacts",
                policy=data_key_policy(
                    key_policy_ebs_default(account_id, org.home_region), deployers
                ),
            ),
        )
        data_bucket = bucket_name(org.name, env, "data", account_id)
        SecureBucket(
            self,
            "data-bucket",
            BucketProps(
                name=data_bucket,
                kms_key_arn=data_key.arn,
                policy=PolicyDocument(
                    (
                        *bucket_policy_tls_only(data_bucket).statements,
                        store_configuration_denials(bucket_arn(data_bucket), deployers),
                    )
                ),
            ),
        )
        # The security baseline: configuration, names and ids only, never the environment.
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
        # The access rules of the model: the only part that differs between environments.
        PersonaRoles(self, "personas", persona_roles(config, env), boundaries(config, env))
        store = dataset_store(config, env)
        if store is not None:
            DatasetBucket(self, "data-access", store)
        # The ML projects' pipeline identities here (dev, acc and prd; with a tooling account).
        deployments = environment_deployers(config, env)
        if deployments:
            PipelineDeployers(self, "pipelines", deployments, data_key.arn)
        # What starts retraining here (per project, by its strategy and the environment).
        triggers = retraining_triggers(config, env)
        if triggers:
            RetrainingTriggers(self, "retraining", triggers, data_key.arn)
        # The feature group versions promoted to this environment.
        features = feature_store(config, env)
        if features is not None:
            FeatureGroups(self, "features", features, data_key.arn)
        # The roles the teams' feature pipelines create and backfill their versions as.
        publishers = feature_publishers(config, env)
        if publishers:
            FeaturePublishers(self, "feature-publishers", publishers)
        DriftReader.for_config(self, "drift-reader", config)
        PlatformRoles.for_config(self, "platform-roles", config)
