"""How production data reaches each environment: buckets, keys, replication. Pure data.

* prd holds the source datasets bucket.
* acc holds a copy, written only by the replication identity (a role in prd).
* dev, in ``replica`` mode (the default), holds a read-only replica written only by the
  same identity: data scientists read it in their own account and need no action on any
  prd resource. In ``cross-account-read`` mode dev holds nothing, and the dev
  data-scientist role reads the named datasets in prd directly, read-only.
* nonprod holds no production data and is denied every copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from ndap_infra.access.personas import shared_read_resources
from ndap_infra.access.sampling import (
    IntegrationSampler,
    integration_sampler,
    logs_key_statement,
)
from ndap_infra.config.enums import DataSharingMode, Environment
from ndap_infra.config.model import NdapConfig
from ndap_infra.guardrails.access import (
    SharedRead,
    key_configuration_denials,
    lower_environment_denials,
    store_configuration_denials,
)
from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement
from ndap_infra.iam.resource_policies import account_root, bucket_arn, bucket_policy_tls_only
from ndap_infra.names.access import (
    data_scientist_names,
    data_scientist_role_arn,
    dataset_bucket_name,
    replication_role_name,
    role_arn,
)
from ndap_infra.names.pipelines import INTEGRATION_SUBSET
from ndap_infra.names.platform import kms_alias, platform_deployers

REPLICA_WRITES = (
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
    "s3:ObjectOwnerOverrideToBucketOwner",
)
POLICY_CHANGES = ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
OBJECT_WRITES = ("s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject")


@dataclass(frozen=True)
class ReplicationTarget:
    environment: Environment
    account_id: str
    bucket: str
    key_alias_arn: str
    extra_prefixes: tuple[str, ...] = ()
    """Prefixes replicated to this target only: dev's ``integration-subset`` (with
    pipelines), the production-data subset the dev pipeline's integration tests read."""


@dataclass(frozen=True)
class DatasetStore:
    """The datasets bucket of one environment and everything around it."""

    environment: Environment
    bucket: str
    key_alias: str
    bucket_policy: PolicyDocument
    key_policy: PolicyDocument
    replication_role: str | None = None
    replication_role_trust: PolicyDocument | None = None
    replication_role_policy: PolicyDocument | None = None
    replication_targets: tuple[ReplicationTarget, ...] = ()
    prefixes: tuple[str, ...] = ()
    sampler: IntegrationSampler | None = None
    """The job that writes ``integration-subset/`` here, where this store is the source
    of a replicated subset (prd, with pipelines and a dev replica)."""


def _shared_read(config: NdapConfig) -> SharedRead | None:
    resources = shared_read_resources(config)
    return SharedRead(data_scientist_role_arn(config), resources) if resources else None


def _lower_accounts(config: NdapConfig) -> list[str]:
    return [
        config.account_id(e)
        for e in (Environment.NONPROD, Environment.DEV)
        if config.environments.get(e).enabled
    ]


def receives_data(config: NdapConfig, env: Environment) -> bool:
    if env is Environment.NONPROD:
        return False
    if env is Environment.DEV:
        return config.data.sharing_mode is DataSharingMode.REPLICA
    return True


def _key_admin(account_id: str) -> Statement:
    return Statement(
        "AccountAdministersKey",
        "Allow",
        principals=(Principal.aws(account_root(account_id)),),
        actions=("kms:*",),
        resources=("*",),
    )


def _deny_accounts(
    account_ids: list[str], actions: tuple[str, ...], resources: tuple[str, ...]
) -> tuple[Statement, ...]:
    """Non-production is denied the dev replica outright (invariant 3)."""
    if not account_ids:
        return ()
    return (
        Statement(
            "DenyNonProduction",
            "Deny",
            principals=(Principal.anyone(),),
            actions=actions,
            resources=resources,
            conditions=(Condition.of("StringEquals", "aws:PrincipalAccount", *account_ids),),
        ),
    )


def _replication_role_arn(config: NdapConfig) -> str:
    return role_arn(
        config.account_id(Environment.PRD), replication_role_name(config.organization.name)
    )


def _replicator(config: NdapConfig) -> tuple[tuple[Principal, ...], tuple[Condition, ...]]:
    """The replication role as a principal of dev's and acc's policies. prd's stack creates
    it while theirs are applied side by side, and AWS refuses a policy naming a role that
    does not exist yet: the principal is prd's account root, and ``aws:PrincipalArn`` names
    the role (docs/design-notes.md#creation-order)."""
    prd = config.account_id(Environment.PRD)
    replicator = _replication_role_arn(config)
    return (
        (Principal.aws(account_root(prd)),),
        (Condition.of("ArnEquals", "aws:PrincipalArn", replicator),),
    )


