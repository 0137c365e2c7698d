# ruff: noqa: E501  (the shell scripts below keep one command per line, as they run)
"""CodeBuild buildspecs of the delivery pipelines, as YAML strings: pure functions.

Why and how: docs/design-notes.md, section ndap_infra/pipelines/buildspecs.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ndap_infra.config.enums import AcceptanceRetraining, Environment, ProjectKind
from ndap_infra.names.pipelines import (
    MODEL_ARCHIVE,
    ORCHESTRATION_DEFINITION,
    TOOLS_POINTER,
    TRAINING_DEFINITION,
    training_pipeline,
)
from ndap_infra.pipelines.tools import CLASSIFIER_REQUIREMENTS, INSTALL_TOOLS
from ndap_infra.scripts.buildspec import FAIL, literal, render, script

BUILD_IMAGE = "aws/codebuild/standard:7.0"
PYTHON_RUNTIME = "3.11"
DEFAULT_INSTANCE_TYPE = "ml.m5.large"


@dataclass(frozen=True)
class BuildContext:
    """Everything a project's build in one environment needs to know."""

    project: str
    kind: ProjectKind
    environment: Environment
    region: str
    deployer_role_arn: str
    execution_role_arn: str
    artifact_bucket: str
    artifacts_prefix: str
    """``projects/<project>/dev`` or ``projects/<project>/releases`` in the artifact store."""
    data_bucket: str
    """The environment's data bucket; the project writes under ``projects/<project>/``."""
    orchestration_pipeline: str
    """The SageMaker pipeline the orchestration definition is deployed as."""
    endpoint: str | None
    model_package_group_arn: str
    develop_branch: str
    main_branch: str
    release_tag_pattern: str
    reuse_acc_artifacts: bool
    integration_data: str | None = None
    """``s3://<dev replica>/integration-subset/`` (dev only, when dev holds a replica)."""
    path_rules_json: str = "{}"
    """The project's path rules (``PathRulesConfig`` as JSON): the change classifier's input."""
    needed_features: tuple[str, ...] = ()
    """Feature group versions (``<group>-v<version>``) the model needs in the environment."""
    acceptance: AcceptanceRetraining = AcceptanceRetraining.IF_MODEL_CHANGED
    image_repository: str = ""
    """``<tooling>.dkr.ecr.<region>.amazonaws.com/<org>/<project>``: the only repository
    (of the platform registry) the build deploys images from, and only by digest."""
    releases_prefix: str = ""
    """``projects/<project>/releases``: written only by acc's register step."""
    acc_deploy_project: str = ""
    """The CodeBuild project of acc's deploy step (the build the register step checks)."""
    acc_builds: str = ""
    """``arn:aws:codebuild:<region>:<tooling>:build/<acc deploy project>:``: the prefix of
    every build ARN a model package may record as the build that produced it."""
    acc_registrations: str = ""
    """The same prefix for acc's register step: the only step that registers packages."""


# -- shell snippets (bash; every failure names what failed and why) ---------------------


DEPLOYER_PROFILE = (
    'aws configure set profile.deployer.role_arn "$DEPLOYER_ROLE_ARN"',
    "aws configure set profile.deployer.credential_source EcsContainer",
    'aws configure set profile.deployer.region "$AWS_REGION"',
    'aws configure set profile.deployer.role_session_name "ndap-$PROJECT-$TARGET_ENVIRONMENT"',
)

VERIFY_RELEASE = """\
commit="$(git rev-parse HEAD)"
git fetch --quiet origin "+refs/heads/$REQUIRED_BRANCH:refs/remotes/origin/$REQUIRED_BRANCH" "+refs/tags/*:refs/tags/*" || echo "ndap: could not fetch from origin; checking against the refs of the full clone"
git rev-parse --verify --quiet "origin/$REQUIRED_BRANCH" > /dev/null || ndap_fail "the clone has no branch $REQUIRED_BRANCH to check the release against"
RELEASE_TAG=""
for tag in $(git tag --points-at "$commit"); do
  case "$tag" in
    $RELEASE_TAG_PATTERN) RELEASE_TAG="$tag" ;;
  esac
done
[ -n "$RELEASE_TAG" ] || ndap_fail "commit $commit carries no tag matching '$RELEASE_TAG_PATTERN': $TARGET_ENVIRONMENT deploys release tags only"
git merge-base --is-ancestor "$commit" "origin/$REQUIRED_BRANCH" || ndap_fail "release tag $RELEASE_TAG ($commit) is not on $REQUIRED_BRANCH: $TARGET_ENVIRONMENT deploys only tags cut from $REQUIRED_BRANCH"
echo "release $RELEASE_TAG ($commit) is on $REQUIRED_BRANCH"
"""

DIGEST_CHECK = """\
ndap_check_digest() {
  # $1: the sha256 recorded at acc, $2: the artifact, $3: the model package
  [ -n "$1" ] && [ "$1" != "None" ] || ndap_fail "model package $3 records no sha256: acc did not register it; refusing to deploy to prd"
  actual="$(sha256sum "$2" | cut -d ' ' -f 1)"
  [ "$actual" = "$1" ] || ndap_fail "digest mismatch for model package $3: acc verified sha256 $1 but the artifact is sha256 $actual; refusing to deploy to prd"
  echo "digest verified: $2 is sha256 $actual, as acc recorded for $3"
}
"""

