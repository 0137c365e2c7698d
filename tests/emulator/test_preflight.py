"""`ndap preflight` (issue #16, What to build 4) on seeded emulator states: GIVEN an adopted
organization as users start from (RCPs off, invited accounts without the access role: the
seed's accounts get one from moto, so the test deletes it),
WHEN preflight runs, THEN it exits 1 with a table of what to do; once the roles exist it
passes, and an existing detector in one account fails it again."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.config.accounts import adopted_accounts
from ndap_infra.config.enums import Environment
from ndap_infra.deploy.preflight import run_preflight
from ndap_infra.emulator import lifecycle
from ndap_infra.emulator.seed import seed_adopted_organization
from tests.helpers import REFERENCE, run


@pytest.fixture(scope="module")
def seeded(
    reference_config: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, lifecycle.EmulatorInfo]]:
    work = tmp_path_factory.mktemp("preflight") / "work"
    info = lifecycle.start(work).info
    try:
        seed_adopted_organization(info, reference_config)
        yield work, info
    finally:
        lifecycle.stop(work)


def _clients(info: lifecycle.EmulatorInfo, region: str) -> Any:
    return lambda service, account: lifecycle.client(
        info, service, account_id=account, region=region
    )


def test_an_adopted_organization_without_rcps_and_access_roles_is_refused(
    seeded: tuple[Path, lifecycle.EmulatorInfo], reference_config: Any
) -> None:
    work, info = seeded
    # moto gives every account it creates the access role; an invited account has none
    role = reference_config.organization.account_access_role
    for account in adopted_accounts(reference_config):
        lifecycle.client(info, "iam", account_id=str(account.account_id)).delete_role(RoleName=role)
    result = run("preflight", "-c", str(REFERENCE), work=work)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "Traceback" not in result.stderr
    # RCPs are off: a note, the organization stack enables them
    assert re.search(r"note +policy type +RESOURCE_CONTROL_POLICY +not enabled", out), out
    assert "organizations:EnablePolicyType" in out
    for account in adopted_accounts(reference_config):
        row = rf"FAIL +access role +{account.key} {account.account_id} +{role} not assumable"
        assert re.search(row, out), out
    assert "create OrganizationAccountAccessRole in the account" in out
    assert "preflight: 5 to do before the first deploy" in out


def test_with_the_access_roles_it_passes_and_an_existing_detector_fails_it(
    seeded: tuple[Path, lifecycle.EmulatorInfo], reference_config: Any
) -> None:
    work, info = seeded
    org = reference_config.organization
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{org.management_account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    for account in adopted_accounts(reference_config):
        iam = lifecycle.client(info, "iam", account_id=str(account.account_id))
        iam.create_role(RoleName=org.account_access_role, AssumeRolePolicyDocument=trust)
    clients = _clients(info, org.home_region)
    report = run_preflight(reference_config, clients)
    assert report.ok, report.render()
    assert "preflight: ready for the first deploy" in report.render()
    dev = reference_config.account_id(Environment.DEV)
    guardduty = clients("guardduty", dev)
    detector = guardduty.create_detector(Enable=True)["DetectorId"]
    try:
        report = run_preflight(reference_config, clients)
        assert not report.ok
        (failed,) = [f for f in report.findings if not f.ok and f.blocking]
        assert (failed.check, failed.where) == ("GuardDuty detector", f"dev {dev}")
        assert detector in failed.detail and "import it" in failed.todo
    finally:
        guardduty.delete_detector(DetectorId=detector)
    result = run("preflight", "-c", str(REFERENCE), work=work)
    assert result.returncode == 0, result.stdout


def test_create_organization_refuses_an_account_already_in_one(
    seeded: tuple[Path, lifecycle.EmulatorInfo], reference_config: Any
) -> None:
    _, info = seeded
    creating = reference_config.model_copy(
        update={
            "organization": reference_config.organization.model_copy(
                update={"create_organization": True}
            )
        }
    )
    report = run_preflight(creating, _clients(info, creating.organization.home_region))
    (finding,) = report.findings
    assert not report.ok and finding.check == "organization"
    assert "create_organization: false" in finding.todo
