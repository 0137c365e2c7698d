"""Retraining triggers, per project and environment: plain data (no cdktf).

Why and how: docs/design-notes.md, section ndap_infra/pipelines/retraining.py."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ndap_infra.config.enums import (
    AcceptanceRetraining,
    Environment,
    ProductionRetraining,
    RetrainingStrategy,
)
from ndap_infra.config.model import DEFAULT_ACCEPTANCE_SCHEDULE, MlProjectConfig, NdapConfig
from ndap_infra.iam.document import Condition, PolicyDocument, Statement
from ndap_infra.iam.trust import SCHEDULER_SERVICE, service_trust
from ndap_infra.names import pipelines as names
from ndap_infra.names.platform import bucket_name, kms_alias
from ndap_infra.pipelines.roles import RoleSpec


class TriggerKind(StrEnum):
    OBJECT_CREATED = "object-created"
    SCHEDULE = "schedule"
    DRIFT_ALARM = "drift-alarm"


class TrainingMode(StrEnum):
    FROM_SCRATCH = "from-scratch"
    FROM_PREVIOUS_STATE = "from-previous-state"


TRAINING_MODE_PARAMETER = "TrainingMode"
TRIGGERED_BY_PARAMETER = "TriggeredBy"
ACCEPTANCE_SCHEDULE_TRIGGER = "acceptance-schedule"
EVENTS_SERVICE = "events.amazonaws.com"
ALARM_PERIOD_SECONDS = 3600
ALARM_EVALUATION_PERIODS = 1


@dataclass(frozen=True)
class DriftAlarm:
    name: str
    arn: str
    namespace: str
    metric: str
    threshold: float
    period_seconds: int = ALARM_PERIOD_SECONDS
    evaluation_periods: int = ALARM_EVALUATION_PERIODS


@dataclass(frozen=True)
class RetrainingTrigger:
    """One project's retraining trigger in one environment account."""

    project: str
    environment: Environment
    kind: TriggerKind
    name: str
    """The rule's or the schedule's name."""
    source_arn: str
    """The rule's or the schedule's ARN (what the role's trust names)."""
    pipeline_arn: str
    parameters: tuple[tuple[str, str], ...]
    role: RoleSpec
    reason: str
    """Why this environment retrains on this trigger (from the configuration)."""
    event_pattern: dict[str, Any] | None = None
    schedule: str | None = None
    alarm: DriftAlarm | None = None

    @property
    def event_pattern_json(self) -> str:
        return json.dumps(self.event_pattern, sort_keys=True)


@dataclass(frozen=True)
class Retraining:
    """How one project retrains in one environment: on a trigger, or not by itself."""

    kind: TriggerKind | None
    mode: TrainingMode
    triggered_by: str
    reason: str


def _strategy_kind(strategy: RetrainingStrategy) -> TriggerKind:
    return {
        RetrainingStrategy.AD_HOC: TriggerKind.OBJECT_CREATED,
        RetrainingStrategy.PERIODIC: TriggerKind.SCHEDULE,
        RetrainingStrategy.DRIFT: TriggerKind.DRIFT_ALARM,
    }[strategy]


def retraining_in(project: MlProjectConfig, env: Environment) -> Retraining:
    """The decision for one environment (see the module docstring)."""
    r = project.retraining
    strategy = r.strategy.value
    own = _strategy_kind(r.strategy)
    warm = r.acceptance is AcceptanceRetraining.FROM_PREVIOUS_STATE
    if env is Environment.DEV:
        return Retraining(own, TrainingMode.FROM_SCRATCH, strategy, f"dev retrains {strategy}")
    if env is Environment.ACC:
        if r.acceptance is AcceptanceRetraining.PERIODIC_FROM_SCRATCH:
            return Retraining(
                TriggerKind.SCHEDULE,
                TrainingMode.FROM_SCRATCH,
                ACCEPTANCE_SCHEDULE_TRIGGER,
                "acceptance: periodic-from-scratch",
            )
        if warm:
            return Retraining(
                own,
                TrainingMode.FROM_PREVIOUS_STATE,
                strategy,
                f"acceptance: from-previous-state, {strategy}",
            )
        return Retraining(
            None,
            TrainingMode.FROM_SCRATCH,
            "release",
            "acceptance: if-model-changed (acc retrains only when a release changes the model)",
        )
    if env is Environment.PRD:
        if project.production_retraining is ProductionRetraining.RETRAIN:
            mode = TrainingMode.FROM_PREVIOUS_STATE if warm else TrainingMode.FROM_SCRATCH
            return Retraining(own, mode, strategy, f"production: retrain, {strategy}")
        return Retraining(
            None,
            TrainingMode.FROM_SCRATCH,
            "release",
            "production: reuse-acc-artifacts (prd deploys what acc verified, by digest)",
        )
    return Retraining(None, TrainingMode.FROM_SCRATCH, "none", "no pipeline deploys here")


