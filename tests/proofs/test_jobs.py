"""The jobs proof: every machine identity the platform creates can do its job through the
synthesized guardrails, trusts and resource policies; a removed grant or an added
guardrail flips its rows; #16 finding 4 (the drift build denied by our own SCP) is caught
on the old guardrail and gone on the new one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ndap_infra.config.enums import TOOLING
from ndap_infra.evaluator import NamedPolicy
from ndap_infra.guardrails import scp
from ndap_infra.iam.document import PolicyDocument
from ndap_infra.organization.catalog import merge, organization_guardrails
from ndap_infra.pipelines.drift import drift_detection_spec
from ndap_infra.proofs.access_model import PlatformModel, ou_level
from ndap_infra.proofs.jobs import (
    decide_job,
    job_controls,
    prove_jobs,
    with_scp_statement,
)
from ndap_infra.proofs.jobs_table import Job, required_jobs
from ndap_infra.review.jobs_report import render_jobs_report

INTEGRITY = "organization-integrity.json"


def _drift_assumes(jobs: list[Any], build: str) -> list[Any]:
    return [r for r in jobs if r.job.identity == build and r.job.operation == "sts:AssumeRole"]


def _with_integrity(model: PlatformModel, document: dict[str, Any]) -> PlatformModel:
    """The model with the organization-integrity SCP replaced, at every level."""
    org = model.organization
    scps = {
        level: tuple(
            NamedPolicy(p.name, document) if p.name.endswith(INTEGRITY) else p for p in policies
        )
        for level, policies in org.scps.items()
    }
    return replace(model, organization=replace(org, scps=scps))


def test_every_job_of_the_reference_platform_is_allowed(reference_proof: Any) -> None:
    jobs = reference_proof.jobs
    denied = [f"{r.job.job}: {r.job.identity} {r.job.operation}: {r.reason}" for r in jobs]
    denied = [d for d, r in zip(denied, jobs, strict=True) if not r.ok]
    assert denied == []
    kinds = {r.job.job for r in jobs}
    # Every kind of machine identity is in the table.
    for expected in (
        "scheduled drift detection",
        "the platform's own pipeline",
        "production data replication",
        "the integration-subset sampler",
        "churn-prediction: prd pipeline",
        "churn-prediction: prd deployment",
        "prd feature store",
        "env-prd: security baseline",
    ):
        assert expected in kinds
    assert any("retraining" in k for k in kinds)
    assert len(jobs) > 200


def test_the_old_guardrail_denies_the_drift_build_and_the_new_one_allows_it(
    reference_config: Any, reference_proof: Any
) -> None:
    """#16, finding 4: the organization-integrity SCP as it was (no drift exemption)."""
    model = reference_proof.model
    spec = drift_detection_spec(reference_config)
    assert spec is not None
    [integrity] = [g for g in organization_guardrails(reference_config) if "integrity" in g.name]
    # The guardrail as it was before the fix: the same statements, no drift exemption.
    old = merge(
        scp.deny_leaving_organization(),
        scp.deny_root_user(),
        scp.restrict_regions(reference_config.organization.allowed_regions),
        _platform_roles_without_drift(reference_config),
    ).to_dict()
    assert "DriftBuildAssumesOnlyDriftReaders" not in str(old)
    before = prove_jobs(_with_integrity(model, old))
    rows = _drift_assumes(before, spec.build_role_arn)
    assert len(rows) == len(spec.reader_accounts)
    assert all(not r.allowed for r in rows)
    assert all("PlatformRolesAreNotForUse" in r.reason for r in rows)
    after = prove_jobs(_with_integrity(model, integrity.document.to_dict()))
    assert all(r.allowed for r in _drift_assumes(after, spec.build_role_arn))


