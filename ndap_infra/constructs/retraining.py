"""Retraining triggers and feature groups as resources, in one environment account.

Names, documents and decisions come from the pure layer (``ndap_infra.pipelines.retraining``
and ``ndap_infra.pipelines.features``); this module only turns them into resources.
Construct ids (``retraining/<project>/...``, ``features/<group>-v<version>``) are stable.
"""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from ndap_infra.constructs.pipelines import _spec_role
from ndap_infra.pipelines.features import FeatureStore
from ndap_infra.pipelines.retraining import RetrainingTrigger, TriggerKind
from ndap_infra.resources.aws import (
    CloudwatchEventRule,
    CloudwatchEventTarget,
    CloudwatchEventTargetRetryPolicy,
    CloudwatchEventTargetSagemakerPipelineTarget,
    CloudwatchEventTargetSagemakerPipelineTargetPipelineParameterList,
    CloudwatchMetricAlarm,
    SagemakerFeatureGroup,
    SagemakerFeatureGroupFeatureDefinition,
    SagemakerFeatureGroupOfflineStoreConfig,
    SagemakerFeatureGroupOfflineStoreConfigS3StorageConfig,
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetRetryPolicy,
    SchedulerScheduleTargetSagemakerPipelineParameters,
    SchedulerScheduleTargetSagemakerPipelineParametersPipelineParameter,
)

RETRY_ATTEMPTS = 2


class RetrainingTriggers(Construct):
    """Per project: the trigger role, and the rule (ad hoc, drift: with its alarm) or the
    schedule (periodic) that starts the project's training pipeline with it."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        triggers: Sequence[RetrainingTrigger],
        schedule_key_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        for trigger in triggers:
            node = Construct(self, trigger.project)
            role = _spec_role(node, "trigger", trigger.role)
            description = f"{trigger.project}: starts retraining ({trigger.reason})"
            if trigger.kind is TriggerKind.SCHEDULE:
                assert trigger.schedule is not None
                SchedulerSchedule(
                    node,
                    "schedule",
                    name=trigger.name,
                    group_name="default",
                    description=description,
                    schedule_expression=trigger.schedule,
                    flexible_time_window=[SchedulerScheduleFlexibleTimeWindow(mode="OFF")],
                    kms_key_arn=schedule_key_arn,
                    state="ENABLED",
                    target=[
                        SchedulerScheduleTarget(
                            arn=trigger.pipeline_arn,
                            role_arn=role.arn,
                            sagemaker_pipeline_parameters=[
                                SchedulerScheduleTargetSagemakerPipelineParameters(
                                    pipeline_parameter=[
                                        SchedulerScheduleTargetSagemakerPipelineParametersPipelineParameter(
                                            name=name, value=value
                                        )
                                        for name, value in trigger.parameters
                                    ]
                                )
                            ],
                            retry_policy=[
                                SchedulerScheduleTargetRetryPolicy(
                                    maximum_retry_attempts=RETRY_ATTEMPTS
                                )
                            ],
                        )
                    ],
                )
                continue
            if trigger.alarm is not None:
                alarm = trigger.alarm
                CloudwatchMetricAlarm(
                    node,
                    "drift-alarm",
                    alarm_name=alarm.name,
                    alarm_description=f"{trigger.project}: {alarm.metric} above "
                    f"{alarm.threshold:g} starts retraining",
                    namespace=alarm.namespace,
                    metric_name=alarm.metric,
                    statistic="Maximum",
                    period=alarm.period_seconds,
                    evaluation_periods=alarm.evaluation_periods,
                    threshold=alarm.threshold,
                    comparison_operator="GreaterThanThreshold",
                    treat_missing_data="notBreaching",
                )
            rule = CloudwatchEventRule(
                node,
                "rule",
                name=trigger.name,
                description=description,
                event_pattern=trigger.event_pattern_json,
                state="ENABLED",
            )
            CloudwatchEventTarget(
                node,
                "target",
                rule=rule.name,
                target_id="training-pipeline",
                arn=trigger.pipeline_arn,
                role_arn=role.arn,
                sagemaker_pipeline_target=[
                    CloudwatchEventTargetSagemakerPipelineTarget(
                        pipeline_parameter_list=[
                            CloudwatchEventTargetSagemakerPipelineTargetPipelineParameterList(
                                name=name, value=value
                            )
                            for name, value in trigger.parameters
                        ]
                    )
                ],
                retry_policy=[
                    CloudwatchEventTargetRetryPolicy(
                        maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=3600
                    )
                ],
            )


class FeatureGroups(Construct):
    """The feature group versions promoted to this environment, with the role SageMaker
    writes their offline store with (in the data bucket, encrypted with the data key)."""

    def __init__(self, scope: Construct, id_: str, store: FeatureStore, data_key_arn: str) -> None:
        super().__init__(scope, id_)
        role = _spec_role(self, "offline-store", store.role)
        for group in store.groups:
            if group.pipeline is not None:
                continue  # the team's feature pipeline creates it (never both)
            SagemakerFeatureGroup(
                self,
                group.name,
                feature_group_name=group.name,
                description=f"{group.group} version {group.version} (team {group.team})",
                record_identifier_feature_name=group.record_identifier,
                event_time_feature_name=group.event_time,
                feature_definition=[
                    SagemakerFeatureGroupFeatureDefinition(feature_name=name, feature_type=kind)
                    for name, kind in group.definitions
                ],
                offline_store_config=[
                    SagemakerFeatureGroupOfflineStoreConfig(
                        disable_glue_table_creation=True,
                        s3_storage_config=[
                            SagemakerFeatureGroupOfflineStoreConfigS3StorageConfig(
                                s3_uri=group.offline_store_uri, kms_key_id=data_key_arn
                            )
                        ],
                    )
                ],
                role_arn=role.arn,
                tags=group.tags,
            )
