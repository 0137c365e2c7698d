# ruff: noqa: E501  (the build scripts keep one command per line, as they run)
"""The feature pipelines: each team's feature group versions created and backfilled along
the git flow, as plain data (no cdktf).

Why and how: docs/pipelines.md, section "The feature-store pipeline"."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ndap_infra.config.enums import Environment, GitHost
from ndap_infra.config.model import FeaturePipelineConfig, NdapConfig
from ndap_infra.iam.document import Condition, PolicyDocument, Statement
from ndap_infra.iam.resource_policies import bucket_arn
from ndap_infra.iam.trust import service_trust
from ndap_infra.names import features as feature_names
from ndap_infra.names import pipelines as names
from ndap_infra.names.platform import bucket_name, kms_alias
from ndap_infra.pipelines import policies
from ndap_infra.pipelines.buildspecs import DEPLOYER_PROFILE, VERIFY_RELEASE
from ndap_infra.pipelines.features import FeatureGroupSpec, feature_store
from ndap_infra.pipelines.roles import RoleSpec
from ndap_infra.pipelines.spec import BuildStep, StageSpec
from ndap_infra.scripts.buildspec import literal, render, script

PYTHON_RUNTIME = "3.11"
PUBLISHER_ACTIONS = (
    "sagemaker:AddTags",
    "sagemaker:CreateFeatureGroup",
    "sagemaker:DescribeFeatureGroup",
)
BACKFILL_ACTIONS = ("sagemaker:PutRecord",)


@dataclass(frozen=True)
class FeaturePipelines:
    """One team's three pipelines (``<team>-features-dev``, ``-acc``, ``-prd``)."""

    name: str
    team: str
    repository: str
    git_host: GitHost
    stages: tuple[StageSpec, ...]


@dataclass(frozen=True)
class FeaturePublisher:
    """The role a team's feature build acts as in one environment."""

    pipeline: str
    team: str
    role: RoleSpec
    groups: tuple[str, ...]


def team_groups(config: NdapConfig, team: str, env: Environment) -> tuple[FeatureGroupSpec, ...]:
    """The team's feature group versions the configuration puts in ``env``."""
    store = feature_store(config, env)
    return tuple(g for g in store.groups if g.team == team) if store is not None else ()


def pipeline_teams(config: NdapConfig) -> frozenset[str]:
    """Teams whose feature groups a pipeline creates (the environment stacks do not),
    only with a tooling account, where pipelines exist."""
    if config.tooling_account_id is None:
        return frozenset()
    return frozenset(p.team for p in config.feature_pipelines)


def _group_arn(region: str, account: str, group: str) -> str:
    # SageMaker names feature group ARNs in lower case.
    return f"arn:aws:sagemaker:{region}:{account}:feature-group/{group.lower()}"


def publisher_policy(
    *,
    region: str,
    account_id: str,
    groups: tuple[FeatureGroupSpec, ...],
    data_bucket: str,
    data_key_alias: str,
    offline_store_role_arn: str,
) -> PolicyDocument:
    """Create, describe, tag and backfill exactly the team's versions configured here; hand
    SageMaker the offline-store role; read their sources in the data bucket, decrypted with
    the data key through S3. Nothing else (no model, endpoint, pipeline, other group)."""
    if not groups:
        # No version of the team's has reached this environment: nothing to create.
        return PolicyDocument(
            (Statement("NothingIsConfiguredHere", "Deny", actions=("*",), resources=("*",)),)
        )
    arns = tuple(_group_arn(region, account_id, g.name) for g in groups)
    data = bucket_arn(data_bucket)
    sources = tuple(feature_names.feature_sources(g.group, g.version) for g in groups)
    return PolicyDocument(
        (
            Statement(
                "CreateTheTeamsFeatureGroupVersionsHere",
                "Allow",
                actions=PUBLISHER_ACTIONS,
                resources=arns,
            ),
            Statement("BackfillThem", "Allow", actions=BACKFILL_ACTIONS, resources=arns),
            Statement(
                "HandSageMakerTheOfflineStoreRole",
                "Allow",
                actions=("iam:PassRole",),
                resources=(offline_store_role_arn,),
                conditions=(
                    Condition.of("StringEquals", "iam:PassedToService", "sagemaker.amazonaws.com"),
                ),
            ),
            Statement(
                "ReadTheBackfillSources",
                "Allow",
                actions=policies.S3_READ,
                resources=tuple(f"{data}/{s}/*" for s in sources),
            ),
            Statement(
                "ListTheBackfillSources",
                "Allow",
                actions=("s3:ListBucket",),
                resources=(data,),
                conditions=(Condition.of("StringLike", "s3:prefix", *(f"{s}/*" for s in sources)),),
            ),
            Statement(
                "DecryptTheSourcesThroughS3",
                "Allow",
                actions=("kms:Decrypt",),
                resources=(f"arn:aws:kms:{region}:{account_id}:key/*",),
                conditions=(
                    Condition.of("ForAnyValue:StringEquals", "kms:ResourceAliases", data_key_alias),
                    Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com"),
                ),
            ),
            Statement(
                "NameTheDataKeyForTheOfflineStore",
                "Allow",
                actions=("kms:DescribeKey",),
                resources=(f"arn:aws:kms:{region}:{account_id}:key/*",),
                conditions=(
                    Condition.of("ForAnyValue:StringEquals", "kms:ResourceAliases", data_key_alias),
                ),
            ),
        )
    )