VERSION = (
    f"DEFINITION={ORCHESTRATION_DEFINITION}\n"
    + """\
VERSION="$(printf '%s' "${RELEASE_TAG:-$(git rev-parse --short=12 HEAD)}" | tr -c 'a-zA-Z0-9-' '-' | cut -c 1-30)"
MODEL_NAME="$PROJECT-$VERSION"
DATA_PREFIX="s3://$DATA_BUCKET/projects/$PROJECT"
"""
)

IMAGE_CHECK = """\
ndap_check_images() {
  # Every image a file names (keys image, Image, ImageUri, TrainingImage, AppImageUri) is
  # the project's repository of the platform registry, by digest: a tag can be moved.
  for file in "$@"; do
    [ -f "$file" ] || continue
    for ref in $(jq -r '[.. | objects | to_entries[] | select(.key | test("^(image|imageuri|trainingimage|appimageuri)$"; "i")) | .value | strings] | .[]' "$file"); do
      [[ "$ref" =~ ^${IMAGE_REPOSITORY//./[.]}@sha256:[0-9a-f]{64}$ ]] \
        || ndap_fail "refusing to deploy: $file names image $ref, not by digest in the platform registry: name it $IMAGE_REPOSITORY@sha256:<digest> (a tag can be moved; images run only from the platform registry, by digest)"
      echo "ndap: image by digest: $ref ($file)"
    done
  done
}
"""

PACKAGE = f"""\
ARTIFACTS_KEY="${{ARTIFACTS_KEY:-$VERSION}}"
make model || ndap_fail "'make model' failed: it must write {MODEL_ARCHIVE} and dist/model-metadata.json"
[ -f {MODEL_ARCHIVE} ] || ndap_fail "'make model' wrote no {MODEL_ARCHIVE}"
[ -f dist/model-metadata.json ] || ndap_fail "'make model' wrote no dist/model-metadata.json"
DIGEST="$(sha256sum {MODEL_ARCHIVE} | cut -d ' ' -f 1)"
METADATA_DIGEST="$(sha256sum dist/model-metadata.json | cut -d ' ' -f 1)"
DEFINITION_DIGEST="$(sha256sum "$DEFINITION" | cut -d ' ' -f 1)"
ARTIFACTS="s3://$ARTIFACT_BUCKET/$ARTIFACTS_PREFIX/$ARTIFACTS_KEY"
aws s3 cp {MODEL_ARCHIVE} "$ARTIFACTS/model.tar.gz"
aws s3 cp dist/model-metadata.json "$ARTIFACTS/model-metadata.json"
aws s3 cp "$DEFINITION" "$ARTIFACTS/definition.json"
printf '%s  model.tar.gz\\n' "$DIGEST" > model.sha256
aws s3 cp model.sha256 "$ARTIFACTS/model.sha256"
MODEL_URL="$ARTIFACTS/model.tar.gz"
"""

STAGE_BY_BUILD = """\
ARTIFACTS_KEY="${CODEBUILD_BUILD_ID##*:}"
"""
"""acc's deploy step stages what it builds under its own build's id (``builds/<id>/``),
which nobody can guess beforehand: the register step finds it there from the build it
checked, never from a name the project's code chose."""

