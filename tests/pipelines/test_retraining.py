"""Issue 8: retraining strategies as infrastructure, change-aware deploy steps, and the
feature-store path. Synthesized stacks of the reference platform (which has one project
of each strategy), the trigger roles (documents and the evaluator), the configuration's
bad input, and the deploy step's script run for real against a git history with a fake
AWS CLI (what it skips, and that it says so)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ndap_infra.config import Environment, Persona
from ndap_infra.config.enums import AcceptanceRetraining
from ndap_infra.config.load import validate_data
from ndap_infra.config.model import FeatureUseConfig
from ndap_infra.config.schedules import schedule_problem
from ndap_infra.evaluator import Request, Resource, evaluate, principal_for
from ndap_infra.names import pipelines as names
from ndap_infra.names.pipelines import TOOLS_POINTER, TOOLS_PREFIX
from ndap_infra.pipelines import buildspecs
from ndap_infra.pipelines.features import available_versions, promotion_refusal
from ndap_infra.pipelines.retraining import retraining_trigger
from ndap_infra.pipelines.spec import tooling_spec
from ndap_infra.proofs.principals import reachable_principals
from tests.helpers import ROOT, bash, issues_of, reference_data, resources

ORG = "acme-ml"
ACCOUNTS = {
    Environment.DEV: "300000000003",
    Environment.ACC: "400000000004",
    Environment.PRD: "500000000005",
}
REGION = "eu-west-1"
ENVS = tuple(ACCOUNTS)


def stack(reference_stacks: Any, env: Environment) -> dict[str, Any]:
    result: dict[str, Any] = reference_stacks[f"env-{env.value}"]
    return result


def training_arn(project: str, env: Environment) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNTS[env]}:pipeline/{project}-training"


def trigger_paths(reference_stacks: Any, env: Environment, rtype: str) -> set[str]:
    return set(resources(stack(reference_stacks, env), rtype))


# ---- GIVEN the reference platform WHEN synthesized THEN each strategy is infrastructure ----


def test_ad_hoc_retraining_is_a_rule_on_new_input_objects(reference_stacks: Any) -> None:
    dev = stack(reference_stacks, Environment.DEV)
    rule = resources(dev, "aws_cloudwatch_event_rule")["retraining/demand-forecast/rule"]
    assert rule["name"] == "demand-forecast-retrain"
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [f"{ORG}-dev-data-{ACCOUNTS[Environment.DEV]}"]},
            "object": {"key": [{"prefix": "projects/demand-forecast/input/"}]},
        },
    }
    target = resources(dev, "aws_cloudwatch_event_target")["retraining/demand-forecast/target"]
    assert target["arn"] == training_arn("demand-forecast", Environment.DEV)
    assert target["rule"].startswith("${aws_cloudwatch_event_rule.retraining_demand-forecast_rule")
    assert target["role_arn"].startswith("${aws_iam_role.retraining_demand-forecast_trigger-role")
    assert target["sagemaker_pipeline_target"] == [
        {
            "pipeline_parameter_list": [
                {"name": "TrainingMode", "value": "from-scratch"},
                {"name": "TriggeredBy", "value": "ad-hoc"},
            ]
        }
    ]
    # The data bucket sends its events to EventBridge, or the rule would never fire.
    notifications = resources(dev, "aws_s3_bucket_notification")
    assert notifications["data-bucket/notifications"]["eventbridge"] is True
    # acceptance: if-model-changed, production: reuse (default): no trigger in acc or prd.
    for env in (Environment.ACC, Environment.PRD):
        paths = trigger_paths(reference_stacks, env, "aws_cloudwatch_event_rule")
        assert "retraining/demand-forecast/rule" not in paths


def test_periodic_retraining_is_a_schedule_and_acc_retrains_from_scratch(
    reference_stacks: Any,
) -> None:
    for env, triggered_by in (
        (Environment.DEV, "periodic"),
        (Environment.ACC, "acceptance-schedule"),
    ):
        schedule = resources(stack(reference_stacks, env), "aws_scheduler_schedule")[
            "retraining/churn-prediction/schedule"
        ]
        assert schedule["name"] == "churn-prediction-retrain"
        assert schedule["schedule_expression"] == "cron(0 3 ? * MON *)"
        assert schedule["kms_key_arn"].startswith("${aws_kms_key.data-key")
        (target,) = schedule["target"]
        assert target["arn"] == training_arn("churn-prediction", env)
        assert target["role_arn"].startswith(
            "${aws_iam_role.retraining_churn-prediction_trigger-role"
        )
        assert target["sagemaker_pipeline_parameters"] == [
            {
                "pipeline_parameter": [
                    {"name": "TrainingMode", "value": "from-scratch"},
                    {"name": "TriggeredBy", "value": triggered_by},
                ]
            }
        ]
    # production: reuse-acc-artifacts: prd deploys what acc verified and never retrains.
    prd = trigger_paths(reference_stacks, Environment.PRD, "aws_scheduler_schedule")
    assert "retraining/churn-prediction/schedule" not in prd


def test_drift_retraining_is_an_alarm_whose_state_change_starts_the_run(
    reference_stacks: Any,
) -> None:
    for env in ENVS:
        s = stack(reference_stacks, env)
        alarm = resources(s, "aws_cloudwatch_metric_alarm")["retraining/fraud-scoring/drift-alarm"]
        assert alarm["alarm_name"] == "fraud-scoring-retrain-drift"
        assert (alarm["namespace"], alarm["metric_name"], alarm["threshold"]) == (
            "ndap/fraud-scoring",
            "feature_drift_score",
            0.2,
        )
        assert alarm["comparison_operator"] == "GreaterThanThreshold"
        rule = resources(s, "aws_cloudwatch_event_rule")["retraining/fraud-scoring/rule"]
        assert json.loads(rule["event_pattern"]) == {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "resources": [
                f"arn:aws:cloudwatch:{REGION}:{ACCOUNTS[env]}:alarm:fraud-scoring-retrain-drift"
            ],
            "detail": {"state": {"value": ["ALARM"]}},
        }
        target = resources(s, "aws_cloudwatch_event_target")["retraining/fraud-scoring/target"]
        assert target["arn"] == training_arn("fraud-scoring", env)
        (parameters,) = target["sagemaker_pipeline_target"]
        mode = "from-scratch" if env is Environment.DEV else "from-previous-state"
        assert {"name": "TrainingMode", "value": mode} in parameters["pipeline_parameter_list"]


def test_nonprod_has_no_retraining(reference_stacks: Any) -> None:
    nonprod = reference_stacks["env-nonprod"]
    for rtype in ("aws_cloudwatch_event_rule", "aws_scheduler_schedule", "aws_iam_role"):
        assert not [p for p in resources(nonprod, rtype) if p.startswith("retraining/")]


# ---- the trigger roles: only their one run, only for their rule or schedule --------------


def trigger_role(reference_stacks: Any, project: str, env: Environment) -> dict[str, Any]:
    roles = resources(stack(reference_stacks, env), "aws_iam_role")
    policies = resources(stack(reference_stacks, env), "aws_iam_role_policy")
    role = roles[f"retraining/{project}/trigger-role"]
    return {
        "role": role,
        "trust": json.loads(role["assume_role_policy"]),
        "policy": json.loads(policies[f"retraining/{project}/trigger-access"]["policy"]),
    }


@pytest.mark.parametrize(
    ("project", "env", "service", "source"),
    [
        ("demand-forecast", Environment.DEV, "events", "rule/demand-forecast-retrain"),
        (
            "churn-prediction",
            Environment.ACC,
            "scheduler",
            "schedule/default/churn-prediction-retrain",
        ),
        ("fraud-scoring", Environment.PRD, "events", "rule/fraud-scoring-retrain"),
    ],
)
def test_each_trigger_role_is_trusted_by_its_rule_or_schedule_only(
    reference_stacks: Any, project: str, env: Environment, service: str, source: str
) -> None:
    found = trigger_role(reference_stacks, project, env)
    assert found["role"]["name"] == f"{ORG}-{project}-retrain"
    assert found["role"]["path"] == "/ndap/pipelines/"
    (statement,) = found["trust"]["Statement"]
    assert statement["Principal"] == {"Service": f"{service}.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    account = ACCOUNTS[env]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:aws:{service}:{REGION}:{account}:{source}"},
    }
    start = [s for s in found["policy"]["Statement"] if s["Effect"] == "Allow"]
    assert start[0]["Action"] == "sagemaker:StartPipelineExecution"
    assert start[0]["Resource"] == training_arn(project, env)
    others = {s["Sid"] for s in start[1:]}
    assert others == ({"DecryptTheSchedule"} if service == "scheduler" else set())


def test_a_trigger_role_starts_its_run_and_nothing_else(reference_proof: Any) -> None:
    """Evaluated with the organization's guardrails: the drift trigger of fraud-scoring in
    prd may start fraud-scoring's training pipeline there, not another project's, not
    another action."""
    model = reference_proof.model
    account = ACCOUNTS[Environment.PRD]
    role = model.roles[f"arn:aws:iam::{account}:role/ndap/pipelines/{ORG}-fraud-scoring-retrain"]
    principal = principal_for(role)
    context = {"aws:RequestedRegion": REGION}

    def allowed(action: str, arn: str) -> bool:
        request = Request(principal, action, Resource(arn=arn, account_id=account), context)
        return evaluate(request, model.organization).allowed

    own = training_arn("fraud-scoring", Environment.PRD)
    assert allowed("sagemaker:StartPipelineExecution", own)
    assert not allowed(
        "sagemaker:StartPipelineExecution", training_arn("demand-forecast", Environment.PRD)
    )
    assert not allowed("sagemaker:UpdatePipeline", own)
    assert not allowed(
        "sagemaker:StartPipelineExecution",
        f"arn:aws:sagemaker:{REGION}:{account}:pipeline/fraud-scoring-batch-predict",
    )


def test_no_person_reaches_a_trigger_role_in_acc_or_prd(reference_proof: Any) -> None:
    model = reference_proof.model
    trigger_roles = {
        arn
        for arn in model.roles
        if arn.endswith("-retrain")
        and arn.split(":")[4] in (ACCOUNTS[Environment.ACC], ACCOUNTS[Environment.PRD])
    }
    assert trigger_roles, "the reference has triggers in acc and prd"
    for persona in Persona:
        reached = {principal.arn for _, principal in reachable_principals(model, persona)}
        assert not reached & trigger_roles, persona


# ---- acceptance and production choices change what is deployed ----------------------------


def project_with(**retraining: Any) -> Any:
    data = reference_data()
    data["ml_projects"][2]["retraining"] = {"strategy": "ad-hoc", **retraining}
    config, issues = validate_data(data)
    assert config is not None, issues
    return config, config.ml_projects[2]


@pytest.mark.parametrize(
    ("acceptance", "kind", "mode", "in_buildspec"),
    [
        ("if-model-changed", None, None, None),
        ("periodic-from-scratch", "schedule", "from-scratch", "ndap_force retrain"),
        (
            "from-previous-state",
            "object-created",
            "from-previous-state",
            "TRAINING_MODE: from-previous-state",
        ),
    ],
)
def test_the_acceptance_choice_changes_acc_trigger_and_deploy_step(
    acceptance: str, kind: str | None, mode: str | None, in_buildspec: str | None
) -> None:
    config, project = project_with(acceptance=acceptance)
    trigger = retraining_trigger(config, project, Environment.ACC)
    if kind is None:
        assert trigger is None
    else:
        assert trigger is not None and trigger.kind.value == kind
        assert ("TrainingMode", mode) in trigger.parameters
        if kind == "schedule":
            assert trigger.schedule == "rate(7 days)"  # default acceptance schedule
    spec = tooling_spec(config)
    assert spec is not None
    acc = spec.projects[2].stages[1]
    deploy = acc.before_approval[0].buildspec
    assert f"ACC_RETRAINING: {acceptance}" in deploy
    # Every acc deploy consults the change plan; only periodic-from-scratch overrides it.
    assert "ndap: change plan for" in deploy
    assert ("ndap_force retrain" in deploy) == (acceptance == "periodic-from-scratch")
    if in_buildspec:
        assert in_buildspec in deploy


def test_production_retrain_puts_the_trigger_in_prd_and_rebuilds_there() -> None:
    config, project = project_with(production="retrain")
    trigger = retraining_trigger(config, project, Environment.PRD)
    assert trigger is not None and trigger.kind.value == "object-created"
    spec = tooling_spec(config)
    assert spec is not None
    prd_deploy = spec.projects[2].stages[2].after_approval[0].buildspec
    assert "ndap_check_digest" not in prd_deploy and "make model" in prd_deploy
    config, project = project_with()
    assert retraining_trigger(config, project, Environment.PRD) is None


def test_production_retraining_has_one_source_of_truth() -> None:
    data = reference_data()
    data["ml_projects"][0]["pipeline"] = {"reuse_acc_artifacts": False}
    message = issues_of(data)["ml_projects[0].pipeline.reuse_acc_artifacts"]
    assert "contradicts retraining.production: 'reuse-acc-artifacts'" in message
    assert "retraining.production is the one setting" in message
    # The older setting alone still works, and agreeing settings are accepted.
    data = reference_data()
    del data["ml_projects"][2]["retraining"]["acceptance"]
    data["ml_projects"][2]["pipeline"] = {"reuse_acc_artifacts": False}
    data["ml_projects"][1]["pipeline"] = {"reuse_acc_artifacts": False}
    config, issues = validate_data(data)
    assert config is not None, issues
    assert [p.reuses_acc_artifacts for p in config.ml_projects] == [True, False, False]
    data["ml_projects"][2]["pipeline"]["digest_check"] = False  # fine without reuse
    assert validate_data(data)[0] is not None


# ---- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retraining", "field", "fragment"),
    [
        (
            {"strategy": "drift", "threshold": 0.3},
            "metric",
            "drift-triggered retraining needs a metric",
        ),
        ({"strategy": "drift", "metric": "psi"}, "threshold", "needs a threshold"),
        ({"strategy": "periodic"}, "schedule", "periodic retraining needs a schedule"),
        (
            {"strategy": "periodic", "schedule": "cron(0 3 * * MON *)"},
            "schedule",
            "exactly one of day-of-month and day-of-week",
        ),
        ({"strategy": "periodic", "schedule": "cron(0 3 ? * MON)"}, "schedule", "has 6 fields"),
        (
            {"strategy": "periodic", "schedule": "cron(0 25 ? * MON *)"},
            "schedule",
            "hours field '25'",
        ),
        ({"strategy": "periodic", "schedule": "rate(1 days)"}, "schedule", "write 'rate(1 day)'"),
        (
            {"strategy": "periodic", "schedule": "rate(2 weeks)"},
            "schedule",
            "minute(s), hour(s) or day(s)",
        ),
        ({"strategy": "periodic", "schedule": "weekly"}, "schedule", "neither 'cron(...)' nor"),
        (
            {
                "strategy": "ad-hoc",
                "acceptance": "periodic-from-scratch",
                "acceptance_schedule": "rate(0 days)",
            },
            "acceptance_schedule",
            "positive whole number",
        ),
        (
            {"strategy": "ad-hoc", "acceptance_schedule": "rate(7 days)"},
            "acceptance_schedule",
            "only with acceptance: periodic-from-scratch",
        ),
        ({"strategy": "ad-hoc", "acceptance": "sometimes"}, "acceptance", "if-model-changed"),
    ],
)
def test_bad_retraining_settings_are_rejected_naming_the_field(
    retraining: dict[str, Any], field: str, fragment: str
) -> None:
    data = reference_data()
    data["ml_projects"][2]["retraining"] = retraining
    messages = issues_of(data)
    assert fragment in messages[f"ml_projects[2].retraining.{field}"]


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 3 ? * MON *)",
        "cron(0/15 8-17 ? * MON-FRI *)",
        "cron(0 3 L * ? *)",
        "cron(0 3 15W * ? 2027)",
        "cron(0 3 ? * 2#1 *)",
        "cron(30 4 1,15 JAN,JUL ? *)",
        "rate(1 minute)",
        "rate(12 hours)",
    ],
)
def test_valid_schedules_parse(expression: str) -> None:
    assert schedule_problem(expression) is None


def test_projects_may_only_use_declared_feature_versions() -> None:
    data = reference_data()
    data["ml_projects"][0]["uses_features"] = [
        {"group": "store-sales", "version": 1},
        {"group": "customer-spend", "version": 7},
    ]
    messages = issues_of(data)
    assert (
        "is not a declared feature group (feature_groups: customer-spend, transaction-risk)"
        in messages["ml_projects[0].uses_features[0].group"]
    )
    assert (
        "has no version 7 (declared: 1, 2)" in messages["ml_projects[0].uses_features[1].version"]
    )


def test_feature_groups_are_checked() -> None:
    data = reference_data()
    group = data["feature_groups"][0]
    group["versions"].append(
        {"version": 1, "features": {"x": "Integral"}, "promoted_to": "nonprod"}
    )
    group["versions"][0]["features"]["customer_id"] = "String"
    data["feature_groups"].append({**group, "versions": group["versions"][:1]})
    messages = issues_of(data)
    assert "already declared by versions[0]" in messages["feature_groups[0].versions[2].version"]
    assert "promoted dev > acc > prd" in messages["feature_groups[0].versions[2].promoted_to"]
    assert (
        "record_identifier or event_time"
        in messages["feature_groups[0].versions[0].features.customer_id"]
    )
    assert "already used by feature_groups[0]" in messages["feature_groups[2].name"]
    data = reference_data()
    data["feature_groups"][0]["versions"][0]["features"] = {"spend": "Float"}
    assert "String" in issues_of(data)["feature_groups[0].versions[0].features.spend"]


def test_the_same_path_rule_in_two_kinds_is_ambiguous() -> None:
    data = reference_data()
    data["ml_projects"][1]["paths"] = {"training": ["src/**"], "serving": ["src/**"]}
    data["ml_projects"][2]["paths"] = {"docs": ["docs/", "[[:alpha:]]*"], "tests": ["docs"]}
    messages = issues_of(data)
    assert "is also a 'training' path rule" in messages["ml_projects[1].paths.serving[0]"]
    assert "keep it under one kind" in messages["ml_projects[1].paths.serving[0]"]
    # "docs/" and "docs" are the same rule, written differently
    assert (
        "is the same rule as 'docs', a 'tests' path rule"
        in messages["ml_projects[2].paths.docs[0]"]
    )
    assert "POSIX character classes" in messages["ml_projects[2].paths.docs[1]"]


# ---- the feature-store path ------------------------------------------------------------------


def test_feature_groups_exist_where_promoted_with_an_encrypted_offline_store(
    reference_stacks: Any,
) -> None:
    # The growth team's versions are its feature pipeline's to create
    # (tests/pipelines/test_feature_pipeline.py); the stacks create the risk team's.
    expected = {
        Environment.DEV: {"transaction-risk-v1"},
        Environment.ACC: {"transaction-risk-v1"},
        Environment.PRD: {"transaction-risk-v1"},
    }
    for env, groups in expected.items():
        s = stack(reference_stacks, env)
        found = resources(s, "aws_sagemaker_feature_group")
        assert {g["feature_group_name"] for g in found.values()} == groups
        for path, group in found.items():
            assert path == f"features/{group['feature_group_name']}"
            (offline,) = group["offline_store_config"]
            (storage,) = offline["s3_storage_config"]
            assert storage["s3_uri"] == f"s3://{ORG}-{env.value}-data-{ACCOUNTS[env]}/feature-store"
            assert storage["kms_key_id"].startswith("${aws_kms_key.data-key")
            assert "online_store_config" not in group
            assert group["role_arn"].startswith("${aws_iam_role.features_offline-store-role")
            assert group["tags"]["ndap:feature-group"] == "transaction-risk"
            features = [f["feature_name"] for f in group["feature_definition"]]
            assert features[:2] == ["record_id", "event_time"]
        role = resources(s, "aws_iam_role")["features/offline-store-role"]
        (trust,) = json.loads(role["assume_role_policy"])["Statement"]
        assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert not resources(reference_stacks["env-nonprod"], "aws_sagemaker_feature_group")


def test_data_scientists_reach_no_feature_group_outside_dev(reference_proof: Any) -> None:
    """No principal a data scientist can become is in acc or prd, so no feature group there
    is theirs to act on (the access proof's guardrails hold the rest)."""
    model = reference_proof.model
    protected = {ACCOUNTS[Environment.ACC], ACCOUNTS[Environment.PRD]}
    reached = reachable_principals(model, Persona.DATA_SCIENTIST)
    assert not [arn for arn, p in reached if p.account_id in protected]


def test_promotion_is_refused_while_a_needed_feature_version_is_missing(
    reference_config: Any,
) -> None:
    churn = reference_config.ml_projects[0]
    needs = churn.uses_features
    assert needs == (FeatureUseConfig(group="customer-spend", version=2),)
    for env in (Environment.DEV, Environment.ACC):
        assert (
            promotion_refusal(churn.name, env, needs, available_versions(reference_config, env))
            is None
        )
    refusal = promotion_refusal(
        churn.name, Environment.PRD, needs, available_versions(reference_config, Environment.PRD)
    )
    assert refusal == (
        "refusing to promote churn-prediction to prd: it needs feature group version(s) "
        "customer-spend-v2, not yet promoted to prd; promote the feature definitions first "
        "(feature_groups[].versions[].promoted_to: prd), then release the model again"
    )


def fake_bin(tmp_path: Path) -> Path:
    """A PATH with a fake ``aws`` (S3 in a directory, SageMaker calls logged and
    remembered), a ``pip`` that installs nothing (the repository's ndap_infra is on
    PYTHONPATH) and this interpreter as ``python``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "pip").write_text("#!/bin/bash\nexit 0\n")
    (bin_dir / "python").write_text(
        "#!/bin/bash\n"
        # `python -m pip install` installs nothing here: the platform's wheel is this
        # checkout's ndap_infra (the real install by hash: test_generated_build_run.py)
        'if [ "$1 $2 $3" = "-m pip install" ]; then\n'
        '  target=""; previous=""\n'
        '  for arg in "$@"; do [ "$previous" = --target ] && target="$arg"; previous="$arg"; done\n'
        f'  [ -z "$target" ] || {{ mkdir -p "$target"; ln -sfn "{ROOT}/ndap_infra" '
        '"$target/ndap_infra"; }\n'
        "  exit 0\n"
        "fi\n"
        f'exec "{sys.executable}" "$@"\n'
    )
    for tool in ("aws", "pip", "python"):
        (bin_dir / tool).chmod(0o755)
    return bin_dir


FAKE_AWS = r"""#!/bin/bash
log() { echo "$*" >> "$FAKE_LOG"; }
[ "$1" = "--profile" ] && shift 2
local_path() { case "$1" in s3://*) echo "$FAKE_S3/${1#s3://}" ;; *) echo "$1" ;; esac; }
case "$1 $2" in
  "configure set") exit 0 ;;
  "s3 cp")
    shift 2; recursive=false; paths=()
    for arg in "$@"; do
      case "$arg" in --quiet) ;; --recursive) recursive=true ;; *) paths+=("$arg") ;; esac
    done
    src="$(local_path "${paths[0]}")"; dst="$(local_path "${paths[1]}")"
    if [ "$recursive" = true ]; then
      [ -d "$src" ] || { echo "fatal error: ${paths[0]} does not exist" >&2; exit 1; }
      mkdir -p "$dst"; cp -r "$src/." "$dst"; exit 0
    fi
    [ -f "$src" ] || { echo "fatal error: ${paths[0]} does not exist" >&2; exit 1; }
    mkdir -p "$(dirname "$dst")"; cp "$src" "$dst"; exit 0 ;;
  "sagemaker describe-feature-group")
    for group in $FAKE_FEATURE_GROUPS; do [ "$group" = "$4" ] && { echo Created; exit 0; }; done
    echo "ResourceNotFound: $4" >&2; exit 254 ;;
  "sagemaker wait") exit 0 ;;
  "codebuild batch-get-builds")
    log "codebuild batch-get-builds $4"
    jq -n --arg id "$4" --arg commit "$(git rev-parse HEAD)" '{builds: [{
      id: $id, arn: ("arn:aws:codebuild:fake:build/" + $id), projectName: ($id | split(":")[0]),
      resolvedSourceVersion: $commit, buildStatus: "SUCCEEDED"}]}'
    exit 0 ;;
  "sagemaker describe-"*) grep -qx "$2 $4" "$FAKE_STATE" 2> /dev/null && exit 0; exit 254 ;;
  "sagemaker create-"* | "sagemaker update-"*)
    log "sagemaker $2 $4"
    echo "$2 $4" | sed 's/^create-/describe-/; s/^update-/describe-/' >> "$FAKE_STATE"
    echo "arn:aws:sagemaker:fake:$4"; exit 0 ;;
