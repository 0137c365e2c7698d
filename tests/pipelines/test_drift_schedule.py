"""Scheduled drift detection in the tooling account: configuration, synthesized
resources, least-privilege documents, real ``terraform validate``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ndap_infra.config.load import validate_data
from tests.helpers import reference_data, resources

DRIFT = {"repository": "acme/ml-platform-infra"}


def with_drift(**settings: Any) -> dict[str, Any]:
    data = reference_data()
    data["drift_detection"] = {**DRIFT, **settings}
    return data


def synthesized(data: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    from ndap_infra.stacks.synthesis import synthesize

    config, issues = validate_data(data)
    assert config is not None, issues
    stacks: dict[str, Any] = synthesize(config, tmp_path / "out").stack_json()
    return stacks


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: Any) -> dict[str, Any]:
    return synthesized(
        with_drift(state_bucket="acme-ml-terraform-state"), tmp_path_factory.mktemp("d")
    )


@pytest.fixture(scope="module")
def tooling(stacks: dict[str, Any]) -> dict[str, Any]:
    tooling: dict[str, Any] = stacks["tooling"]
    return tooling


# -- configuration -------------------------------------------------------------------------


def test_the_schedule_defaults_to_daily_and_is_validated() -> None:
    config, issues = validate_data(with_drift())
    assert config is not None and config.drift_detection is not None, issues
    assert config.drift_detection.schedule == "cron(0 6 * * ? *)"
    config, issues = validate_data(with_drift(schedule="every day"))
    assert config is None
    (issue,) = issues
    assert issue.dotted_path == "drift_detection.schedule"
    assert "'every day' is not an EventBridge schedule" in issue.message


def test_drift_detection_needs_the_tooling_account() -> None:
    data = with_drift()
    del data["organization"]["tooling_account_id"]
    del data["organization"]["tooling_email"]  # alone, it means: create the account
    data["ml_projects"] = []
    del data["platform_pipeline"]  # which needs the tooling account too
    config, issues = validate_data(data)
    assert config is None
    assert any(
        i.dotted_path == "drift_detection" and "tooling_account_id" in i.message for i in issues
    ), issues
    data["drift_detection"]["enabled"] = False
    assert validate_data(data)[0] is not None


def test_a_bad_organization_does_not_hide_the_drift_section_s_own_problems() -> None:
    data = with_drift(schedule="daily")
    data["organization"]["home_region"] = "mars"
    config, issues = validate_data(data)
    assert config is None
    paths = {i.dotted_path for i in issues}
    assert {"organization.home_region", "drift_detection.schedule"} <= paths, issues


def test_unknown_keys_are_rejected() -> None:
    config, issues = validate_data(with_drift(schedul="rate(1 day)"))
    assert config is None and any("schedul" in i.dotted_path for i in issues)


# -- the synthesized tooling stack -----------------------------------------------------------


def test_without_the_section_nothing_is_generated(tmp_path: Any) -> None:
    data = reference_data()
    data.pop("drift_detection", None)
    stacks = synthesized(data, tmp_path)
    for name, stack in stacks.items():
        text = json.dumps(stack.get("resource", {}))
        assert "drift-reader" not in text and "drift-detection" not in text, name


def test_a_build_started_on_schedule_runs_ndap_drift_from_the_repository(
    tooling: dict[str, Any],
) -> None:
    build = resources(tooling, "aws_codebuild_project")["drift-detection/build"]
    assert build["name"] == "acme-ml-drift-detection"
    (source,) = build["source"]
    assert source["type"] == "GITHUB"
    assert source["location"] == "https://github.com/acme/ml-platform-infra.git"
    assert build["source_version"] == "main"
    assert (
        "ndap_infra drift --config platform.yaml --assume-role acme-ml-drift-reader"  # the default
        in source["buildspec"]
    )
    schedule = resources(tooling, "aws_scheduler_schedule")["drift-detection/schedule"]
    assert schedule["schedule_expression"] == "cron(0 6 * * ? *)"
    (target,) = schedule["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:codebuild:startBuild"
    assert json.loads(target["input"]) == {"ProjectName": "acme-ml-drift-detection"}
    # its logs and its schedule are encrypted with a key of its own
    logs = resources(tooling, "aws_cloudwatch_log_group")["drift-detection/logs"]
    assert logs["kms_key_id"].startswith("${aws_kms_key.drift-detection_key_")
    assert schedule["kms_key_arn"] == logs["kms_key_id"]


def test_the_build_clones_through_the_platform_s_github_connection(
    tooling: dict[str, Any],
) -> None:
    """#16 finding 7: a GITHUB source needs a credential; the build's source is authorized
    by the tooling account's GitHub connection (source.auth CODECONNECTIONS), and its role
    may use that connection for the drift repository only."""
    (connection,) = [
        name
        for name, body in tooling["resource"]["aws_codestarconnections_connection"].items()
        if body["provider_type"] == "GitHub"
    ]
    arn = f"${{aws_codestarconnections_connection.{connection}.arn}}"
    # (on the local target the connection, and what refers to it, is an emulator gap:
    # its references are indexed, [0])
    build = resources(tooling, "aws_codebuild_project")["drift-detection/build"]
    (source,) = json.loads(json.dumps(build["source"]).replace("[0].arn", ".arn"))
    assert source["auth"] == [{"type": "CODECONNECTIONS", "resource": arn}]
    policy = _policy(tooling, "drift-detection/build-access")
    statements = {
        s["Sid"]: s for s in json.loads(json.dumps(policy).replace("[0].arn", ".arn"))["Statement"]
    }
    assert statements["GetTheGitConnectionToken"]["Resource"] == arn
    for prefix, sid in (
        ("codeconnections", "UseTheGitConnectionForCodeconnections"),
        ("codestar-connections", "UseTheGitConnectionForCodestarConnections"),
    ):
        assert statements[sid]["Resource"] == arn
        assert statements[sid]["Condition"] == {
            "StringEquals": {f"{prefix}:FullRepositoryId": "acme/ml-platform-infra"}
        }


def test_drift_detection_brings_a_github_connection_when_no_project_uses_github() -> None:
    """With every ML project and the platform pipeline elsewhere, the tooling account still
    gets the GitHub connection the drift build clones through."""
    from ndap_infra.config.enums import GitHost
    from ndap_infra.pipelines.spec import tooling_spec

    data = with_drift()
    data.pop("platform_pipeline", None)
    for project in data["ml_projects"]:
        project["git_host"] = "gitlab"
    for features in data.get("feature_pipelines", []):
        features["git_host"] = "gitlab"
    config, issues = validate_data(data)
    assert config is not None, issues
    spec = tooling_spec(config)
    assert spec is not None and GitHost.GITHUB in spec.hosts
    data.pop("drift_detection")
    config, issues = validate_data(data)
    assert config is not None, issues
    spec = tooling_spec(config)
    assert spec is not None and GitHost.GITHUB not in spec.hosts


def test_a_failed_build_raises_the_alarm_on_the_baseline_topic(tooling: dict[str, Any]) -> None:
    alarm = resources(tooling, "aws_cloudwatch_metric_alarm")["drift-detection/failed-alarm"]
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/CodeBuild", "FailedBuilds")
    assert alarm["dimensions"] == {"ProjectName": "acme-ml-drift-detection"}
    assert (
        alarm["threshold"] == 1 and alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
    )
    (topic,) = alarm["alarm_actions"]
    assert topic == "arn:aws:sns:eu-west-1:600000000006:acme-ml-baseline-alarms"
    # the topic accepts only the account's baseline alarms: the name must match its policy
    (policy,) = resources(tooling, "aws_sns_topic_policy").values()
    pattern = json.loads(policy["policy"])["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"]
    assert pattern.endswith(":alarm:acme-ml-baseline-*")
    assert alarm["alarm_name"].startswith("acme-ml-baseline-")


def _policy(tooling: dict[str, Any], path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(resources(tooling, "aws_iam_role_policy")[path]["policy"])
    return loaded


def test_the_build_can_change_nothing(tooling: dict[str, Any]) -> None:
    statements = {
        s["Sid"]: s for s in _policy(tooling, "drift-detection/build-access")["Statement"]
    }
    assert set(statements) == {
        "GetTheGitConnectionToken",
        "UseTheGitConnectionForCodeconnections",
        "UseTheGitConnectionForCodestarConnections",
        "WriteItsLogs",
        "AssumeTheDriftReaders",
        "ReadTheTerraformState",
    }
    readers = statements["AssumeTheDriftReaders"]["Resource"]
    assert sorted(readers) == sorted(
        f"arn:aws:iam::{a}:role/acme-ml-drift-reader"
        for a in ("100000000001", "600000000006", "200000000002", "300000000003",
                  "400000000004", "500000000005", "700000000007", "800000000008")
    )  # fmt: skip
    actions = {
        a
        for s in statements.values()
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "codeconnections:GetConnection",
        "codeconnections:GetConnectionToken",
        "codeconnections:UseConnection",
        "codestar-connections:GetConnection",
        "codestar-connections:GetConnectionToken",
        "codestar-connections:UseConnection",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sts:AssumeRole",
        "s3:GetObject",
        "s3:ListBucket",
    }
    schedule = _policy(tooling, "drift-detection/schedule-access")["Statement"]
    assert [(s["Action"], s["Resource"]) for s in schedule] == [
        (
            "codebuild:StartBuild",
            "arn:aws:codebuild:eu-west-1:600000000006:project/acme-ml-drift-detection",
        ),
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:600000000006:key/*"),
    ]
    assert schedule[1]["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/acme-ml/tooling/drift-detection"}
    }


DRIFT_BUILD_ROLE = "arn:aws:iam::600000000006:role/acme-ml-drift-detection-build"


def test_the_reader_reads_configuration_never_data(tooling: dict[str, Any]) -> None:
    roles = resources(tooling, "aws_iam_role")
    trust = json.loads(roles["drift-reader/role"]["assume_role_policy"])["Statement"]
    # the tooling root, narrowed to the drift build role by aws:PrincipalArn: the
    # organization stack creates readers before tooling creates the build role (#16)
    assert [(s["Principal"], s["Condition"]) for s in trust] == [
        (
            {"AWS": "arn:aws:iam::600000000006:root"},
            {"ArnEquals": {"aws:PrincipalArn": DRIFT_BUILD_ROLE}},
        )
    ]
    attachment = resources(tooling, "aws_iam_role_policy_attachment")["drift-reader/security-audit"]
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/SecurityAudit"
    (guard,) = _policy(tooling, "drift-reader/never-read-data")["Statement"]
    assert guard["Effect"] == "Deny" and guard["Resource"] == "*"
    assert {"s3:GetObject", "kms:Decrypt", "secretsmanager:GetSecretValue"} <= set(guard["Action"])
    build_trust = json.loads(roles["drift-detection/build-role"]["assume_role_policy"])[
        "Statement"
    ][0]
    assert build_trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert build_trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "600000000006"}


def test_every_account_has_the_same_reader_trusting_only_the_build(
    stacks: dict[str, Any],
) -> None:
    assert set(stacks) == {
        "organization", "tooling", "env-nonprod", "env-dev", "env-acc", "env-prd",
        "log-archive", "security-tooling", "organization-trail"
    }  # fmt: skip
    # #18 follow-up 2: the security accounts' stacks carry the reader like every account
    # stack; the organization trail is in the management account, whose reader the
    # organization stack holds (one role per account, not per stack).
    assert "drift-reader/role" not in resources(stacks["organization-trail"], "aws_iam_role")
    for name, stack in stacks.items():
        if name == "organization-trail":
            continue
        role = resources(stack, "aws_iam_role")["drift-reader/role"]
        assert role["name"] == "acme-ml-drift-reader", name
        (statement,) = json.loads(role["assume_role_policy"])["Statement"]
        assert statement["Principal"] == {"AWS": "arn:aws:iam::600000000006:root"}, name
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": DRIFT_BUILD_ROLE}}
        attachments = resources(stack, "aws_iam_role_policy_attachment")
        attachment = attachments["drift-reader/security-audit"]
        assert attachment["policy_arn"].endswith(":policy/SecurityAudit"), name
        assert "drift-reader/never-read-data" in resources(stack, "aws_iam_role_policy"), name


def test_switched_off_generates_nothing(tmp_path: Any) -> None:
    stacks = synthesized(with_drift(enabled=False), tmp_path)
    for name, stack in stacks.items():
        text = json.dumps(stack.get("resource", {}))
        assert "drift-reader" not in text and "drift-detection" not in text, name


@pytest.mark.terraform
def test_the_platform_with_drift_detection_passes_the_main_job(tmp_path: Any) -> None:
    """`ndap build` on it: parity (the reader is in every account; the scheduled part is an
    allowed tooling-only difference), the access proof, lint, terraform validate."""
    from ruamel.yaml import YAML

    from tests.helpers import run

    data = with_drift()
    data["deploy"] = {"target": "aws", "state": {"bucket": "acme-ml-terraform-state"}}
    config = tmp_path / "platform.yaml"
    with config.open("w") as stream:
        YAML(typ="safe").dump(data, stream)
    built = run(
        "build", "-c", str(config), "--out", str(tmp_path / "out"),
        "--policies", str(tmp_path / "policies"), work=tmp_path / "work",
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    assert "drift-detection/: scheduled drift detection" in built.stdout


@pytest.mark.terraform
def test_the_tooling_stack_with_drift_detection_passes_real_terraform_validate(
    tmp_path_factory: Any,
) -> None:
    from ndap_infra.stacks.synthesis import synthesize
    from ndap_infra.terraform.cli_config import write_cli_config
    from ndap_infra.terraform.runner import validate_stacks

    for target in ("aws", "local"):
        data = with_drift()
        data["deploy"]["target"] = target
        if target == "aws":  # the platform pipeline on aws needs the stacks' remote state
            data["deploy"]["state"] = {"bucket": "acme-ml-terraform-state"}
        config, issues = validate_data(data)
        assert config is not None, issues
        synthesis = synthesize(config, tmp_path_factory.mktemp(target) / "out")
        chosen = {n: p for n, p in synthesis.stacks.items() if n == "tooling"}
        results = validate_stacks(chosen, write_cli_config(tmp_path_factory.mktemp("tf")))
        assert [r.message for r in results if not r.ok] == [], target
