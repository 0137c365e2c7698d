"""The security accounts' stacks (issue #18): the log archive, the delegated
administrator, the organization trail, and every account's Config delivery into the
archive; switched off, today's per-account stacks, byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.config.load import validate_data
from ndap_infra.proofs.creation_order import check_creation_order, stack_accounts
from ndap_infra.stacks.synthesis import synthesize
from tests.helpers import FIXTURES, env_stacks, reference_data, resources

ARCHIVE = "acme-ml-log-archive-700000000007"
ADMIN = "800000000008"
PER_ACCOUNT_RECORD = FIXTURES / "stack-checksums-per-account.json"
UPDATE = "NDAP_UPDATE_STACK_CHECKSUMS"


def _only(stack: dict[str, Any], rtype: str) -> dict[str, Any]:
    (body,) = resources(stack, rtype).values()
    return body


def test_the_archive_is_locked_in_compliance_mode_for_the_configured_days(
    reference_stacks: dict[str, Any],
) -> None:
    stack = reference_stacks["log-archive"]
    bucket = resources(stack, "aws_s3_bucket")["archive/archive-bucket/bucket"]
    assert bucket["bucket"] == ARCHIVE
    assert bucket["object_lock_enabled"] is True
    assert bucket["lifecycle"]["prevent_destroy"] is True
    assert "force_destroy" not in bucket or bucket["force_destroy"] is False
    lock = _only(stack, "aws_s3_bucket_object_lock_configuration")
    (retention,) = lock["rule"][0]["default_retention"]
    assert retention == {"mode": "COMPLIANCE", "days": 365}
    encryption = resources(stack, "aws_s3_bucket_server_side_encryption_configuration")
    rule = encryption["archive/archive-bucket/encryption"]["rule"][0]
    assert rule["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    blocks = resources(stack, "aws_s3_bucket_public_access_block")
    assert blocks["archive/archive-bucket/public-access-block"]["restrict_public_buckets"]
    logging = resources(stack, "aws_s3_bucket_logging")["archive/archive-bucket/access-logging"]
    (address,) = (
        name
        for name, body in stack["resource"]["aws_s3_bucket"].items()
        if body["bucket"] == "acme-ml-log-archive-access-700000000007"
    )
    assert logging["target_bucket"] == f"${{aws_s3_bucket.{address}.id}}"


def test_the_archive_policy_denies_deletion_to_everyone_and_reads_to_all_but_auditors(
    reference_stacks: dict[str, Any],
) -> None:
    policies = resources(reference_stacks["log-archive"], "aws_s3_bucket_policy")
    document = json.loads(policies["archive/archive-bucket/policy"]["policy"])
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    deny = by_sid["NobodyDeletesEvidence"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and "Condition" not in deny
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket"} <= set(deny["Action"])
    reads = by_sid["OnlySecurityAuditorsRead"]
    auditor = "arn:aws:iam::700000000007:role/ndap/personas/acme-ml-security-auditor"
    assert reads["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": auditor}}
    trail = by_sid["AWSCloudTrailWrite"]["Condition"]["StringEquals"]["aws:SourceArn"]
    assert trail == "arn:aws:cloudtrail:eu-west-1:100000000001:trail/acme-ml-organization-trail"


def test_the_organization_trail_delivers_every_account_into_the_archive(
    reference_stacks: dict[str, Any],
) -> None:
    trail = _only(reference_stacks["organization-trail"], "aws_cloudtrail")
    assert trail["is_organization_trail"] is True
    assert trail["is_multi_region_trail"] is True
    assert trail["enable_log_file_validation"] is True
    assert trail["s3_bucket_name"] == ARCHIVE
    # the archive key by its ARN, read in the log-archive account by its alias: CloudTrail
    # reads back the key ARN, and an alias ARN here would be a change in every plan
    stack = reference_stacks["organization-trail"]
    ((address, key),) = stack["data"]["aws_kms_key"].items()
    assert trail["kms_key_id"] == f"${{data.aws_kms_key.{address}.arn}}"
    assert key["key_id"] == "alias/acme-ml/log-archive"
    assert key["provider"] == "aws.log_archive"
    providers = {p.get("alias"): p for p in stack["provider"]["aws"]}
    assert set(providers) == {None, "log_archive"}
    (role,) = providers["log_archive"]["assume_role"]
    assert role["role_arn"] == "arn:aws:iam::700000000007:role/OrganizationAccountAccessRole"
    assert "default_tags" not in providers["log_archive"]  # it creates nothing
    assert "log-archive" not in json.dumps(stack.get("resource", {})).replace(ARCHIVE, "")


def test_every_account_delivers_config_into_the_archive(reference_stacks: dict[str, Any]) -> None:
    stacks = [stack for _, stack in env_stacks(reference_stacks)] + [reference_stacks["tooling"]]
    for stack in stacks:
        channels = resources(stack, "aws_config_delivery_channel").values()
        assert {c["s3_bucket_name"] for c in channels} == {ARCHIVE}
        assert all("s3_kms_key_arn" not in c for c in channels)


def test_the_security_tooling_account_is_the_delegated_administrator(
    reference_stacks: dict[str, Any],
) -> None:
    organization = reference_stacks["organization"]
    delegated = resources(organization, "aws_organizations_delegated_administrator")
    assert {d["service_principal"] for d in delegated.values()} == {
        "access-analyzer.amazonaws.com",
        "config.amazonaws.com",
    }
    assert {d["account_id"] for d in delegated.values()} == {ADMIN}
    guardduty = resources(organization, "aws_guardduty_organization_admin_account")
    assert len(guardduty) == 2, "one per allowed region"
    assert {g["admin_account_id"] for g in guardduty.values()} == {ADMIN}
    hub = _only(organization, "aws_securityhub_organization_admin_account")
    assert hub["admin_account_id"] == ADMIN

    tooling = reference_stacks["security-tooling"]
    members = resources(tooling, "aws_guardduty_organization_configuration").values()
    assert [m["auto_enable_organization_members"] for m in members] == ["ALL", "ALL"]
    analyzers = resources(tooling, "aws_accessanalyzer_analyzer").values()
    assert [a["type"] for a in analyzers] == ["ORGANIZATION", "ORGANIZATION"]
    central = _only(tooling, "aws_securityhub_organization_configuration")
    assert central["organization_configuration"][0]["configuration_type"] == "CENTRAL"
    regions = _only(tooling, "aws_securityhub_finding_aggregator")
    assert regions["specified_regions"] == ["eu-central-1"]
    aggregator = _only(tooling, "aws_config_configuration_aggregator")
    assert aggregator["organization_aggregation_source"][0]["regions"] == [
        "eu-central-1",
        "eu-west-1",
    ]
    rule = _only(tooling, "aws_cloudwatch_event_rule")
    assert json.loads(rule["event_pattern"])["detail"]["findings"]["Severity"]["Label"] == [
        "HIGH",
        "CRITICAL",
    ]


def test_the_archive_exists_before_anything_delivers_into_it(
    reference_config: Any, reference_synthesis: Any
) -> None:
    waves = reference_synthesis.apply_waves()
    assert waves["log-archive"] < min(
        waves[n] for n in ("tooling", "organization-trail", "env-dev", "env-prd")
    )
    stacks = reference_synthesis.stack_json()
    assert check_creation_order(stacks, stack_accounts(reference_config), waves).ok
    # The negative control: the archive side by side with the environments.
    late = {**waves, "log-archive": waves["env-dev"]}
    report = check_creation_order(stacks, stack_accounts(reference_config), late)
    assert not report.ok
    rendered = report.render()
    assert f"delivers logs into arn:aws:s3:::{ARCHIVE}" in rendered
    assert "created by log-archive (wave 3), not before env-dev (wave 3)" in rendered


@pytest.fixture(scope="module")
def per_account_synthesis(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = reference_data()
    data["organization"]["security_accounts"]["enabled"] = False
    config, issues = validate_data(data)
    assert issues == [] and config is not None
    return synthesize(config, tmp_path_factory.mktemp("per-account") / "cdktf.out")


def test_switched_off_the_stacks_are_the_per_account_model_byte_for_byte(
    per_account_synthesis: Any,
) -> None:
    found = {
        name: hashlib.sha256((Path(path) / "cdk.tf.json").read_bytes()).hexdigest()
        for name, path in per_account_synthesis.stacks.items()
    }
    if os.environ.get(UPDATE) == "1":
        PER_ACCOUNT_RECORD.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
    assert list(found) == [
        "organization",
        "tooling",
        "env-nonprod",
        "env-dev",
        "env-acc",
        "env-prd",
    ]
    assert found == json.loads(PER_ACCOUNT_RECORD.read_text())
    text = "".join(
        (Path(p) / "cdk.tf.json").read_text() for p in per_account_synthesis.stacks.values()
    )
    assert "log-archive" not in text and "aws_guardduty_organization" not in text
