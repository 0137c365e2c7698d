"""Policy-as-code gates: checkov over the synthesized stacks, parliament over policies/.

Each linter runs once per session on the real output; every finding is fixed or accepted
with a written reason in ``ndap_infra/linters/suppressions.py``, and a suppression that
matches nothing fails too. The negative cases prove the gates see a regression.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.linters import checkov as checkov_gate
from ndap_infra.linters import parliament as parliament_gate
from ndap_infra.linters.checkov import CheckovReport, evaluate_checkov, run_checkov
from ndap_infra.linters.parliament import (
    ParliamentReport,
    evaluate_parliament,
    run_parliament,
)
from ndap_infra.linters.report import render_lint_report
from ndap_infra.linters.suppressions import (
    CHECKOV_SUPPRESSIONS,
    ENV,
    PARLIAMENT_SUPPRESSIONS,
    TODO,
    CheckovSuppression,
    ParliamentSuppression,
)
from ndap_infra.linters.tools import GateError, find_tool
from tests.helpers import ROOT

EXPECTED_STACKS = [
    "organization",
    "log-archive",
    "security-tooling",
    "tooling",
    "organization-trail",
    "env-nonprod",
    "env-dev",
    "env-acc",
    "env-prd",
]


@pytest.fixture(scope="session")
def checkov_report(reference_synthesis) -> CheckovReport:  # type: ignore[no-untyped-def]
    """checkov, once over every stack of the session's synthesis."""
    return run_checkov(reference_synthesis.stacks)


@pytest.fixture(scope="session")
def parliament_report() -> ParliamentReport:
    """parliament, once over the committed policies/."""
    return run_parliament(ROOT / "policies")


# -- checkov -------------------------------------------------------------------------


def test_checkov_has_no_unexplained_finding(checkov_report: CheckovReport) -> None:
    assert checkov_report.failures == (), checkov_report.render()
    assert checkov_report.stale == (), checkov_report.render()
    # Every suppression names a reference resource but the per-account GuardDuty one: with
    # the security accounts (on in the reference) no workload stack has a detector (#18).
    assert [(s.check_id, s.resource) for s in checkov_report.not_applicable] == [
        ("CKV2_AWS_3", rf"{ENV}/baseline/detection/[a-z0-9-]+/guardduty")
    ], "every other suppression names a reference resource"
    assert checkov_report.ok
    assert [s.stack for s in checkov_report.stacks] == EXPECTED_STACKS
    assert all(s.passed > 0 for s in checkov_report.stacks), "checkov checked every stack"


def test_checkov_findings_on_storage_are_fixed_not_suppressed(
    checkov_report: CheckovReport,
) -> None:
    """Lifecycle, access logging, event notifications, versioning, encryption and public
    access blocks hold on every bucket: only cross-region replication (and SSE-S3 on the
    access log destination, which S3 requires) is accepted, with its reason; and on the log
    archive, no lifecycle (a deletion path its policy denies) and no per-file
    notifications."""
    suppressed = {
        (s.finding.check_id, s.finding.construct_path.split("/", 1)[1])
        for s in checkov_report.suppressed
        if s.finding.address.startswith("aws_s3_")
    }
    assert suppressed == {
        ("CKV_AWS_144", "data-bucket/bucket"),
        ("CKV_AWS_144", "data-access/bucket/bucket"),
        ("CKV_AWS_144", "baseline/log-bucket/bucket"),
        ("CKV_AWS_144", "baseline/access-log-bucket/bucket"),
        ("CKV_AWS_145", "baseline/access-log-bucket/bucket"),
        ("CKV_AWS_144", "pipelines/artifact-bucket/bucket"),  # the tooling artifact store
        ("CKV_AWS_144", "archive/archive-bucket/bucket"),  # the log archive (#18)
        ("CKV_AWS_144", "archive/access-log-bucket/bucket"),
        ("CKV_AWS_145", "archive/access-log-bucket/bucket"),
        ("CKV2_AWS_61", "archive/archive-bucket/bucket"),
        ("CKV2_AWS_62", "archive/archive-bucket/bucket"),
    }


def _mutate(stack: dict[str, Any], rtype: str, path: str) -> tuple[str, dict[str, Any]]:
    for logical_id, body in stack["resource"][rtype].items():
        if body["//"]["metadata"]["path"] == path:
            return logical_id, body
    raise KeyError(path)


