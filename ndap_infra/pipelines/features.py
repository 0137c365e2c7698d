"""The feature-store path: plain data (no cdktf).

Why and how: docs/design-notes.md, section ndap_infra/pipelines/features.py."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from ndap_infra.config.enums import Environment, FeatureValueType
from ndap_infra.config.model import FeatureUseConfig, MlProjectConfig, NdapConfig
from ndap_infra.iam.document import Condition, PolicyDocument, Statement
from ndap_infra.iam.resource_policies import bucket_arn
from ndap_infra.iam.trust import service_trust
from ndap_infra.names import pipelines as names
from ndap_infra.names.platform import bucket_name, kms_alias
from ndap_infra.pipelines.roles import RoleSpec

PROMOTION_ORDER: tuple[Environment, ...] = (Environment.DEV, Environment.ACC, Environment.PRD)


@dataclass(frozen=True)
class FeatureGroupSpec:
    """One feature group version in one environment."""

    name: str
    group: str
    version: int
    team: str
    record_identifier: str
    event_time: str
    features: tuple[tuple[str, FeatureValueType], ...]
    offline_store_uri: str
    tags: dict[str, str]
    pipeline: str | None = None
    """The team's feature pipeline, which creates this version (None: the environment
    stack creates it)."""

    @property
    def definitions(self) -> tuple[tuple[str, str], ...]:
        """Every feature with its type, record identifier and event time first."""
        return (
            (self.record_identifier, FeatureValueType.STRING.value),
            (self.event_time, FeatureValueType.STRING.value),
            *((name, kind.value) for name, kind in self.features),
        )


@dataclass(frozen=True)
class FeatureStore:
    """The feature groups of one environment, and the role SageMaker writes their offline
    store with."""

    groups: tuple[FeatureGroupSpec, ...]
    role: RoleSpec
    key_alias: str


def reached(promoted_to: Environment, env: Environment) -> bool:
    """Whether a version promoted up to ``promoted_to`` exists in ``env``."""
    if env not in PROMOTION_ORDER or promoted_to not in PROMOTION_ORDER:
        return False
    return PROMOTION_ORDER.index(env) <= PROMOTION_ORDER.index(promoted_to)


def available_versions(config: NdapConfig, env: Environment) -> frozenset[tuple[str, int]]:
    """(group, version) of every feature group version the configuration puts in ``env``."""
    return frozenset(
        (group.name, version.version)
        for group in config.feature_groups
        for version in group.versions
        if reached(version.promoted_to, env)
    )


def feature_store_policy(
    region: str, account_id: str, data_bucket: str, key_alias: str
) -> PolicyDocument:
    """SageMaker writes the offline store below ``feature-store/`` of the data bucket, with
    the environment's data key, and nothing else."""
    data = bucket_arn(data_bucket)
    return PolicyDocument(
        (
            Statement(
                "WriteTheOfflineStore",
                "Allow",
                # What AmazonSageMakerFeatureStoreAccess documents: the offline store sets
                # each object's ACL (bucket-owner-full-control) as it writes it.
                actions=("s3:GetObject", "s3:PutObject", "s3:PutObjectAcl"),
                resources=(f"{data}/{names.FEATURE_STORE_PREFIX}/*",),
            ),
            Statement(
                "CheckTheOfflineStoreBucket",
                "Allow",
                actions=("s3:GetBucketAcl",),
                resources=(data,),
            ),
            Statement(
                "EncryptWithTheDataKey",
                "Allow",
                actions=("kms:Decrypt", "kms:GenerateDataKey"),
                resources=(f"arn:aws:kms:{region}:{account_id}:key/*",),
                conditions=(
                    Condition.of("ForAnyValue:StringEquals", "kms:ResourceAliases", key_alias),
                    Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com"),
                ),
            ),
        )
    )


def feature_store(config: NdapConfig, env: Environment) -> FeatureStore | None:
    """The feature groups in ``env`` (None when no version has reached it)."""
    org = config.organization.name
    groups: list[FeatureGroupSpec] = []
    if env not in PROMOTION_ORDER:
        return None
    account = config.account_id(env)
    data_bucket = bucket_name(org, env, "data", account)
    pipelines = (
        {p.team: p.name for p in config.feature_pipelines}
        if config.tooling_account_id is not None
        else {}
    )
    for group in config.feature_groups:
        for version in group.versions:
            if not reached(version.promoted_to, env):
                continue
            name = names.feature_group_name(group.name, version.version)
            groups.append(
                FeatureGroupSpec(
                    name=name,
                    group=group.name,
                    version=version.version,
                    team=group.team,
                    record_identifier=group.record_identifier,
                    event_time=group.event_time,
                    features=tuple(version.features.items()),
                    offline_store_uri=f"s3://{data_bucket}/{names.FEATURE_STORE_PREFIX}",
                    tags={
                        names.FEATURE_GROUP_TAG: group.name,
                        names.FEATURE_VERSION_TAG: str(version.version),
                        "ndap:team": group.team,
                    },
                    pipeline=pipelines.get(group.team),
                )
            )
    if not groups:
        return None
    region = config.organization.home_region
    key_alias = kms_alias(org, env, "data")
    role = RoleSpec(
        name=names.feature_store_role_name(org),
        trust=service_trust("sagemaker.amazonaws.com", account),
        policy=feature_store_policy(region, account, data_bucket, key_alias),
        tags={},
        description=f"{env.value}: SageMaker Feature Store writes the offline store with it",
    )
    return FeatureStore(tuple(groups), role, key_alias)


def needed_feature_groups(project: MlProjectConfig) -> tuple[str, ...]:
    """Names of the feature group versions a project needs, in the order declared."""
    return tuple(names.feature_group_name(u.group, u.version) for u in project.uses_features)


def promotion_refusal(
    project: str,
    env: Environment,
    needed: Iterable[FeatureUseConfig],
    available: Collection[tuple[str, int]],
) -> str | None:
    """Why promoting ``project`` to ``env`` is refused (None: every feature version it
    needs is there)."""
    missing = [
        names.feature_group_name(use.group, use.version)
        for use in needed
        if (use.group, use.version) not in available
    ]
    if not missing:
        return None
    return (
        f"refusing to promote {project} to {env.value}: it needs feature group version(s) "
        f"{', '.join(missing)}, not yet promoted to {env.value}; promote the feature "
        f"definitions first (feature_groups[].versions[].promoted_to: {env.value}), then "
        "release the model again"
    )