# acc's register step: platform script only. The repository is cloned (to read the release
# tag and the commit) but nothing of it runs. Everything it records comes from CodeBuild
# (the build checked by BatchGetBuilds) or from git, never from what the project's code
# handed over: the build id it is given is only a pointer, checked before use.
REGISTER_STAGED = """\
if [ "${NDAP_MODEL_BUILT:-true}" != true ]; then
  echo "ndap: skip register_model: acc kept the model it approved before; it stays approved"
  exit 0
fi
commit="$(git rev-parse HEAD)"
[ -n "${NDAP_BUILD_ID:-}" ] || ndap_fail "the deploy step handed over no build id: nothing to register for $RELEASE_TAG"
aws codebuild batch-get-builds --ids "$NDAP_BUILD_ID" > build.json || ndap_fail "cannot read build $NDAP_BUILD_ID"
[ "$(jq -r '.builds[0].projectName // empty' build.json)" = "$ACC_DEPLOY_PROJECT" ] || ndap_fail "build $NDAP_BUILD_ID is not a build of $ACC_DEPLOY_PROJECT: refusing to register what it staged"
[ "$(jq -r '.builds[0].resolvedSourceVersion // empty' build.json)" = "$commit" ] || ndap_fail "build $NDAP_BUILD_ID built $(jq -r '.builds[0].resolvedSourceVersion // "nothing"' build.json), not $commit ($RELEASE_TAG): refusing to register it"
[ "$(jq -r '.builds[0].buildStatus // empty' build.json)" = SUCCEEDED ] || ndap_fail "build $NDAP_BUILD_ID did not succeed: refusing to register what it staged"
BUILD_ARN="$(jq -r '.builds[0].arn' build.json)"
STAGED="s3://$ARTIFACT_BUCKET/$ARTIFACTS_PREFIX/${NDAP_BUILD_ID##*:}"
RELEASE="s3://$ARTIFACT_BUCKET/$RELEASES_PREFIX/$VERSION"
mkdir -p staged
for name in model.tar.gz model-metadata.json definition.json; do
  aws s3 cp "$STAGED/$name" "staged/$name" > /dev/null || ndap_fail "build $NDAP_BUILD_ID staged no $name under $STAGED"
done
ndap_check_images staged/model-metadata.json
ndap_check_images staged/definition.json
DIGEST="$(sha256sum staged/model.tar.gz | cut -d ' ' -f 1)"
METADATA_DIGEST="$(sha256sum staged/model-metadata.json | cut -d ' ' -f 1)"
DEFINITION_DIGEST="$(sha256sum staged/definition.json | cut -d ' ' -f 1)"
printf '%s  model.tar.gz\\n' "$DIGEST" > staged/model.sha256
for name in model.tar.gz model-metadata.json definition.json model.sha256; do
  aws s3 cp "staged/$name" "$RELEASE/$name" > /dev/null || ndap_fail "cannot write $RELEASE/$name"
done
jq -n --arg image "$(jq -r .image staged/model-metadata.json)" --arg url "$RELEASE/model.tar.gz" \\
  '{Containers: [{Image: $image, ModelDataUrl: $url}], SupportedContentTypes: ["application/json", "text/csv"], SupportedResponseMIMETypes: ["application/json", "text/csv"]}' > inference.json
jq -n --arg sha256 "$DIGEST" --arg metadata "$METADATA_DIGEST" --arg definition "$DEFINITION_DIGEST" \\
  --arg commit "$commit" --arg tag "$RELEASE_TAG" --arg build "$BUILD_ARN" --arg by "$CODEBUILD_BUILD_ARN" \\
  '{sha256: $sha256, metadata_sha256: $metadata, definition_sha256: $definition, git_commit: $commit, git_tag: $tag, build_arn: $build, registered_by: $by}' > provenance.json
PACKAGE_ARN="$(aws sagemaker create-model-package --model-package-group-name "$MODEL_PACKAGE_GROUP_ARN" \\
  --model-approval-status PendingManualApproval --inference-specification file://inference.json \\
  --customer-metadata-properties file://provenance.json \\
  --query ModelPackageArn --output text)" || ndap_fail "cannot register the release in $MODEL_PACKAGE_GROUP_ARN"
aws sagemaker update-model-package --model-package-arn "$PACKAGE_ARN" --model-approval-status Approved \\
  --approval-description "deployed to acc by $BUILD_ARN from $RELEASE_TAG ($commit); prd deploys exactly this artifact (sha256 $DIGEST)" \\
  || ndap_fail "cannot approve $PACKAGE_ARN"
echo "ndap: registered and approved $PACKAGE_ARN for $RELEASE_TAG: built by $BUILD_ARN from $commit, sha256 $DIGEST"
"""

# prd takes the package acc approved for this very release tag (never merely the latest
# approved one: a release that failed in acc must not ship the previous release's model
# under its name), and the model, its metadata and the orchestration definition exactly as
# acc registered them, each checked by digest.
TAKE_APPROVED = """\
PACKAGE_ARN=""
for candidate in $(aws --profile deployer sagemaker list-model-packages --model-package-group-name "$MODEL_PACKAGE_GROUP_ARN" \\
    --model-approval-status Approved --sort-by CreationTime --sort-order Descending \\
    --query 'ModelPackageSummaryList[].ModelPackageArn' --output text); do
  aws --profile deployer sagemaker describe-model-package --model-package-name "$candidate" > package.json \\
    || ndap_fail "cannot read model package $candidate"
  if [ "$(jq -r '.CustomerMetadataProperties.git_tag // empty' package.json)" = "$RELEASE_TAG" ]; then
    PACKAGE_ARN="$candidate"
    break
  fi
done
[ -n "$PACKAGE_ARN" ] || ndap_fail "no model package approved by acc for release $RELEASE_TAG in $MODEL_PACKAGE_GROUP_ARN: release $RELEASE_TAG to acc and let it pass there first"
[ -n "${ACC_BUILDS:-}" ] && [ -n "${ACC_REGISTRATIONS:-}" ] || ndap_fail "this build does not know acc's deploy and register projects: cannot check where $PACKAGE_ARN came from; refusing"
ACC_BUILD="$(jq -r '.CustomerMetadataProperties.build_arn // empty' package.json)"
case "$ACC_BUILD" in
  "$ACC_BUILDS"*) ;;
  *) ndap_fail "model package $PACKAGE_ARN records the build '${ACC_BUILD:-none}', not a build of acc's deploy project: prd deploys only what acc's build of $RELEASE_TAG produced; refusing" ;;
esac
REGISTERED_BY="$(jq -r '.CustomerMetadataProperties.registered_by // empty' package.json)"
case "$REGISTERED_BY" in
  "$ACC_REGISTRATIONS"*) ;;
  *) ndap_fail "model package $PACKAGE_ARN was registered by '${REGISTERED_BY:-nobody recorded}', not by acc's register step: refusing to deploy it to prd" ;;
esac
echo "ndap: $PACKAGE_ARN was built by $ACC_BUILD and registered by $REGISTERED_BY for $RELEASE_TAG"
ACC_COMMIT="$(jq -r '.CustomerMetadataProperties.git_commit // empty' package.json)"
git merge-base --is-ancestor "$ACC_COMMIT" HEAD || ndap_fail "model package $PACKAGE_ARN was built from $ACC_COMMIT, which is not part of release $RELEASE_TAG: merge the acc release into $REQUIRED_BRANCH first"
MODEL_URL="$(jq -r '.InferenceSpecification.Containers[0].ModelDataUrl' package.json)"
mkdir -p dist
aws --profile deployer s3 cp "$MODEL_URL" dist/model.tar.gz
aws --profile deployer s3 cp "${MODEL_URL%/model.tar.gz}/model-metadata.json" dist/model-metadata.json
aws --profile deployer s3 cp "${MODEL_URL%/model.tar.gz}/definition.json" dist/definition.json
ndap_check_digest "$(jq -r '.CustomerMetadataProperties.sha256 // empty' package.json)" dist/model.tar.gz "$PACKAGE_ARN"
ndap_check_digest "$(jq -r '.CustomerMetadataProperties.metadata_sha256 // empty' package.json)" dist/model-metadata.json "$PACKAGE_ARN"
ndap_check_digest "$(jq -r '.CustomerMetadataProperties.definition_sha256 // empty' package.json)" dist/definition.json "$PACKAGE_ARN"
DEFINITION=dist/definition.json
echo "prd deploys $PACKAGE_ARN, approved by acc for $RELEASE_TAG"
"""