def _platform_roles_without_drift(config: Any) -> PolicyDocument:
    from ndap_infra.access.boundary import platform_role_patterns
    from ndap_infra.names.access import PERSONA_PATH
    from ndap_infra.names.pipelines import PIPELINE_ROLE_PATTERN
    from ndap_infra.names.platform import platform_deployers

    org = config.organization.name
    role = config.organization.account_access_role
    patterns = platform_role_patterns(org, role)
    non_pipeline = (
        f"arn:aws:iam::*:role{PERSONA_PATH}*",
        *(p for p in patterns if p != "arn:aws:iam::*:role/ndap/*"),
    )
    return scp.protect_platform_roles(
        patterns, role, PIPELINE_ROLE_PATTERN, non_pipeline, platform_deployers(config)[1:]
    )


def test_the_exemption_is_exactly_the_drift_build(
    reference_config: Any, reference_proof: Any
) -> None:
    """Another tooling role (same name under another path, or a neutral name) is still
    denied the readers; the drift build is denied every platform role but the readers."""
    model = reference_proof.model
    spec = drift_detection_spec(reference_config)
    assert spec is not None
    build = model.roles[spec.build_role_arn]
    tooling = spec.account_id
    prd_reader = spec.reader_arn(
        reference_config.account_id(reference_config.enabled_environments()[-1])
    )
    for impostor_arn in (
        f"arn:aws:iam::{tooling}:role/helper",
        f"arn:aws:iam::{tooling}:role/other/{spec.build_role}",
    ):
        impostor = replace(build, arn=impostor_arn)
        trusting = model.with_roles({impostor_arn: impostor})
        # Give the reader a trust naming the impostor too: only the SCP is left to stop it.
        reader = trusting.roles[prd_reader]
        document = {
            **reader.trust_policy.document,
            "Statement": [
                *reader.trust_policy.document["Statement"],
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": impostor_arn},
                    "Action": "sts:AssumeRole",
                },
            ],
        }
        trusting = trusting.with_roles(
            {prd_reader: replace(reader, trust_policy=NamedPolicy("t.json", document))}
        )
        result = decide_job(
            trusting, Job("impostor", impostor_arn, "sts:AssumeRole", prd_reader, "attack")
        )
        assert not result.allowed
        assert "PlatformRolesAreNotForUse" in result.reason
    org = reference_config.organization.name
    planner = f"arn:aws:iam::{tooling}:role/ndap/platform/{org}-platform-planner"
    result = decide_job(model, Job("x", spec.build_role_arn, "sts:AssumeRole", planner, "attack"))
    assert not result.allowed
    assert "DriftBuildAssumesOnlyDriftReaders" in result.reason


def test_trust_by_account_root_and_principal_arn_condition(reference_proof: Any) -> None:
    """The real-AWS pattern (#16, finding 1): a trust naming the account root with an
    aws:PrincipalArn condition lets exactly that principal in."""
    model: PlatformModel = reference_proof.model
    spec = drift_detection_spec(model.config)
    assert spec is not None
    account = model.config.account_id(model.config.enabled_environments()[-1])
    reader_arn = spec.reader_arn(account)
    reader = model.roles[reader_arn]

    def trust(principal_arn: str) -> PlatformModel:
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{spec.account_id}:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"ArnEquals": {"aws:PrincipalArn": principal_arn}},
                }
            ],
        }
        return model.with_roles(
            {reader_arn: replace(reader, trust_policy=NamedPolicy("root-trust.json", document))}
        )

    job = Job("drift", spec.build_role_arn, "sts:AssumeRole", reader_arn, "plan")
    assert decide_job(trust(spec.build_role_arn), job).allowed
    denied = decide_job(trust(f"arn:aws:iam::{spec.account_id}:role/someone-else"), job)
    assert not denied.allowed


def test_every_negative_control_flips(reference_proof: Any) -> None:
    controls = reference_proof.job_controls
    assert len(controls) == len(job_controls(reference_proof.model)) >= 4
    assert [c.render() for c in controls if not c.ok] == []
    assert all(c.rows > 0 for c in controls)


def test_a_blocking_guardrail_fails_the_proof(reference_proof: Any) -> None:
    """An SCP on the tooling unit denying every CodeBuild start: the drift schedule's row
    turns denied, naming the guardrail."""
    blocked = with_scp_statement(
        ou_level(TOOLING),
        {"Sid": "NoBuilds", "Effect": "Deny", "Action": "codebuild:StartBuild", "Resource": "*"},
    )(reference_proof.model)
    rows = [r for r in prove_jobs(blocked) if r.job.operation == "codebuild:StartBuild"]
    tooling_rows = [
        r for r in rows if f":{reference_proof.model.config.tooling_account_id}:" in r.job.resource
    ]
    assert tooling_rows and all(not r.allowed for r in tooling_rows)
    assert all("NoBuilds" in r.reason for r in tooling_rows)


