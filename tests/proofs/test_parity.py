"""The parity proof passes on the reference platform and fails, naming what differs, on
mutated stacks: a control removed, a setting weakened, a guardrail detached."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.proofs.parity import check_platform_parity
from tests.helpers import REFERENCE, ROOT


@pytest.fixture
def stacks(reference_stacks: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(reference_stacks)


@pytest.fixture
def accounts(reference_config: Any) -> dict[str, str]:
    return {
        e.value: reference_config.account_id(e) for e in reference_config.enabled_environments()
    }


def find(stack: dict[str, Any], rtype: str, path: str) -> tuple[str, dict[str, Any]]:
    for logical_id, body in stack["resource"][rtype].items():
        if body["//"]["metadata"]["path"].split("/", 1)[1] == path:
            return logical_id, body
    raise KeyError((rtype, path))


def test_reference_platform_has_parity(stacks: dict[str, Any], accounts: dict[str, str]) -> None:
    report = check_platform_parity(stacks, accounts)
    assert report.ok, report.render()
    assert report.environments == ("nonprod", "dev", "acc", "prd")
    assert report.compared >= 9


def test_a_removed_control_is_named(stacks: dict[str, Any], accounts: dict[str, str]) -> None:
    logical_id, _ = find(
        stacks["env-acc"], "aws_s3_bucket_public_access_block", "data-bucket/public-access-block"
    )
    del stacks["env-acc"]["resource"]["aws_s3_bucket_public_access_block"][logical_id]
    report = check_platform_parity(stacks, accounts)
    assert not report.ok
    rendered = report.render()
    assert (
        "aws_s3_bucket_public_access_block data-bucket/public-access-block: resource differs "
        "(nonprod: present; dev: present; acc: MISSING; prd: present)"
    ) in rendered


def test_a_weakened_setting_is_named(stacks: dict[str, Any], accounts: dict[str, str]) -> None:
    _, key = find(stacks["env-prd"], "aws_kms_key", "data-key/key")
    key["enable_key_rotation"] = False
    report = check_platform_parity(stacks, accounts)
    assert [d.render() for d in report.differences] == [
        "aws_kms_key data-key/key: enable_key_rotation differs "
        "(nonprod: true; dev: true; acc: true; prd: false)"
    ]


def test_a_weakened_nested_setting_is_named(
    stacks: dict[str, Any], accounts: dict[str, str]
) -> None:
    _, encryption = find(
        stacks["env-dev"],
        "aws_s3_bucket_server_side_encryption_configuration",
        "data-bucket/encryption",
    )
    encryption["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"] = "AES256"
    report = check_platform_parity(stacks, accounts)
    (difference,) = report.differences
    assert (
        difference.attribute == "rule[0].apply_server_side_encryption_by_default[0].sse_algorithm"
    )
    assert difference.values["dev"] == '"AES256"'


def test_a_detached_guardrail_is_named(stacks: dict[str, Any], accounts: dict[str, str]) -> None:
    attachments = stacks["organization"]["resource"]["aws_organizations_policy_attachment"]
    victim = next(
        k
        for k, v in attachments.items()
        if v["//"]["metadata"]["path"].startswith("organization/guardrails/")
        and v["//"]["metadata"]["path"].endswith("-prd")
    )
    del attachments[victim]
    report = check_platform_parity(stacks, accounts)
    assert any(
        d.resource.startswith("guardrail acme-ml-") and d.values["prd"] == "MISSING"
        for d in report.differences
    ), report.render()


def test_detection_differing_between_regions_is_named(
    per_account_stacks: dict[str, Any], accounts: dict[str, str]
) -> None:
    """What to build 5: in one account, the other region's detector weakened (all the
    environments alike, so only the regional comparison sees it), then a region's Security
    Hub removed everywhere, then a region the guardrails allow with no detection at all.
    Without the security accounts: with them, the administrator creates detectors and hubs
    (``tests/proofs/test_evidence.py``)."""
    stacks = copy.deepcopy(per_account_stacks)
    for name in ("env-nonprod", "env-dev", "env-acc", "env-prd"):
        _, detector = find(
            stacks[name], "aws_guardduty_detector", "baseline/detection/eu-central-1/guardduty"
        )
        detector["enable"] = False
    report = check_platform_parity(stacks, accounts)
    weakened = [d for d in report.differences if d.attribute == "enable"]
    assert [d.resource for d in weakened] == [
        "aws_guardduty_detector guardduty (baseline/detection/<region>)"
    ] * 4
    assert weakened[1].values == {"env-dev eu-west-1": "true", "env-dev eu-central-1": "false"}
    hubs = stacks["env-acc"]["resource"]["aws_securityhub_account"]
    hub, _ = find(
        stacks["env-acc"], "aws_securityhub_account", "baseline/detection/eu-west-1/securityhub"
    )
    del hubs[hub]
    assert "env-acc eu-west-1: MISSING" in check_platform_parity(stacks, accounts).render()


def test_an_allowed_region_without_detection_is_named(
    stacks: dict[str, Any], accounts: dict[str, str]
) -> None:
    """Every detection resource of eu-central-1 removed from prd: the region the guardrail
    allows is MISSING there; the unchanged reference has none missing (first test)."""
    prd = stacks["env-prd"]["resource"]
    for resources in prd.values():
        for logical_id in [
            k
            for k, b in resources.items()
            if b["//"]["metadata"]["path"].startswith("env-prd/baseline/detection/eu-central-1/")
        ]:
            del resources[logical_id]
    rendered = check_platform_parity(stacks, accounts).render()
    assert (
        "env-prd baseline/detection/<region>: regions differs "
        "(eu-central-1: MISSING; eu-west-1: present)"
    ) in rendered


def test_exactly_one_region_records_global_resources(
    stacks: dict[str, Any], accounts: dict[str, str]
) -> None:
    """The one allowed regional difference is bounded: turning global recording off in the
    home region (every environment alike) leaves no region recording IAM: named."""
    for name in ("env-nonprod", "env-dev", "env-acc", "env-prd"):
        _, recorder = find(
            stacks[name],
            "aws_config_configuration_recorder",
            "baseline/detection/eu-west-1/config-recorder",
        )
        recorder["recording_group"][0]["include_global_resource_types"] = False
    rendered = check_platform_parity(stacks, accounts).render()
    assert (
        "aws_config_configuration_recorder (baseline/detection/<region>): exactly one region "
        "records global resources differs (env-prd eu-central-1: does not; "
        "env-prd eu-west-1: does not)"
    ) in rendered


def test_allowed_differences_are_declared_and_shown(
    stacks: dict[str, Any], accounts: dict[str, str]
) -> None:
    extra = {"//": {"metadata": {"path": "env-dev/personas/data-scientist/role"}}, "name": "x"}
    stacks["env-dev"]["resource"].setdefault("aws_iam_role", {})["personas_ds"] = extra
    report = check_platform_parity(stacks, accounts)
    assert report.ok
    assert "personas/: persona roles follow the persona x environment matrix" in report.render()
    assert "include_global_resource_types: global resources (IAM)" in report.render()


def test_parity_command_exit_codes(tmp_path: Path, reference_synthesis: Any) -> None:
    env = dict(os.environ)
    command = [sys.executable, "-m", "ndap_infra", "parity", "-c", str(REFERENCE)]
    ok = subprocess.run(
        [*command, "--out", str(reference_synthesis.out_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "carry identical security controls" in ok.stdout

    mutated = tmp_path / "out"
    subprocess.run(["cp", "-r", str(reference_synthesis.out_dir), str(mutated)], check=True)
    prd = mutated / "stacks" / "env-prd" / "cdk.tf.json"
    data = json.loads(prd.read_text())
    _, key = find(data, "aws_kms_key", "data-key/key")
    key["enable_key_rotation"] = False
    prd.write_text(json.dumps(data))
    failed = subprocess.run(
        [*command, "--out", str(mutated)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert failed.returncode == 1
    assert "aws_kms_key data-key/key: enable_key_rotation differs" in failed.stdout
