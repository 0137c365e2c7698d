"""The security baseline: identical in every environment account, hardened, config-driven."""

from __future__ import annotations

import ast
import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.baseline import alarms, controls, policies
from ndap_infra.config.model import PasswordPolicyConfig, SecurityBaselineConfig
from ndap_infra.iam.document import Statement
from ndap_infra.names import arns
from ndap_infra.names.baseline import (
    BaselineNames,
    baseline_resource_name_patterns,
    baseline_role_names,
    config_rule_name,
)
from ndap_infra.names.security import archive_bucket
from ndap_infra.resources.schema import unknown_attributes
from tests.helpers import ACCOUNT, ROOT, env_stacks, one, ref, resources, statement

REGION = "eu-west-1"
HOME = f"baseline/detection/{REGION}/"
OTHER = "eu-central-1"
"""The reference's other allowed region."""
NAMES = BaselineNames("acme-ml", ACCOUNT, REGION)
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/acme-ml-baseline"
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/acme-ml/baseline/cloudtrail"


# -- helpers over a synthesized stack --------------------------------------------------


def dependency(stack: dict[str, Any], rtype: str, path: str) -> str:
    return ref(stack, rtype, path, "x").removeprefix("${").removesuffix(".x}")


def policy_of(body: dict[str, Any], attribute: str = "policy") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(body[attribute])
    return document


# -- pure: policy documents ------------------------------------------------------------