def test_a_missing_identity_is_a_denied_row(reference_proof: Any) -> None:
    model = reference_proof.model
    spec = drift_detection_spec(model.config)
    assert spec is not None
    roles = {arn: r for arn, r in model.roles.items() if arn != spec.build_role_arn}
    result = prove_jobs(replace(model, roles=roles))
    missing = [r for r in result if r.job.identity == spec.build_role_arn]
    assert missing and all(not r.allowed and "not synthesized" in r.reason for r in missing)


@pytest.mark.parametrize("allowed", [True, False])
def test_jobs_md_says_what_was_evaluated(reference_proof: Any, allowed: bool) -> None:
    jobs = list(reference_proof.jobs)
    if not allowed:
        jobs[0] = replace(jobs[0], allowed=False, reason="denied: explicit Deny by X")
    text = render_jobs_report(jobs, reference_proof.job_controls)
    assert f"**{len(jobs)} operations: " in text
    assert ("all as required" in text) is allowed
    assert ("1 WRONG" in text) is not allowed
    assert "| `arn:aws:iam::" in text
    assert len(required_jobs(reference_proof.model.config)) == len(jobs)


@settings(max_examples=60, deadline=None)
@given(
    bucket=st.from_regex(r"[a-z0-9][a-z0-9-]{2,40}", fullmatch=True),
    account=st.from_regex(r"[1-9][0-9]{11}", fullmatch=True),
)
def test_an_unknown_resource_is_never_credited(
    reference_proof: Any, bucket: str, account: str
) -> None:
    """Any bucket the synthesis does not hold, and any other account's queue (no resource
    policy), are denied to the drift build: a row is allowed only through what exists."""
    model = reference_proof.model
    spec = drift_detection_spec(model.config)
    assert spec is not None
    if bucket not in model.buckets:
        result = decide_job(
            model, Job("x", spec.build_role_arn, "s3:GetObject", f"arn:aws:s3:::{bucket}/k", "")
        )
        assert not result.allowed and "not synthesized" in result.reason
    if account != spec.account_id:
        queue = f"arn:aws:sqs:eu-west-1:{account}:q"
        assert not decide_job(
            model, Job("x", spec.build_role_arn, "sqs:SendMessage", queue, "")
        ).allowed


# ---- the security accounts' stacks (#18 follow-up 2) ---------------------------------------

LOG_ARCHIVE_ID, ADMIN_ID = "700000000007", "800000000008"


def test_the_security_accounts_are_planned_read_and_applied_like_every_account(
    reference_proof: Any,
) -> None:
    """The drift build assumes the reader, the plan build the planner, the apply build the
    deployer in the log-archive and security-tooling accounts too; each row allowed."""
    rows = {(r.job.identity, r.job.operation, r.job.resource): r for r in reference_proof.jobs}
    for account in (LOG_ARCHIVE_ID, ADMIN_ID):
        for caller, role in (
            (
                "arn:aws:iam::600000000006:role/acme-ml-drift-detection-build",
                f"arn:aws:iam::{account}:role/acme-ml-drift-reader",
            ),
            (
                "arn:aws:iam::600000000006:role/ndap/pipelines/acme-ml-platform-plan",
                f"arn:aws:iam::{account}:role/ndap/platform/acme-ml-platform-planner",
            ),
            (
                "arn:aws:iam::600000000006:role/ndap/pipelines/acme-ml-platform-apply",
                f"arn:aws:iam::{account}:role/ndap/platform/acme-ml-platform-deployer",
            ),
        ):
            assert rows[(caller, "sts:AssumeRole", role)].ok, (caller, role)


