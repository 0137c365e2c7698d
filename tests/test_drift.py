"""Drift detection: reading Terraform's JSON plan (recorded from the emulator), and
`ndap drift` for real against a deployment changed behind Terraform's back.

The recorded plans (``tests/fixtures/plans``) are ``terraform show -json`` of env-dev's
no-change plan on the emulator, right after deploy (``clean``) and after two changes made
with boto3 (``drift``): the data-scientist role's maximum session raised from 4 to 12
hours (moto's UpdateRole also blanks the description it is not given), and the
root-account-use alarm deleted. Unchanged resources' plan entries are shortened.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.deploy.drift import (
    AttributeChange,
    DifferenceKind,
    PlanFormatError,
    StackDrift,
    attribute_changes,
    differences,
    fix_of,
    render_text,
    to_json,
)
from tests.conftest import FIXTURES

PLANS = FIXTURES / "plans"
ROLE = "aws_iam_role.personas_data-scientist_role_09B258F6"
ALARM = "aws_cloudwatch_metric_alarm.baseline_alarm-root-account-use_B1AB7448"


def recorded(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PLANS / f"env-dev-{name}.json").read_text())
    return loaded


# -- parsing recorded plans -------------------------------------------------------------


def test_a_clean_deployment_has_no_drift_although_the_refresh_reads_companions_back() -> None:
    # GIVEN the plan right after deploy: the refresh reads back attributes that companion
    # resources manage (a role's inline_policy, a bucket's policy), so resource_drift is
    # not empty, while every planned action is no-op
    plan = recorded("clean")
    assert plan["resource_drift"]
    # WHEN it is read
    result = differences("env-dev", plan)
    # THEN nothing differs from the code; the read-backs are kept as notes only
    assert not result.drifted and result.differences == ()
    assert result.notes
    assert "no drift" in render_text([result])


def test_changed_and_deleted_resources_are_named_with_attribute_and_fix() -> None:
    result = differences("env-dev", recorded("drift"))
    assert result.drifted
    by_address = {d.address: d for d in result.differences}
    assert set(by_address) == {ROLE, ALARM}

    role = by_address[ROLE]
    assert role.kind is DifferenceKind.CHANGED and role.fix == "update in place"
    attributes = {a.path: (a.before, a.after) for a in role.attributes}
    assert attributes == {
        "max_session_duration": (14400, 43200),
        "description": ("data-scientist: full access", ""),
    }, "inline_policy differs too in the refresh, but the plan does not set it back"

    alarm = by_address[ALARM]
    assert alarm.kind is DifferenceKind.DELETED and alarm.fix == "create"
    assert alarm.attributes == ()

    text = render_text([result])
    assert f"{ROLE}: changed outside Terraform; terraform apply would update in place" in text
    assert "max_session_duration: was 14400, now 43200" in text
    assert f"{ALARM}: deleted outside Terraform; terraform apply would create" in text


def test_json_output_lists_each_difference() -> None:
    result = differences("env-dev", recorded("drift"))
    document = to_json([result, StackDrift("organization", nothing_deployed=True)])
    assert document["drift"] is True
    dev, org = document["stacks"]
    assert dev["status"] == "drift" and org["status"] == "not deployed"
    kinds = {d["address"]: d["kind"] for d in dev["differences"]}
    assert kinds == {ROLE: "changed", ALARM: "deleted"}
    json.dumps(document)  # serializable as is


def test_a_change_nothing_outside_explains_is_reported_as_not_applied() -> None:
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": "aws_sns_topic.t",
                "type": "aws_sns_topic",
                "mode": "managed",
                "change": {"actions": ["create"], "before": None, "after": {"name": "t"}},
            },
            {
                "address": "aws_iam_role.r",
                "type": "aws_iam_role",
                "mode": "managed",
                "change": {
                    "actions": ["delete", "create"],
                    "before": {"name": "old", "arn": "a"},
                    "after": {"name": "new"},
                    "after_unknown": {"arn": True},
                },
            },
            {"address": "data.aws_caller_identity.c", "mode": "data", "change": {}},
        ],
    }
    result = differences("env-dev", plan)
    assert [(d.address, d.kind, d.fix) for d in result.differences] == [
        ("aws_iam_role.r", DifferenceKind.NOT_APPLIED, "replace"),
        ("aws_sns_topic.t", DifferenceKind.NOT_APPLIED, "create"),
    ]
    (role, _) = result.differences
    assert [a.path for a in role.attributes] == ["name"], "the unknown arn is no difference"


def test_sensitive_values_are_never_printed() -> None:
    found = list(
        attribute_changes(
            {"password": "old", "tags": {"a": "1"}},
            {"password": "new", "tags": {"a": "2"}},
            sensitive={"password": True},
        )
    )
    assert found == [
        AttributeChange("password", None, None, sensitive=True),
        AttributeChange("tags.a", "1", "2"),
    ]
    assert "old" not in found[0].render() and "new" not in found[0].render()


def test_unset_and_empty_are_the_same() -> None:
    assert list(attribute_changes({"tags": None, "x": []}, {"tags": {}, "x": None})) == []


def test_fix_words() -> None:
    assert fix_of(["no-op"]) is None and fix_of(["read"]) is None
    assert fix_of(["update"]) == "update in place"
    assert fix_of(["delete", "create"]) == "replace"
    assert fix_of(["create", "delete"]) == "replace (create first)"
    assert fix_of(["delete"]) == "destroy"


def test_a_document_that_is_not_a_plan_is_refused() -> None:
    with pytest.raises(PlanFormatError, match="not a Terraform JSON plan"):
        differences("env-dev", {"values": {}})


# -- bad input without a deployment ------------------------------------------------------


def test_drift_without_a_running_emulator_says_nothing_is_deployed(tmp_path: Path) -> None:
    from tests.conftest import REFERENCE
    from tests.test_deploy import run

    result = run("drift", "-c", str(REFERENCE), work=tmp_path / "work")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "nothing deployed locally" in result.stderr and "ndap deploy" in result.stderr
    assert "Traceback" not in result.stderr


def test_drift_with_a_missing_configuration_is_bad_input(tmp_path: Path) -> None:
    from tests.test_deploy import run

    result = run("drift", "-c", str(tmp_path / "missing.yaml"), work=tmp_path / "work")
    assert result.returncode == 2
    assert "missing.yaml" in result.stderr and "Traceback" not in result.stderr
