"""Central evidence (#18): GIVEN the synthesized reference, THEN only the security-auditor
persona reads the log archive, nobody (deployers included) deletes from it, no workload
account stops the organization trail, takes a detector away from the administrator or
changes the archive, and the security-tooling account administers every service; WHEN a
guardrail is removed, THEN its row flips and the proof fails naming it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ndap_infra.proofs.access_model import build_model
from ndap_infra.proofs.coverage import member_coverage
from ndap_infra.proofs.evidence import (
    evidence_rows,
    prove_evidence,
    reach_of,
    without_statements,
)


@pytest.fixture(scope="module")
def model(reference_config: Any, reference_stacks: dict[str, Any]) -> Any:
    return build_model(reference_config, reference_stacks)


@pytest.fixture(scope="module")
def report(model: Any, reference_stacks: dict[str, Any]) -> Any:
    return prove_evidence(model, reference_stacks)


def test_only_security_auditors_read_the_archive_and_nobody_deletes(report: Any) -> None:
    rows = {r.question: r for r in report.rows}
    assert rows["read the log archive"].who == ("security-auditor",)
    assert rows["delete from the log archive (objects, versions, the bucket)"].who == ()
    for persona in ("data-scientist", "ml-engineer", "deployer", "break-glass"):
        assert all(persona not in r.who for r in report.rows), persona
    assert all(r.ok for r in report.rows), report.render()


def test_no_workload_account_touches_the_trail_the_detectors_or_the_archive(report: Any) -> None:
    rows = {r.question: r for r in report.rows}
    for question in (
        "delete from or change the log archive from a workload account",
        "stop or delete the organization trail from a workload account",
        "guardduty:DeleteDetector in a workload account",
        "guardduty:DisassociateFromAdministratorAccount in a workload account",
        "securityhub:DisassociateFromAdministratorAccount in a workload account",
    ):
        assert rows[question].who == (), question


def test_the_security_tooling_account_administers_every_service(report: Any) -> None:
    assert {account for _, account in report.administrators} == {"800000000008"}
    services = {service.split(" ")[0] for service, _ in report.administrators}
    assert services == {
        "access-analyzer.amazonaws.com",
        "config.amazonaws.com",
        "guardduty.amazonaws.com",
        "securityhub.amazonaws.com",
    }


def test_every_negative_control_flips(report: Any) -> None:
    assert len(report.controls) == 6
    assert all(c.flipped for c in report.controls), report.render()
    assert report.ok
    assert "| read the log archive | security-auditor | as required |" in report.render()


def test_without_the_detector_guardrail_the_proof_fails_naming_it(model: Any) -> None:
    weakened = without_statements("StayWithTheAdministrator")(model)
    rows = evidence_rows(weakened, reach_of(model))
    failing = [r for r in rows if not r.ok]
    assert [r.question for r in failing] == [
        "guardduty:DeleteDetector in a workload account",
        "guardduty:DisassociateFromAdministratorAccount in a workload account",
        "securityhub:DisassociateFromAdministratorAccount in a workload account",
    ]
    assert "dev deployer" in failing[0].who
    assert "FAILS (expected nobody)" in failing[0].render()


def test_without_the_deletion_deny_the_archive_can_be_emptied(model: Any) -> None:
    weakened = without_statements("NobodyDeletesEvidence")(model)
    rows = {r.question: r for r in evidence_rows(weakened, reach_of(model))}
    deleting = rows["delete from the log archive (objects, versions, the bucket)"]
    assert "log-archive deployer" in deleting.who and not deleting.ok


# ---- member coverage: the administrator creates every member's detector and hub ----------


def _mutated(stacks: dict[str, Any], stack: str, rtype: str, change: Any) -> dict[str, Any]:
    copied = copy.deepcopy(stacks)
    for body in copied[stack]["resource"][rtype].values():
        change(body)
    return copied


def test_every_workload_account_is_covered_by_the_administrators_auto_enable(
    report: Any, reference_config: Any, reference_stacks: dict[str, Any]
) -> None:
    """#18 follow-up 1: the workload stacks create no detector or hub (the administrator's
    organization configuration would collide with them), and every allowed region is
    covered: GuardDuty auto-enables ALL members where the administrator is registered,
    Security Hub's central configuration policy enables the baseline's standards and is
    associated with the root, the other region linked by the finding aggregator."""
    rows = [(c.service, c.region) for c in report.coverage]
    assert rows == [
        ("GuardDuty", "eu-west-1"),
        ("GuardDuty", "eu-central-1"),
        ("Security Hub", "eu-west-1"),
        ("Security Hub", "eu-central-1"),
        ("GuardDuty, Security Hub", "every allowed region"),
    ]
    assert all(c.ok for c in report.coverage) and report.ok, report.render()
    assert "## Member accounts covered by the administrator" in report.render()
    assert member_coverage(reference_config, reference_stacks) == report.coverage


@pytest.mark.parametrize(
    ("stack", "rtype", "change", "failing"),
    [
        (
            "security-tooling",
            "aws_guardduty_organization_configuration",
            lambda b: b.update(auto_enable_organization_members="NEW"),
            {("GuardDuty", "eu-west-1"), ("GuardDuty", "eu-central-1")},
        ),
        (
            "organization",
            "aws_guardduty_organization_admin_account",
            lambda b: (
                b.update(admin_account_id="900000000009")
                if b.get("provider") == "aws.eu_central_1"
                else None
            ),
            {("GuardDuty", "eu-central-1")},
        ),
        (
            "security-tooling",
            "aws_securityhub_configuration_policy_association",
            lambda b: b.update(target_id="ou-abcd-12345678"),
            {("Security Hub", "eu-west-1"), ("Security Hub", "eu-central-1")},
        ),
        (
            "security-tooling",
            "aws_securityhub_configuration_policy",
            lambda b: b["configuration_policy"][0]["enabled_standard_arns"].pop(),
            {("Security Hub", "eu-west-1"), ("Security Hub", "eu-central-1")},
        ),
        (
            "security-tooling",
            "aws_securityhub_finding_aggregator",
            lambda b: b.update(specified_regions=None, linking_mode="NO_REGIONS"),
            {("Security Hub", "eu-central-1")},
        ),
    ],
)
def test_a_member_left_uncovered_fails_the_row(
    reference_config: Any,
    reference_stacks: dict[str, Any],
    stack: str,
    rtype: str,
    change: Any,
    failing: set[tuple[str, str]],
) -> None:
    """Negative controls: each weakening of the administrator's configuration fails
    exactly the rows of the regions it leaves uncovered."""
    stacks = _mutated(reference_stacks, stack, rtype, change)
    rows = member_coverage(reference_config, stacks)
    assert {(c.service, c.region) for c in rows if not c.ok} == failing
    assert "FAILS" in "".join(c.render() for c in rows)


def test_a_workload_stack_with_its_own_detector_fails_the_row(
    reference_config: Any, reference_stacks: dict[str, Any], per_account_stacks: dict[str, Any]
) -> None:
    """A detector of its own in a workload stack (as without the security accounts) would
    fail on a fresh organization: the last row names it."""
    stacks = copy.deepcopy(reference_stacks)
    stacks["env-prd"]["resource"]["aws_guardduty_detector"] = per_account_stacks["env-prd"][
        "resource"
    ]["aws_guardduty_detector"]
    (row,) = [c for c in member_coverage(reference_config, stacks) if not c.ok]
    assert (
        row.how
        == "created by env-prd: aws_guardduty_detector (would collide with the administrator's)"
    )


def test_without_the_security_accounts_there_is_no_coverage_row(
    reference_config: Any, per_account_stacks: dict[str, Any]
) -> None:
    from ndap_infra.config.load import validate_data
    from tests.helpers import reference_data

    data = reference_data()
    data["organization"]["security_accounts"]["enabled"] = False
    config, _ = validate_data(data)
    assert config is not None
    assert member_coverage(config, per_account_stacks) == ()