def feature_build_policy(
    *,
    publisher_arn: str,
    pipeline_objects: str,
    key_arn: str,
    connection_arn: str,
    repository: str,
    log_group_arn: str,
) -> PolicyDocument:
    """A feature build (it runs the platform's script on the team's repository): its
    pipeline's source artifact, the team repository's connection, its own log group, and
    one role to assume: the team's publisher in its environment."""
    return PolicyDocument(
        (
            Statement(
                "AssumeOnlyTheTeamsPublisherHere",
                "Allow",
                actions=("sts:AssumeRole",),
                resources=(publisher_arn,),
            ),
            Statement(
                "AssumeNoOtherRole",
                "Deny",
                actions=policies.ASSUME_ACTIONS,
                not_resources=(publisher_arn,),
            ),
            Statement(
                "PipelineArtifacts", "Allow", actions=policies.S3_READ,
                resources=(pipeline_objects,),
            ),
            policies.artifact_key_use(key_arn),
            *policies.connection_use(connection_arn, repository),
            policies.build_log_writes(log_group_arn),
        )
    )  # fmt: skip


# -- the buildspec --------------------------------------------------------------------------

PUBLISHER_PROFILE = tuple(
    line.replace("profile.deployer", "profile.publisher")
    .replace("$DEPLOYER_ROLE_ARN", "$PUBLISHER_ROLE_ARN")
    .replace("ndap-$PROJECT", "ndap-$PIPELINE")
    for line in DEPLOYER_PROFILE
)

BACKFILL = """\
ndap_backfill() {
  # $1: the feature group, $2: the prefix of its records in this environment's data bucket
  listed="$(aws --profile publisher s3api list-objects-v2 --bucket "$DATA_BUCKET" --prefix "$2/" --query 'Contents[].Key' --output text)" || ndap_fail "backfill $1: cannot list s3://$DATA_BUCKET/$2/"
  keys="$(tr '\\t' '\\n' <<< "$listed" | grep '\\.jsonl$' || true)"
  if [ -z "$keys" ]; then
    echo "ndap: backfill $1: no records under s3://$DATA_BUCKET/$2/ (*.jsonl): $1 is created empty"
    return 0
  fi
  count=0
  for key in $keys; do
    aws --profile publisher s3 cp --quiet "s3://$DATA_BUCKET/$key" .ndap/records.jsonl || ndap_fail "backfill $1: cannot read s3://$DATA_BUCKET/$key"
    while IFS= read -r line || [ -n "$line" ]; do
      [ -n "$line" ] || continue
      record="$(jq -c 'to_entries | map({FeatureName: .key, ValueAsString: (.value | tostring)})' <<< "$line")" || ndap_fail "backfill $1: s3://$DATA_BUCKET/$key has a line that is not a JSON object"
      aws --profile publisher sagemaker-featurestore-runtime put-record --feature-group-name "$1" --record "$record" --target-stores OfflineStore > /dev/null \\
        || ndap_fail "backfill $1 stopped at record $((count + 1)) ($key): the group exists but is not completely backfilled; delete it and run the pipeline again"
      count=$((count + 1))
    done < .ndap/records.jsonl
  done
  echo "ndap: backfilled $count records into $1 from s3://$DATA_BUCKET/$2/"
}
"""

