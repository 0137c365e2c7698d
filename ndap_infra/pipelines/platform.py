# ruff: noqa: E501  (the shell scripts below keep one command per line, as they run)
"""The platform's own infrastructure pipeline, as plain values (no CDKTF).

Why and how: docs/design-notes.md, section ndap_infra/pipelines/platform.py."""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from ndap_infra.config.accounts import security_account_ids
from ndap_infra.config.enums import (
    LOG_ARCHIVE,
    SECURITY_TOOLING,
    TOOLING,
    Environment,
    GitHost,
    Persona,
)
from ndap_infra.config.model import NdapConfig
from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement
from ndap_infra.iam.trust import later_role_trust, service_trust
from ndap_infra.names import pipelines as names
from ndap_infra.names.access import role_arn
from ndap_infra.names.platform import (
    ORGANIZATION_STACK,
    PLATFORM_PATH,
    deployer_name,
    environment_stack,
    planner_name,
)
from ndap_infra.names.security import ORGANIZATION_TRAIL_STACK
from ndap_infra.pipelines import policies
from ndap_infra.pipelines.buildspecs import PYTHON_RUNTIME
from ndap_infra.pipelines.drift import DATA_READS, drift_detection_spec
from ndap_infra.pipelines.tools import (
    CLASSIFIER_REQUIREMENTS,
    PUBLISH_TOOLS,
    VERIFY_TOOLS,
    build_tools,
)
from ndap_infra.scripts.buildspec import script

READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
TERRAFORM_VERSION = "1.11.4"
PLAN_STAGE = "Plan"
PLAN_NAMESPACE = "PlanVariables"
PLAN_ARTIFACT = "PlanArtifact"
APPROVAL_STAGE = "ApproveReviewedPlan"
APPROVAL_ACTION = "ApproveReviewedPlan"
APPLY_STAGE = "Apply"
PLAN_FILE = "ndap.tfplan"
APPLIED_RECORD = "last-applied.json"
BUILD_TIMEOUT_MINUTES = 120
STACK_PROFILE_PREFIX = "ndap-"
"""Each stack's provider names the AWS profile ``ndap-<stack>`` in the pipeline's builds
(``ndap_infra.constructs.provider``)."""
PROTECTED_ENVIRONMENTS = (Environment.ACC, Environment.PRD)
SECURITY_STACKS = (LOG_ARCHIVE, SECURITY_TOOLING)
"""The security accounts' stacks (``organization.security_accounts``), which apply after
the organization and before tooling; the organization trail follows tooling (#18)."""


