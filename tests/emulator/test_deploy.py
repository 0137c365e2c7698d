"""Deploying onto the local emulator: the provider wiring, the emulator's lifecycle, the
gaps, the deploy/destroy passes, the probes, and the faults a user meets.

The tests marked ``deploy`` start their own emulator (a free loopback port, a temporary
work directory), deploy for real with Terraform, and stop it afterwards.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.config.model import DeployConfig, DeployTarget
from ndap_infra.emulator import lifecycle
from tests.helpers import NDAP, REFERENCE, ROOT, free_port, run

VARIABLE = "${var.ndap_emulator_endpoint}"


# -- the provider: local target vs aws target ---------------------------------------------


@pytest.fixture(scope="module")
def aws_stacks(reference_config, tmp_path_factory):  # type: ignore[no-untyped-def]
    from ndap_infra.stacks.synthesis import synthesize

    config = reference_config.model_copy(update={"deploy": DeployConfig(target=DeployTarget.AWS)})
    return synthesize(config, tmp_path_factory.mktemp("aws") / "out").stack_json()


def test_reference_deploys_locally(reference_config) -> None:  # type: ignore[no-untyped-def]
    assert reference_config.deploy.target is DeployTarget.LOCAL


def test_local_providers_point_every_service_at_the_emulator_variable(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    from ndap_infra.constructs.provider import service_endpoint

    for name, stack in reference_stacks.items():
        provider = stack["provider"]["aws"][0]
        endpoints = provider["endpoints"][0]
        assert set(endpoints.values()) == {VARIABLE}, name
        used = {service_endpoint(t) for t in [*stack.get("resource", {}), *stack.get("data", {})]}
        assert used | {"sts", "iam"} <= set(endpoints), name
        assert provider["access_key"] == provider["secret_key"] == "test"
        assert provider["skip_credentials_validation"] is True
        assert provider["skip_metadata_api_check"] == "true"
        assert provider["s3_use_path_style"] is True
        assert provider["max_retries"] <= 5
        assert provider["http_proxy"] == VARIABLE, "S3 Control's account-prefixed host"
        assert "skip_requesting_account_id" not in provider, "S3 Control needs the account id"
        assert stack["variable"]["ndap_emulator_endpoint"]["type"] == "string"
        backend = stack["terraform"]["backend"]["s3"]
        assert backend["bucket"] == "ndap-terraform-state"
        assert backend["key"] == f"{name}.tfstate"
        assert backend["use_lockfile"] is True


def test_local_stacks_hold_no_port_and_synthesize_identically(
    reference_config, reference_stacks, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from ndap_infra.stacks.synthesis import synthesize

    again = synthesize(reference_config, tmp_path / "again").stack_json()
    assert again == reference_stacks
    text = json.dumps(reference_stacks)
    assert "127.0.0.1" not in text and "localhost" not in text


def test_every_stack_reaches_its_account_by_role(reference_stacks, reference_config) -> None:  # type: ignore[no-untyped-def]
    org = reference_stacks["organization"]["provider"]["aws"][0]
    management = reference_config.organization.management_account_id
    assert org["assume_role"][0]["role_arn"] == (
        f"arn:aws:iam::{management}:role/OrganizationAccountAccessRole"
    )
    for env in reference_config.enabled_environments():
        provider = reference_stacks[f"env-{env.value}"]["provider"]["aws"][0]
        account = reference_config.account_id(env)
        assert (
            f"::{account}:role/OrganizationAccountAccessRole"
            in (provider["assume_role"][0]["role_arn"])
        )


def test_aws_target_generates_nothing_of_the_emulator(aws_stacks) -> None:  # type: ignore[no-untyped-def]
    assert "ndap_emulator" not in json.dumps(aws_stacks)
    for name, stack in aws_stacks.items():
        provider = stack["provider"]["aws"][0]
        assert set(provider) <= {"region", "assume_role", "default_tags"}, name
        assert "variable" not in stack, name
        assert "s3" not in stack["terraform"].get("backend", {}), name
        for resources in stack.get("resource", {}).values():
            for body in resources.values():
                assert "count" not in body
    assert "assume_role" not in aws_stacks["organization"]["provider"]["aws"][0]


def test_every_product_type_has_an_emulator_endpoint() -> None:
    import dataclasses
    import tomllib

    from ndap_infra.constructs.provider import service_endpoint
    from ndap_infra.resources.aws import AwsProviderEndpoints

    keys = {f.name for f in dataclasses.fields(AwsProviderEndpoints)}
    types = tomllib.loads((ROOT / "ndap_infra" / "codegen" / "types.toml").read_text())
    names = [*types["resources"], *(f"aws_{t.removeprefix('aws_')}" for t in types["data_sources"])]
    for name in names:
        assert service_endpoint(name) in keys, name


def test_an_unknown_service_fails_loudly() -> None:
    from ndap_infra.constructs.provider import UnmappedService, service_endpoint

    with pytest.raises(UnmappedService, match="aws_lambda_function"):
        service_endpoint("aws_lambda_function")


# -- emulator gaps ----------------------------------------------------------------------


def _bodies(stack: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return list(stack.get("resource", {}).get(resource_type, {}).values())


def test_gap_resources_are_left_out_with_their_reason(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    dev = reference_stacks["env-dev"]
    analyzers = _bodies(dev, "aws_accessanalyzer_analyzer")
    assert len(analyzers) == 2, "one per allowed region"
    for analyzer in analyzers:
        assert analyzer["count"] == 0
        assert "Access Analyzer" in analyzer["//"]["ndap_emulator_gap"]
    # the data-access key's policy denies the non-production account: moto denies everyone
    keys = {b["//"]["metadata"]["path"]: b for b in _bodies(dev, "aws_kms_key")}
    assert keys["env-dev/data-access/key/key"]["count"] == 0
    assert "count" not in keys["env-dev/data-key/key"]
    # what refers to a left-out resource is left out too, its references indexed
    aliases = [b for b in _bodies(dev, "aws_kms_alias") if b.get("count") == 0]
    assert aliases and all("[0]." in b["target_key_id"] for b in aliases)
    assert all("refers to aws_kms_key." in b["//"]["ndap_emulator_gap"] for b in aliases)


def test_drifting_arguments_are_ignored_only_locally(reference_stacks, aws_stacks) -> None:  # type: ignore[no-untyped-def]
    (notification, *_) = _bodies(reference_stacks["env-dev"], "aws_s3_bucket_notification")
    assert notification["lifecycle"]["ignore_changes"] == ["eventbridge"]
    assert "EventBridge" in notification["//"]["ndap_emulator_drift"]
    for body in _bodies(aws_stacks["env-dev"], "aws_s3_bucket_notification"):
        assert "lifecycle" not in body


def test_gap_report_lists_every_left_out_resource(reference_stacks) -> None:  # type: ignore[no-untyped-def]
    from ndap_infra.emulator.gaps import render_gaps, synthesized_gaps

    gaps = synthesized_gaps(reference_stacks)
    absent = [g for g in gaps if not g.ignored and not g.undeletable]
    counted = sum(
        1
        for stack in reference_stacks.values()
        for resources in stack.get("resource", {}).values()
        for body in resources.values()
        if body.get("count") == 0
    )
    assert len(absent) == counted > 0
    text = render_gaps(gaps)
    assert "aws_accessanalyzer_analyzer" in text and "not created (count = 0)" in text
    assert "created; changes ignored to eventbridge" in text
    # created but not deletable: one model package group per project, in tooling; the
    # GuardDuty organization administrator per region (security accounts on), in organization
    undeletable = [g for g in gaps if g.undeletable]
    assert {(g.stack, g.address.split(".")[0]) for g in undeletable} == {
        ("tooling", "aws_sagemaker_model_package_group"),
        ("organization", "aws_guardduty_organization_admin_account"),
    }
    assert len(undeletable) == 3 + 2  # 3 projects; the administrator in each allowed region
    assert "DeleteModelPackageGroup" in text and "DisableOrganizationAdminAccount" in text


def test_kms_gap_matches_moto_s_key_policy_check() -> None:
    from ndap_infra.emulator.gaps import gap_reason

    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    allow = {"Effect": "Allow", "Principal": {"AWS": "x"}, "Action": "kms:*", "Resource": "*"}
    policy = {"Version": "2012-10-17", "Statement": [allow, deny]}
    assert gap_reason("aws_kms_key", {"policy": json.dumps(policy)}) is not None
    policy["Statement"] = [allow]
    assert gap_reason("aws_kms_key", {"policy": json.dumps(policy)}) is None


# -- ordering, selection, destroy bookkeeping ---------------------------------------------


def test_waves_put_shared_stacks_first_and_environments_together() -> None:
    from ndap_infra.deploy.orchestrate import UnknownStacks, select, waves

    stacks = ["organization", "tooling", "env-dev", "env-acc", "env-prd"]
    assert waves(stacks) == [["organization"], ["tooling"], ["env-dev", "env-acc", "env-prd"]]
    assert waves(stacks, reverse=True)[0] == ["env-dev", "env-acc", "env-prd"]
    assert waves(stacks, reverse=True)[-1] == ["organization"]
    assert select(stacks, ["env-prd", "organization"]) == ["organization", "env-prd"]
    with pytest.raises(UnknownStacks, match="env-x"):
        select(stacks, ["env-x"])


def test_a_failed_wave_stops_the_next() -> None:
    from ndap_infra.deploy.orchestrate import run_waves
    from ndap_infra.deploy.runner import StackResult

    def action(stack: str) -> StackResult:
        return StackResult(stack, "apply", stack != "organization", 0.0, "", Path())

    results = run_waves([["organization"], ["env-dev"]], action)
    assert [r.ok for r in results] == [False, False]
    assert "not run: organization failed" in results[1].summary


def test_destroy_keeps_protected_resources_and_what_they_need() -> None:
    from ndap_infra.deploy.runner import _lift_protection, kept_for, protected_addresses

    document = {
        "resource": {
            "aws_s3_bucket": {"logs": {"lifecycle": {"prevent_destroy": True}}, "data": {}},
        }
    }
    assert protected_addresses(document) == ["aws_s3_bucket.logs"]
    state = {
        "aws_s3_bucket.logs": ["aws_kms_key.k"],
        "aws_kms_key.k": [],
        "aws_s3_bucket.data": ["aws_kms_key.k"],
        "aws_s3_bucket_policy.logs": ["aws_s3_bucket.logs"],
        "aws_s3_bucket_versioning.logs": ["aws_s3_bucket.logs"],
        "aws_s3_bucket_server_side_encryption_configuration.logs": [
            "aws_s3_bucket.logs",
            "aws_kms_key.sse",
        ],
        "aws_kms_key.sse": [],
        "aws_kms_alias.sse": ["aws_kms_key.sse"],
        "aws_iam_role_policy.reader": ["aws_s3_bucket.logs", "aws_iam_role.reader"],
        "aws_iam_role.reader": [],
        "aws_s3_bucket_versioning.data": ["aws_s3_bucket.data"],
    }
    # The bucket, its configuration, and the keys that configuration needs stay; the data
    # bucket, a role that merely reads the bucket, and unrelated configuration go.
    assert kept_for(["aws_s3_bucket.logs"], state) == {
        "aws_s3_bucket.logs",
        "aws_kms_key.k",
        "aws_s3_bucket_policy.logs",
        "aws_s3_bucket_versioning.logs",
        "aws_s3_bucket_server_side_encryption_configuration.logs",
        "aws_kms_key.sse",
    }
    assert kept_for(["aws_kms_key.sse"], state) == {"aws_kms_key.sse", "aws_kms_alias.sse"}
    lifted = _lift_protection(["aws_s3_bucket.logs"])
    assert lifted["resource"]["aws_s3_bucket"]["logs"]["lifecycle"] == {"prevent_destroy": False}


LOCKED = """
Error: Error acquiring the state lock

