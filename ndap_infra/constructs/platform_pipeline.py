"""The platform's own infrastructure pipeline, as resources.

Every name, document and script comes from ``ndap_infra.pipelines.platform`` (pure); this
module creates the pipeline, its two builds and three roles in the tooling account
(``PlatformPipeline``), and the planner and deployer roles in every account the stacks
deploy to (``PlatformRoles``). Construct ids are kept stable: renaming one replaces the
deployed resource.
"""

from __future__ import annotations

import json

from constructs import Construct

from ndap_infra.config.model import NdapConfig
from ndap_infra.constructs.builds import build_project, inline_source, role
from ndap_infra.constructs.pipelines import ToolingPipelines, source_stage
from ndap_infra.names import pipelines as names
from ndap_infra.names.platform import PLATFORM_PATH, deployer_name, planner_name
from ndap_infra.pipelines.platform import (
    ADMINISTRATOR_ACCESS,
    APPLY_STAGE,
    APPROVAL_ACTION,
    APPROVAL_STAGE,
    BUILD_TIMEOUT_MINUTES,
    PLAN_ARTIFACT,
    PLAN_NAMESPACE,
    PLAN_STAGE,
    READ_ONLY_ACCESS,
    PlatformPipelineSpec,
    platform_pipeline_spec,
)
from ndap_infra.resources.aws import (
    CloudwatchLogGroup,
    CodebuildProject,
    Codepipeline,
    CodepipelineArtifactStore,
    CodepipelineArtifactStoreEncryptionKey,
    CodepipelineStage,
    CodepipelineStageAction,
    CodepipelineTrigger,
    CodepipelineTriggerGitConfiguration,
    CodepipelineTriggerGitConfigurationPush,
    CodepipelineTriggerGitConfigurationPushBranches,
    IamRole,
    IamRolePolicy,
    IamRolePolicyAttachment,
)


class PlatformRoles(Construct):
    """``<org>-platform-planner`` and ``<org>-platform-deployer`` in one account, the same
    in every account: trusted only by the tooling account's plan and apply build roles."""

    @classmethod
    def for_config(cls, scope: Construct, id_: str, config: NdapConfig) -> PlatformRoles | None:
        spec = platform_pipeline_spec(config)
        return None if spec is None else cls(scope, id_, spec)

    def __init__(self, scope: Construct, id_: str, spec: PlatformPipelineSpec) -> None:
        super().__init__(scope, id_)
        for kind, name, trust, managed, guard, description in (
            (
                "planner",
                planner_name(spec.org),
                spec.planner_trust(),
                READ_ONLY_ACCESS,
                spec.planner_guard(),
                "platform pipeline: terraform plan of this account's stack (reads "
                "configuration, never data; changes nothing)",
            ),
            (
                "deployer",
                deployer_name(spec.org),
                spec.deployer_trust(),
                ADMINISTRATOR_ACCESS,
                spec.deployer_guard(),
                "platform pipeline: applies the reviewed, approved plan of this account's stack",
            ),
        ):
            made = IamRole(
                self,
                f"{kind}-role",
                name=name,
                path=PLATFORM_PATH,
                assume_role_policy=trust.to_terraform_json(),
                description=description,
            )
            IamRolePolicyAttachment(self, f"{kind}-managed", role=made.name, policy_arn=managed)
            IamRolePolicy(
                self,
                f"{kind}-guard",
                name="guard",
                role=made.id,
                policy=guard.to_terraform_json(),
            )


