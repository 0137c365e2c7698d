# ruff: noqa: E501  (the shell scripts below keep one command per line, as they run)
"""CodeBuild buildspecs of the delivery pipelines, as YAML strings: pure functions.

Every build runs in the tooling account as the project's build role for one environment.
It deploys through one AWS CLI profile, ``deployer``: the project's deployer role in that
environment, assumed from the build's own container credentials
(``credential_source = EcsContainer``). The build role may assume no other role.

What a project's repository provides (the contract the buildspecs rely on):

* ``make model``: packages (or trains) the model into ``dist/model.tar.gz`` and writes
  ``dist/model-metadata.json`` (``{"image": "<inference image URI>"}`` and, optionally,
  ``"instance_type"``): the model artifact and its metadata;
* ``pipelines/definition.json``: the orchestration definition, a SageMaker pipeline
  definition. Batch projects declare a ``ModelName`` parameter, which the deploy step sets
  to the model it deploys;
* ``requirements-dev.txt`` and ``tests/integration/`` (pytest): the integration tests run
  in dev, with ``NDAP_INTEGRATION_DATA`` pointing at the production-data subset.

Promotion: acc builds the release (from a tag on the develop branch), records the
artifact's sha256 in the model registry, deploys it and, once it is deployed and checked,
approves the model package. prd (a tag on the main branch, after the manual approval)
either deploys exactly the latest package acc approved, refusing it when the artifact's
sha256 differs from the one recorded at acc (``reuse_acc_artifacts``), or builds the
release again from its tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from ndap_infra.config.enums import Environment, ProjectKind
from ndap_infra.pipelines.names import MODEL_ARCHIVE, ORCHESTRATION_DEFINITION

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


# -- shell snippets (bash; every failure names what failed and why) ---------------------

FAIL = 'ndap_fail() { echo "ndap: $*" >&2; exit 1; }'

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

PACKAGE = f"""\
make model || ndap_fail "'make model' failed: it must write {MODEL_ARCHIVE} and dist/model-metadata.json"
[ -f {MODEL_ARCHIVE} ] || ndap_fail "'make model' wrote no {MODEL_ARCHIVE}"
[ -f dist/model-metadata.json ] || ndap_fail "'make model' wrote no dist/model-metadata.json"
DIGEST="$(sha256sum {MODEL_ARCHIVE} | cut -d ' ' -f 1)"
METADATA_DIGEST="$(sha256sum dist/model-metadata.json | cut -d ' ' -f 1)"
DEFINITION_DIGEST="$(sha256sum "$DEFINITION" | cut -d ' ' -f 1)"
ARTIFACTS="s3://$ARTIFACT_BUCKET/$ARTIFACTS_PREFIX/$VERSION"
aws s3 cp {MODEL_ARCHIVE} "$ARTIFACTS/model.tar.gz"
aws s3 cp dist/model-metadata.json "$ARTIFACTS/model-metadata.json"
aws s3 cp "$DEFINITION" "$ARTIFACTS/definition.json"
printf '%s  model.tar.gz\\n' "$DIGEST" > model.sha256
aws s3 cp model.sha256 "$ARTIFACTS/model.sha256"
MODEL_URL="$ARTIFACTS/model.tar.gz"
"""

REGISTER = """\
jq -n --arg image "$(jq -r .image dist/model-metadata.json)" --arg url "$MODEL_URL" \\
  '{Containers: [{Image: $image, ModelDataUrl: $url}], SupportedContentTypes: ["application/json", "text/csv"], SupportedResponseMIMETypes: ["application/json", "text/csv"]}' > inference.json
PACKAGE_ARN="$(aws sagemaker create-model-package --model-package-group-name "$MODEL_PACKAGE_GROUP_ARN" \\
  --model-approval-status PendingManualApproval --inference-specification file://inference.json \\
  --customer-metadata-properties "sha256=$DIGEST,metadata_sha256=$METADATA_DIGEST,definition_sha256=$DEFINITION_DIGEST,git_commit=$(git rev-parse HEAD),git_tag=$RELEASE_TAG" \\
  --query ModelPackageArn --output text)" || ndap_fail "cannot register the release in $MODEL_PACKAGE_GROUP_ARN"
echo "registered $PACKAGE_ARN for $RELEASE_TAG (sha256 $DIGEST)"
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
aws --profile deployer s3 cp {MODEL_ARCHIVE} "$DATA_PREFIX/models/$VERSION/model.tar.gz"
IMAGE="$(jq -r .image dist/model-metadata.json)"
aws --profile deployer sagemaker describe-model --model-name "$MODEL_NAME" > /dev/null 2>&1 || \\
  aws --profile deployer sagemaker create-model --model-name "$MODEL_NAME" --execution-role-arn "$EXECUTION_ROLE_ARN" \\
    --primary-container "Image=$IMAGE,ModelDataUrl=$DATA_PREFIX/models/$VERSION/model.tar.gz" \\
  || ndap_fail "cannot create model $MODEL_NAME"