def test_nobody_of_the_pipelines_reads_or_removes_the_evidence(reference_proof: Any) -> None:
    """The security accounts' rows: the auditors read and delete nothing; the aggregator
    lists the organization; the planner reads the archive's configuration and not the
    evidence; the deployer keeps the archive's policy and the administrator's auto-enable,
    and neither deletes nor unlocks evidence; the drift reader never reads it."""
    rows = [
        r
        for r in reference_proof.jobs
        if r.job.job.startswith(("log-archive", "security-tooling"))
        or r.job.job == "the platform's own pipeline: the security accounts"
        or (r.job.job == "scheduled drift detection" and not r.job.expected)
    ]
    table = {(r.job.identity.rsplit("/", 1)[-1], r.job.operation): r for r in rows}
    assert {k: r.job.expected for k, r in table.items()} == {
        ("acme-ml-security-auditor", "s3:GetObject"): True,
        ("acme-ml-security-auditor", "s3:DeleteObject"): False,
        ("config.amazonaws.com", "sts:AssumeRole"): True,
        ("acme-ml-baseline-config-aggregator", "organizations:ListAccounts"): True,
        ("acme-ml-platform-planner", "s3:GetBucketPolicy"): True,
        ("acme-ml-platform-planner", "s3:GetObject"): False,
        ("acme-ml-platform-deployer", "s3:PutBucketPolicy"): True,
        ("acme-ml-platform-deployer", "s3:DeleteObject"): False,
        ("acme-ml-platform-deployer", "s3:PutBucketObjectLockConfiguration"): False,
        ("acme-ml-platform-deployer", "guardduty:UpdateOrganizationConfiguration"): True,
        ("acme-ml-drift-reader", "s3:GetObject"): False,
    }
    assert all(r.ok for r in rows), [r.reason for r in rows if not r.ok]


def test_without_the_deletion_deny_the_deployer_could_empty_the_archive(
    reference_proof: Any,
) -> None:
    """Negative control: the archive's NobodyDeletesEvidence removed (bucket policy and
    the security unit's SCP), the deployer's denied deletion row fails."""
    from ndap_infra.proofs.evidence import without_statements

    model = without_statements("NobodyDeletesEvidence")(reference_proof.model)
    (row,) = [
        j
        for j in required_jobs(model.config)
        if j.operation == "s3:DeleteObject" and j.identity.endswith("acme-ml-platform-deployer")
    ]
    assert decide_job(reference_proof.model, row).ok
    assert not decide_job(model, row).ok


def test_the_trail_s_planners_read_the_archive_key_s_arn_and_decrypt_nothing(
    reference_proof: Any,
) -> None:
    """The organization-trail stack reads the archive key's ARN in the log-archive account
    (#18 follow-up 3): the plan build's planner and the drift reader there may describe the
    key, neither may decrypt with it; a guardrail on the security unit denying
    kms:DescribeKey (the proof's negative control) turns both reads denied, naming it."""
    rows = [r for r in reference_proof.jobs if r.job.job.startswith("organization-trail")]
    table = {(r.job.identity, r.job.operation): r.job.expected for r in rows}
    key = "arn:aws:kms:eu-west-1:700000000007:key/archive-archive-key-key"
    assert {r.job.resource for r in rows} == {key}
    assert table == {
        (f"arn:aws:iam::{LOG_ARCHIVE_ID}:role/ndap/platform/acme-ml-platform-planner", op): (
            op == "kms:DescribeKey"
        )
        for op in ("kms:DescribeKey", "kms:Decrypt")
    } | {
        (f"arn:aws:iam::{LOG_ARCHIVE_ID}:role/acme-ml-drift-reader", op): op == "kms:DescribeKey"
        for op in ("kms:DescribeKey", "kms:Decrypt")
    }
    assert all(r.ok for r in rows), [r.reason for r in rows if not r.ok]
    (control,) = [c for c in reference_proof.job_controls if "kms:DescribeKey" in c.control.name]
    assert control.ok and control.rows == 2
    blocked = control.control.mutate(reference_proof.model)
    reads = [j for j in required_jobs(blocked.config) if control.control.row(j)]
    assert all("NoKeyReads" in decide_job(blocked, j).reason for j in reads)
