"""Central evidence (#18): GIVEN the synthesized reference, THEN only the security-auditor
persona reads the log archive, nobody (deployers included) deletes from it, no workload
account stops the organization trail, takes a detector away from the administrator or
changes the archive, and the security-tooling account administers every service; WHEN a
guardrail is removed, THEN its row flips and the proof fails naming it."""

from __future__ import annotations

from typing import Any

import pytest

from ndap_infra.proofs.access_model import build_model
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