def test_log_bucket_policy_lets_only_this_accounts_trail_and_config_deliver() -> None:
    document = policies.log_bucket_policy(NAMES.log_bucket, ACCOUNT, TRAIL_ARN)
    bucket = f"arn:aws:s3:::{NAMES.log_bucket}"

    acl_check = statement(document, "AWSCloudTrailAclCheck")
    assert acl_check["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert acl_check["Action"] == "s3:GetBucketAcl"
    assert acl_check["Resource"] == bucket
    assert acl_check["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT

    write = statement(document, "AWSCloudTrailWrite")
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"] == f"{bucket}/cloudtrail/AWSLogs/{ACCOUNT}/*"
    assert write["Condition"]["StringEquals"] == {
        "aws:SourceAccount": ACCOUNT,
        "aws:SourceArn": TRAIL_ARN,
        "s3:x-amz-acl": "bucket-owner-full-control",
    }

    for sid in (
        "AWSConfigBucketPermissionsCheck",
        "AWSConfigBucketExistenceCheck",
        "AWSConfigBucketDelivery",
    ):
        config = statement(document, sid)
        assert config["Principal"] == {"Service": "config.amazonaws.com"}
        assert config["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    delivery = statement(document, "AWSConfigBucketDelivery")
    assert delivery["Resource"] == f"{bucket}/config/AWSLogs/{ACCOUNT}/Config/*"

    tls = statement(document, "DenyInsecureTransport")
    assert tls["Effect"] == "Deny" and tls["Principal"] == "*"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Every Allow names a service and is conditioned on this account.
    for s in document.statements:
        if s.effect == "Allow":
            assert s.principals and s.principals[0].kind == "Service", s.sid
            assert any(
                c.key == "aws:SourceAccount" and c.values == (ACCOUNT,) for c in s.conditions
            )


def test_logs_key_policy_scopes_each_service_to_its_resource() -> None:
    document = policies.logs_key_policy(ACCOUNT, REGION, TRAIL_ARN, LOG_GROUP_ARN)

    admin = statement(document, "AccountAdministersKey")
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}

    encrypt = statement(document, "CloudTrailEncryptsLogs")
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"]["StringEquals"] == {
        "aws:SourceArn": TRAIL_ARN,
        "kms:EncryptionContext:aws:cloudtrail:arn": TRAIL_ARN,
    }
    describe = statement(document, "CloudTrailDescribesKey")
    assert describe["Condition"]["StringEquals"] == {"aws:SourceArn": TRAIL_ARN}

    logs = statement(document, "CloudWatchLogsEncryptsTrailLogGroup")
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": LOG_GROUP_ARN}}
    # No Describe request carries an encryption context: under this condition a
    # kms:Describe* grant could never apply, so none is written.
    assert not any(a.startswith("kms:Describe") for a in logs["Action"])

    config = statement(document, "ConfigEncryptsDeliveries")
    assert config["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    alarms_ = statement(document, "CloudWatchAlarmsPublishToEncryptedTopic")
    assert alarms_["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(alarms_["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    # No service may administer the key.
    for s in document.statements:
        if s.principals and s.principals[0].kind == "Service":
            assert not any(a in ("kms:*", "kms:PutKeyPolicy") for a in s.actions), s.sid


def test_trail_role_may_only_write_to_its_log_group() -> None:
    document = policies.cloudtrail_role_policy(LOG_GROUP_ARN, ACCOUNT)
    actions = {a for s in document.statements for a in s.actions}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"}
    for s in document.statements:
        assert s.effect == "Allow"
        assert s.resources == (f"{LOG_GROUP_ARN}:log-stream:{ACCOUNT}_CloudTrail_*",)
    trust = policies.cloudtrail_role_trust().to_dict()["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "cloudtrail.amazonaws.com"}]


def test_config_role_trusts_config_for_this_account_and_delivers_to_its_prefix() -> None:
    trust = statement(policies.config_role_trust(ACCOUNT), "ConfigAssumesRole")
    assert trust["Principal"] == {"Service": "config.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"
    document = policies.config_role_delivery_policy(NAMES.log_bucket, ACCOUNT, key)
    delivers = statement(document, "ConfigDelivers")
    assert delivers["Resource"] == f"arn:aws:s3:::{NAMES.log_bucket}/config/AWSLogs/{ACCOUNT}/*"
    assert statement(document, "ConfigEncryptsWithLogsKey")["Resource"] == key


def test_alarm_topic_accepts_only_this_accounts_alarms_over_tls() -> None:
    document = policies.alarm_topic_policy(NAMES.alarm_topic_arn, ACCOUNT, NAMES.alarm_arn_pattern)
    publish = statement(document, "CloudWatchAlarmsPublish")
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Action"] == "sns:Publish"
    assert publish["Resource"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:acme-ml-baseline-alarms"
    assert publish["Condition"] == {
        "ArnLike": {
            "aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:acme-ml-baseline-*"
        },
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    tls = statement(document, "DenyInsecureTransport")
    assert tls["Effect"] == "Deny"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# -- pure: standards, rules, settings, alarms, names -----------------------------------


@pytest.mark.parametrize(
    ("suffix", "arn"),
    [
        (
            "aws-foundational-security-best-practices/v/1.0.0",
            "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0",
        ),
        (
            "cis-aws-foundations-benchmark/v/1.2.0",
            "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
        ),
        (
            "cis-aws-foundations-benchmark/v/1.4.0",
            "arn:aws:securityhub:eu-west-1::standards/cis-aws-foundations-benchmark/v/1.4.0",
        ),
        (
            "ruleset/cis-aws-foundations-benchmark/v/1.2.0",
            "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
        ),
        ("standards/pci-dss/v/3.2.1", "arn:aws:securityhub:eu-west-1::standards/pci-dss/v/3.2.1"),
    ],
)
def test_security_hub_standard_arns(suffix: str, arn: str) -> None:
    assert arns.security_hub_standard_arn(suffix, REGION) == arn


def test_config_rules_have_stable_names_and_check_the_configured_password_policy() -> None:
    config = SecurityBaselineConfig(
        config_rules=("CLOUD_TRAIL_ENABLED", "IAM_PASSWORD_POLICY", "CLOUD_TRAIL_ENABLED"),
        password_policy=PasswordPolicyConfig(minimum_length=20, max_age_days=60),
    )
    rules = controls.config_rules(config)
    assert [r.id for r in rules] == ["cloud-trail-enabled", "iam-password-policy"]
    assert (
        config_rule_name("acme-ml", "CLOUD_TRAIL_ENABLED") == "acme-ml-baseline-cloud-trail-enabled"
    )
    assert rules[0].input_parameters is None
    parameters = json.loads(rules[1].input_parameters or "")
    assert parameters["MinimumPasswordLength"] == "20"
    assert parameters["MaxPasswordAge"] == "60"
    assert parameters["RequireSymbols"] == "true"


def test_log_lifecycle_follows_configuration_and_rejects_archive_after_expiry() -> None:
    lifecycle = controls.log_lifecycle(
        SecurityBaselineConfig(log_retention_days=400, log_archive_transition_days=60)
    )
    assert (lifecycle.archive_after_days, lifecycle.expire_after_days) == (60, 400)
    assert lifecycle.noncurrent_expire_after_days == 400
    with pytest.raises(ValueError, match="log_archive_transition_days"):
        controls.log_lifecycle(
            SecurityBaselineConfig(log_retention_days=90, log_archive_transition_days=90)
        )


def test_alarm_table_covers_cis_and_baseline_changes() -> None:
    names = [spec.name for spec in alarms.BASELINE_ALARMS]
    assert names == [
        "root-account-use",
        "unauthorized-api-calls",
        "console-sign-in-without-mfa",
        "iam-policy-changes",
        "control-changes",
        "break-glass-use",
    ]
    assert len(set(names)) == len(names)
    assert "*break-glass*" in alarms.BREAK_GLASS_USE.filter_pattern
    assert '$.userIdentity.type = "Root"' in alarms.ROOT_ACCOUNT_USE.filter_pattern
    assert "AccessDenied*" in alarms.UNAUTHORIZED_API_CALLS.filter_pattern
    assert '$.additionalEventData.MFAUsed != "Yes"' in (
        alarms.CONSOLE_SIGN_IN_WITHOUT_MFA.filter_pattern
    )
    assert "PutRolePolicy" in alarms.IAM_POLICY_CHANGES.filter_pattern
    pattern = alarms.BASELINE_CHANGES.filter_pattern
    for source, events in {
        "cloudtrail.amazonaws.com": ("StopLogging", "DeleteTrail", "UpdateTrail"),
        "config.amazonaws.com": (
            "StopConfigurationRecorder",
            "DeleteDeliveryChannel",
            "DeleteConfigurationRecorder",
        ),
        "guardduty.amazonaws.com": ("DeleteDetector", "UpdateDetector"),
        "securityhub.amazonaws.com": ("DisableSecurityHub",),
        "kms.amazonaws.com": ("DisableKey", "ScheduleKeyDeletion"),
        "s3.amazonaws.com": ("PutBucketPolicy", "DeleteBucketPolicy"),
        "access-analyzer.amazonaws.com": ("DeleteAnalyzer",),
    }.items():
        assert alarms.events_of(source, events) in pattern
    for spec in alarms.BASELINE_ALARMS:
        assert len(spec.filter_pattern) <= alarms.FILTER_PATTERN_LIMIT
        assert spec.filter_pattern.count("(") == spec.filter_pattern.count(")")
        assert spec.filter_pattern.startswith("{") and spec.filter_pattern.endswith("}")
    with pytest.raises(ValueError, match="over CloudWatch Logs"):
        alarms.AlarmSpec("too-long", "", "{" + "x" * 1024 + "}")


def test_names_carry_the_organization_never_the_environment() -> None:
    assert NAMES.trail == "acme-ml-baseline"
    assert NAMES.trail_role == "acme-ml-baseline-cloudtrail"
    assert NAMES.config_role == "acme-ml-baseline-config"
    assert NAMES.trail_log_group == "/acme-ml/baseline/cloudtrail"
    assert NAMES.log_bucket == f"acme-ml-baseline-logs-{ACCOUNT}"
    assert NAMES.access_log_bucket == f"acme-ml-baseline-logs-access-{ACCOUNT}"
    assert NAMES.logs_key_alias == "alias/acme-ml/baseline/logs"
    assert NAMES.trail_arn == TRAIL_ARN
    assert NAMES.trail_log_group_arn == LOG_GROUP_ARN
    assert baseline_role_names("acme-ml") == NAMES.role_names


def test_name_patterns_match_every_baseline_resource_in_any_account() -> None:
    patterns = baseline_resource_name_patterns("acme-ml")
    assert patterns.role_names == ("acme-ml-baseline-cloudtrail", "acme-ml-baseline-config")
    for account in (ACCOUNT, "500000000005"):
        names = BaselineNames("acme-ml", account, "eu-central-1")
        concrete = {
            "role": [f"arn:aws:iam::{account}:role/{r}" for r in names.role_names],
            "bucket": [
                f"arn:aws:s3:::{bucket}{suffix}"
                for bucket in (names.log_bucket, names.access_log_bucket)
                for suffix in ("", "/x")
            ],
            "trail": [names.trail_arn],
            "log_group": [names.trail_log_group_arn],
            "alias": [f"arn:aws:kms:eu-central-1:{account}:{names.logs_key_alias}"],
            "topic": [names.alarm_topic_arn],
            "alarm": [
                f"arn:aws:cloudwatch:eu-central-1:{account}:alarm:{names.alarm(spec.name)}"
                for spec in alarms.BASELINE_ALARMS
            ],
        }
        for kind, arns_ in concrete.items():
            for arn in arns_:
                assert any(fnmatch.fnmatchcase(arn, p) for p in patterns.all_arns()), (kind, arn)
    # ... and nothing of another organization.
    other = BaselineNames("acme-ml2", ACCOUNT, REGION)
    for arn in (f"arn:aws:iam::{ACCOUNT}:role/{other.trail_role}", other.trail_arn):
        assert not any(fnmatch.fnmatchcase(arn, p) for p in patterns.all_arns()), arn


def test_the_baseline_code_cannot_see_the_environment() -> None:
    """Invariant 1: nothing in the baseline's code refers to Environment."""
    files = [*sorted((ROOT / "ndap_infra" / "baseline").glob("*.py"))]
    files.append(ROOT / "ndap_infra" / "constructs" / "baseline.py")
    for path in files:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert "Environment" not in names, path


def test_statements_are_typed_values() -> None:
    # The builders return PolicyDocuments made of Statements (no string templates).
    document = policies.log_bucket_policy(NAMES.log_bucket, ACCOUNT, TRAIL_ARN)
    assert all(isinstance(s, Statement) for s in document.statements)


# -- synthesized: every environment stack carries every control -------------------------


def test_baseline_is_identical_in_every_environment_but_for_the_account(
    reference_stacks, reference_config
) -> None:  # type: ignore[no-untyped-def]
    """Stronger than environment sameness: with only the account id replaced (the
    environment's name is left alone) the baseline's resources are byte-identical."""
    rendered = {}
    for name, stack in env_stacks(reference_stacks):
        env = name.removeprefix("env-")
        account = getattr(reference_config.environments, env).account_id
        baseline = {
            rtype: {
                logical: {k: v for k, v in body.items() if k != "//"}
                for logical, body in bodies.items()
                if body["//"]["metadata"]["path"].split("/")[1] == "baseline"
            }
            for rtype, bodies in stack["resource"].items()
        }
        baseline = {rtype: bodies for rtype, bodies in baseline.items() if bodies}
        rendered[name] = json.dumps(baseline, sort_keys=True).replace(account, "<ACCOUNT>")
    assert len(set(rendered.values())) == 1
    assert len(rendered) == len(reference_config.enabled_environments())


def test_every_stack_is_in_the_provider_schema(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    for name, stack in reference_stacks.items():
        assert unknown_attributes(stack) == [], name


def test_trail_is_multi_region_validated_encrypted_and_monitored(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    for name, stack in env_stacks(reference_stacks):
        trail = one(stack, "aws_cloudtrail", "baseline/trail")
        assert trail["name"] == "acme-ml-baseline", name
        assert trail["is_multi_region_trail"] is True
        assert trail["include_global_service_events"] is True
        assert trail["enable_log_file_validation"] is True
        assert trail["enable_logging"] is True
        assert trail["kms_key_id"] == ref(stack, "aws_kms_key", "baseline/logs-key/key", "arn")
        assert trail["s3_bucket_name"] == ref(
            stack, "aws_s3_bucket", "baseline/log-bucket/bucket", "bucket"
        )
        log_group = ref(stack, "aws_cloudwatch_log_group", "baseline/trail-log-group", "arn")
        assert trail["cloud_watch_logs_group_arn"] == f"{log_group}:*"
        assert trail["cloud_watch_logs_role_arn"] == ref(
            stack, "aws_iam_role", "baseline/trail-role", "arn"
        )
        assert (
            dependency(stack, "aws_s3_bucket_policy", "baseline/log-bucket/policy")
            in (trail["depends_on"])
        )
        role_policy = policy_of(one(stack, "aws_iam_role_policy", "baseline/trail-role-policy"))
        for s in role_policy["Statement"]:
            assert ":log-group:/acme-ml/baseline/cloudtrail:log-stream:" in s["Resource"]


def test_trail_log_group_is_encrypted_and_retained(reference_stacks, reference_config) -> None:  # type: ignore[no-untyped-def]
    for _, stack in env_stacks(reference_stacks):
        group = one(stack, "aws_cloudwatch_log_group", "baseline/trail-log-group")
        assert group["name"] == "/acme-ml/baseline/cloudtrail"
        assert group["kms_key_id"] == ref(stack, "aws_kms_key", "baseline/logs-key/key", "arn")
        assert group["retention_in_days"] == (
            reference_config.security_baseline.cloudwatch_log_retention_days
        )


def test_logs_key_rotates_and_scopes_cloudtrail(reference_stacks, reference_config) -> None:  # type: ignore[no-untyped-def]
    for name, stack in env_stacks(reference_stacks):
        key = one(stack, "aws_kms_key", "baseline/logs-key/key")
        assert key["enable_key_rotation"] is True
        account = getattr(reference_config.environments, name.removeprefix("env-")).account_id
        trail = f"arn:aws:cloudtrail:{REGION}:{account}:trail/acme-ml-baseline"
        encrypt = statement(policy_of(key), "CloudTrailEncryptsLogs")
        assert encrypt["Condition"]["StringEquals"]["kms:EncryptionContext:aws:cloudtrail:arn"] == (
            trail
        )
        alias = one(stack, "aws_kms_alias", "baseline/logs-key/alias")
        assert alias["name"] == "alias/acme-ml/baseline/logs"


def test_log_bucket_is_hardened_protected_and_expires_logs(
    reference_stacks, reference_config
) -> None:  # type: ignore[no-untyped-def]
    settings = reference_config.security_baseline
    for name, stack in env_stacks(reference_stacks):
        account = getattr(reference_config.environments, name.removeprefix("env-")).account_id
        bucket = one(stack, "aws_s3_bucket", "baseline/log-bucket/bucket")
        assert bucket["bucket"] == f"acme-ml-baseline-logs-{account}"
        assert bucket["lifecycle"] == {"prevent_destroy": True}
        assert bucket["force_destroy"] is False
        assert one(stack, "aws_s3_bucket_versioning", "baseline/log-bucket/versioning")[
            "versioning_configuration"
        ] == [{"status": "Enabled"}]
        (rule,) = one(
            stack,
            "aws_s3_bucket_server_side_encryption_configuration",
            "baseline/log-bucket/encryption",
        )["rule"]
        assert rule["apply_server_side_encryption_by_default"] == [
            {
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": ref(stack, "aws_kms_key", "baseline/logs-key/key", "arn"),
            }
        ]
        block = one(
            stack, "aws_s3_bucket_public_access_block", "baseline/log-bucket/public-access-block"
        )
        assert all(block[k] is True for k in ("block_public_acls", "block_public_policy"))
        assert all(block[k] is True for k in ("ignore_public_acls", "restrict_public_buckets"))
        ownership = one(stack, "aws_s3_bucket_ownership_controls", "baseline/log-bucket/ownership")
        assert ownership["rule"] == [{"object_ownership": "BucketOwnerEnforced"}]

        policy = policy_of(one(stack, "aws_s3_bucket_policy", "baseline/log-bucket/policy"))
        sids = {s["Sid"] for s in policy["Statement"]}
        assert {"DenyInsecureTransport", "DenyOutdatedTls", "AWSCloudTrailWrite"} <= sids
        write = statement(policy, "AWSCloudTrailWrite")
        assert write["Condition"]["StringEquals"]["aws:SourceAccount"] == account

        lifecycle = one(
            stack, "aws_s3_bucket_lifecycle_configuration", "baseline/log-bucket-lifecycle"
        )
        (rule,) = lifecycle["rule"]
        assert rule["status"] == "Enabled"
        assert rule["transition"] == [
            {"days": settings.log_archive_transition_days, "storage_class": "GLACIER"}
        ]
        assert rule["expiration"] == [{"days": settings.log_retention_days}]
        assert rule["noncurrent_version_expiration"] == [
            {"noncurrent_days": settings.log_retention_days}
        ]
        assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]


def test_config_records_everything_and_delivers_encrypted(
    reference_stacks, reference_config
) -> None:  # type: ignore[no-untyped-def]
    identifiers = reference_config.security_baseline.config_rules
    for _, stack in env_stacks(reference_stacks):
        recorder = one(stack, "aws_config_configuration_recorder", HOME + "config-recorder")
        assert recorder["recording_group"] == [
            {"all_supported": True, "include_global_resource_types": True}
        ]
        assert recorder["role_arn"] == ref(stack, "aws_iam_role", "baseline/config-role", "arn")
        channel = one(stack, "aws_config_delivery_channel", HOME + "config-delivery-channel")
        security = reference_config.organization.security_accounts
        if security is not None and security.enabled:
            # into the log archive (#18), encrypted there by its bucket's default key
            org = reference_config.organization.name
            archive = archive_bucket(org, str(security.log_archive.account_id))
            assert channel["s3_bucket_name"] == archive
            assert "s3_kms_key_arn" not in channel
        else:
            assert channel["s3_bucket_name"] == ref(
                stack, "aws_s3_bucket", "baseline/log-bucket/bucket", "bucket"
            )
            assert channel["s3_kms_key_arn"] == ref(
                stack, "aws_kms_key", "baseline/logs-key/key", "arn"
            )
        status = one(
            stack, "aws_config_configuration_recorder_status", HOME + "config-recorder-status"
        )
        assert status["is_enabled"] is True
        assert status["depends_on"] == [
            dependency(stack, "aws_config_delivery_channel", HOME + "config-delivery-channel")
        ]
        attachment = one(
            stack, "aws_iam_role_policy_attachment", "baseline/config-role-managed-policy"
        )
        assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"

        rules = {
            k: r
            for k, r in resources(stack, "aws_config_config_rule").items()
            if r["//"]["metadata"]["path"].split("/", 1)[1].startswith(HOME)
        }
        assert len(rules) == len(identifiers)
        by_identifier = {r["source"][0]["source_identifier"]: r for r in rules.values()}
        assert set(by_identifier) == set(identifiers)
        for identifier, rule in by_identifier.items():
            assert rule["source"][0]["owner"] == "AWS"
            assert rule["name"] == config_rule_name("acme-ml", identifier)


def test_detection_services_are_enabled(per_account_stacks, reference_config) -> None:  # type: ignore[no-untyped-def]
    """Without the security accounts, each account enables its own GuardDuty detector and
    Security Hub with the baseline's standards."""
    settings = reference_config.security_baseline
    for _, stack in env_stacks(per_account_stacks):
        detector = one(stack, "aws_guardduty_detector", HOME + "guardduty")
        assert detector["enable"] is True
        assert detector["finding_publishing_frequency"] == settings.guardduty_finding_frequency

        one(stack, "aws_securityhub_account", HOME + "securityhub")
        account = dependency(stack, "aws_securityhub_account", HOME + "securityhub")
        subscriptions = {
            k: r
            for k, r in resources(stack, "aws_securityhub_standards_subscription").items()
            if r["//"]["metadata"]["path"].split("/", 1)[1].startswith(HOME)
        }
        assert len(subscriptions) == len(settings.security_hub_standards)
        assert {s["standards_arn"] for s in subscriptions.values()} == {
            arns.security_hub_standard_arn(suffix, REGION)
            for suffix in settings.security_hub_standards
        }
        assert all(s["depends_on"] == [account] for s in subscriptions.values())

        analyzer = one(stack, "aws_accessanalyzer_analyzer", HOME + "access-analyzer")
        assert analyzer["type"] == "ACCOUNT"


def test_with_the_security_accounts_the_administrator_creates_detectors_and_hubs(
    reference_stacks: dict[str, Any], per_account_stacks: dict[str, Any]
) -> None:
    """#18: with GuardDuty auto-enable ALL and Security Hub central configuration, the
    delegated administrator creates every member's detector and hub; a member stack's own
    would fail (a detector already exists, the hub is already enabled). So no workload
    stack creates one; everything else of detection stays, in every region."""
    member_owned = (
        "aws_guardduty_detector",
        "aws_securityhub_account",
        "aws_securityhub_standards_subscription",
    )
    for name in ("env-nonprod", "env-dev", "env-acc", "env-prd", "tooling"):
        on, off = reference_stacks[name], per_account_stacks[name]
        for rtype in member_owned:
            assert resources(on, rtype) == {}, (name, rtype)
            assert len(resources(off, rtype)) >= 2, (name, rtype)  # the negative control
        for region in (REGION, OTHER):
            there = f"baseline/detection/{region}/"
            one(on, "aws_accessanalyzer_analyzer", there + "access-analyzer")
            one(on, "aws_config_configuration_recorder", there + "config-recorder")
    # the administrator's own account keeps its detector (the organization configuration's)
    tooling = reference_stacks["security-tooling"]
    assert len(resources(tooling, "aws_guardduty_detector")) == 2


def test_detection_runs_in_every_allowed_region(per_account_stacks, reference_config) -> None:  # type: ignore[no-untyped-def]
    """What to build 5: GuardDuty, Security Hub, Config and Access Analyzer in each region
    organization.allowed_regions lists, through an aliased provider of the same account;
    only the home region's recorder records global resources (IAM); one Config role."""
    assert reference_config.organization.allowed_regions == (REGION, OTHER)
    settings = reference_config.security_baseline
    alias = "aws.eu_central_1"
    stacks = per_account_stacks
    for _, stack in [*env_stacks(stacks), ("tooling", stacks["tooling"])]:
        (provider,) = [p for p in stack["provider"]["aws"] if p.get("alias") == "eu_central_1"]
        (home,) = [p for p in stack["provider"]["aws"] if "alias" not in p]
        assert provider["region"] == OTHER and home["region"] == REGION
        assert provider["assume_role"] == home["assume_role"]
        there = f"baseline/detection/{OTHER}/"
        for rtype, name in (
            ("aws_guardduty_detector", "guardduty"),
            ("aws_securityhub_account", "securityhub"),
            ("aws_accessanalyzer_analyzer", "access-analyzer"),
            ("aws_config_configuration_recorder", "config-recorder"),
            ("aws_config_delivery_channel", "config-delivery-channel"),
            ("aws_config_configuration_recorder_status", "config-recorder-status"),
        ):
            assert one(stack, rtype, there + name)["provider"] == alias
            assert "provider" not in one(stack, rtype, HOME + name)
        for recorder, records_global in ((HOME, True), (there, False)):
            group = one(stack, "aws_config_configuration_recorder", recorder + "config-recorder")
            assert group["recording_group"][0]["include_global_resource_types"] is records_global
        assert len(resources(stack, "aws_iam_role_policy_attachment")) >= 1
        roles = [r for r in resources(stack, "aws_iam_role").values() if "config" in r["name"]]
        assert len(roles) == 1
        standards = {
            r["standards_arn"]
            for r in resources(stack, "aws_securityhub_standards_subscription").values()
            if r.get("provider") == alias
        }
        assert standards == {
            arns.security_hub_standard_arn(suffix, OTHER)
            for suffix in settings.security_hub_standards
        }
        rules = [r for r in resources(stack, "aws_config_config_rule").values()]
        assert len(rules) == 2 * len(settings.config_rules)


def test_account_wide_settings(reference_stacks, reference_config) -> None:  # type: ignore[no-untyped-def]
    password = reference_config.security_baseline.password_policy
    for _, stack in env_stacks(reference_stacks):
        block = one(
            stack, "aws_s3_account_public_access_block", "baseline/s3-account-public-access-block"
        )
        assert {k: block[k] for k in block if k != "//"} == {
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        }
        ebs = one(stack, "aws_ebs_encryption_by_default", "baseline/ebs-encryption-by-default")
        assert ebs["enabled"] is True
        default_key = one(stack, "aws_ebs_default_kms_key", "baseline/ebs-default-key")
        assert default_key["key_arn"] == ref(stack, "aws_kms_key", "data-key/key", "arn")

        policy = one(stack, "aws_iam_account_password_policy", "baseline/password-policy")
        assert policy["minimum_password_length"] == password.minimum_length
        assert policy["max_password_age"] == password.max_age_days
        assert policy["password_reuse_prevention"] == password.reuse_prevention
        for flag in (
            "require_symbols",
            "require_numbers",
            "require_uppercase_characters",
            "require_lowercase_characters",
            "allow_users_to_change_password",
        ):
            assert policy[flag] is True, flag


def test_each_alarm_watches_the_trail_log_group_and_notifies_the_topic(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    for _, stack in env_stacks(reference_stacks):
        topic = one(stack, "aws_sns_topic", "baseline/alarm-topic")
        assert topic["kms_master_key_id"] == ref(
            stack, "aws_kms_key", "baseline/logs-key/key", "arn"
        )
        topic_arn = ref(stack, "aws_sns_topic", "baseline/alarm-topic", "arn")
        topic_policy = one(stack, "aws_sns_topic_policy", "baseline/alarm-topic-policy")
        assert topic_policy["arn"] == topic_arn
        assert {s["Sid"] for s in policy_of(topic_policy)["Statement"]} == {
            "CloudWatchAlarmsPublish",
            "DenyInsecureTransport",
        }
        log_group = ref(stack, "aws_cloudwatch_log_group", "baseline/trail-log-group", "name")
        filters = resources(stack, "aws_cloudwatch_log_metric_filter")
        # the baseline's alarms (a project's drift-retraining alarm lives under retraining/)
        alarms_ = {
            path: body
            for path, body in resources(stack, "aws_cloudwatch_metric_alarm").items()
            if path.startswith("baseline/")
        }
        assert len(filters) == len(alarms_) == len(alarms.BASELINE_ALARMS)
        for spec in alarms.BASELINE_ALARMS:
            metric_filter = filters[f"baseline/alarm-filter-{spec.name}"]
            assert metric_filter["log_group_name"] == log_group
            assert metric_filter["pattern"] == spec.filter_pattern
            (transformation,) = metric_filter["metric_transformation"]
            alarm = alarms_[f"baseline/alarm-{spec.name}"]
            assert alarm["alarm_name"] == f"acme-ml-baseline-{spec.name}"
            assert alarm["metric_name"] == transformation["name"] == spec.metric_name
            assert alarm["namespace"] == transformation["namespace"] == "acme-ml/baseline"
            assert alarm["alarm_actions"] == [topic_arn]
            assert alarm["threshold"] == 1
            assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
        assert "aws_sns_topic_subscription" not in stack["resource"]  # no alarm_email set


def test_other_settings_change_only_what_they_configure() -> None:
    """One small synthesis of the construct alone, with non-default settings."""
    from cdktf import TerraformStack, Testing

    from ndap_infra.constructs.baseline import BaselineProps, SecurityBaseline

    settings = SecurityBaselineConfig(
        alarm_email="security@acme.example",
        security_hub_standards=("cis-aws-foundations-benchmark/v/1.2.0",),
        config_rules=("CLOUD_TRAIL_ENABLED",),
        guardduty_finding_frequency="SIX_HOURS",
    )
    stack = TerraformStack(Testing.app(), "env-test")
    baseline = SecurityBaseline(
        stack,
        "baseline",
        BaselineProps(
            org="acme-ml",
            account_id=ACCOUNT,
            region=REGION,
            config=settings,
            ebs_kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/data",
        ),
    )
    synthesized = json.loads(Testing.synth(stack))
    assert unknown_attributes(synthesized) == []
    (subscription,) = synthesized["resource"]["aws_securityhub_standards_subscription"].values()
    assert subscription["standards_arn"] == (
        "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"
    )
    assert len(synthesized["resource"]["aws_config_config_rule"]) == 1
    (detector,) = synthesized["resource"]["aws_guardduty_detector"].values()
    assert detector["finding_publishing_frequency"] == "SIX_HOURS"
    (email,) = synthesized["resource"]["aws_sns_topic_subscription"].values()
    assert email["protocol"] == "email"
    assert email["endpoint"] == "security@acme.example"
    # What later layers read.
    assert baseline.trail_arn == TRAIL_ARN
    assert baseline.log_bucket_name == f"acme-ml-baseline-logs-{ACCOUNT}"
    assert baseline.alarm_topic_arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:acme-ml-baseline-alarms"
    assert baseline.baseline_role_names == baseline_role_names("acme-ml")
    assert baseline.logs_key_arn.startswith("${")