DEPLOY_MODEL = f"""\
ndap_check_images dist/model-metadata.json
aws --profile deployer s3 cp {MODEL_ARCHIVE} "$DATA_PREFIX/models/$VERSION/model.tar.gz"
IMAGE="$(jq -r .image dist/model-metadata.json)"
aws --profile deployer sagemaker describe-model --model-name "$MODEL_NAME" > /dev/null 2>&1 || \\
  aws --profile deployer sagemaker create-model --model-name "$MODEL_NAME" --execution-role-arn "$EXECUTION_ROLE_ARN" \\
    --primary-container "Image=$IMAGE,ModelDataUrl=$DATA_PREFIX/models/$VERSION/model.tar.gz" \\
  || ndap_fail "cannot create model $MODEL_NAME"
"""

DEPLOY_ORCHESTRATION = """\
ndap_check_images "$DEFINITION"
jq --arg model "$MODEL_NAME" '(.Parameters[]? | select(.Name == "ModelName") | .DefaultValue) |= $model' \\
  "$DEFINITION" > definition.json || ndap_fail "$DEFINITION is not valid JSON"
if aws --profile deployer sagemaker describe-pipeline --pipeline-name "$ORCHESTRATION_PIPELINE" > /dev/null 2>&1; then
  aws --profile deployer sagemaker update-pipeline --pipeline-name "$ORCHESTRATION_PIPELINE" \\
    --pipeline-definition file://definition.json --role-arn "$EXECUTION_ROLE_ARN"
else
  aws --profile deployer sagemaker create-pipeline --pipeline-name "$ORCHESTRATION_PIPELINE" \\
    --pipeline-definition file://definition.json --role-arn "$EXECUTION_ROLE_ARN"
fi || ndap_fail "cannot deploy the orchestration definition as $ORCHESTRATION_PIPELINE"
"""

DEPLOY_ENDPOINT = f"""\
INSTANCE_TYPE="$(jq -r '.instance_type // "{DEFAULT_INSTANCE_TYPE}"' dist/model-metadata.json)"
aws --profile deployer sagemaker describe-endpoint-config --endpoint-config-name "$MODEL_NAME" > /dev/null 2>&1 || \\
  aws --profile deployer sagemaker create-endpoint-config --endpoint-config-name "$MODEL_NAME" \\
    --production-variants "VariantName=main,ModelName=$MODEL_NAME,InstanceType=$INSTANCE_TYPE,InitialInstanceCount=1"
if aws --profile deployer sagemaker describe-endpoint --endpoint-name "$ENDPOINT_NAME" > /dev/null 2>&1; then
  aws --profile deployer sagemaker update-endpoint --endpoint-name "$ENDPOINT_NAME" --endpoint-config-name "$MODEL_NAME"
else
  aws --profile deployer sagemaker create-endpoint --endpoint-name "$ENDPOINT_NAME" --endpoint-config-name "$MODEL_NAME"
fi || ndap_fail "cannot deploy endpoint $ENDPOINT_NAME"
aws --profile deployer sagemaker wait endpoint-in-service --endpoint-name "$ENDPOINT_NAME" || ndap_fail "endpoint $ENDPOINT_NAME did not come into service"
"""