esac
echo "fake aws: unhandled: $*" >&2
exit 2
"""

MAKEFILE = """\
model:
\tmkdir -p dist
\techo "make model: NDAP_RETRAIN=$$NDAP_RETRAIN NDAP_TRAINING_MODE=$$NDAP_TRAINING_MODE \\
\tNDAP_PREVIOUS_MODEL=$$NDAP_PREVIOUS_MODEL" >> $$MAKE_LOG
\tcat src/training/train.py src/serving/app.py > dist/model.tar.gz
\techo '{"image": "'"$$IMAGE_REPOSITORY"'@sha256:%s"}' > dist/model-metadata.json
""" % ("ab" * 32)
# the image by digest in the project's repository of the platform registry: deploy steps
# refuse anything else (tests/pipelines/test_image_digests.py)


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", *files)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


class DeployRun:
    """Runs one synthesized buildspec the way CodeBuild does: its variables, then its build
    commands in one bash (the exported variable's command included)."""

    def __init__(self, tmp_path: Path, buildspec: str, **env: str) -> None:
        self.tmp = tmp_path
        self.spec = YAML(typ="safe").load(buildspec)
        self.bin = fake_bin(tmp_path)
        self.builds = 0
        self.env = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PYTHONPATH": str(ROOT),
            "FAKE_S3": str(tmp_path / "s3"),
            "FAKE_LOG": str(tmp_path / "aws.log"),
            "FAKE_STATE": str(tmp_path / "sagemaker.state"),
            "MAKE_LOG": str(tmp_path / "make.log"),
            "AWS_REGION": REGION,
            **{k: str(v) for k, v in self.spec["env"]["variables"].items()},
            **env,
        }
        # the platform published its tooling (a wheel by sha256) in the artifact store
        bucket = tmp_path / "s3" / str(self.spec["env"]["variables"]["ARTIFACT_BUCKET"])
        digest, wheel = "cd" * 32, "ndap_infra-0.1.0-py3-none-any.whl"
        published = bucket / TOOLS_PREFIX / "sha256" / digest
        published.mkdir(parents=True, exist_ok=True)
        (published / wheel).write_bytes(b"")
        (bucket / TOOLS_POINTER).write_text(f"{digest} {wheel}\n")

    def __call__(self, repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return self.step(self.spec, repo, **env)

    def step(
        self, spec: dict[str, Any], repo: Path, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """One build of ``spec`` (this run's, or another step's of the same pipeline), with
        the id CodeBuild gives each build."""
        git(repo, "clean", "-fdxq")  # every build starts from a fresh clone
        self.builds += 1
        variables = {k: str(v) for k, v in spec["env"]["variables"].items()}
        name = (
            f"{variables['PROJECT']}-{'register' if 'RELEASES_PREFIX' in variables else 'deploy'}"
            f"-{variables['TARGET_ENVIRONMENT']}"
        )
        build_id = f"{name}:build-{self.builds}"
        commands = spec["phases"]["build"]["commands"]
        exported = spec["env"].get("exported-variables", [])
        script = "set -e\n" + "\n".join(commands) + "".join(f'\necho "{n}=${n}"' for n in exported)
        return subprocess.run(
            ["bash", "-c", script],
            cwd=repo,
            env={
                **self.env,
                **variables,
                "CODEBUILD_BUILD_ID": build_id,
                "CODEBUILD_BUILD_ARN": f"arn:aws:codebuild:fake:build/{build_id}",
                **env,
            },
            capture_output=True,
            text=True,
            check=False,
        )

    def register(
        self, buildspec: str, deployed: subprocess.CompletedProcess[str], repo: Path
    ) -> subprocess.CompletedProcess[str]:
        """acc's register step after the deploy step ``deployed``, handed what it exported
        (as CodePipeline hands a namespace's variables)."""
        handed = dict(
            line.split("=", 1)
            for line in deployed.stdout.splitlines()
            if line.startswith(("NDAP_BUILD_ID=", "NDAP_MODEL_BUILT="))
        )
        return self.step(YAML(typ="safe").load(buildspec), repo, **handed)

    def make_log(self) -> list[str]:
        path = self.tmp / "make.log"
        return path.read_text().splitlines() if path.exists() else []

    def sagemaker_calls(self) -> list[str]:
        path = self.tmp / "aws.log"
        return path.read_text().splitlines() if path.exists() else []

    def deployed(self, data_bucket: str, project: str) -> dict[str, Any]:
        path = self.tmp / "s3" / data_bucket / "projects" / project / "deployed.json"
        result: dict[str, Any] = json.loads(path.read_text())
        return result


@pytest.fixture()
def fraud_dev(reference_config: Any, tmp_path: Path) -> tuple[DeployRun, Path]:
    spec = tooling_spec(reference_config)
    assert spec is not None
    (fraud,) = [p for p in spec.projects if p.name == "fraud-scoring"]
    deploy = fraud.stages[0].before_approval[0]
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "develop")
    commit(
        repo,
        {
            "Makefile": MAKEFILE,
            "src/training/train.py": "def train(): return 1\n",
            "src/serving/app.py": "def predict(x): return x\n",
            "pipelines/definition.json": json.dumps({"Version": "2020-12-01", "Steps": []}),
            "docs/index.md": "# fraud scoring\n",
        },
        "initial",
    )
    return DeployRun(tmp_path, deploy.buildspec, FAKE_FEATURE_GROUPS="customer-spend-v1"), repo


@pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("git") is None, reason="needs jq, git"
)
def test_the_deploy_step_skips_what_the_change_plan_skips_and_says_so(
    fraud_dev: tuple[DeployRun, Path],
) -> None:
    run, repo = fraud_dev
    data_bucket = run.env["DATA_BUCKET"]

    # GIVEN nothing deployed yet WHEN the deploy step runs THEN every stage runs.
    first = run(repo)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "ndap: change plan for fraud-scoring in dev (deployed: none" in first.stdout
    assert "run every stage: no deployment of fraud-scoring is recorded in dev" in first.stdout
    assert run.make_log() == [
        "make model: NDAP_RETRAIN=true NDAP_TRAINING_MODE=from-scratch NDAP_PREVIOUS_MODEL="
    ]
    model = run.deployed(data_bucket, "fraud-scoring")["model_name"]
    assert (
        f"sagemaker create-endpoint {names.endpoint_name('fraud-scoring')}" in run.sagemaker_calls()
    )
    assert "NDAP_RUN_INTEGRATION_TESTS=true" in first.stdout

    # WHEN only docs change THEN nothing is retrained or redeployed, and the output says so.
    docs = commit(repo, {"docs/index.md": "# fraud scoring, explained\n"}, "docs")
    calls = len(run.sagemaker_calls())
    second = run(repo)
    assert second.returncode == 0, second.stderr + second.stdout
    for stage in ("retrain", "redeploy_serving", "deploy_orchestration"):
        assert f"ndap: skip {stage}: " in second.stdout, stage
    assert "ndap:   skip retrain: no training, features, data_config" in second.stdout
    assert (
        "ndap:   skip unit_tests: docs changed alone: no test suite runs "
        "(paths.docs_run_tests: false)" in second.stdout
    )
    assert len(run.make_log()) == 1 and len(run.sagemaker_calls()) == calls
    state = run.deployed(data_bucket, "fraud-scoring")
    assert (state["commit"], state["model_name"]) == (docs, model)

    # WHEN only serving code changes THEN the deployed model is packaged again, not retrained.
    commit(repo, {"src/serving/app.py": "def predict(x): return 2 * x\n"}, "serving")
    third = run(repo)
    assert third.returncode == 0, third.stderr + third.stdout
    assert "ndap: skip retrain: " in third.stdout
    assert "packaging the deployed model again with the new serving code" in third.stdout
    assert run.make_log()[-1] == (
        "make model: NDAP_RETRAIN=false NDAP_TRAINING_MODE=none "
        "NDAP_PREVIOUS_MODEL=dist/previous-model.tar.gz"
    )
    assert any(c.startswith("sagemaker update-endpoint") for c in run.sagemaker_calls())

    # WHEN training code changes THEN it retrains (and the tests run).
    commit(repo, {"src/training/train.py": "def train(): return 2\n"}, "training")
    fourth = run(repo)
    assert fourth.returncode == 0, fourth.stderr + fourth.stdout
    assert "ndap:   run  retrain: training changed: src/training/train.py" in fourth.stdout
    assert run.make_log()[-1].startswith("make model: NDAP_RETRAIN=true")


@pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("git") is None, reason="needs jq, git"
)
def test_the_deploy_step_refuses_a_model_whose_feature_version_is_missing(
    fraud_dev: tuple[DeployRun, Path],
) -> None:
    run, repo = fraud_dev
    refused = run(repo, FAKE_FEATURE_GROUPS="customer-spend-v2")
    assert refused.returncode == 1
    assert (
        "ndap: refusing to promote fraud-scoring to dev: it needs feature group version(s) "
        "customer-spend-v1, not yet promoted to dev" in refused.stderr
    )
    assert run.make_log() == [] and run.sagemaker_calls() == []


def test_prd_checks_the_features_after_the_approval_only(reference_config: Any) -> None:
    """The check reads prd's feature groups as the prd deployer: before the approval,
    nothing may act as the prd deployer, so the verify step only checks the ref."""
    spec = tooling_spec(reference_config)
    assert spec is not None
    for project in spec.projects:
        prd = project.stages[2]
        verify, deploy = prd.before_approval[0].buildspec, prd.after_approval[0].buildspec
        needs = project.name in ("churn-prediction", "fraud-scoring")
        assert "ndap_check_features" not in verify and "--profile deployer" not in verify
        assert ("ndap_check_features" in deploy) == needs


def test_integration_tests_follow_the_deploy_steps_plan(
    reference_stacks: Any, tmp_path: Path
) -> None:
    pipeline = resources(reference_stacks["tooling"], "aws_codepipeline")[
        "pipelines/fraud-scoring/dev/pipeline"
    ]
    deploy = pipeline["stage"][1]["action"][0]
    integration = pipeline["stage"][2]["action"][0]
    assert deploy["namespace"] == "DeployVariables"
    assert json.loads(integration["configuration"]["EnvironmentVariables"]) == [
        {
            "name": "NDAP_RUN_INTEGRATION_TESTS",
            "value": "#{DeployVariables.NDAP_RUN_INTEGRATION_TESTS}",
            "type": "PLAINTEXT",
        }
    ]
    skip = bash(
        buildspecs.script(buildspecs.SKIP_INTEGRATION, buildspecs.INTEGRATION_TESTS),
        tmp_path,
        {"NDAP_RUN_INTEGRATION_TESTS": "false"},
    )
    assert skip.returncode == 0
    assert "ndap: skip integration_tests" in skip.stdout


