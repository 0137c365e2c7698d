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
    render_text,
    to_json,
)
from ndap_infra.terraform.plans import fix_of
from tests.helpers import ALARM, FIXTURES, ROLE

PLANS = FIXTURES / "plans"


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


def test_assume_role_overrides_only_the_provider_role_in_the_stack_s_account(
    reference_stacks: Any,
) -> None:
    from ndap_infra.deploy.drift import role_override

    dev = reference_stacks["env-dev"]
    override = role_override(dev, "acme-ml-drift-reader", "100000000001")
    assert set(override) == {"provider"}
    # every provider of the stack: the home region's and the other allowed region's
    default, other = override["provider"]["aws"]
    assert set(default) == {"assume_role"} and other["alias"] == "eu_central_1"
    for provider in (default, other):
        (block,) = provider["assume_role"]
        assert block["role_arn"] == "arn:aws:iam::300000000003:role/acme-ml-drift-reader"
    # the organization trail reads the archive key in the log-archive account: as the
    # drift reader there, not the account access role
    trail = role_override(
        reference_stacks["organization-trail"], "acme-ml-drift-reader", "100000000001"
    )
    by_alias = {p.get("alias"): p["assume_role"][0] for p in trail["provider"]["aws"]}
    assert by_alias == {
        None: {
            "role_arn": "arn:aws:iam::100000000001:role/acme-ml-drift-reader",
            "session_name": "ndap-infra",
        },
        "log_archive": {
            "role_arn": "arn:aws:iam::700000000007:role/acme-ml-drift-reader",
            "session_name": "ndap-infra",
        },
    }
    # a provider that assumes no role (the organization stack on aws) plans in the
    # management account
    bare = {"provider": {"aws": [{"region": "eu-west-1"}]}}
    (block,) = role_override(bare, "reader", "100000000001")["provider"]["aws"]["assume_role"]
    assert block == {"role_arn": "arn:aws:iam::100000000001:role/reader"}


def test_an_unreachable_target_is_told_apart_from_a_failed_plan() -> None:
    from ndap_infra.deploy.drift import unreachable_reason

    no_credentials = StackDrift(
        "env-dev",
        error="env-dev: terraform init failed (log x):\nError: No valid credential sources "
        "found\n  more",
    )
    failed = StackDrift("env-acc", error="env-acc: terraform plan failed:\nError: invalid value")
    skipped = StackDrift("env-prd", nothing_deployed=True)
    assert unreachable_reason([no_credentials, skipped]) == (
        "env-dev: Error: No valid credential sources found"
    )
    assert unreachable_reason([no_credentials, failed]) is None, "not every stack failed alike"
    assert unreachable_reason([failed]) is None
    assert unreachable_reason([no_credentials, StackDrift("org")]) is None, "one was planned"


# -- bad input without a deployment ------------------------------------------------------


def test_drift_without_a_running_emulator_says_nothing_is_deployed(tmp_path: Path) -> None:
    from tests.helpers import REFERENCE, run

    result = run("drift", "-c", str(REFERENCE), work=tmp_path / "work")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "nothing deployed locally" in result.stderr and "ndap deploy" in result.stderr
    assert "Traceback" not in result.stderr


def test_drift_against_a_vanished_emulator_says_the_target_is_unreachable(
    tmp_path: Path,
) -> None:
    from tests.helpers import REFERENCE, free_port, run

    work = tmp_path / "work"
    work.mkdir()
    (work / "emulator.json").write_text(
        json.dumps({"port": free_port(), "pid": 999999, "started_at": "x", "log": "x.log"})
    )
    result = run("drift", "-c", str(REFERENCE), work=work)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the target is unreachable" in result.stderr and "does not answer" in result.stderr
    assert "Traceback" not in result.stderr


def test_drift_with_a_missing_configuration_is_bad_input(tmp_path: Path) -> None:
    from tests.helpers import run

    result = run("drift", "-c", str(tmp_path / "missing.yaml"), work=tmp_path / "work")
    assert result.returncode == 2
    assert "missing.yaml" in result.stderr and "Traceback" not in result.stderr


# The drift test on a real deployment lives with the other emulator tests, on the one
# deployment of the whole reference platform (tests/emulator/test_deploy.py).


def test_on_a_terminal_the_differences_are_a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from ndap_infra.cli import common
    from ndap_infra.cli.drift import _render_table

    console = Console(record=True, force_terminal=True, width=200)
    monkeypatch.setattr(common, "console", console)
    _render_table(
        [differences("env-dev", recorded("drift")), StackDrift("env-acc", nothing_deployed=True)]
    )
    text = console.export_text()
    assert "Drift: deployed vs code" in text
    assert ROLE in text and "max_session_duration: was 14400, now 43200" in text
    assert ALARM in text and "deleted" in text and "create" in text
    assert "not deployed" in text