"""

DEPLOY_ORCHESTRATION = """\
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

APPROVE = """\
aws sagemaker update-model-package --model-package-arn "$PACKAGE_ARN" --model-approval-status Approved \\
  --approval-description "deployed to acc from $RELEASE_TAG; prd deploys exactly this artifact (sha256 $DIGEST)" \\
  || ndap_fail "cannot approve $PACKAGE_ARN"
"""

INTEGRATION_TESTS = """\
export AWS_PROFILE=deployer
pip install --quiet -r requirements-dev.txt || ndap_fail "cannot install requirements-dev.txt"
python -m pytest -q tests/integration || ndap_fail "integration tests failed in dev"
"""


def _literal(text: str) -> LiteralScalarString:
    literal: LiteralScalarString = LiteralScalarString(text if text.endswith("\n") else text + "\n")
    return literal


def script(*snippets: str) -> str:
    """One build command: the snippets in a bash subshell with ``set -euo pipefail`` and
    ``ndap_fail``, so the first failure ends the step with its message, and nothing leaks
    into (or depends on) the state of CodeBuild's own shell."""
    body = "".join(s if s.endswith("\n") else s + "\n" for s in snippets)
    return f"(\nset -euo pipefail\n{FAIL}\n{body})\n"


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
        "MODEL_PACKAGE_GROUP_ARN": ctx.model_package_group_arn,
        "RELEASE_TAG_PATTERN": ctx.release_tag_pattern,
        "REUSE_ACC_ARTIFACTS": "true" if ctx.reuse_acc_artifacts else "false",
    }
    if required_branch is not None:
        variables["REQUIRED_BRANCH"] = required_branch
    if ctx.endpoint is not None:
        variables["ENDPOINT_NAME"] = ctx.endpoint
    if ctx.integration_data is not None:
        variables["NDAP_INTEGRATION_DATA"] = ctx.integration_data
    return variables


def _render(document: dict[str, Any]) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    out = StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _buildspec(ctx: BuildContext, required_branch: str | None, *snippets: str) -> str:
    return _render(
        {
            "version": 0.2,
            "env": {"shell": "bash", "variables": _variables(ctx, required_branch)},
            "phases": {
                "install": {
                    "runtime-versions": {"python": PYTHON_RUNTIME},
                    "commands": list(DEPLOYER_PROFILE),
                },
                "build": {"commands": [_literal(script(*snippets))]},
            },
        }
    )


def required_branch(ctx: BuildContext) -> str | None:
    """The branch a release tag must be on: develop for acc, main for prd; dev deploys
    the develop branch itself (its trigger)."""
    return {
        Environment.ACC: ctx.develop_branch,
        Environment.PRD: ctx.main_branch,
    }.get(ctx.environment)


def _deploy_steps(ctx: BuildContext) -> list[str]:
    steps = [DEPLOY_MODEL, DEPLOY_ORCHESTRATION]
    if ctx.kind is ProjectKind.REALTIME:
        steps.append(DEPLOY_ENDPOINT)
    return steps


def deploy_buildspec(ctx: BuildContext) -> str:
    """The deploy step of one environment (one script: verify the ref, build or take the
    artifact, deploy; acc then approves the release it deployed)."""
    env = ctx.environment
    branch = required_branch(ctx)
    steps = [VERIFY_RELEASE] if branch is not None else []
    steps.append(VERSION)
    if env is Environment.PRD and ctx.reuse_acc_artifacts:
        steps += [DIGEST_CHECK, TAKE_APPROVED]
    elif env is Environment.PRD:
        steps.append(PACKAGE_LOCALLY)  # no reuse: prd builds the release again from its tag
    else:
        steps.append(PACKAGE)
        if env is Environment.ACC:
            steps.append(REGISTER)
    steps += _deploy_steps(ctx)
    if env is Environment.ACC:
        steps.append(APPROVE)
    return _buildspec(ctx, branch, *steps)


PACKAGE_LOCALLY = f"""\
make model || ndap_fail "'make model' failed: it must write {MODEL_ARCHIVE} and dist/model-metadata.json"
[ -f {MODEL_ARCHIVE} ] || ndap_fail "'make model' wrote no {MODEL_ARCHIVE}"
"""


def verify_buildspec(ctx: BuildContext) -> str:
    """prd, before the approval: the tag is a release tag on main (so nobody is asked to
    approve what the deploy step would refuse)."""
    return _buildspec(ctx, required_branch(ctx), VERIFY_RELEASE, 'echo "ready for approval"')


def integration_buildspec(ctx: BuildContext) -> str:
    """dev, after the deploy step: the project's integration tests against dev, on the
    production-data subset."""
    return _buildspec(ctx, None, INTEGRATION_TESTS)


__all__ = [
    "DIGEST_CHECK",
    "FAIL",
    "VERIFY_RELEASE",
    "BuildContext",
    "deploy_buildspec",
    "integration_buildspec",
    "verify_buildspec",
]