def test_the_changes_library_is_what_the_deploy_step_runs(tmp_path: Path) -> None:
    """The deploy step's plan script is the library's own entry point: run it here."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "develop")
    base = commit(repo, {"src/training/a.py": "1\n", "README.md": "x\n"}, "one")
    commit(repo, {"README.md": "y\n"}, "docs")
    result = subprocess.run(
        [sys.executable, "-c", buildspecs.PLAN_SCRIPT],
        cwd=repo,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PLAN_BASE": base,
            "NDAP_PATH_RULES": json.dumps({"docs": ["*.md"]}),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    plan = json.loads(result.stdout)
    assert plan["stages"]["retrain"]["run"] is False
    assert plan["stages"]["unit_tests"]["run"] is False  # docs alone
    assert plan["serving"]["new_model"]["run"] is False


def test_acceptance_enum_is_in_the_schema() -> None:
    schema = json.loads((ROOT / "schema" / "ndap-config.schema.json").read_text())
    text = json.dumps(schema)
    for choice in AcceptanceRetraining:
        assert choice.value in text
    assert "feature_groups" in schema["properties"]


NDAP = (sys.executable, "-m", "ndap_infra")
REFERENCE = str(ROOT / "examples" / "reference.yaml")


def test_ndap_promotion_says_whether_a_promotion_would_be_refused() -> None:
    def promotion(env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*NDAP, "promotion", "--project", "churn-prediction", "--env", env, "-c", REFERENCE],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    ok = promotion("acc")
    assert ok.returncode == 0 and "may be promoted to acc" in ok.stdout
    refused = promotion("prd")
    assert refused.returncode == 1
    assert "refusing to promote churn-prediction to prd" in refused.stderr
    assert promotion("nonprod").returncode == 2


@pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("git") is None, reason="needs jq, git"
)
@pytest.mark.parametrize(
    "acceptance", ["if-model-changed", "periodic-from-scratch", "from-previous-state"]
)
def test_acc_retrains_a_release_as_its_choice_says(acceptance: str, tmp_path: Path) -> None:
    """GIVEN demand-forecast released to acc once WHEN a docs-only release follows THEN
    if-model-changed keeps (and does not re-register) the approved model, while
    periodic-from-scratch builds the release from scratch anyway, and each says so; WHEN a
    training change follows under from-previous-state THEN training starts from the model
    acc runs."""
    config, _ = project_with(acceptance=acceptance)
    spec = tooling_spec(config)
    assert spec is not None
    deploy, register = spec.projects[2].stages[1].before_approval
    run = DeployRun(tmp_path, deploy.buildspec)
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "develop")
    commit(
        origin,
        {
            "Makefile": MAKEFILE,
            "src/training/train.py": "def train(): return 1\n",
            "src/serving/app.py": "def predict(x): return x\n",
            "pipelines/definition.json": json.dumps({"Parameters": [{"Name": "ModelName"}]}),
            "pipelines/training.json": json.dumps({"Parameters": []}),
            "docs/index.md": "# demand\n",
        },
        "initial",
    )
    git(origin, "tag", "v1.0.0")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    git(clone, "checkout", "-q", "v1.0.0")
    first = run(clone)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "release v1.0.0" in first.stdout
    # the deploy build (project code) registers nothing: the register step does
    assert not [c for c in run.sagemaker_calls() if "model-package" in c]
    registered = run.register(register.buildspec, first, clone)
    assert registered.returncode == 0, registered.stderr + registered.stdout
    assert [c.split()[1] for c in run.sagemaker_calls() if "model-package" in c] == [
        "create-model-package",
        "update-model-package",
    ]
    assert "codebuild batch-get-builds demand-forecast-deploy-acc:build-1" in (
        run.sagemaker_calls()
    )
    assert "built by arn:aws:codebuild:fake:build/demand-forecast-deploy-acc:build-1" in (
        registered.stdout
    )
    release = tmp_path / "s3" / spec.bucket / "projects" / "demand-forecast" / "releases"
    assert (release / "v1-0-0" / "model.tar.gz").exists()
    assert "sagemaker create-pipeline demand-forecast-training" in run.sagemaker_calls()

    if acceptance == "from-previous-state":
        commit(origin, {"src/training/train.py": "def train(): return 2\n"}, "training")
    else:
        commit(origin, {"docs/index.md": "# demand, documented\n"}, "docs")
    git(origin, "tag", "v1.0.1")
    git(clone, "fetch", "-q", "origin", "--tags")
    git(clone, "checkout", "-q", "v1.0.1")
    second = run(clone)
    assert second.returncode == 0, second.stderr + second.stdout
    registered = run.register(register.buildspec, second, clone)
    assert registered.returncode == 0, registered.stderr + registered.stdout
    packages = [c for c in run.sagemaker_calls() if "model-package" in c]
    if acceptance == "if-model-changed":
        assert "ndap: skip retrain: no training, features, data_config" in second.stdout
        assert "ndap: skip register_model: acc kept the model it approved before" in (
            registered.stdout
        )
        assert len(run.make_log()) == 1 and len(packages) == 2
    elif acceptance == "from-previous-state":
        assert "ndap:   run  retrain: training changed: src/training/train.py" in second.stdout
        assert run.make_log()[-1] == (
            "make model: NDAP_RETRAIN=true NDAP_TRAINING_MODE=from-previous-state "
            "NDAP_PREVIOUS_MODEL=dist/previous-model.tar.gz"
        )
        assert run.make_log()[0].startswith(  # the first release had nothing to start from
            "make model: NDAP_RETRAIN=true NDAP_TRAINING_MODE=from-scratch"
        )
    else:
        assert "ndap:   run  retrain: acceptance: periodic-from-scratch builds every release" in (
            second.stdout
        )
        assert run.make_log()[-1].startswith(
            "make model: NDAP_RETRAIN=true NDAP_TRAINING_MODE=from-scratch"
        )
        assert len(packages) == 4
