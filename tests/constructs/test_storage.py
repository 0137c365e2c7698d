"""Hardened buckets: lifecycle, EventBridge notifications and S3 server access logging."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from ndap_infra.baseline import policies
from ndap_infra.constructs.storage import (
    DATA_LIFECYCLE,
    BucketLifecycle,
    BucketProps,
    SecureBucket,
    ServerAccessLogging,
)
from ndap_infra.names.baseline import BaselineNames
from ndap_infra.resources.schema import unknown_attributes
from tests.helpers import ACCOUNT, env_stacks, one, ref, resources, statement

# Every SecureBucket of an environment stack, by construct path below the stack.
DATA_BUCKETS = ("data-bucket", "data-access/bucket")
LOG_BUCKET = "baseline/log-bucket"
ACCESS_LOG_BUCKET = "baseline/access-log-bucket"


def buckets(stack: dict[str, Any]) -> list[str]:
    return sorted(p.removesuffix("/bucket") for p in resources(stack, "aws_s3_bucket"))


def test_every_bucket_of_every_environment_is_known(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    for name, stack in env_stacks(reference_stacks):
        expected = {"data-bucket", LOG_BUCKET, ACCESS_LOG_BUCKET}
        if name != "env-nonprod":  # no production data in nonprod
            expected.add("data-access/bucket")
        assert set(buckets(stack)) == expected, name


def test_data_buckets_bound_noncurrent_versions_and_keep_current_objects(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    for name, stack in env_stacks(reference_stacks):
        for bucket in set(buckets(stack)) & set(DATA_BUCKETS):
            body = one(stack, "aws_s3_bucket_lifecycle_configuration", f"{bucket}/lifecycle")
            assert body["bucket"] == ref(stack, "aws_s3_bucket", f"{bucket}/bucket", "id")
            assert body["depends_on"] == [
                ref(stack, "aws_s3_bucket_versioning", f"{bucket}/versioning", "x")
                .removeprefix("${")
                .removesuffix(".x}")
            ]
            (rule,) = body["rule"]
            assert rule == {
                "id": "bound-noncurrent-versions",
                "status": "Enabled",
                "filter": [{}],
                "noncurrent_version_transition": [
                    {"noncurrent_days": 30, "storage_class": "STANDARD_IA"}
                ],
                "noncurrent_version_expiration": [{"noncurrent_days": 90}],
                "abort_incomplete_multipart_upload": [{"days_after_initiation": 7}],
            }, (name, bucket)


def test_every_bucket_sends_events_to_eventbridge(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    for _, stack in env_stacks(reference_stacks):
        for bucket in buckets(stack):
            body = one(stack, "aws_s3_bucket_notification", f"{bucket}/notifications")
            assert body["eventbridge"] is True
            assert body["bucket"] == ref(stack, "aws_s3_bucket", f"{bucket}/bucket", "id")
            assert not {"queue", "topic", "lambda_function"} & set(body)


def test_every_bucket_but_the_destination_logs_access_to_it(
    reference_stacks, reference_config
) -> None:  # type: ignore[no-untyped-def]
    for name, stack in env_stacks(reference_stacks):
        destination = ref(stack, "aws_s3_bucket", f"{ACCESS_LOG_BUCKET}/bucket", "id")
        destination_policy = (
            ref(stack, "aws_s3_bucket_policy", f"{ACCESS_LOG_BUCKET}/policy", "x")
            .removeprefix("${")
            .removesuffix(".x}")
        )
        logging = resources(stack, "aws_s3_bucket_logging")
        sources = set(buckets(stack)) - {ACCESS_LOG_BUCKET}
        assert set(logging) == {f"{b}/access-logging" for b in sources}, name
        for bucket in sources:
            body = logging[f"{bucket}/access-logging"]
            assert body["bucket"] == ref(stack, "aws_s3_bucket", f"{bucket}/bucket", "id")
            assert body["target_bucket"] == destination
            assert body["target_prefix"] == policies.ACCESS_LOGS_PREFIX
            assert body["target_object_key_format"] == [
                {"partitioned_prefix": [{"partition_date_source": "EventTime"}]}
            ]
            assert body["depends_on"] == [destination_policy]


def test_access_log_bucket_is_sse_s3_protected_and_accepts_only_this_accounts_logs(
    reference_stacks, reference_config
) -> None:  # type: ignore[no-untyped-def]
    settings = reference_config.security_baseline
    for name, stack in env_stacks(reference_stacks):
        account = getattr(reference_config.environments, name.removeprefix("env-")).account_id
        names = BaselineNames("acme-ml", account, reference_config.organization.home_region)
        bucket = one(stack, "aws_s3_bucket", f"{ACCESS_LOG_BUCKET}/bucket")
        assert bucket["bucket"] == names.access_log_bucket
        assert bucket["lifecycle"] == {"prevent_destroy": True}
        (rule,) = one(
            stack,
            "aws_s3_bucket_server_side_encryption_configuration",
            f"{ACCESS_LOG_BUCKET}/encryption",
        )["rule"]
        assert rule == {"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256"}]}
        assert one(stack, "aws_s3_bucket_versioning", f"{ACCESS_LOG_BUCKET}/versioning")[
            "versioning_configuration"
        ] == [{"status": "Enabled"}]
        assert one(stack, "aws_s3_bucket_ownership_controls", f"{ACCESS_LOG_BUCKET}/ownership")[
            "rule"
        ] == [{"object_ownership": "BucketOwnerEnforced"}]
        block = one(
            stack, "aws_s3_bucket_public_access_block", f"{ACCESS_LOG_BUCKET}/public-access-block"
        )
        assert all(block[k] is True for k in ("block_public_acls", "block_public_policy"))
        assert all(block[k] is True for k in ("ignore_public_acls", "restrict_public_buckets"))
        (lifecycle,) = one(
            stack, "aws_s3_bucket_lifecycle_configuration", f"{ACCESS_LOG_BUCKET}/lifecycle"
        )["rule"]
        assert lifecycle["transition"] == [
            {"days": settings.log_archive_transition_days, "storage_class": "GLACIER"}
        ]
        assert lifecycle["expiration"] == [{"days": settings.log_retention_days}]
        policy = json.loads(
            one(stack, "aws_s3_bucket_policy", f"{ACCESS_LOG_BUCKET}/policy")["policy"]
        )
        assert (
            policy == policies.access_log_bucket_policy(names.access_log_bucket, account).to_dict()
        )


def test_access_log_bucket_policy_lets_only_s3_logging_of_this_account_write() -> None:
    names = BaselineNames("acme-ml", ACCOUNT, "eu-west-1")
    document = policies.access_log_bucket_policy(names.access_log_bucket, ACCOUNT)
    arn = f"arn:aws:s3:::{names.access_log_bucket}"
    delivery = statement(document, "S3ServerAccessLogsDelivery")
    assert delivery == {
        "Sid": "S3ServerAccessLogsDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{arn}/s3-access/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }
    allows = [s for s in document.statements if s.effect == "Allow"]
    assert [s.sid for s in allows] == ["S3ServerAccessLogsDelivery"]
    assert {"DenyInsecureTransport", "DenyOutdatedTls"} <= {s.sid for s in document.statements}


# -- the construct alone -----------------------------------------------------------------


def _synth(stack: TerraformStack) -> dict[str, Any]:
    synthesized: dict[str, Any] = json.loads(CdktfTesting.synth(stack))
    assert unknown_attributes(synthesized) == []
    return synthesized


def _ids(synthesized: dict[str, Any], rtype: str) -> set[str]:
    """Construct ids of one resource type (``Testing.synth`` drops the path metadata)."""
    return {logical.rsplit("_", 1)[0] for logical in synthesized["resource"].get(rtype, {})}


def test_logging_reaches_buckets_created_before_and_after_the_destination() -> None:
    stack = TerraformStack(CdktfTesting.app(), "env-test")
    SecureBucket(stack, "before", BucketProps(name="before", kms_key_arn="arn:key"))
    destination = SecureBucket(
        stack,
        "logs",
        BucketProps(name="logs", kms_key_arn=None, receives_access_logs=True, lifecycle=None),
    )
    ServerAccessLogging.apply(stack, destination, "s3-access/")
    after = SecureBucket(stack, "after", BucketProps(name="after", kms_key_arn="arn:key"))
    quiet = SecureBucket(
        stack,
        "quiet",
        BucketProps(name="quiet", kms_key_arn="arn:key", eventbridge_notifications=False),
    )
    synthesized = _synth(stack)
    _synth(stack)  # synthesizing again adds nothing twice
    assert _ids(synthesized, "aws_s3_bucket_logging") == {
        "before_access-logging",
        "after_access-logging",
        "quiet_access-logging",
    }
    assert after.access_logging is not None
    assert _ids(synthesized, "aws_s3_bucket_notification") == {
        "before_notifications",
        "logs_notifications",
        "after_notifications",
    }
    assert "logs_lifecycle" not in _ids(synthesized, "aws_s3_bucket_lifecycle_configuration")
    with pytest.raises(ValueError, match="already delivers"):
        after.log_access_to(destination, "again/")
    with pytest.raises(ValueError, match="does not log itself"):
        destination.log_access_to(destination, "self/")
    with pytest.raises(ValueError, match="not a server access log destination"):
        quiet.access_logging = None
        quiet.log_access_to(after, "x/")


def test_a_stack_without_a_destination_logs_nothing() -> None:
    stack = TerraformStack(CdktfTesting.app(), "organization")
    SecureBucket(stack, "b", BucketProps(name="b", kms_key_arn="arn:key"))
    assert "aws_s3_bucket_logging" not in _synth(stack)["resource"]


def test_only_the_access_log_destination_may_use_sse_s3() -> None:
    with pytest.raises(ValueError, match="only for the server access log destination"):
        BucketProps(name="data", kms_key_arn=None)


def test_lifecycles_reject_archiving_after_expiry() -> None:
    assert DATA_LIFECYCLE.expire_after_days is None, "current data is never expired"
    with pytest.raises(ValueError, match="noncurrent versions are archived after 90"):
        BucketLifecycle("x", noncurrent_expire_after_days=30, noncurrent_archive_after_days=90)
    with pytest.raises(ValueError, match="objects are archived after 400"):
        BucketLifecycle(
            "x", noncurrent_expire_after_days=30, archive_after_days=400, expire_after_days=365
        )