@dataclass(frozen=True)
class PlatformPipelineSpec:
    """Every name, document and script of the platform's own pipeline."""

    org: str
    tooling: str
    region: str
    repository: str
    git_host: GitHost
    branch: str
    config_path: str
    approvers: tuple[Persona, ...]
    stacks: tuple[tuple[str, str], ...]
    """(stack, account id), in dependency order."""
    protected: tuple[str, ...]
    """The stacks that apply only after this execution's approval."""
    artifact_bucket: str
    state_bucket: str | None
    state_keys: tuple[str, ...]
    state_kms_key_arn: str | None
    state_readers: tuple[str, ...] = ()
    """Other roles that read every stack's state (the scheduled drift detection's build)."""

    # -- names --

    @property
    def pipeline(self) -> str:
        return f"{self.org}-platform"

    @property
    def plan_project(self) -> str:
        return f"{self.org}-platform-plan"

    @property
    def apply_project(self) -> str:
        return f"{self.org}-platform-apply"

    @property
    def plan_role(self) -> str:
        return f"{self.org}-platform-plan"

    @property
    def apply_role(self) -> str:
        return f"{self.org}-platform-apply"

    @property
    def pipeline_role(self) -> str:
        return f"{self.org}-platform-pipeline"

    @property
    def log_group(self) -> str:
        return f"/aws/codebuild/{self.pipeline}"

    @property
    def log_group_arn(self) -> str:
        return f"arn:aws:logs:{self.region}:{self.tooling}:log-group:{self.log_group}"

    def project_arn(self, project: str) -> str:
        return f"arn:aws:codebuild:{self.region}:{self.tooling}:project/{project}"

    @property
    def pipeline_arn(self) -> str:
        return f"arn:aws:codepipeline:{self.region}:{self.tooling}:{self.pipeline}"

    @property
    def approval_arn(self) -> str:
        return f"{self.pipeline_arn}/{APPROVAL_STAGE}/{APPROVAL_ACTION}"

    @property
    def plan_role_arn(self) -> str:
        return role_arn(self.tooling, self.plan_role, names.PIPELINE_PATH)

    @property
    def apply_role_arn(self) -> str:
        return role_arn(self.tooling, self.apply_role, names.PIPELINE_PATH)

    def planner_arn(self, account: str) -> str:
        return role_arn(account, planner_name(self.org), PLATFORM_PATH)

    def deployer_arn(self, account: str) -> str:
        return role_arn(account, deployer_name(self.org), PLATFORM_PATH)

    @property
    def accounts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(account for _, account in self.stacks))

    @property
    def pipeline_objects(self) -> str:
        return f"arn:aws:s3:::{self.artifact_bucket}/{names.artifact_prefix(self.pipeline)}/*"

    @property
    def applied_record(self) -> str:
        """Where the apply step records the commit it applied (the next review's base)."""
        return f"{self.pipeline}-applied/{APPLIED_RECORD}"

    @property
    def approval_link(self) -> str:
        return (
            f"https://{self.region}.console.aws.amazon.com/codesuite/codebuild/{self.tooling}"
            f"/projects/{self.plan_project}/build/#{{{PLAN_NAMESPACE}.PLAN_BUILD_ID}}/"
            f"?region={self.region}"
        )

    @property
    def approval_summary(self) -> str:
        return (
            f"Platform change #{{{names.SOURCE_NAMESPACE}.CommitId}}: plan manifest sha256 "
            f"#{{{PLAN_NAMESPACE}.MANIFEST_SHA256}}. Read the review pack and every plan in "
            "the plan build's log (link); approve only the changes you expect. Apply "
            "re-checks this digest and applies exactly these plans."
        )

    # -- trust --

    def plan_build_trust(self) -> PolicyDocument:
        return service_trust(
            "codebuild.amazonaws.com", self.tooling, (self.project_arn(self.plan_project),)
        )

    def apply_build_trust(self) -> PolicyDocument:
        return service_trust(
            "codebuild.amazonaws.com", self.tooling, (self.project_arn(self.apply_project),)
        )

    def pipeline_trust(self) -> PolicyDocument:
        return service_trust("codepipeline.amazonaws.com", self.tooling, (self.pipeline_arn,))

    def planner_trust(self) -> PolicyDocument:
        return later_role_trust("OnlyThePlatformPlanBuild", self.plan_role_arn, self.tooling)

    def deployer_trust(self) -> PolicyDocument:
        return later_role_trust("OnlyThePlatformApplyBuild", self.apply_role_arn, self.tooling)

    # -- policies --

    def _state(self, write: bool) -> list[Statement]:
        if self.state_bucket is None:
            return []
        bucket = f"arn:aws:s3:::{self.state_bucket}"
        objects = tuple(f"{bucket}/{key}" for key in self.state_keys)
        statements = [
            Statement("ListTheState", "Allow", actions=("s3:ListBucket",), resources=(bucket,)),
            Statement(
                "ReadTheState" if not write else "ReadAndWriteTheState",
                "Allow",
                actions=("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
                if write
                else ("s3:GetObject",),
                # the lock file (use_lockfile) sits next to each state object
                resources=(*objects, *(f"{o}.tflock" for o in objects)) if write else objects,
            ),
        ]
        if self.state_kms_key_arn is not None:
            statements.append(
                Statement(
                    "UseTheStateKey",
                    "Allow",
                    actions=("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
                    if write
                    else ("kms:Decrypt",),
                    resources=(self.state_kms_key_arn,),
                )
            )
        return statements

    def _common(
        self, key_arn: str, roles: tuple[str, ...], write_artifacts: bool
    ) -> list[Statement]:
        return [
            Statement(
                "AssumeOnlyThePlatformRoles",
                "Allow",
                actions=("sts:AssumeRole",),
                resources=roles,
            ),
            Statement(
                "AssumeNoOtherRole",
                "Deny",
                actions=(
                    "sts:AssumeRole",
                    "sts:AssumeRoleWithSAML",
                    "sts:AssumeRoleWithWebIdentity",
                ),
                not_resources=roles,
            ),
            Statement(
                "PipelineArtifacts",
                "Allow",
                actions=(*policies.S3_READ, *policies.S3_WRITE)
                if write_artifacts
                else policies.S3_READ,
                resources=(self.pipeline_objects,),
            ),
            policies.artifact_key_use(key_arn),
            policies.build_log_writes(self.log_group_arn),
        ]

    def plan_build_policy(self, key_arn: str, connection_arn: str) -> PolicyDocument:
        """Plan: the artifacts (read, write), the source, the planners, the state (read),
        the last applied commit (read)."""
        applied = f"arn:aws:s3:::{self.artifact_bucket}/{self.applied_record}"
        return PolicyDocument(
            (
                *self._common(key_arn, tuple(self.planner_arn(a) for a in self.accounts), True),
                *policies.connection_use(connection_arn, self.repository),
                Statement(
                    "ReadTheLastApplied", "Allow", actions=("s3:GetObject",), resources=(applied,)
                ),
                *self._state(write=False),
            )
        )

    def apply_build_policy(self, key_arn: str) -> PolicyDocument:
        """Apply: the artifacts (read only: the plans it applies are the plan build's),
        the deployers, the state (read, write), the approval's state, the record. No git
        connection: it applies the plan artifact, never the source."""
        applied = f"arn:aws:s3:::{self.artifact_bucket}/{self.applied_record}"
        return PolicyDocument(
            (
                *self._common(key_arn, tuple(self.deployer_arn(a) for a in self.accounts), False),
                Statement(
                    "RecordTheApplied", "Allow", actions=("s3:PutObject",), resources=(applied,)
                ),
                Statement(
                    "PublishThePlatformsTooling",
                    "Allow",
                    actions=("s3:PutObject",),
                    resources=(names.tools_objects(self.artifact_bucket),),
                ),
                Statement(
                    "CheckTheApproval",
                    "Allow",
                    actions=("codepipeline:GetPipelineState",),
                    resources=(self.pipeline_arn,),
                ),
                *self._state(write=True),
            )
        )

    def pipeline_policy(self, key_arn: str, connection_arn: str) -> PolicyDocument:
        return policies.pipeline_role_policy(
            pipeline_objects=self.pipeline_objects,
            bucket=self.artifact_bucket,
            key_arn=key_arn,
            connection_arn=connection_arn,
            repository=self.repository,
            build_projects=[
                self.project_arn(self.plan_project),
                self.project_arn(self.apply_project),
            ],
        )

    def planner_guard(self) -> PolicyDocument:
        """``ReadOnlyAccess`` reads data and secrets too: denied, as for the drift reader;
        and a planner never becomes anyone else."""
        return PolicyDocument(
            (
                Statement("NeverReadData", "Deny", actions=DATA_READS, resources=("*",)),
                Statement(
                    "AssumeNoRole",
                    "Deny",
                    actions=(
                        "sts:AssumeRole",
                        "sts:AssumeRoleWithSAML",
                        "sts:AssumeRoleWithWebIdentity",
                    ),
                    resources=("*",),
                ),
            )
        )

    def deployer_guard(self) -> PolicyDocument:
        """The deployer applies its own account's stack and never becomes anyone else."""
        return PolicyDocument(
            (
                Statement(
                    "AssumeNoRole",
                    "Deny",
                    actions=(
                        "sts:AssumeRole",
                        "sts:AssumeRoleWithSAML",
                        "sts:AssumeRoleWithWebIdentity",
                    ),
                    resources=("*",),
                ),
            )
        )

    def state_bucket_policy(self) -> PolicyDocument | None:
        """The policy to put on the state bucket when creating it (by hand, in the
        management account): TLS only; the plan build role reads every stack's state, the
        apply build role reads and writes it (and its lock files); the planners and
        deployers never (the management account's deployer administers the account the
        bucket is in). People of the management account keep their IAM rights there."""
        if self.state_bucket is None:
            return None
        bucket = f"arn:aws:s3:::{self.state_bucket}"
        objects = tuple(f"{bucket}/{key}" for key in self.state_keys)
        locks = tuple(f"{o}.tflock" for o in objects)
        return PolicyDocument(
            (
                Statement(
                    "TlsOnly",
                    "Deny",
                    principals=(Principal.anyone(),),
                    actions=("s3:*",),
                    resources=(bucket, f"{bucket}/*"),
                    conditions=(Condition.of("Bool", "aws:SecureTransport", "false"),),
                ),
                Statement(
                    # The management account's deployer administers that account, where
                    # the bucket is: it still never reads or writes the state.
                    "PlatformRolesNeverTouchTheState",
                    "Deny",
                    principals=(Principal.anyone(),),
                    actions=("s3:*",),
                    resources=(bucket, f"{bucket}/*"),
                    conditions=(
                        Condition.of(
                            "ArnLike", "aws:PrincipalArn", f"arn:aws:iam::*:role{PLATFORM_PATH}*"
                        ),
                    ),
                ),
                Statement(
                    "BuildsListTheState",
                    "Allow",
                    principals=(
                        Principal.aws(self.plan_role_arn, self.apply_role_arn, *self.state_readers),
                    ),
                    actions=("s3:ListBucket",),
                    resources=(bucket,),
                ),
                Statement(
                    "PlanBuildReadsTheState",
                    "Allow",
                    principals=(Principal.aws(self.plan_role_arn, *self.state_readers),),
                    actions=("s3:GetObject",),
                    resources=objects,
                ),
                Statement(
                    "ApplyBuildWritesTheState",
                    "Allow",
                    principals=(Principal.aws(self.apply_role_arn),),
                    actions=("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
                    resources=(*objects, *locks),
                ),
            )
        )

    def approval_statements(self) -> tuple[Statement, ...]:
        """Added to each approver persona's role in the tooling account."""
        return (
            Statement(
                "ApproveReviewedPlatformPlans",
                "Allow",
                actions=("codepipeline:PutApprovalResult",),
                resources=(self.approval_arn,),
            ),
            Statement(
                "ReadThePlatformReviewPack",
                "Allow",
                actions=(
                    "codepipeline:GetPipelineState",
                    "codepipeline:GetPipelineExecution",
                    "codebuild:BatchGetBuilds",
                    "logs:GetLogEvents",
                    "logs:FilterLogEvents",
                ),
                resources=(
                    self.pipeline_arn,
                    self.project_arn(self.plan_project),
                    self.log_group_arn,
                    f"{self.log_group_arn}:*",
                ),
            ),
        )

    # -- build scripts --

    def _stack_variables(self) -> dict[str, str]:
        return {
            "STACKS": " ".join(stack for stack, _ in self.stacks),
            "STACK_ACCOUNTS": " ".join(f"{stack}={account}" for stack, account in self.stacks),
            "PROTECTED_STACKS": " ".join(self.protected),
            "PROFILE_PREFIX": STACK_PROFILE_PREFIX,
            "PIPELINE": self.pipeline,
            "APPROVAL_STAGE": APPROVAL_STAGE,
            "ARTIFACT_BUCKET": self.artifact_bucket,
            "APPLIED_RECORD": self.applied_record,
            "CONFIG_PATH": self.config_path,
        }

    def plan_buildspec(self) -> str:
        return _buildspec(
            {
                **self._stack_variables(),
                "ROLE_NAME": planner_name(self.org),
                "NDAP_STACK_CREDENTIALS": "profiles",
                "NDAP_TOOLS_REQUIREMENTS": CLASSIFIER_REQUIREMENTS,
            },
            PLAN_SCRIPT,
            (*INSTALL_TERRAFORM, *INSTALL_NDAP),
            exported=("MANIFEST_SHA256", "PLAN_BUILD_ID"),
            artifacts=True,
        )

    def apply_buildspec(self) -> str:
        return _buildspec(
            {**self._stack_variables(), "ROLE_NAME": deployer_name(self.org)},
            APPLY_SCRIPT,
            # Its input is the plan artifact, not the repository: Terraform only.
            INSTALL_TERRAFORM,
        )


# -- the scripts (bash; each refusal names what is wrong) -----------------------------------

PROFILES = """\
for pair in $STACK_ACCOUNTS; do
  stack="${pair%%=*}"; account="${pair#*=}"
  profile="$PROFILE_PREFIX$stack"
  aws configure set "profile.$profile.role_arn" "arn:aws:iam::$account:role/ndap/platform/$ROLE_NAME"
  aws configure set "profile.$profile.credential_source" EcsContainer
  aws configure set "profile.$profile.region" "$AWS_REGION"
  aws configure set "profile.$profile.role_session_name" "ndap-platform-$stack"
done
"""

PLAN_SCRIPT = (
    """\
commit="$(git rev-parse HEAD)"
echo "ndap: planning $commit of the platform"
ndap build --config "$CONFIG_PATH" || ndap_fail "ndap build failed (a proof, a policy lint or terraform validate): nothing is planned"
rm -rf plan && mkdir -p plan
for stack in $STACKS; do
  [ -f "cdktf.out/stacks/$stack/cdk.tf.json" ] || ndap_fail "stack $stack was not synthesized"
  mkdir -p "plan/$stack"
  cp "cdktf.out/stacks/$stack/cdk.tf.json" "plan/$stack/"
  (
    cd "plan/$stack"
    terraform init -input=false -no-color > init.log || { cat init.log >&2; ndap_fail "terraform init failed for $stack"; }
    # No lock: the plan only reads; the apply holds the lock, and refuses this plan if the state moved on.
    terraform plan -input=false -no-color -lock=false -out=ndap.tfplan > plan.txt || { cat plan.txt >&2; ndap_fail "terraform plan failed for $stack"; }
    # The provider lock travels under a visible name (the artifact keeps it either way).
    cp .terraform.lock.hcl providers.lock.hcl
    rm -rf .terraform init.log
  ) || exit 1
  echo "---- plan of $stack ----"; cat "plan/$stack/plan.txt"
done
base=""
if aws s3 cp "s3://$ARTIFACT_BUCKET/$APPLIED_RECORD" plan/last-applied.json > /dev/null 2>&1; then
  base="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["commit"])' plan/last-applied.json)"
fi
if [ -z "$base" ] || ! git cat-file -e "$base^{commit}" 2> /dev/null; then
  base="$(git rev-list --max-parents=0 HEAD | tail -n 1)"
  echo "ndap: no applied commit recorded (or not in this history): the review pack compares with the first commit, $base"
fi
ndap review --base "$base" --out plan/REVIEW.md || ndap_fail "ndap review failed"
echo "---- review pack (against $base) ----"; cat plan/REVIEW.md
"""
    + build_tools(PYTHON_RUNTIME)
    + """\
python3 - "$commit" "$base" "$TOOLS_WHEEL" "$TOOLS_SHA256" $STACKS > plan/manifest.json <<'PY'
import hashlib, json, sys
commit, base, wheel, wheel_sha256, stacks = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
plans = {s: hashlib.sha256(open(f"plan/{s}/ndap.tfplan", "rb").read()).hexdigest() for s in stacks}
tools = {"wheel": wheel, "sha256": wheel_sha256}
print(json.dumps({"commit": commit, "reviewed_against": base, "stacks": stacks, "plans": plans, "tools": tools}, indent=2))
PY
sha256sum plan/manifest.json | cut -d ' ' -f 1 > plan/manifest.sha256
echo "ndap: plan manifest sha256 $(cat plan/manifest.sha256) (the approver sees it; apply checks it)"
"""
)

APPLY_SCRIPT = (
    """\
[ -n "${MANIFEST_SHA256:-}" ] || ndap_fail "no approved manifest digest (MANIFEST_SHA256): apply runs only from the pipeline, after the plan step"
[ -f plan/manifest.json ] || ndap_fail "the plan artifact holds no plan/manifest.json: refusing to apply"
actual="$(sha256sum plan/manifest.json | cut -d ' ' -f 1)"
[ "$actual" = "$MANIFEST_SHA256" ] || ndap_fail "plan manifest sha256 is $actual, the approved one is $MANIFEST_SHA256: refusing to apply"
for stack in $STACKS; do
  expected="$(python3 -c 'import json,sys; print(json.load(open("plan/manifest.json"))["plans"].get(sys.argv[1], ""))' "$stack")"
  [ -n "$expected" ] || ndap_fail "the manifest has no plan for $stack: refusing to apply"
  [ -f "plan/$stack/ndap.tfplan" ] || ndap_fail "the saved plan of $stack is missing: refusing to apply"
  got="$(sha256sum "plan/$stack/ndap.tfplan" | cut -d ' ' -f 1)"
  [ "$got" = "$expected" ] || ndap_fail "the saved plan of $stack has sha256 $got, the manifest says $expected: refusing to apply"
done
"""
    + VERIFY_TOOLS
    + """\
approved=""
for stack in $STACKS; do
  case " $PROTECTED_STACKS " in *" $stack "*) ;; *) continue ;; esac
  if [ -z "$approved" ]; then
    [ -n "${PIPELINE_EXECUTION_ID:-}" ] || ndap_fail "$stack applies only after an approval of this pipeline execution, and no execution id was given: refusing to apply"
    aws codepipeline get-pipeline-state --name "$PIPELINE" > pipeline-state.json || ndap_fail "cannot read the state of $PIPELINE to check the approval"
    approved="$(python3 - "$APPROVAL_STAGE" "$PIPELINE_EXECUTION_ID" pipeline-state.json <<'PY'
import json, sys
stage_name, execution, path = sys.argv[1], sys.argv[2], sys.argv[3]
for stage in json.load(open(path)).get("stageStates", []):
    if stage.get("stageName") != stage_name:
        continue
    latest = stage.get("latestExecution", {})
    actions = stage.get("actionStates", [])
    by = next((a.get("latestExecution", {}).get("lastUpdatedBy", "") for a in actions), "")
    if latest.get("pipelineExecutionId") == execution and latest.get("status") == "Succeeded":
        print(by or "unknown")
PY
)"
    [ -n "$approved" ] || ndap_fail "$stack applies only after an approval of this pipeline execution ($PIPELINE_EXECUTION_ID), and $APPROVAL_STAGE did not succeed for it: refusing to apply"
    echo "ndap: approved by $approved for execution $PIPELINE_EXECUTION_ID"
  fi
done
for stack in $STACKS; do
  echo "---- apply of $stack (the saved, reviewed plan) ----"
  (
    cd "plan/$stack"
    [ -f providers.lock.hcl ] && cp providers.lock.hcl .terraform.lock.hcl
    # The providers the plan was made with, no other: the lock file is read only.
    terraform init -input=false -no-color -lockfile=readonly > init.log || { cat init.log >&2; ndap_fail "terraform init failed for $stack"; }
    terraform apply -input=false -no-color ndap.tfplan || ndap_fail "terraform apply of the saved plan failed for $stack (a stale plan is refused: start the pipeline again)"
  ) || exit 1
done
"""
    + PUBLISH_TOOLS
    + """\
commit="$(python3 -c 'import json; print(json.load(open("plan/manifest.json"))["commit"])')"
printf '{"commit": "%s", "manifest_sha256": "%s"}\\n' "$commit" "$MANIFEST_SHA256" > applied.json
aws s3 cp applied.json "s3://$ARTIFACT_BUCKET/$APPLIED_RECORD" > /dev/null || ndap_fail "applied, but the applied commit could not be recorded"
echo "ndap: applied $commit"
"""
)

INSTALL_TERRAFORM = (
    f'curl -fsSLo /tmp/terraform.zip "https://releases.hashicorp.com/terraform/{TERRAFORM_VERSION}/terraform_{TERRAFORM_VERSION}_linux_amd64.zip"',
    f'curl -fsSL "https://releases.hashicorp.com/terraform/{TERRAFORM_VERSION}/terraform_{TERRAFORM_VERSION}_SHA256SUMS" | grep linux_amd64 | sed "s| .*_linux_amd64.zip|  /tmp/terraform.zip|" | sha256sum -c -',
    "unzip -o -q /tmp/terraform.zip -d /usr/local/bin && rm /tmp/terraform.zip",
)
INSTALL_NDAP = (
    # The repository pins its toolchain (ndap-infra, the cdktf CLI, the policy linters).
    "make setup",
    'export PATH="$PWD/.venv/bin:$PATH"',
)


def _buildspec(
    variables: dict[str, str],
    body: str,
    install: tuple[str, ...],
    exported: tuple[str, ...] = (),
    artifacts: bool = False,
) -> str:
    commands: list[Any] = [LiteralScalarString(script(PROFILES, body))]
    env: dict[str, Any] = {"shell": "bash", "variables": variables}
    if exported:
        env["exported-variables"] = list(exported)
        commands += [
            'MANIFEST_SHA256="$(cat plan/manifest.sha256)"',
            'PLAN_BUILD_ID="$CODEBUILD_BUILD_ID"',
        ]
    document: dict[str, Any] = {
        "version": 0.2,
        "env": env,
        "phases": {
            "install": {
                "runtime-versions": {"python": PYTHON_RUNTIME},
                "commands": list(install),
            },
            "build": {"commands": commands},
        },
    }
    if artifacts:
        document["artifacts"] = {"files": ["plan/**/*"]}
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    out = StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def platform_stacks(config: NdapConfig) -> tuple[tuple[str, str], ...]:
    """(stack, account), in the order the stacks apply."""
    management = config.organization.management_account_id
    stacks = [(ORGANIZATION_STACK, management)]
    security = security_account_ids(config)
    if len(security) == len(SECURITY_STACKS):
        stacks += zip(SECURITY_STACKS, security, strict=True)
    if config.tooling_account_id is not None:
        stacks.append((TOOLING, config.tooling_account_id))
    if len(security) == len(SECURITY_STACKS):
        stacks.append((ORGANIZATION_TRAIL_STACK, management))
    stacks += [(environment_stack(e), config.account_id(e)) for e in config.enabled_environments()]
    return tuple(stacks)


def platform_pipeline_spec(config: NdapConfig) -> PlatformPipelineSpec | None:
    """The pipeline, or None without ``platform_pipeline`` or a tooling account."""
    pipeline = config.platform_pipeline
    tooling = config.tooling_account_id
    if pipeline is None or tooling is None:
        return None
    stacks = platform_stacks(config)
    protected = (
        ORGANIZATION_STACK,
        *(stack for stack, _ in stacks if stack in (*SECURITY_STACKS, ORGANIZATION_TRAIL_STACK)),
        TOOLING,
        *(environment_stack(e) for e in PROTECTED_ENVIRONMENTS),
    )
    state = config.deploy.state
    drift = drift_detection_spec(config)
    return PlatformPipelineSpec(
        org=config.organization.name,
        tooling=tooling,
        region=config.organization.home_region,
        repository=pipeline.repository,
        git_host=pipeline.git_host,
        branch=pipeline.branch,
        config_path=pipeline.config_path,
        approvers=pipeline.approvers,
        stacks=stacks,
        protected=protected,
        artifact_bucket=names.artifact_bucket(config.organization.name, tooling),
        state_bucket=state.bucket if state is not None else None,
        state_keys=tuple(state.key(s) for s, _ in stacks) if state is not None else (),
        state_kms_key_arn=state.kms_key_arn if state is not None else None,
        state_readers=(drift.build_role_arn,) if drift is not None else (),
    )