INTEGRATION_TESTS = """\
export AWS_PROFILE=deployer
pip install --quiet -r requirements-dev.txt || ndap_fail "cannot install requirements-dev.txt"
python -m pytest -q tests/integration || ndap_fail "integration tests failed in dev"
"""

# -- change-aware deployment --------------------------------------------------------------

STAGES = (
    "unit_tests",
    "integration_tests",
    "feature_pipeline",
    "retrain",
    "register_model",
    "redeploy_serving",
    "deploy_orchestration",
)

PLAN_SCRIPT = """\
import os
from pathlib import Path
from ndap_infra.changes import plan_changes, plan_to_json_text
from ndap_infra.config.model import PathRulesConfig
rules = PathRulesConfig.model_validate_json(os.environ["NDAP_PATH_RULES"])
plan = plan_changes(Path("."), os.environ["PLAN_BASE"], "HEAD", rules)
print(plan_to_json_text(plan), end="")
"""

CHANGE_PLAN = (
    INSTALL_TOOLS
    + """\
mkdir -p .ndap
ndap_plan_everything() {
  jq -n --arg why "$1" --arg stages '"""
    + " ".join(STAGES)
    + """' \\
    '{summary: ("run every stage: " + $why), fingerprint: {head: null}, stages: ($stages | split(" ") | map({key: ., value: {run: true, reasons: [$why]}}) | from_entries)}' > .ndap/plan.json
}
ndap_run() { [ "$(jq -r --arg s "$1" '.stages[$s].run' .ndap/plan.json)" = "true" ]; }
ndap_skip() { echo "ndap: skip $1: $(jq -r --arg s "$1" '.stages[$s].reasons | join("; ")' .ndap/plan.json)"; }
ndap_force() { jq --arg s "$1" --arg why "$2" '.stages[$s] = {run: true, reasons: [$why]} | .summary += "; forced: " + $s + " (" + $why + ")"' .ndap/plan.json > .ndap/plan.tmp && mv .ndap/plan.tmp .ndap/plan.json; }
PLAN_BASE=""
if aws --profile deployer s3 cp "$DATA_PREFIX/deployed.json" .ndap/deployed.json > /dev/null 2>&1; then
  PLAN_BASE="$(jq -r '.commit // empty' .ndap/deployed.json)"
fi
if [ -z "$PLAN_BASE" ]; then
  ndap_plan_everything "no deployment of $PROJECT is recorded in $TARGET_ENVIRONMENT"
elif ! git cat-file -e "$PLAN_BASE^{commit}" 2> /dev/null; then
  ndap_plan_everything "the deployed commit $PLAN_BASE is not in this clone"
elif ! ndap_install_tools; then
  ndap_plan_everything "the platform has published no change classifier yet (s3://$ARTIFACT_BUCKET/"""
    + TOOLS_POINTER
    + """)"
elif ! PLAN_BASE="$PLAN_BASE" PYTHONPATH="$PWD/.ndap/site" python -c "$NDAP_PLAN_SCRIPT" > .ndap/plan.json 2> .ndap/plan.log; then
  ndap_plan_everything "the change classifier failed: $(tail -n 1 .ndap/plan.log)"
fi
"""
)

PRINT_PLAN = """\
echo "ndap: change plan for $PROJECT in $TARGET_ENVIRONMENT (deployed: ${PLAN_BASE:-none}, head: $(git rev-parse HEAD))"
jq -r '.stages | to_entries[] | "ndap:   " + (if .value.run then "run " else "skip" end) + " " + .key + ": " + (.value.reasons | join("; "))' .ndap/plan.json
jq -r '"ndap: " + .summary' .ndap/plan.json
if ndap_run integration_tests; then echo true > .ndap/run-integration-tests; else echo false > .ndap/run-integration-tests; fi
if ndap_run feature_pipeline; then
  echo "ndap: feature_pipeline: feature code changed; the model is retrained on it (retrain); feature group versions are created and backfilled in $TARGET_ENVIRONMENT by their team's feature pipeline (<team>-features-$TARGET_ENVIRONMENT, feature_pipelines[]; else by the environment stack) as the configuration promotes them (feature_groups[].versions[].promoted_to), and this deploy checks that those the model needs are there"
fi
"""

FORCE_FROM_SCRATCH = """\
ndap_force retrain "acceptance: periodic-from-scratch builds every release from scratch"
ndap_force register_model "acceptance: periodic-from-scratch builds every release from scratch"
"""

PREVIOUS_MODEL = """\
NDAP_PREVIOUS_MODEL=""
ndap_fetch_previous_model() {
  version="$(jq -r '.version // empty' .ndap/deployed.json 2> /dev/null || true)"
  [ -n "$version" ] || return 0
  mkdir -p dist
  if aws --profile deployer s3 cp "$DATA_PREFIX/models/$version/model.tar.gz" dist/previous-model.tar.gz > /dev/null; then
    NDAP_PREVIOUS_MODEL="dist/previous-model.tar.gz"
  else
    echo "ndap: the deployed model $version cannot be read"
  fi
}
"""