PUBLISH = """\
mkdir -p .ndap
echo "ndap: feature pipeline $PIPELINE, $TARGET_ENVIRONMENT, commit $(git rev-parse HEAD): $(jq length <<< "$NDAP_FEATURE_GROUPS") feature group version(s) configured here"
KEY_ARN="$(aws --profile publisher kms describe-key --key-id "$DATA_KEY_ALIAS" --query KeyMetadata.Arn --output text)" || ndap_fail "cannot name the data key $DATA_KEY_ALIAS for the offline store"
OFFLINE_STORE="$(jq -cn --arg uri "$OFFLINE_STORE_URI" --arg key "$KEY_ARN" '{S3StorageConfig: {S3Uri: $uri, KmsKeyId: $key}, DisableGlueTableCreation: true}')"
while IFS= read -r group; do
  name="$(jq -r .name <<< "$group")"
  status="$(aws --profile publisher sagemaker describe-feature-group --feature-group-name "$name" --query FeatureGroupStatus --output text 2> /dev/null || true)"
  if [ -n "$status" ]; then
    [ "$status" = Created ] || ndap_fail "feature group $name is $status in $TARGET_ENVIRONMENT, not Created: look at it in SageMaker, then run the pipeline again"
    echo "ndap: feature group $name is in $TARGET_ENVIRONMENT already (Created): not created or backfilled again"
    continue
  fi
  aws --profile publisher sagemaker create-feature-group --feature-group-name "$name" \\
    --description "$(jq -r .description <<< "$group")" \\
    --record-identifier-feature-name "$(jq -r .record_identifier <<< "$group")" \\
    --event-time-feature-name "$(jq -r .event_time <<< "$group")" \\
    --feature-definitions "$(jq -c .definitions <<< "$group")" \\
    --offline-store-config "$OFFLINE_STORE" --role-arn "$OFFLINE_STORE_ROLE_ARN" \\
    --tags "$(jq -c .tags <<< "$group")" > /dev/null || ndap_fail "cannot create feature group $name in $TARGET_ENVIRONMENT"
  for attempt in $(seq 1 60); do
    status="$(aws --profile publisher sagemaker describe-feature-group --feature-group-name "$name" --query FeatureGroupStatus --output text)" || ndap_fail "cannot describe feature group $name"
    [ "$status" = Creating ] || break
    sleep 10
  done
  [ "$status" = Created ] || ndap_fail "feature group $name is $status in $TARGET_ENVIRONMENT after creation, not Created"
  echo "ndap: created feature group $name in $TARGET_ENVIRONMENT (offline store $OFFLINE_STORE_URI)"
  ndap_backfill "$name" "$(jq -r .sources <<< "$group")"
done < <(jq -c '.[]' <<< "$NDAP_FEATURE_GROUPS")
echo "ndap: $TARGET_ENVIRONMENT has every feature group version configured for it"
"""


def groups_document(groups: tuple[FeatureGroupSpec, ...]) -> str:
    """What the publish step creates: each version's definition, as the configuration
    says (compact JSON, one buildspec variable)."""
    return json.dumps(
        [
            {
                "name": g.name,
                "description": f"{g.group} version {g.version} (team {g.team})",
                "record_identifier": g.record_identifier,
                "event_time": g.event_time,
                "definitions": [
                    {"FeatureName": n, "FeatureType": t} for n, t in g.definitions
                ],
                "tags": [{"Key": k, "Value": v} for k, v in sorted(g.tags.items())],
                "sources": feature_names.feature_sources(g.group, g.version),
            }
            for g in groups
        ],
        separators=(",", ":"),
    )  # fmt: skip


def publish_buildspec(
    variables: dict[str, str], groups: tuple[FeatureGroupSpec, ...], verify: bool
) -> str:
    """The publish step: (acc, prd: the tag is a release on its branch), then create every
    configured version missing here and backfill it."""
    snippets = [VERIFY_RELEASE] if verify else []
    snippets += [BACKFILL, PUBLISH]
    return render(
        {
            "version": 0.2,
            "env": {
                "shell": "bash",
                "variables": {**variables, "NDAP_FEATURE_GROUPS": groups_document(groups)},
            },
            "phases": {
                "install": {
                    "runtime-versions": {"python": PYTHON_RUNTIME},
                    "commands": list(PUBLISHER_PROFILE),
                },
                "build": {"commands": [literal(script(*snippets))]},
            },
        }
    )


def verify_buildspec(variables: dict[str, str]) -> str:
    """prd, before the approval: the tag is a release on main (no role assumed)."""
    return render(
        {
            "version": 0.2,
            "env": {"shell": "bash", "variables": variables},
            "phases": {"build": {"commands": [literal(script(VERIFY_RELEASE))]}},
        }
    )


# -- the specs ------------------------------------------------------------------------------