def acceptance_schedule(project: MlProjectConfig) -> str:
    r = project.retraining
    if r.acceptance_schedule is not None:
        return r.acceptance_schedule
    if r.strategy is RetrainingStrategy.PERIODIC and r.schedule is not None:
        return r.schedule
    return DEFAULT_ACCEPTANCE_SCHEDULE


def object_created_pattern(bucket: str, prefix: str) -> dict[str, Any]:
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": prefix}]}},
    }


def alarm_pattern(alarm_arn: str) -> dict[str, Any]:
    return {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "resources": [alarm_arn],
        "detail": {"state": {"value": ["ALARM"]}},
    }


def trigger_policy(pipeline_arn: str, schedule_key: tuple[str, str, str] | None) -> PolicyDocument:
    """Start the project's training pipeline in this environment, and nothing else (a
    schedule also decrypts itself with the environment's data key)."""
    statements = [
        Statement(
            "StartTheProjectsTrainingPipeline",
            "Allow",
            actions=("sagemaker:StartPipelineExecution",),
            resources=(pipeline_arn,),
        )
    ]
    if schedule_key is not None:
        region, account, alias = schedule_key
        statements.append(
            Statement(
                "DecryptTheSchedule",
                "Allow",
                actions=("kms:Decrypt",),
                resources=(f"arn:aws:kms:{region}:{account}:key/*",),
                conditions=(
                    Condition.of("ForAnyValue:StringEquals", "kms:ResourceAliases", alias),
                ),
            )
        )
    return PolicyDocument(tuple(statements))


def retraining_trigger(
    config: NdapConfig, project: MlProjectConfig, env: Environment
) -> RetrainingTrigger | None:
    """The trigger of ``project`` in ``env``, or None where it does not retrain by itself
    (or without a tooling account: nothing deploys the training pipeline then)."""
    if config.tooling_account_id is None or env not in names.PIPELINE_ENVIRONMENTS:
        return None
    decision = retraining_in(project, env)
    if decision.kind is None:
        return None
    org = config.organization.name
    region = config.organization.home_region
    account = config.account_id(env)
    p = project.name
    name = names.retraining_name(p)
    pipeline_arn = f"arn:aws:sagemaker:{region}:{account}:pipeline/{names.training_pipeline(p)}"
    parameters = (
        (TRAINING_MODE_PARAMETER, decision.mode.value),
        (TRIGGERED_BY_PARAMETER, decision.triggered_by),
    )
    if decision.kind is TriggerKind.SCHEDULE:
        source_arn = f"arn:aws:scheduler:{region}:{account}:schedule/default/{name}"
        service = SCHEDULER_SERVICE
        schedule_key: tuple[str, str, str] | None = (
            region,
            account,
            kms_alias(org, env, "data"),
        )
    else:
        source_arn = f"arn:aws:events:{region}:{account}:rule/{name}"
        service = EVENTS_SERVICE
        schedule_key = None
    role = RoleSpec(
        name=names.retraining_role_name(org, p),
        trust=service_trust(service, account, (source_arn,)),
        policy=trigger_policy(pipeline_arn, schedule_key),
        tags={names.PROJECT_TAG: p},
        description=f"{p}: starts the project's training pipeline in {env.value} "
        f"({decision.kind.value}); nothing else",
    )
    trigger = RetrainingTrigger(
        project=p,
        environment=env,
        kind=decision.kind,
        name=name,
        source_arn=source_arn,
        pipeline_arn=pipeline_arn,
        parameters=parameters,
        role=role,
        reason=decision.reason,
    )
    r = project.retraining
    if decision.kind is TriggerKind.SCHEDULE:
        expression = (
            acceptance_schedule(project)
            if decision.triggered_by == ACCEPTANCE_SCHEDULE_TRIGGER
            else (r.schedule or DEFAULT_ACCEPTANCE_SCHEDULE)
        )
        return replace(trigger, schedule=expression)
    if decision.kind is TriggerKind.OBJECT_CREATED:
        bucket = bucket_name(org, env, "data", account)
        return replace(trigger, event_pattern=object_created_pattern(bucket, names.input_prefix(p)))
    assert r.metric is not None and r.threshold is not None  # guarded by validation
    alarm_name = f"{name}-drift"
    alarm = DriftAlarm(
        name=alarm_name,
        arn=f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm_name}",
        namespace=names.metrics_namespace(p),
        metric=r.metric,
        threshold=r.threshold,
    )
    return replace(trigger, event_pattern=alarm_pattern(alarm.arn), alarm=alarm)


def retraining_triggers(config: NdapConfig, env: Environment) -> list[RetrainingTrigger]:
    """Every project's trigger in ``env``."""
    found = (retraining_trigger(config, project, env) for project in config.ml_projects)
    return [trigger for trigger in found if trigger is not None]