TRAIN = """\
[ "$TRAINING_MODE" = from-scratch ] || ndap_fetch_previous_model
if [ "$TRAINING_MODE" != from-scratch ] && [ -z "$NDAP_PREVIOUS_MODEL" ]; then
  echo "ndap: no previous model in $TARGET_ENVIRONMENT to start from: training from scratch"
  TRAINING_MODE=from-scratch
fi
export NDAP_RETRAIN=true NDAP_TRAINING_MODE="$TRAINING_MODE" NDAP_PREVIOUS_MODEL
echo "ndap: run retrain ($NDAP_TRAINING_MODE)"
"""

REPACKAGE = """\
ndap_skip retrain
ndap_fetch_previous_model
[ -n "$NDAP_PREVIOUS_MODEL" ] || ndap_fail "serving changed but the deployed model cannot be read to package it again without retraining"
export NDAP_RETRAIN=false NDAP_TRAINING_MODE=none NDAP_PREVIOUS_MODEL
echo "ndap: serving changed: packaging the deployed model again with the new serving code, without retraining (NDAP_RETRAIN=false)"
"""

KEEP_DEPLOYED = """\
ndap_skip retrain
VERSION="$(jq -r .version .ndap/deployed.json)"
MODEL_NAME="$(jq -r .model_name .ndap/deployed.json)"
DIGEST="$(jq -r '.sha256 // empty' .ndap/deployed.json)"
PACKAGE_ARN="$(jq -r '.package_arn // empty' .ndap/deployed.json)"
echo "ndap: keeping the deployed model $MODEL_NAME (sha256 $DIGEST)"
"""

RECORD_DEPLOYED = """\
jq -n --arg commit "$(git rev-parse HEAD)" --arg version "$VERSION" --arg model "$MODEL_NAME" \\
  --arg sha "${DIGEST:-}" --arg package "${PACKAGE_ARN:-}" --arg fingerprint "$(jq -r '.fingerprint.head // empty' .ndap/plan.json)" \\
  '{commit: $commit, version: $version, model_name: $model, sha256: $sha, package_arn: $package, fingerprint: $fingerprint}' > .ndap/deployed.json
aws --profile deployer s3 cp .ndap/deployed.json "$DATA_PREFIX/deployed.json"
echo "ndap: $TARGET_ENVIRONMENT now runs $MODEL_NAME from $(git rev-parse HEAD)"
"""

FEATURE_CHECK = """\
ndap_check_features() {
  missing=""
  for group in $NEEDED_FEATURES; do
    status="$(aws --profile deployer sagemaker describe-feature-group --feature-group-name "$group" --query FeatureGroupStatus --output text 2> /dev/null || true)"
    if [ "$status" = "Created" ]; then
      echo "ndap: feature group $group is in $TARGET_ENVIRONMENT"
    else
      missing="$missing $group"
    fi
  done
  [ -z "$missing" ] || ndap_fail "refusing to promote $PROJECT to $TARGET_ENVIRONMENT: it needs feature group version(s)$missing, not yet promoted to $TARGET_ENVIRONMENT; promote the feature definitions first (feature_groups[].versions[].promoted_to: $TARGET_ENVIRONMENT), then release the model again"
}
ndap_check_features
"""

DEPLOY_TRAINING = f"""\
ndap_check_images {TRAINING_DEFINITION}
if aws --profile deployer sagemaker describe-pipeline --pipeline-name "$TRAINING_PIPELINE" > /dev/null 2>&1; then
  aws --profile deployer sagemaker update-pipeline --pipeline-name "$TRAINING_PIPELINE" \\
    --pipeline-definition file://{TRAINING_DEFINITION} --role-arn "$EXECUTION_ROLE_ARN"
else
  aws --profile deployer sagemaker create-pipeline --pipeline-name "$TRAINING_PIPELINE" \\
    --pipeline-definition file://{TRAINING_DEFINITION} --role-arn "$EXECUTION_ROLE_ARN"
fi || ndap_fail "cannot deploy {TRAINING_DEFINITION} as $TRAINING_PIPELINE (the retraining triggers start it)"
"""

SKIP_INTEGRATION = """\
if [ "${NDAP_RUN_INTEGRATION_TESTS:-true}" != true ]; then
  echo "ndap: skip integration_tests: the change plan of the deploy stage says no path that tests cover changed"
  exit 0
fi
"""