Error message: operation error S3: PutObject, https response error StatusCode: 412
Lock Info:
  ID:        6f1c0e2a-1111-2222-3333-444455556666
  Path:      ndap-terraform-state/env-dev.tfstate
  Operation: OperationTypeApply
  Who:       alice@laptop
  Version:   1.11.4
  Created:   2026-11-28 07:00:00 +0000 UTC
  Info:
"""


def test_a_held_lock_is_explained(tmp_path: Path) -> None:
    from ndap_infra.deploy.runner import StackRun, _failure, parse_lock

    assert parse_lock(LOCKED) is not None and parse_lock(LOCKED)["Who"] == "alice@laptop"  # type: ignore[index]
    run_ = StackRun("env-dev", tmp_path, {}, tmp_path / "logs")
    message = _failure(run_, LOCKED, "apply")
    assert "the state is locked" in message and "alice@laptop" in message
    assert "force-unlock -force 6f1c0e2a-1111-2222-3333-444455556666" in message


def test_an_emulator_that_stopped_mid_deploy_is_named(tmp_path: Path) -> None:
    from ndap_infra.deploy.runner import StackRun, _failure

    dead = lifecycle.EmulatorInfo(free_port(), 999999, "then", str(tmp_path / "emulator.log"))
    run_ = StackRun("env-dev", tmp_path, {}, tmp_path / "logs", dead)
    message = _failure(run_, "Error: connection refused", "apply")
    assert "stopped answering" in message and "ndap emulator stop" in message


# -- the emulator's lifecycle ---------------------------------------------------------------


ACCOUNTS = ("300000000003", "400000000004")


def test_emulator_starts_on_a_free_loopback_port_and_stops(tmp_path: Path) -> None:
    work = tmp_path / "work"
    assert lifecycle.status(work).state is lifecycle.State.STOPPED
    started = lifecycle.start(work)
    try:
        info = started.info
        assert not started.already_running
        assert info.endpoint.startswith("http://127.0.0.1:")
        recorded = json.loads((work / "emulator.json").read_text())
        assert recorded["port"] == info.port and recorded["pid"] == info.pid
        assert lifecycle.status(work).state is lifecycle.State.RUNNING
        assert lifecycle.start(work).already_running, "one emulator per work directory"
        s3 = lifecycle.client(info, "s3")
        assert "ndap-terraform-state" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
        status = run("emulator", "status", work=work)
        assert status.returncode == 0 and info.endpoint in status.stdout
        # clients share one boto3 session, yet each acts in its own account and region
        dev, acc = (lifecycle.client(info, "iam", account_id=a) for a in ACCOUNTS)
        trust = {"Version": "2012-10-17", "Statement": []}
        dev.create_role(RoleName="only-in-dev", AssumeRolePolicyDocument=json.dumps(trust))
        assert "only-in-dev" in {r["RoleName"] for r in dev.list_roles()["Roles"]}
        assert "only-in-dev" not in {r["RoleName"] for r in acc.list_roles()["Roles"]}
        assert lifecycle.client(info, "sqs", region="eu-central-1").meta.region_name == (
            "eu-central-1"
        )
    finally:
        lifecycle.stop(work)
    assert lifecycle.status(work).state is lifecycle.State.STOPPED
    assert not lifecycle.is_healthy(info.endpoint)


def test_a_stopped_or_vanished_emulator_gives_a_message_not_a_traceback(tmp_path: Path) -> None:
    work = tmp_path / "work"
    status = run("emulator", "status", work=work)
    assert status.returncode == 1 and "not running" in status.stdout
    probe = run("probe", "-c", str(REFERENCE), work=work)
    assert probe.returncode == 1 and "not running" in probe.stderr
    assert "Traceback" not in probe.stderr
    destroy = run("destroy", "-c", str(REFERENCE), work=work)
    assert destroy.returncode == 0 and "nothing is deployed locally" in destroy.stdout
    # recorded, but gone (a killed process, a reboot)
    work.mkdir(parents=True, exist_ok=True)
    (work / "emulator.json").write_text(
        json.dumps({"port": free_port(), "pid": 999999, "started_at": "x", "log": "x.log"})
    )
    probe = run("probe", "-c", str(REFERENCE), work=work)
    assert probe.returncode == 1 and "does not answer" in probe.stderr
    assert "Traceback" not in probe.stderr
    assert run("emulator", "stop", work=work).returncode == 0
    assert not (work / "emulator.json").exists()


# -- probes: what the emulator can witness ------------------------------------------------


def test_probe_rows_say_what_the_emulator_cannot_witness(
    reference_config, reference_stacks
) -> None:  # type: ignore[no-untyped-def]
    from ndap_infra.config.enums import Environment, Persona
    from ndap_infra.deploy.probes import witness
    from ndap_infra.proofs.access_model import build_model

    model = build_model(reference_config, reference_stacks)
    ds, pe = Persona.DATA_SCIENTIST, Persona.PLATFORM_ENGINEER
    can, why = witness(model, ds, Environment.DEV, "create-role-without-boundary")
    assert not can and "boundary" in why
    can, why = witness(model, ds, Environment.PRD, "read-working-data")
    assert not can and "no role here" in why
    can, why = witness(model, ds, Environment.DEV, "read-working-data")
    assert not can and "bucket policy" in why
    can, _ = witness(model, pe, Environment.PRD, "describe-trail")
    assert can


def test_deployer_rows_agree_with_the_evaluator_and_say_what_the_emulator_can_witness(
    reference_config, reference_stacks
) -> None:  # type: ignore[no-untyped-def]
    from ndap_infra.deploy.probes import deployer_probes, witness_role
    from ndap_infra.evaluator import principal_for
    from ndap_infra.proofs.access import decide
    from ndap_infra.proofs.access_model import build_model

    model = build_model(reference_config, reference_stacks)
    probes = deployer_probes(model)
    assert {(p.who, p.environment.value) for p in probes} == {
        ("churn-prediction deployer", env) for env in ("dev", "acc", "prd")
    }
    assert len(probes) == 12
    seen = {}
    for probe in probes:
        assert probe.role is not None, probe
        # the written expectation is what the evaluator decides, with every layer
        decision = decide(model, principal_for(probe.role), probe.goal)
        assert decision.allowed == probe.expected, (probe.environment, probe.action)
        seen[probe.action] = witness_role(model, probe.role, probe.goal)
    # moto checks SageMaker actions against resource "*": the ARN-scoped allow cannot count
    for action in ("describe-own-project-model", "describe-other-project-model"):
        can, why = seen[action]
        assert not can and "against resource '*'" in why and "ManageTheProjects" in why
    assert seen["create-role-without-boundary"][0] and seen["describe-trail"][0]


def test_an_emulator_verdict_is_never_proof() -> None:
    from ndap_infra.config.enums import Environment, Persona
    from ndap_infra.deploy.probes import ProbeRow, render_probes

    ds, pe = Persona.DATA_SCIENTIST.value, Persona.PLATFORM_ENGINEER.value
    leak = ProbeRow(ds, Environment.DEV, "x", False, "allowed", False, "boundary")
    assert not leak.contradicts and leak.verdict == "no evidence either way"
    wrong = ProbeRow(pe, Environment.PRD, "x", False, "allowed", True, "")
    assert wrong.contradicts
    text = render_probes([leak, wrong])
    assert "not a leak" in text and "not proof" in text and "DIFFER" in text


# -- for real: the whole reference platform deployed once, then probed, locked, redeployed,
# drifted and destroyed (the tests below run in this order on one deployment) -----------

STACKS = ("organization", "log-archive", "security-tooling", "tooling", "organization-trail",
          "env-nonprod", "env-dev", "env-acc", "env-prd")  # fmt: skip
DEV_ACCOUNT, REGION = "300000000003", "eu-west-1"


@pytest.fixture(scope="module")
def emulator_work(tmp_path_factory) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    work = tmp_path_factory.mktemp("deploy") / "work"
    lifecycle.start(work)
    try:
        yield work
    finally:
        lifecycle.stop(work)


def _stacks(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--stacks", name)]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Iterator[tuple[Path, Path, subprocess.CompletedProcess[str]]]:  # type: ignore[no-untyped-def]
    """`ndap deploy` of every stack of the reference example on an emulator of its own."""
    root = tmp_path_factory.mktemp("deployed")
    work, out = root / "work", root / "out"
    lifecycle.start(work)
    try:
        result = run("deploy", "-c", str(REFERENCE), "--out", str(out), work=work)
        yield work, out, result
    finally:
        lifecycle.stop(work)


@pytest.mark.deploy
def test_the_reference_platform_deploys_with_an_empty_second_plan(deployed) -> None:  # type: ignore[no-untyped-def]
    work, out, result = deployed
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    text = result.stdout
    assert "emulator running at http://127.0.0.1:" in text
    assert "plan: no changes in any stack" in text
    for stack in STACKS:
        assert f"ok   {stack:<12} apply" in text and f"ok   {stack:<12} plan     no changes" in text
    # the order: the organization, then tooling, then the environments
    assert text.index("ok   organization apply") < text.index("ok   tooling      apply")
    assert text.index("ok   tooling      apply") < text.index("ok   env-dev      apply")
    assert "not created: aws_accessanalyzer_analyzer" in text
    gaps = (work / "emulator-gaps.md").read_text()
    from ndap_infra.emulator.gaps import synthesized_gaps

    synthesized = {
        p.parent.name: json.loads(p.read_text()) for p in (out / "stacks").glob("*/cdk.tf.json")
    }
    with_gaps = {g.stack for g in synthesized_gaps(synthesized)}
    # every stack but the organization trail, which moto holds whole
    assert with_gaps == set(STACKS) - {"organization-trail"}
    for stack in with_gaps:
        assert f"| {stack} |" in gaps, stack
    assert "aws_accessanalyzer_analyzer" in gaps
    # the adopted organization was prepared, and every account was placed in its unit
    assert (
        "member accounts added as if invited: "
        "acc, dev, log-archive, nonprod, prd, security-tooling, tooling" in text
    )
    for key in ("nonprod", "dev", "acc", "prd", "tooling"):
        assert re.search(rf"ok   {key:<8} account \d{{12}} in its unit", text), text
    # the state is really on the emulator, one per stack
    info = lifecycle.require_running(work)
    s3 = lifecycle.client(info, "s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="ndap-terraform-state")["Contents"]}
    assert keys == {f"{stack}.tfstate" for stack in STACKS}
    # the organization trail holds the archive key by its ARN (read by alias in the
    # log-archive account), which is what CloudTrail reads back on AWS too
    cloudtrail = lifecycle.client(info, "cloudtrail", account_id="100000000001", region=REGION)
    trails = cloudtrail.describe_trails()
    (trail,) = [t for t in trails["trailList"] if t["Name"] == "acme-ml-organization-trail"]
    assert trail["KmsKeyId"].startswith("arn:aws:kms:eu-west-1:700000000007:key/")
    # resources really landed in each environment's own account
    for account in ("200000000002", "300000000003", "400000000004", "500000000005"):
        buckets = lifecycle.client(info, "s3", account_id=account).list_buckets()["Buckets"]
        assert f"acme-ml-baseline-logs-{account}" in {b["Name"] for b in buckets}


@pytest.mark.deploy
def test_probes_on_the_deployed_platform(deployed) -> None:  # type: ignore[no-untyped-def]
    work, out, _ = deployed
    probed = run("probe", "-c", str(REFERENCE), "--out", str(out), work=work)
    assert probed.returncode == 0, probed.stdout + probed.stderr
    text = probed.stdout
    assert "witness?" in text and "agrees (identity policies only)" in text
    assert "no evidence either way" in text and "DIFFER" not in text
    # persona rows in dev and prd, and the pipeline deployer's rows in dev, acc and prd
    rows = [line.split() for line in text.splitlines() if line.startswith(("data-", "platform-"))]
    assert {(r[0], r[1]) for r in rows} >= {("data-scientist", "dev"), ("platform-engineer", "prd")}
    for env in ("dev", "acc", "prd"):
        row = next(
            line for line in text.splitlines()
            if line.startswith(f"churn-prediction deployer  {env}") and "create-role" in line
        )  # fmt: skip
        assert "denied" in row and "agrees (identity policies only)" in row, row
    assert "checks sagemaker actions against resource '*'" in text
    info = lifecycle.require_running(work)
    iam = lifecycle.client(info, "iam", account_id="100000000001")
    assert not [u for u in iam.list_users()["Users"] if u["UserName"].startswith("ndap-probe")]


@pytest.mark.deploy
def test_a_held_lock_is_explained_and_a_redeploy_changes_nothing(deployed) -> None:  # type: ignore[no-untyped-def]
    work, out, _ = deployed
    common = ["-c", str(REFERENCE), "--out", str(out), "--no-synth"]
    info = lifecycle.require_running(work)
    s3 = lifecycle.client(info, "s3")
    lock = {"ID": "6f1c0e2a-0000", "Operation": "OperationTypeApply", "Who": "alice@laptop",
            "Version": "1.11.4", "Created": "2026-11-28T07:00:00Z", "Info": "",
            "Path": "ndap-terraform-state/env-dev.tfstate"}  # fmt: skip
    s3.put_object(
        Bucket="ndap-terraform-state", Key="env-dev.tfstate.tflock", Body=json.dumps(lock)
    )
    locked = run("deploy", *common, *_stacks("env-dev"), work=work)
    assert locked.returncode == 1
    assert "the state is locked" in locked.stderr and "alice@laptop" in locked.stderr
    assert "Traceback" not in locked.stderr
    s3.delete_object(Bucket="ndap-terraform-state", Key="env-dev.tfstate.tflock")

    again = run("deploy", *common, *_stacks("env-dev"), "--no-check-plan", work=work)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 added, 0 changed, 0 destroyed" in again.stdout
    # the stacks env-dev needs were not selected: they were applied before, and it says so
    assert "tooling: not selected; applied before (" in again.stdout, again.stdout


@pytest.mark.deploy
def test_drift_names_what_was_changed_behind_terraform_s_back(deployed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import ALARM, CHANGED_ROLE, DELETED_ALARM, ROLE, make_repo

    work, out, _ = deployed
    common = ["-c", str(REFERENCE), "--out", str(out), "--no-synth"]

    # GIVEN a fresh deployment: in sync
    clean = run("drift", *common, "--stack", "env-dev", work=work)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "env-dev: in sync" in clean.stdout and "no drift" in clean.stdout
    unknown = run("drift", *common, "--stack", "env-x", work=work)
    assert unknown.returncode == 2 and "unknown stacks: env-x" in unknown.stderr

    # WHEN a role's maximum session is raised and an alarm deleted, outside Terraform
    info = lifecycle.require_running(work)
    iam = lifecycle.client(info, "iam", account_id=DEV_ACCOUNT)
    role = iam.get_role(RoleName=CHANGED_ROLE)["Role"]
    assert role["MaxSessionDuration"] == 14400
    iam.update_role(
        RoleName=CHANGED_ROLE, MaxSessionDuration=43200, Description=role["Description"]
    )
    cloudwatch = lifecycle.client(info, "cloudwatch", account_id=DEV_ACCOUNT, region=REGION)
    cloudwatch.delete_alarms(AlarmNames=[DELETED_ALARM])

    # THEN drift names exactly those two resources, the attribute, and the fix; every other
    # stack is in sync
    drifted = run("drift", *common, work=work)
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    text = drifted.stdout
    assert "env-dev: DRIFT: 1 changed, 1 deleted" in text
    assert f"{ROLE}: changed outside Terraform; terraform apply would update in place" in text
    assert "      max_session_duration: was 14400, now 43200\n" in text
    assert f"{ALARM}: deleted outside Terraform; terraform apply would create" in text
    assert "description" not in text and "inline_policy" not in text
    for stack in STACKS:
        if stack != "env-dev":
            assert f"{stack}: in sync" in text, text
    assert "Traceback" not in drifted.stderr

    as_json = run("drift", *common, "--stack", "env-dev", "--json", work=work)
    assert as_json.returncode == 1, as_json.stderr
    document = json.loads(as_json.stdout)
    (dev,) = document["stacks"]
    assert document["drift"] is True and dev["status"] == "drift"
    assert [(d["address"], d["kind"], d["fix"]) for d in dev["differences"]] == [
        (ROLE, "changed", "update in place"),
        (ALARM, "deleted", "create"),
    ]
    assert dev["differences"][0]["attributes"] == [
        {"path": "max_session_duration", "before": 14400, "after": 43200, "sensitive": False}
    ]

    # and the review pack's plan section shows what applying would do
    repo = make_repo(tmp_path)
    review = run(
        "review", "--repo", str(repo), "--policies", str(repo / "policies"), "--base",
        "v1.0.0", "--config", str(REFERENCE), "--synth-out", str(out), work=work,
    )  # fmt: skip
    assert review.returncode == 0, review.stderr
    assert f"Planned against the local emulator at {info.endpoint}" in review.stdout
    assert "| env-dev | 1 | 1 | 0 |" in review.stdout
    assert "| organization | 0 | 0 | 0 |" in review.stdout
    assert f"- `{ROLE}`: update in place" in review.stdout

    # a re-deploy repairs the drift (the plan check is skipped: moto's UpdateRole blanks the
    # description Terraform does not resend, so the emulator drifts again by itself)
    repaired = run("deploy", *common, *_stacks("env-dev"), "--no-check-plan", work=work)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "1 added, 1 changed, 0 destroyed" in repaired.stdout
    assert cloudwatch.describe_alarms(AlarmNames=[DELETED_ALARM])["MetricAlarms"]
    assert iam.get_role(RoleName=CHANGED_ROLE)["Role"]["MaxSessionDuration"] == 14400


@pytest.mark.deploy
def test_destroy_keeps_what_is_deletion_protected_until_told_loudly(deployed) -> None:  # type: ignore[no-untyped-def]
    work, out, _ = deployed
    common = ["-c", str(REFERENCE), "--out", str(out), "--no-synth"]
    info = lifecycle.require_running(work)
    destroyed = run("destroy", *common, work=work)
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert "kept" in destroyed.stdout and "(prevent_destroy)" in destroyed.stdout
    assert "--include-protected" in destroyed.stdout
    # what the emulator cannot delete is named, with the reason, and out of the state
    # the model package groups and (#18) the GuardDuty organization admin in each region
    assert re.search(r"left \d+ resources on the emulator", destroyed.stdout), destroyed.stdout
    assert "DisableOrganizationAdminAccount (HTTP 404)" in destroyed.stdout
    assert "aws_sagemaker_model_package_group" in destroyed.stdout
    assert "DeleteModelPackageGroup" in destroyed.stdout
    for stack in STACKS:
        assert f"ok   {stack:<12} destroy" in destroyed.stdout, destroyed.stdout
    dev = lifecycle.client(info, "s3", account_id=DEV_ACCOUNT, region=REGION)
    left = {b["Name"] for b in dev.list_buckets()["Buckets"]}
    # kept: the audit-log buckets and the production-data replica (deletion-protected)
    assert left == {
        "acme-ml-baseline-logs-300000000003",
        "acme-ml-baseline-logs-access-300000000003",
        "acme-ml-dev-datasets-replica-300000000003",
    }, left
    iam = lifecycle.client(info, "iam", account_id=DEV_ACCOUNT)
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("acme-ml-")]
    # the loud override, on the environments holding production data (the others would
    # only repeat it: the emulator goes with the test)
    everything = run(
        "destroy", *common, *_stacks("env-dev", "env-prd"), "--include-protected", work=work
    )
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert "WILL BE DESTROYED" in everything.stderr
    assert dev.list_buckets()["Buckets"] == []
    prd = lifecycle.client(info, "s3", account_id="500000000005", region=REGION)
    assert prd.list_buckets()["Buckets"] == []
    assert not list((out / "stacks" / "env-dev").glob("*override*")), "override removed"


@pytest.mark.deploy
@pytest.mark.cli
def test_the_pinned_cdktf_cli_deploys_onto_the_emulator(emulator_work: Path) -> None:
    """`eval "$(ndap emulator env)"; ndap cdktf deploy --auto-approve <stack>`"""
    exports = run("emulator", "env", work=emulator_work)
    assert exports.returncode == 0, exports.stderr
    env: dict[str, str] = {}
    for line in exports.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value.strip("'")
    assert env["TF_VAR_ndap_emulator_endpoint"].startswith("http://127.0.0.1:")
    assert env["AWS_ENDPOINT_URL_S3"] == env["TF_VAR_ndap_emulator_endpoint"]
    # what `ndap deploy` does before applying: the organization being adopted
    seeded = run("emulator", "start", "-c", str(REFERENCE), work=emulator_work)
    assert seeded.returncode == 0, seeded.stderr
    assert "emulator already running" in seeded.stdout and "adopt" in seeded.stdout
    out = emulator_work.parent / "cdktf.out"
    deployed = run(
        "cdktf", "deploy", "--auto-approve", "--output", str(out), "organization",
        work=emulator_work, extra={**env, "NDAP_CONFIG": str(REFERENCE)},
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    info = lifecycle.require_running(emulator_work)
    orgs = lifecycle.client(info, "organizations", account_id="100000000001")
    assert orgs.describe_organization()["Organization"]["MasterAccountId"] == "100000000001"
    units = {
        u["Id"]: u["Name"]
        for u in orgs.list_organizational_units_for_parent(
            ParentId=orgs.list_roots()["Roots"][0]["Id"]
        )["OrganizationalUnits"]
    }
    parent = orgs.list_parents(ChildId="400000000004")["Parents"][0]["Id"]
    assert units[parent] == "acme-ml-acc", "cdktf deploy placed the adopted account too"


@pytest.mark.deploy
def test_an_interrupted_deploy_converges_on_the_next_run(
    emulator_work: Path, tmp_path: Path
) -> None:
    """`kill` (SIGTERM) during an apply: terraform is asked to stop once, saves its state and
    releases its lock; the next deploy converges to an empty plan."""
    work, out = emulator_work, tmp_path / "out"
    common = ["-c", str(REFERENCE), "--out", str(out)]
    env = dict(
        os.environ, NDAP_WORK_DIR=str(work), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20"
    )
    process = subprocess.Popen(
        # tooling alone: the organization and the log archive are not applied on this
        # emulator (the interruption is what is tested here)
        [*NDAP, "deploy", *common, *_stacks("tooling"), "--ignore-missing-dependencies"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    apply_log = work / "logs" / "tooling.apply.log"
    started = time.monotonic()
    # wait until terraform apply runs (init is logged first), then a few seconds into it
    while time.monotonic() - started < 300 and process.poll() is None:
        if apply_log.exists() and "$ terraform init" in apply_log.read_text():
            break
        time.sleep(0.5)
    time.sleep(6)
    assert process.poll() is None, "the apply finished before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 130, stdout + stderr
    assert "interrupted: asking terraform to stop" in stderr
    assert "Run `ndap deploy` again to converge" in stderr and "Traceback" not in stderr
    info = lifecycle.require_running(work)
    s3 = lifecycle.client(info, "s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="ndap-terraform-state")["Contents"]}
    assert "tooling.tfstate.tflock" not in keys, "the lock was released"

    again = run(
        "deploy", *common, *_stacks("tooling"), "--no-synth", "--ignore-missing-dependencies",
        work=work,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert "plan: no changes in any stack" in again.stdout

    # drift on a stack that was never deployed here is bad input, not drift
    missing = run("drift", *common, "--no-synth", "--stack", "env-acc", work=work)
    assert missing.returncode == 2 and "nothing deployed in env-acc" in missing.stderr
    assert "ndap deploy" in missing.stderr


def test_a_missing_terraform_is_named_not_a_traceback(tmp_path: Path) -> None:
    """Without terraform on PATH, deploy says what to install and exits 2."""
    python_dir = str(Path(sys.executable).parent)
    deployed = run(
        "deploy", "-c", str(REFERENCE), "--out", str(tmp_path / "out"),
        work=tmp_path / "work", extra={"PATH": f"{python_dir}:/nonexistent"},
    )  # fmt: skip
    assert deployed.returncode == 2, deployed.stdout + deployed.stderr
    assert "terraform was not found on PATH" in deployed.stderr
    assert "Traceback" not in deployed.stderr