def _stage(config: NdapConfig, item: FeaturePipelineConfig, env: Environment) -> StageSpec:
    org = config.organization.name
    region = config.organization.home_region
    tooling = config.tooling_account_id
    assert tooling is not None
    account = config.account_id(env)
    flow = item.pipeline
    pipeline = names.pipeline_name(item.name, env)
    publisher = feature_names.publisher_role_arn(org, item.name, account)
    required = {Environment.ACC: flow.develop_branch, Environment.PRD: flow.main_branch}.get(env)
    variables = {
        "PIPELINE": item.name,
        "TARGET_ENVIRONMENT": env.value,
        "PUBLISHER_ROLE_ARN": publisher,
        "DATA_BUCKET": bucket_name(org, env, "data", account),
        "DATA_KEY_ALIAS": kms_alias(org, env, "data"),
        "OFFLINE_STORE_URI": (
            f"s3://{bucket_name(org, env, 'data', account)}/{names.FEATURE_STORE_PREFIX}"
        ),
        "OFFLINE_STORE_ROLE_ARN": (
            f"arn:aws:iam::{account}:role{names.PIPELINE_PATH}{names.feature_store_role_name(org)}"
        ),
        "RELEASE_TAG_PATTERN": flow.release_tag_pattern,
    }
    if required is not None:
        variables["REQUIRED_BRANCH"] = required
    groups = team_groups(config, item.team, env)
    publish = BuildStep(
        "Publish",
        feature_names.PUBLISH,
        feature_names.publish_project(item.name, env),
        publish_buildspec(variables, groups, verify=required is not None),
        f"{item.team}: create and backfill the feature group versions configured for {env.value}",
    )
    before: tuple[BuildStep, ...] = (publish,)
    after: tuple[BuildStep, ...] = ()
    if env is Environment.PRD:
        verify_variables = {
            k: v
            for k, v in variables.items()
            if k in ("PIPELINE", "TARGET_ENVIRONMENT", "RELEASE_TAG_PATTERN", "REQUIRED_BRANCH")
        }
        before = (
            BuildStep(
                "VerifyRelease",
                feature_names.VERIFY,
                names.codebuild_project(item.name, feature_names.VERIFY, env),
                verify_buildspec(verify_variables),
                f"{item.team}: the tag is a feature release on {flow.main_branch}",
            ),
        )
        after = (publish,)
    projects = tuple(
        f"arn:aws:codebuild:{region}:{tooling}:project/{b.project}" for b in (*before, *after)
    )
    bucket = names.artifact_bucket(org, tooling)
    return StageSpec(
        environment=env,
        pipeline=pipeline,
        pipeline_role=names.pipeline_role_name(org, item.name, env),
        build_role=feature_names.feature_build_role_name(org, item.name, env),
        build_role_trust=service_trust("codebuild.amazonaws.com", tooling, projects),
        deployer_arn=publisher,
        branches=(flow.develop_branch,) if env is Environment.DEV else (),
        tags=() if env is Environment.DEV else (flow.release_tag_pattern,),
        source_branch=flow.main_branch if env is Environment.PRD else flow.develop_branch,
        before_approval=before,
        approval=env is Environment.PRD,
        after_approval=after,
        # A feature build has no project artifacts: only its pipeline's source.
        project_objects=f"{bucket_arn(bucket)}/{names.artifact_prefix(pipeline)}/*",
        writes_project_objects=False,
        log_group=names.build_log_group(item.name, env),
    )


def feature_pipelines(config: NdapConfig) -> tuple[FeaturePipelines, ...]:
    """Every team's feature pipelines (none without a tooling account)."""
    if config.tooling_account_id is None:
        return ()
    return tuple(
        FeaturePipelines(
            name=item.name,
            team=item.team,
            repository=item.repository,
            git_host=item.git_host,
            stages=tuple(_stage(config, item, env) for env in names.PIPELINE_ENVIRONMENTS),
        )
        for item in config.feature_pipelines
    )


def feature_publishers(config: NdapConfig, env: Environment) -> tuple[FeaturePublisher, ...]:
    """The publisher role of every team with a feature pipeline, in ``env``."""
    tooling = config.tooling_account_id
    if tooling is None or env not in names.PIPELINE_ENVIRONMENTS:
        return ()
    org = config.organization.name
    region = config.organization.home_region
    account = config.account_id(env)
    result = []
    for item in config.feature_pipelines:
        groups = team_groups(config, item.team, env)
        build_role = names.build_role_arn(org, item.name, env, tooling)
        role = RoleSpec(
            name=feature_names.publisher_role_name(org, item.name),
            trust=policies.deployer_trust(build_role, tooling),
            policy=publisher_policy(
                region=region,
                account_id=account,
                groups=groups,
                data_bucket=bucket_name(org, env, "data", account),
                data_key_alias=kms_alias(org, env, "data"),
                offline_store_role_arn=(
                    f"arn:aws:iam::{account}:role{names.PIPELINE_PATH}"
                    f"{names.feature_store_role_name(org)}"
                ),
            ),
            tags={},
            description=f"{item.team}: creates and backfills the team's feature group versions "
            f"in {env.value}; assumed only by {item.name}'s {env.value} build",
        )
        result.append(FeaturePublisher(item.name, item.team, role, tuple(g.name for g in groups)))
    return tuple(result)