def _variables(ctx: BuildContext, required_branch: str | None) -> dict[str, str]:
    variables = {
        "PROJECT": ctx.project,
        "PROJECT_KIND": ctx.kind.value,
        "TARGET_ENVIRONMENT": ctx.environment.value,
        "DEPLOYER_ROLE_ARN": ctx.deployer_role_arn,
        "EXECUTION_ROLE_ARN": ctx.execution_role_arn,
        "ARTIFACT_BUCKET": ctx.artifact_bucket,
        "ARTIFACTS_PREFIX": ctx.artifacts_prefix,
        "DATA_BUCKET": ctx.data_bucket,
        "ORCHESTRATION_PIPELINE": ctx.orchestration_pipeline,
        "TRAINING_PIPELINE": training_pipeline(ctx.project),
        "MODEL_PACKAGE_GROUP_ARN": ctx.model_package_group_arn,
        "RELEASE_TAG_PATTERN": ctx.release_tag_pattern,
        "REUSE_ACC_ARTIFACTS": "true" if ctx.reuse_acc_artifacts else "false",
    }
    if ctx.image_repository:
        variables["IMAGE_REPOSITORY"] = ctx.image_repository
    if ctx.environment is Environment.PRD and ctx.acc_builds:
        variables["ACC_BUILDS"] = ctx.acc_builds
        variables["ACC_REGISTRATIONS"] = ctx.acc_registrations
    if required_branch is not None:
        variables["REQUIRED_BRANCH"] = required_branch
    if ctx.endpoint is not None:
        variables["ENDPOINT_NAME"] = ctx.endpoint
    if ctx.integration_data is not None:
        variables["NDAP_INTEGRATION_DATA"] = ctx.integration_data
    if ctx.needed_features:
        variables["NEEDED_FEATURES"] = " ".join(ctx.needed_features)
    return variables


def _buildspec(
    ctx: BuildContext,
    required_branch: str | None,
    *snippets: str,
    extra: dict[str, str] | None = None,
    exported: tuple[str, ...] = (),
    deployer: bool = True,
) -> str:
    commands: list[Any] = [literal(script(*snippets))]
    env: dict[str, Any] = {
        "shell": "bash",
        "variables": {**_variables(ctx, required_branch), **(extra or {})},
    }
    if exported:
        env["exported-variables"] = list(exported)
        # The script runs in a subshell; it leaves each exported value in .ndap/<name>
        # (the build id is CodeBuild's own).
        commands += [EXPORTS.get(name) or _exported_from_file(name) for name in exported]
    install: dict[str, Any] = {"runtime-versions": {"python": PYTHON_RUNTIME}}
    if deployer:
        install["commands"] = list(DEPLOYER_PROFILE)
    return render(
        {
            "version": 0.2,
            "env": env,
            "phases": {"install": install, "build": {"commands": commands}},
        }
    )


EXPORTS = {"NDAP_BUILD_ID": 'NDAP_BUILD_ID="$CODEBUILD_BUILD_ID"'}


def _exported_from_file(name: str) -> str:
    return (
        f'{name}="$(cat .ndap/{name.removeprefix("NDAP_").lower().replace("_", "-")} '
        f'2> /dev/null || echo true)"'
    )


def required_branch(ctx: BuildContext) -> str | None:
    """The branch a release tag must be on: develop for acc, main for prd; dev deploys
    the develop branch itself (its trigger)."""
    return {
        Environment.ACC: ctx.develop_branch,
        Environment.PRD: ctx.main_branch,
    }.get(ctx.environment)


def training_mode(ctx: BuildContext) -> str:
    """How a release build in this environment trains when the plan says retrain."""
    if ctx.environment is not Environment.DEV and (
        ctx.acceptance is AcceptanceRetraining.FROM_PREVIOUS_STATE
    ):
        return "from-previous-state"
    return "from-scratch"


EXPORTED_PLAN = ("NDAP_RUN_INTEGRATION_TESTS",)
"""What the dev deploy step hands to the integration-test step (a CodePipeline variable)."""
EXPORTED_BUILD = ("NDAP_BUILD_ID", "NDAP_MODEL_BUILT")
"""What acc's deploy step hands to the register step: its own build id (which the register
step checks with CodeBuild before trusting) and whether it built a new model."""


def _guarded(condition: str, then: list[str], otherwise: list[str]) -> str:
    body = "".join(s if s.endswith("\n") else s + "\n" for s in then)
    other = "".join(s if s.endswith("\n") else s + "\n" for s in otherwise)
    return f"if {condition}; then\n{body}else\n{other}fi\n"


