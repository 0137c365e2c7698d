"""The release procedure and the retraining of one project, in words for its README.

Every sentence is chosen by the project's configuration through the same decisions the
pipelines are built from (``MlProjectConfig.reuses_acc_artifacts`` for prd's deploy step,
``pipelines.retraining.retraining_in`` for the triggers), so the README cannot promise a
release procedure the pipelines do not follow."""

from __future__ import annotations

from ndap_infra.config.enums import AcceptanceRetraining, Environment
from ndap_infra.config.model import MlProjectConfig, NdapConfig
from ndap_infra.names.pipelines import (
    ORCHESTRATION_DEFINITION,
    PIPELINE_ENVIRONMENTS,
    input_prefix,
    metrics_namespace,
    training_pipeline,
)
from ndap_infra.names.platform import bucket_name
from ndap_infra.pipelines.retraining import (
    ACCEPTANCE_SCHEDULE_TRIGGER,
    TriggerKind,
    acceptance_schedule,
    retraining_in,
)

REUSE_WORDS = "deploys the model package acc approved for that same tag"
"""What prd does with ``retraining.production: reuse-acc-artifacts`` (tests key on it)."""
RETRAIN_WORDS = "builds the release again from the tag"
"""What prd does with ``retraining.production: retrain``."""


def data_bucket(config: NdapConfig, env: Environment) -> str:
    """The environment's data bucket, or its name with ``ACCOUNT_ID`` while the account
    is still to be created by the organization stack."""
    account = config.environments.get(env).account_id or "ACCOUNT_ID"
    return bucket_name(config.organization.name, env, "data", account)


def acc_words(project: MlProjectConfig) -> str:
    """How acc builds a release, by ``retraining.acceptance``."""
    acceptance = project.retraining.acceptance
    if acceptance is AcceptanceRetraining.PERIODIC_FROM_SCRATCH:
        return (
            "acc builds every release from scratch (`make model` with "
            "`NDAP_TRAINING_MODE=from-scratch`), and also retrains from scratch on "
            f"`{acceptance_schedule(project)}` (`retraining.acceptance: periodic-from-scratch`)."
        )
    if acceptance is AcceptanceRetraining.FROM_PREVIOUS_STATE:
        return (
            "acc retrains a release whose change plan says so by warm-starting from the "
            "model it runs (`NDAP_TRAINING_MODE=from-previous-state`, `NDAP_PREVIOUS_MODEL`), "
            "and also on the project's own trigger (`retraining.acceptance: "
            "from-previous-state`)."
        )
    return (
        "acc retrains only when a release changes the model (the change plan: training, "
        "features, data configuration or orchestration changed) and keeps the model it "
        "approved before otherwise; nothing retrains acc by itself "
        "(`retraining.acceptance: if-model-changed`)."
    )


def prd_words(config: NdapConfig, project: MlProjectConfig) -> list[str]:
    """Step 4 of the flow: how a release reaches prd, by ``retraining.production``."""
    pipeline = project.pipeline
    develop, main = f"`{pipeline.develop_branch}`", f"`{pipeline.main_branch}`"
    approval = " waits for a manual approval, then" if pipeline.prd_approval else ""
    reach = (
        f"4. **prd** deploys release tags whose commit {main} contains. Merge the release "
        f"into {main} before you push its tag: acc and prd start together, and prd waits "
        "at the approval (approve once acceptance in acc has passed). A tag pushed before "
        f"{main} "
        "contained its commit is refused by prd's `VerifyRelease` (not on "
        f"{main}): merge it into {main} and start the prd pipeline again for the same tag "
        f"(CodePipeline's *Release change*). prd{approval}"
    )
    if project.reuses_acc_artifacts:
        return [
            f"{reach} {REUSE_WORDS}: the model, its metadata and `{ORCHESTRATION_DEFINITION}` "
            "exactly as acc's register step recorded them, each checked by sha256 "
            "(`retraining.production: reuse-acc-artifacts`). prd does not run "
            "`make model` and never retrains by itself. A new tag cut on "
            f"{main} has no package acc approved and is refused: release the tag acc "
            f"tested (cut from {develop})."
        ]
    return [
        f"{reach} {RETRAIN_WORDS} (`retraining.production: retrain`): it runs "
        "`make model` itself when the change plan says so (training mode "
        f"`{retraining_in(project, Environment.PRD).mode.value}`) and deploys what it "
        "built; nothing of acc's artifacts is reused. prd also retrains by itself on the "
        "project's trigger (see below)."
    ]


def trigger_words(config: NdapConfig, project: MlProjectConfig, env: Environment) -> str:
    """What starts the project's training pipeline in ``env`` by itself."""
    decision = retraining_in(project, env)
    r = project.retraining
    if decision.kind is TriggerKind.OBJECT_CREATED:
        return f"a new object under `s3://{data_bucket(config, env)}/{input_prefix(project.name)}`"
    if decision.kind is TriggerKind.SCHEDULE:
        schedule = (
            acceptance_schedule(project)
            if decision.triggered_by == ACCEPTANCE_SCHEDULE_TRIGGER
            else r.schedule
        )
        return f"the schedule `{schedule}`"
    if decision.kind is TriggerKind.DRIFT_ALARM:
        return (
            f"the drift alarm: `{r.metric}` (CloudWatch namespace "
            f"`{metrics_namespace(project.name)}`) above {r.threshold}"
        )
    if env is Environment.PRD:
        return "never: prd deploys what acc verified"
    return "never: only a release that changes the model retrains acc"


def retraining_table(config: NdapConfig, project: MlProjectConfig) -> list[str]:
    """One row per pipeline environment: what retrains it by itself, and how."""
    lines = [
        "## Retraining, per environment",
        "",
        f"A trigger starts the SageMaker pipeline `{training_pipeline(project.name)}` in its "
        "environment with the parameters `TrainingMode` and `TriggeredBy` (from "
        "`retraining` in the platform configuration).",
        "",
        "| environment | retrains by itself on | training mode |",
        "|---|---|---|",
    ]
    enabled = config.enabled_environments()
    for env in PIPELINE_ENVIRONMENTS:
        if env not in enabled:
            continue
        decision = retraining_in(project, env)
        mode = f"`{decision.mode.value}`" if decision.kind is not None else "-"
        lines.append(f"| {env.value} | {trigger_words(config, project, env)} | {mode} |")
    return [*lines, ""]