def _replica_statements(config: NdapConfig, bucket: str) -> tuple[Statement, ...]:
    """A copy is written only by the replication identity; nobody changes its policy but
    the platform's deployment role."""
    arn = bucket_arn(bucket)
    replicator = _replication_role_arn(config)
    principals, only_replicator = _replicator(config)
    deployers = platform_deployers(config)
    return (
        Statement(
            "ReplicationWrites",
            "Allow",
            principals=principals,
            actions=REPLICA_WRITES,
            resources=(f"{arn}/*",),
            conditions=only_replicator,
        ),
        Statement(
            "ReplicationReadsVersioning",
            "Allow",
            principals=principals,
            # Replication never changes the copy's versioning: only the platform configures
            # the store (OnlyThePlatformConfiguresTheStore).
            actions=("s3:GetBucketVersioning", "s3:List*"),
            resources=(arn,),
            conditions=only_replicator,
        ),
        Statement(
            "OnlyReplicationWrites",
            "Deny",
            principals=(Principal.anyone(),),
            actions=OBJECT_WRITES,
            resources=(f"{arn}/*",),
            conditions=(Condition.of("ArnNotEquals", "aws:PrincipalArn", replicator),),
        ),
        Statement(
            "OnlyThePlatformChangesThePolicy",
            "Deny",
            principals=(Principal.anyone(),),
            actions=POLICY_CHANGES,
            resources=(arn,),
            conditions=(Condition.of("ArnNotLike", "aws:PrincipalArn", *deployers),),
        ),
    )


def dataset_store(config: NdapConfig, env: Environment) -> DatasetStore | None:
    """The datasets bucket of ``env``, or None where the environment holds no data."""
    if not receives_data(config, env):
        return None
    org = config.organization.name
    region = config.organization.home_region
    account_id = config.account_id(env)
    bucket = dataset_bucket_name(org, env, account_id)
    arn = bucket_arn(bucket)
    alias = kms_alias(org, env, "datasets")
    shared = _shared_read(config)
    lower = _lower_accounts(config)
    tls = bucket_policy_tls_only(bucket).statements
    if env is Environment.DEV:
        nonprod = [a for a in lower if a != account_id]
        denials = _deny_accounts(nonprod, ("s3:*",), (arn, f"{arn}/*"))
        key_denials = _deny_accounts(nonprod, ("kms:*",), ("*",))
    else:
        protected_shared = shared if env is Environment.PRD else None
        scientists = data_scientist_names(config)
        denials = lower_environment_denials(
            ("s3:*",), (arn, f"{arn}/*"), lower, protected_shared, scientists
        )
        key_denials = lower_environment_denials(
            ("kms:*",), ("*",), lower, protected_shared, scientists
        )
    writes = _replica_statements(config, bucket) if env is not Environment.PRD else ()
    reader: tuple[Statement, ...] = ()
    key_reader: tuple[Statement, ...] = ()
    if env is Environment.PRD and shared is not None:
        # dev's stack creates the reader side by side with prd's: the account root, and
        # aws:PrincipalArn names the role (as for the replicator).
        reader_principals = (Principal.aws(account_root(config.account_id(Environment.DEV))),)
        only_reader = (Condition.of("ArnEquals", "aws:PrincipalArn", shared.reader_role_arn),)
        reader = (
            Statement(
                "DataScientistsReadSharedDatasets",
                "Allow",
                principals=reader_principals,
                actions=("s3:GetObject", "s3:ListBucket"),
                resources=tuple(r for r in shared.resources if r.startswith("arn:aws:s3")),
                conditions=only_reader,
            ),
        )
        key_reader = (
            Statement(
                "DataScientistsDecryptThroughS3",
                "Allow",
                principals=reader_principals,
                actions=("kms:Decrypt",),
                resources=("*",),
                conditions=(
                    *only_reader,
                    Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com"),
                ),
            ),
        )
    key_writer: tuple[Statement, ...] = ()
    if env is not Environment.PRD:
        principals, only_replicator = _replicator(config)
        key_writer = (
            Statement(
                "ReplicationEncrypts",
                "Allow",
                principals=principals,
                actions=("kms:Encrypt", "kms:GenerateDataKey"),
                resources=("*",),
                conditions=only_replicator,
            ),
        )
    deployers = platform_deployers(config)
    store = DatasetStore(
        environment=env,
        bucket=bucket,
        key_alias=alias,
        bucket_policy=PolicyDocument(
            (*tls, *denials, *writes, *reader, store_configuration_denials(arn, deployers))
        ),
        key_policy=PolicyDocument(
            (
                _key_admin(account_id),
                *key_writer,
                *key_reader,
                *key_denials,
                key_configuration_denials(deployers),
            )
        ),
        prefixes=tuple(d.name for d in config.data.datasets),
    )
    if env is Environment.PRD:
        return _with_replication(config, store)
    return store