class PlatformPipeline(Construct):
    """The pipeline ``<org>-platform`` with its plan and apply builds, their log group and
    roles; artifacts in the tooling account's artifact store, source through its git
    connection."""

    @classmethod
    def for_config(
        cls, scope: Construct, id_: str, config: NdapConfig, tooling: ToolingPipelines
    ) -> PlatformPipeline | None:
        spec = platform_pipeline_spec(config)
        return None if spec is None else cls(scope, id_, spec, tooling)

    def __init__(
        self, scope: Construct, id_: str, spec: PlatformPipelineSpec, tooling: ToolingPipelines
    ) -> None:
        super().__init__(scope, id_)
        key_arn = tooling.key.arn
        connection = tooling.connections[spec.git_host].arn
        logs = CloudwatchLogGroup(
            self,
            "build-logs",
            name=spec.log_group,
            retention_in_days=tooling.spec.log_retention_days,
            kms_key_id=key_arn,
        )
        plan_role = role(
            self,
            "plan",
            name=spec.plan_role,
            path=names.PIPELINE_PATH,
            trust=spec.plan_build_trust(),
            policy=spec.plan_build_policy(key_arn, connection),
            description="platform pipeline, plan: assumes only the read-only planners; "
            "reads the state",
        )
        apply_role = role(
            self,
            "apply",
            name=spec.apply_role,
            path=names.PIPELINE_PATH,
            trust=spec.apply_build_trust(),
            policy=spec.apply_build_policy(key_arn),
            description="platform pipeline, apply: assumes only the deployers; applies the "
            "approved plans",
        )
        plan = build_project(
            self,
            "build-plan",
            name=spec.plan_project,
            description=f"ndap build, terraform plan of every stack and the review pack, "
            f"for {spec.repository}@{spec.branch}",
            service_role_arn=plan_role.arn,
            timeout_minutes=BUILD_TIMEOUT_MINUTES,
            log_group=logs.name,
            source=inline_source("CODEPIPELINE", spec.plan_buildspec()),
            artifacts="CODEPIPELINE",
            encryption_key=key_arn,
        )
        apply = build_project(
            self,
            "build-apply",
            name=spec.apply_project,
            description="applies exactly the reviewed, approved plans (checked by sha256)",
            service_role_arn=apply_role.arn,
            timeout_minutes=BUILD_TIMEOUT_MINUTES,
            log_group=logs.name,
            source=inline_source("CODEPIPELINE", spec.apply_buildspec()),
            artifacts="CODEPIPELINE",
            encryption_key=key_arn,
        )
        pipeline_role = role(
            self,
            "pipeline",
            name=spec.pipeline_role,
            path=names.PIPELINE_PATH,
            trust=spec.pipeline_trust(),
            policy=spec.pipeline_policy(key_arn, connection),
            description=f"{spec.pipeline}: the pipeline's service role",
        )
        Codepipeline(
            self,
            "pipeline",
            name=spec.pipeline,
            role_arn=pipeline_role.arn,
            pipeline_type="V2",
            # A newer push supersedes an execution waiting for approval: its plans would
            # be stale anyway once the newer one applies.
            execution_mode="SUPERSEDED",
            artifact_store=[
                CodepipelineArtifactStore(
                    location=tooling.bucket.bucket.bucket,
                    type="S3",
                    encryption_key=[CodepipelineArtifactStoreEncryptionKey(id=key_arn, type="KMS")],
                )
            ],
            stage=[
                source_stage(connection, spec.repository, spec.branch),
                _build_stage(PLAN_STAGE, plan, names.SOURCE_ARTIFACT, PLAN_NAMESPACE, {}),
                _approval(spec),
                _build_stage(
                    APPLY_STAGE,
                    apply,
                    PLAN_ARTIFACT,
                    None,
                    {
                        "MANIFEST_SHA256": f"#{{{PLAN_NAMESPACE}.MANIFEST_SHA256}}",
                        "PIPELINE_EXECUTION_ID": "#{codepipeline.PipelineExecutionId}",
                    },
                ),
            ],
            trigger=[
                CodepipelineTrigger(
                    provider_type="CodeStarSourceConnection",
                    git_configuration=[
                        CodepipelineTriggerGitConfiguration(
                            source_action_name=names.SOURCE_ACTION,
                            push=[
                                CodepipelineTriggerGitConfigurationPush(
                                    branches=[
                                        CodepipelineTriggerGitConfigurationPushBranches(
                                            includes=[spec.branch]
                                        )
                                    ]
                                )
                            ],
                        )
                    ],
                )
            ],
        )


def _build_stage(
    name: str,
    project: CodebuildProject,
    source: str,
    namespace: str | None,
    variables: dict[str, str],
) -> CodepipelineStage:
    configuration = {"ProjectName": project.name}
    if variables:
        configuration["EnvironmentVariables"] = json.dumps(
            [{"name": n, "value": v, "type": "PLAINTEXT"} for n, v in variables.items()],
            separators=(",", ":"),
        )
    return CodepipelineStage(
        name=name,
        action=[
            CodepipelineStageAction(
                name=name,
                category="Build",
                owner="AWS",
                provider="CodeBuild",
                version="1",
                input_artifacts=[source],
                output_artifacts=[PLAN_ARTIFACT] if name == PLAN_STAGE else None,
                namespace=namespace,
                configuration=configuration,
            )
        ],
    )


def _approval(spec: PlatformPipelineSpec) -> CodepipelineStage:
    return CodepipelineStage(
        name=APPROVAL_STAGE,
        action=[
            CodepipelineStageAction(
                name=APPROVAL_ACTION,
                category="Approval",
                owner="AWS",
                provider="Manual",
                version="1",
                configuration={
                    "CustomData": spec.approval_summary,
                    "ExternalEntityLink": spec.approval_link,
                },
            )
        ],
    )