def deploy_buildspec(ctx: BuildContext) -> str:
    """The deploy step of one environment, in one script: verify the ref; check that the
    feature group versions the model needs are there; compute the change plan between
    what the environment runs and this commit (``ndap changes``' library, with the
    project's path rules) and print it; then retrain, re-package or keep the deployed
    model, and redeploy orchestration and serving, each only when the plan (or a new
    model) asks for it, saying so when skipped; acc registers and approves what it built;
    finally record what the environment runs now."""
    env = ctx.environment
    branch = required_branch(ctx)
    steps = [VERIFY_RELEASE] if branch is not None else []
    steps += [VERSION, IMAGE_CHECK]
    if ctx.needed_features:
        steps.append(FEATURE_CHECK)
    steps.append(CHANGE_PLAN)
    if env is Environment.ACC and ctx.acceptance is AcceptanceRetraining.PERIODIC_FROM_SCRATCH:
        steps.append(FORCE_FROM_SCRATCH)
    steps.append(PRINT_PLAN)
    steps.append('MODEL_BUILT=false\nTRAINING_MODE="${TRAINING_MODE:-from-scratch}"\n')
    if env is Environment.PRD and ctx.reuse_acc_artifacts:
        steps += [
            DIGEST_CHECK,
            'echo "ndap: skip retrain: prd deploys the artifacts acc verified '
            '(retraining.production: reuse-acc-artifacts)"\n',
            TAKE_APPROVED,
            "DIGEST=\"$(sha256sum dist/model.tar.gz | cut -d ' ' -f 1)\"\n",
            DEPLOY_MODEL,
            '[ "$PACKAGE_ARN" = "$(jq -r \'.package_arn // empty\' .ndap/deployed.json '
            '2> /dev/null || true)" ] || MODEL_BUILT=true\n',
        ]
    else:
        build = [PACKAGE_LOCALLY] if env is Environment.PRD else [PACKAGE]
        if env is Environment.ACC:
            build.insert(0, STAGE_BY_BUILD)
        build += [DEPLOY_MODEL, "MODEL_BUILT=true\n"]
        steps.append(PREVIOUS_MODEL)
        steps.append(
            _guarded(
                "ndap_run retrain",
                [TRAIN, *build],
                [
                    _guarded(
                        "ndap_run redeploy_serving",
                        [REPACKAGE, *build],
                        [KEEP_DEPLOYED],
                    )
                ],
            )
        )
    orchestration = [DEPLOY_ORCHESTRATION]
    if ctx.kind is ProjectKind.BATCH:
        orchestration.append(DEPLOY_TRAINING)
        condition = 'ndap_run deploy_orchestration || [ "$MODEL_BUILT" = true ]'
    else:
        condition = "ndap_run deploy_orchestration"
    steps.append(_guarded(condition, orchestration, ["ndap_skip deploy_orchestration"]))
    if ctx.kind is ProjectKind.REALTIME:
        steps.append(
            _guarded('[ "$MODEL_BUILT" = true ]', [DEPLOY_ENDPOINT], ["ndap_skip redeploy_serving"])
        )
    steps.append(RECORD_DEPLOYED)
    if env is Environment.ACC:
        steps.append('echo "$MODEL_BUILT" > .ndap/model-built\n')
    extra = {
        "NDAP_PATH_RULES": ctx.path_rules_json,
        "NDAP_TOOLS_REQUIREMENTS": CLASSIFIER_REQUIREMENTS,
        "NDAP_PLAN_SCRIPT": PLAN_SCRIPT,
        "TRAINING_MODE": training_mode(ctx),
    }
    if env is Environment.ACC:
        extra["ACC_RETRAINING"] = ctx.acceptance.value
    exported = {Environment.DEV: EXPORTED_PLAN, Environment.ACC: EXPORTED_BUILD}.get(env, ())
    return _buildspec(ctx, branch, *[s for s in steps if s], extra=extra, exported=exported)


def register_buildspec(ctx: BuildContext) -> str:
    """acc, after the deploy step: the platform's register step. It runs no repository
    code and holds no deployer profile: it checks the acc deploy build it is handed with
    CodeBuild (its project, its commit, that it succeeded), copies what that build staged
    into ``releases/<version>``, registers the model package with the build's ARN, the
    commit, the tag and the digests in its metadata, and approves it (#21, finding 3)."""
    return _buildspec(
        ctx,
        required_branch(ctx),
        VERIFY_RELEASE,
        VERSION,
        IMAGE_CHECK,
        REGISTER_STAGED,
        extra={
            "RELEASES_PREFIX": ctx.releases_prefix,
            "ACC_DEPLOY_PROJECT": ctx.acc_deploy_project,
        },
        deployer=False,
    )


PACKAGE_LOCALLY = f"""\
make model || ndap_fail "'make model' failed: it must write {MODEL_ARCHIVE} and dist/model-metadata.json"
[ -f {MODEL_ARCHIVE} ] || ndap_fail "'make model' wrote no {MODEL_ARCHIVE}"
DIGEST="$(sha256sum {MODEL_ARCHIVE} | cut -d ' ' -f 1)"
"""


def verify_buildspec(ctx: BuildContext) -> str:
    """prd, before the approval: the tag is a release tag on main, and nothing else. It
    runs no repository code and never uses the deployer profile: its build role could
    assume the prd deployer, and nothing may act as the prd deployer before the approval
    (the git-flow proof checks it). The feature-version check runs in the deploy step,
    after the approval, and refuses there."""
    return _buildspec(ctx, required_branch(ctx), VERIFY_RELEASE, 'echo "ready for approval"')


def integration_buildspec(ctx: BuildContext) -> str:
    """dev, after the deploy step: the project's integration tests against dev, on the
    production-data subset, unless the deploy step's change plan skips them (it hands
    its decision over as ``NDAP_RUN_INTEGRATION_TESTS``)."""
    return _buildspec(ctx, None, SKIP_INTEGRATION, INTEGRATION_TESTS)


__all__ = [
    "CHANGE_PLAN",
    "DIGEST_CHECK",
    "FAIL",
    "FEATURE_CHECK",
    "IMAGE_CHECK",
    "VERIFY_RELEASE",
    "BuildContext",
    "deploy_buildspec",
    "integration_buildspec",
    "register_buildspec",
    "script",
    "verify_buildspec",
]