def test_checkov_reports_a_regression_by_check_and_resource(
    reference_synthesis, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A copy of env-dev with the data bucket's versioning suspended and its public access
    block gone: the gate names both new failures, and nothing else."""
    source = reference_synthesis.stacks["env-dev"] / "cdk.tf.json"
    stack = json.loads(source.read_text())
    _, versioning = _mutate(stack, "aws_s3_bucket_versioning", "env-dev/data-bucket/versioning")
    versioning["versioning_configuration"][0]["status"] = "Suspended"
    block, _ = _mutate(
        stack, "aws_s3_bucket_public_access_block", "env-dev/data-bucket/public-access-block"
    )
    del stack["resource"]["aws_s3_bucket_public_access_block"][block]
    mutated = tmp_path / "env-dev" / "cdk.tf.json"
    mutated.parent.mkdir()
    mutated.write_text(json.dumps(stack, indent=2))

    report = run_checkov({"env-dev": mutated.parent})

    bucket = _mutate(stack, "aws_s3_bucket", "env-dev/data-bucket/bucket")[0]
    assert {(f.check_id, f.construct_path, f.address) for f in report.failures} == {
        ("CKV_AWS_21", "env-dev/data-bucket/bucket", f"aws_s3_bucket.{bucket}"),
        ("CKV2_AWS_6", "env-dev/data-bucket/bucket", f"aws_s3_bucket.{bucket}"),
    }
    assert not report.ok
    rendered = report.render()
    assert "CKV_AWS_21" in rendered and "`env-dev/data-bucket/bucket`" in rendered


# -- checkov: the report, without running checkov -------------------------------------------


def _stack_file(tmp_path: Path, name: str, resources: dict[str, dict[str, str]]) -> Path:
    """A minimal stack: resource type -> {logical id: construct path below the stack}."""
    body = {
        "resource": {
            rtype: {
                logical: {"//": {"metadata": {"path": f"{name}/{path}", "uniqueId": logical}}}
                for logical, path in ids.items()
            }
            for rtype, ids in resources.items()
        }
    }
    file = tmp_path / name / "cdk.tf.json"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(body))
    return file


def _check(check_id: str, resource: str, file: Path) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "check_name": f"name of {check_id}",
        "resource": resource,
        "file_abs_path": str(file),
    }


def test_checkov_evaluation_resolves_resources_and_finds_stale_suppressions(
    tmp_path: Path,
) -> None:
    file = _stack_file(
        tmp_path, "env-x", {"aws_cloudtrail": {"trail_1": "trail"}, "aws_s3_bucket": {"b_2": "b"}}
    )
    raw = {
        "check_type": "terraform_json",
        "summary": {"checkov_version": "9.9"},
        "results": {
            "passed_checks": [_check("CKV_1", "aws_s3_bucket.b_2", file)],
            "failed_checks": [
                _check("CKV_2", "resource.trail_1", file),  # checkov's form for some checks
                _check("CKV_3", "aws_s3_bucket.b_2", file),
                _check("CKV_3", "aws_s3_bucket.b_2", file),  # reported twice: counted once
            ],
            "parsing_errors": [],
        },
    }
    reason = "a written reason, long enough to say why this finding is accepted"
    accepted = CheckovSuppression("CKV_2", r"env-[a-z]+/trail", reason)
    stale = CheckovSuppression("CKV_9", r"env-x/.*", reason)
    report = evaluate_checkov(raw, {"env-x": file}, [accepted, stale])

    assert report.checkov_version == "9.9"
    (suppressed,) = report.suppressed
    assert suppressed.finding.address == "aws_cloudtrail.trail_1"
    assert suppressed.finding.construct_path == "env-x/trail"
    assert suppressed.suppression == accepted
    assert [(f.check_id, f.address, f.construct_path) for f in report.failures] == [
        ("CKV_3", "aws_s3_bucket.b_2", "env-x/b")
    ]
    assert report.stale == (stale,)
    assert [(s.passed, s.suppressed, s.failed) for s in report.stacks] == [(1, 1, 1)]
    rendered = report.render()
    assert "Stale suppressions" in rendered and "CKV_9" in rendered


def test_a_suppression_for_resources_the_configuration_lacks_is_not_stale(
    tmp_path: Path,
) -> None:
    # GIVEN a platform without a tooling account (a newcomer's), and suppressions written
    # for the reference, which has one
    file = _stack_file(tmp_path, "env-x", {"aws_s3_bucket": {"b_2": "b"}})
    raw = {"results": {"passed_checks": [_check("CKV_1", "aws_s3_bucket.b_2", file)]}}
    reason = "a written reason, long enough to say why this finding is accepted"
    elsewhere = CheckovSuppression("CKV_9", r"tooling/pipelines/.*", reason)
    unused_here = CheckovSuppression("CKV_9", r"env-x/b", reason)
    # WHEN checkov's report is evaluated
    report = evaluate_checkov(raw, {"env-x": file}, [elsewhere, unused_here])
    # THEN only the suppression naming an existing resource is stale
    assert report.stale == (unused_here,) and report.not_applicable == (elsewhere,)
    assert "this configuration does not have" in report.render()
    # and likewise for parliament, by policy file
    elsewhere_file = ParliamentSuppression("RESOURCE_STAR", r"tooling/.*\.json", reason)
    # a detail suppression for a finding this configuration's version of the file lacks
    other_content = ParliamentSuppression("MISMATCHED_TYPE", r"env-x/a\.json", reason, "Arn")
    parliament = evaluate_parliament(
        [], tmp_path, ["env-x/a.json"], [elsewhere_file, other_content]
    )
    assert parliament.ok and parliament.not_applicable == (elsewhere_file, other_content)


def test_checkov_evaluation_refuses_a_silent_or_unparsed_scan(tmp_path: Path) -> None:
    file = _stack_file(tmp_path, "env-x", {"aws_s3_bucket": {"b": "b"}})
    nothing = {"check_type": "terraform_json", "results": {"passed_checks": []}}
    with pytest.raises(GateError, match="ran no check on env-x"):
        evaluate_checkov(nothing, {"env-x": file}, [])
    unparsed = {"results": {"parsing_errors": [str(file)]}}
    with pytest.raises(GateError, match="could not parse"):
        evaluate_checkov(unparsed, {"env-x": file}, [])
    stranger = {"results": {"passed_checks": [_check("CKV_1", "x.y", tmp_path / "other.json")]}}
    with pytest.raises(GateError, match="not given"):
        evaluate_checkov(stranger, {"env-x": file}, [])


def test_a_missing_linter_names_make_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(checkov_gate.CHECKOV_ENV, str(tmp_path / "nope"))
    with pytest.raises(GateError, match=r"make setup") as error:
        find_tool("checkov", checkov_gate.CHECKOV_ENV)
    assert checkov_gate.CHECKOV_ENV in str(error.value)
    monkeypatch.setenv(parliament_gate.PARLIAMENT_ENV, str(tmp_path / "nope"))
    with pytest.raises(GateError, match=r"make setup"):
        run_parliament(ROOT / "policies")


# -- parliament -------------------------------------------------------------------------


def test_parliament_has_no_unexplained_finding(parliament_report: ParliamentReport) -> None:
    assert parliament_report.failures == (), parliament_report.render()
    assert parliament_report.stale == (), parliament_report.render()
    # Every suppression names a reference file, but one: with the security accounts (on in
    # the reference) Config delivers into the log archive, and only the per-account model's
    # Config role names the logs key by a Terraform reference.
    assert [s.file for s in parliament_report.not_applicable] == [
        r"(?:env-[a-z]+|tooling|log-archive|security-tooling)/baseline/config-role-policy\.json"
    ]
    assert parliament_report.ok
    committed = parliament_gate.policy_files(ROOT / "policies")
    assert parliament_report.files == len(committed) > 0
    # The organization trail's stack holds no policy document.
    assert {g.group for g in parliament_report.groups} == {*EXPECTED_STACKS} - {
        "organization-trail"
    }


BAD_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Typo", "Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"},
        {
            "Sid": "Everything",
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "not-an-address"}},
        },
    ],
}


def test_parliament_reports_a_bad_policy(tmp_path: Path) -> None:
    """A bad policy where a suppression for its file exists (RESOURCE_STAR on the security
    auditor's policy): the misspelled action and the malformed condition still fail."""
    policies = tmp_path / "policies"
    bad = policies / "env-dev" / "personas" / "security-auditor" / "access.json"
    bad.parent.mkdir(parents=True)
    bad.write_text(json.dumps(BAD_POLICY, indent=2))
    good = ROOT / "policies" / "env-dev" / "data-key" / "key.json"
    (policies / "env-dev" / "data-key").mkdir()
    shutil.copy(good, policies / "env-dev" / "data-key" / "key.json")
    (policies / "INDEX.md").write_text("not a policy\n")

    report = run_parliament(policies)

    failures = {(f.issue, f.file, f.detail) for f in report.failures}
    assert (
        "UNKNOWN_ACTION",
        "env-dev/personas/security-auditor/access.json",
        "Unknown action s3:GetObjekt",
    ) in failures
    assert any(
        issue == "MISMATCHED_TYPE" and "aws:SourceIp" in detail and file.endswith("access.json")
        for issue, file, detail in failures
    ), failures
    assert all(f.file.endswith("security-auditor/access.json") for f in report.failures)
    assert {s.finding.issue for s in report.suppressed} == {"RESOURCE_STAR"}
    assert report.files == 2 and not report.ok
    assert "s3:GetObjekt" in report.render()


def test_parliament_findings_are_deduplicated_and_relative(tmp_path: Path) -> None:
    row = {
        "issue": "MISMATCHED_TYPE",
        "title": "Mismatched type",
        "severity": "MEDIUM",
        "detail": "Type mismatch",
        "location": {"line": 3, "column": 4, "filepath": str(tmp_path / "env-x" / "a.json")},
    }
    listed = {**row, "issue": "RESOURCE_STAR", "detail": [f"s3:Get{i}" for i in range(9)]}
    report = evaluate_parliament([row, row, row, listed], tmp_path, ["env-x/a.json", "b.json"], [])
    assert [(f.issue, f.file) for f in report.failures] == [
        ("MISMATCHED_TYPE", "env-x/a.json"),
        ("RESOURCE_STAR", "env-x/a.json"),
    ]
    assert "(9 in all)" in report.failures[1].short_detail()
    assert [(g.group, g.files, g.failed) for g in report.groups] == [(".", 1, 0), ("env-x", 1, 2)]


# -- the suppression list and the report -----------------------------------------------------


def test_every_suppression_is_unique_and_says_why() -> None:
    checkov_keys = [s.key for s in CHECKOV_SUPPRESSIONS]
    parliament_keys = [s.key for s in PARLIAMENT_SUPPRESSIONS]
    assert len(set(checkov_keys)) == len(checkov_keys)
    assert len(set(parliament_keys)) == len(parliament_keys)
    for suppression in (*CHECKOV_SUPPRESSIONS, *PARLIAMENT_SUPPRESSIONS):
        assert len(suppression.reason.split()) >= 15, suppression.key
    with pytest.raises(ValueError, match="written reason"):
        CheckovSuppression("CKV_1", ".*", "because")
    with pytest.raises(ValueError, match="written reason"):
        ParliamentSuppression("MALFORMED", ".*", "")


def test_lint_report_is_deterministic_and_lists_todos(
    checkov_report: CheckovReport, parliament_report: ParliamentReport
) -> None:
    from dataclasses import replace

    text = render_lint_report(checkov_report, parliament_report)
    shuffled = render_lint_report(
        replace(
            checkov_report,
            suppressions=tuple(reversed(checkov_report.suppressions)),
            seconds=checkov_report.seconds + 99,
        ),
        replace(
            parliament_report,
            suppressions=tuple(reversed(parliament_report.suppressions)),
            seconds=1.0,
        ),
    )
    assert text == shuffled
    assert text.startswith("# Policy lint\n") and text.endswith("\n")
    assert "| checkov " in text and "| parliament " in text
    assert "## checkov: synthesized Terraform" in text
    assert "## parliament: policy documents" in text
    every = (*CHECKOV_SUPPRESSIONS, *PARLIAMENT_SUPPRESSIONS)
    assert all(s.reason in text for s in every if TODO in s.reason), "open TODOs are listed"
    assert CHECKOV_SUPPRESSIONS[0].reason in text, "suppressions appear with their reason"
    assert "passes" in text and "**fails**" not in text


def test_committed_lint_report_is_current(
    checkov_report: CheckovReport, parliament_report: ParliamentReport
) -> None:
    committed = (ROOT / "policies" / "LINT.md").read_text()
    assert committed == render_lint_report(checkov_report, parliament_report), (
        "policies/LINT.md is stale: run `make build` (or `ndap lint`) and commit it"
    )


def test_a_second_region_suppression_applies_only_where_a_stack_has_two() -> None:
    """The non-home Config recorders' suppression (per_stack=2): with one allowed region a
    stack holds only the home recorder, which passes the check, so the suppression names
    nothing there (not stale); with two it applies, and unused it would be stale."""
    from ndap_infra.linters.suppressions import CHECKOV_SUPPRESSIONS

    (recorders,) = [s for s in CHECKOV_SUPPRESSIONS if s.check_id == "CKV2_AWS_48"]
    one = ["env-dev/baseline/detection/eu-west-1/config-recorder"]
    two = [*one, "env-dev/baseline/detection/eu-central-1/config-recorder"]
    assert not recorders.applies_to(one)
    assert recorders.applies_to(two)
    assert not recorders.applies_to(
        [one[0], "env-acc/baseline/detection/eu-west-1/config-recorder"]
    )
