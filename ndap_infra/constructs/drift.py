"""Scheduled drift detection in the tooling account, as resources.

Every name, document and the buildspec come from ``ndap_infra.pipelines.drift`` (pure);
this module only creates the resources: the build and its log group, the schedule that
starts it, the alarm on its failures, and the roles (what each may do is explained in
``ndap_infra.pipelines.drift``). Construct ids are kept stable: renaming one replaces the
deployed resource.
"""

from __future__ import annotations

import json

from constructs import Construct

from ndap_infra.config.model import NdapConfig
from ndap_infra.constructs.builds import build_project, role
from ndap_infra.constructs.storage import KeyProps, ManagedKey
from ndap_infra.iam.document import escape_terraform
from ndap_infra.pipelines.drift import (
    ALARM_PERIOD_SECONDS,
    BUILD_TIMEOUT_MINUTES,
    CONNECTION_AUTH,
    LOG_RETENTION_DAYS,
    SECURITY_AUDIT,
    DriftDetectionSpec,
    drift_detection_spec,
)
from ndap_infra.resources.aws import (
    CloudwatchLogGroup,
    CloudwatchMetricAlarm,
    CodebuildProjectSource,
    CodebuildProjectSourceAuth,
    IamRole,
    IamRolePolicy,
    IamRolePolicyAttachment,
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetRetryPolicy,
)

# EventBridge Scheduler's universal target for CodeBuild's StartBuild API.
START_BUILD_TARGET = "arn:aws:scheduler:::aws-sdk:codebuild:startBuild"


class DriftReader(Construct):
    """The read-only role the drift build assumes in one account (``<org>-drift-reader``):
    trusted by the tooling account's drift build role alone; ``SecurityAudit`` (reads of
    resource configuration and policies, which a plan's refresh needs) with reads of data
    and secrets denied."""

    @classmethod
    def for_config(cls, scope: Construct, id_: str, config: NdapConfig) -> DriftReader | None:
        """The reader when scheduled drift detection is configured and enabled, else None."""
        spec = drift_detection_spec(config)
        return None if spec is None else cls(scope, id_, spec)

    def __init__(self, scope: Construct, id_: str, spec: DriftDetectionSpec) -> None:
        super().__init__(scope, id_)
        role = IamRole(
            self,
            "role",
            name=spec.reader_role,
            assume_role_policy=spec.reader_trust().to_terraform_json(),
            description="drift detection: reads resource configuration (never data) for "
            "terraform plan",
        )
        IamRolePolicyAttachment(self, "security-audit", role=role.name, policy_arn=SECURITY_AUDIT)
        IamRolePolicy(
            self,
            "never-read-data",
            name="never-read-data",
            role=role.id,
            policy=spec.reader_guard().to_terraform_json(),
        )


class ScheduledDriftDetection(Construct):
    """The build that runs ``ndap drift``, its schedule, its alarm and its roles (the
    tooling account's own reader is a ``DriftReader``, as in every other account)."""

    @classmethod
    def for_config(
        cls,
        scope: Construct,
        id_: str,
        config: NdapConfig,
        alarm_topic_arn: str,
        connection_arn: str | None,
    ) -> ScheduledDriftDetection | None:
        """The construct when ``drift_detection`` is configured and enabled, else None;
        ``connection_arn``: the tooling account's GitHub connection (``tooling_spec``
        creates one whenever drift detection is on)."""
        spec = drift_detection_spec(config, alarm_topic_arn)
        if spec is None:
            return None
        if connection_arn is None:
            raise ValueError(
                "scheduled drift detection needs the tooling account's GitHub connection"
            )
        return cls(scope, id_, spec, connection_arn)

    def __init__(
        self, scope: Construct, id_: str, spec: DriftDetectionSpec, connection_arn: str
    ) -> None:
        super().__init__(scope, id_)
        if spec.alarm_topic_arn is None:
            raise ValueError("scheduled drift detection needs the tooling account's alarm topic")
        self.spec = spec
        key = ManagedKey(
            self,
            "key",
            KeyProps(
                alias=spec.key_alias,
                description=f"{spec.org} drift detection: its build logs and schedule",
                policy=spec.key_policy(),
            ),
        )
        logs = CloudwatchLogGroup(
            self,
            "logs",
            name=spec.log_group,
            retention_in_days=LOG_RETENTION_DAYS,
            kms_key_id=key.arn,
        )
        build_role = role(
            self,
            "build",
            name=spec.build_role,
            trust=spec.build_trust(),
            policy=spec.build_policy(connection_arn),
            description="drift detection build: reads state, assumes the read-only drift readers",
        )
        self.project = build_project(
            self,
            "build",
            name=spec.project,
            description=f"ndap drift over {spec.repository}@{spec.branch}: fails on drift",
            service_role_arn=build_role.arn,
            timeout_minutes=BUILD_TIMEOUT_MINUTES,
            log_group=logs.name,
            source=CodebuildProjectSource(
                type="GITHUB",
                location=spec.repository_url,
                git_clone_depth=1,
                buildspec=escape_terraform(spec.buildspec()),
                report_build_status=False,
                # The source's credential: the platform's GitHub connection, not a
                # CodeBuild source credential (a token someone would have to import).
                auth=[CodebuildProjectSourceAuth(type=CONNECTION_AUTH, resource=connection_arn)],
            ),
            source_version=spec.branch,
        )
        schedule_role = role(
            self,
            "schedule",
            name=spec.schedule_role,
            trust=spec.schedule_trust(),
            policy=spec.schedule_policy(),
            description="drift detection schedule: starts the drift build, nothing else",
        )
        SchedulerSchedule(
            self,
            "schedule",
            name=spec.schedule_name,
            group_name="default",
            description="starts the drift detection build",
            schedule_expression=spec.schedule,
            flexible_time_window=[SchedulerScheduleFlexibleTimeWindow(mode="OFF")],
            kms_key_arn=key.arn,
            state="ENABLED",
            target=[
                SchedulerScheduleTarget(
                    arn=START_BUILD_TARGET,
                    role_arn=schedule_role.arn,
                    input=json.dumps({"ProjectName": spec.project}),
                    retry_policy=[SchedulerScheduleTargetRetryPolicy(maximum_retry_attempts=2)],
                )
            ],
        )
        CloudwatchMetricAlarm(
            self,
            "failed-alarm",
            alarm_name=spec.alarm,
            alarm_description=(
                f"{spec.project} failed: the deployed platform differs from "
                f"{spec.repository}@{spec.branch} (drift), or it could not be checked; "
                "see the build's log"
            ),
            namespace="AWS/CodeBuild",
            metric_name="FailedBuilds",
            dimensions={"ProjectName": spec.project},
            statistic="Sum",
            period=ALARM_PERIOD_SECONDS,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[spec.alarm_topic_arn],
        )