def _integration_subset(config: NdapConfig) -> tuple[str, ...]:
    """With pipelines, dev's replica also receives ``integration-subset/``: a sample of the
    production datasets that the data owners keep in prd (their sampling job writes it
    there, next to the data it samples), replicated by the same rules as the datasets, so
    dev's replica keeps a single writer and the dev pipeline's integration tests read
    production-like data, read-only."""
    if config.tooling_account_id is None or not config.ml_projects:
        return ()
    return (INTEGRATION_SUBSET,)


def _with_replication(config: NdapConfig, store: DatasetStore) -> DatasetStore:
    org = config.organization.name
    region = config.organization.home_region
    targets = tuple(
        ReplicationTarget(
            env,
            config.account_id(env),
            dataset_bucket_name(org, env, config.account_id(env)),
            f"arn:aws:kms:{region}:{config.account_id(env)}:{kms_alias(org, env, 'datasets')}",
            _integration_subset(config) if env is Environment.DEV else (),
        )
        for env in (Environment.DEV, Environment.ACC)
        if receives_data(config, env)
    )
    source = bucket_arn(store.bucket)
    prd = config.account_id(Environment.PRD)
    policy = PolicyDocument(
        (
            Statement(
                "ReadSource",
                "Allow",
                actions=("s3:GetReplicationConfiguration", "s3:ListBucket"),
                resources=(source,),
            ),
            Statement(
                "ReadSourceVersions",
                "Allow",
                actions=(
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ),
                resources=(f"{source}/*",),
            ),
            Statement(
                "WriteCopies",
                "Allow",
                actions=REPLICA_WRITES,
                resources=tuple(f"{bucket_arn(t.bucket)}/*" for t in targets),
            ),
            Statement(
                "DecryptSource",
                "Allow",
                actions=("kms:Decrypt",),
                resources=(f"arn:aws:kms:{region}:{prd}:key/*",),
                conditions=(
                    Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com"),
                ),
            ),
            Statement(
                "EncryptCopies",
                "Allow",
                actions=("kms:Encrypt", "kms:GenerateDataKey"),
                resources=tuple(f"arn:aws:kms:{region}:{t.account_id}:key/*" for t in targets),
                conditions=(
                    Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com"),
                ),
            ),
        )
    )
    trust = PolicyDocument(
        (
            Statement(
                "S3Replicates",
                "Allow",
                principals=(Principal.service("s3.amazonaws.com"),),
                actions=("sts:AssumeRole",),
                conditions=(Condition.of("StringEquals", "aws:SourceAccount", prd),),
            ),
        )
    )
    sampler = (
        integration_sampler(config, store.bucket, prd, store.prefixes)
        if any(INTEGRATION_SUBSET in t.extra_prefixes for t in targets)
        else None
    )
    key_policy = store.key_policy
    if sampler is not None:
        key_policy = PolicyDocument(
            (*key_policy.statements, logs_key_statement(region, sampler.log_group_arn))
        )
    return DatasetStore(
        environment=store.environment,
        bucket=store.bucket,
        key_alias=store.key_alias,
        bucket_policy=store.bucket_policy,
        key_policy=key_policy,
        replication_role=replication_role_name(org),
        replication_role_trust=trust,
        replication_role_policy=policy,
        replication_targets=targets,
        prefixes=store.prefixes,
        sampler=sampler,
    )


def replication_destinations(config: NdapConfig) -> dict[Environment, tuple[Environment, ...]]:
    """Per environment whose datasets replicate elsewhere, the environments holding the
    destination buckets. AWS refuses a replication configuration naming a bucket that does
    not exist yet ("Destination bucket must exist"), so those stacks apply first."""
    found: dict[Environment, tuple[Environment, ...]] = {}
    for env in config.enabled_environments():
        store = dataset_store(config, env)
        if store is not None and store.replication_targets:
            found[env] = tuple(t.environment for t in store.replication_targets)
    return found
