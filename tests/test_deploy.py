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
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.config.model import DeployConfig, DeployTarget
from ndap_infra.emulator import lifecycle
from tests.conftest import REFERENCE, ROOT

NDAP = [sys.executable, "-m", "ndap_infra"]
VARIABLE = "${var.ndap_emulator_endpoint}"


def run(
    *args: str, work: Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, NDAP_WORK_DIR=str(work), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20"
    )
    env.update(extra or {})
    return subprocess.run(
        [*NDAP, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


# -- the provider: local target vs aws target ---------------------------------------------


@pytest.fixture(scope="module")
def aws_stacks(reference_config, tmp_path_factory):  # type: ignore[no-untyped-def]
    from ndap_infra.build import synthesize

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
    from ndap_infra.build import synthesize

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
    (analyzer,) = _bodies(dev, "aws_accessanalyzer_analyzer")
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
    from ndap_infra.deploy.gaps import render_gaps, synthesized_gaps

    gaps = synthesized_gaps(reference_stacks)
    absent = [g for g in gaps if not g.ignored]
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


def test_kms_gap_matches_moto_s_key_policy_check() -> None:
    from ndap_infra.deploy.gaps import gap_reason

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_emulator_that_stopped_mid_deploy_is_named(tmp_path: Path) -> None:
    from ndap_infra.deploy.runner import StackRun, _failure

    dead = lifecycle.EmulatorInfo(_free_port(), 999999, "then", str(tmp_path / "emulator.log"))
    run_ = StackRun("env-dev", tmp_path, {}, tmp_path / "logs", dead)
    message = _failure(run_, "Error: connection refused", "apply")
    assert "stopped answering" in message and "ndap emulator stop" in message


# -- the emulator's lifecycle ---------------------------------------------------------------


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
        json.dumps({"port": _free_port(), "pid": 999999, "started_at": "x", "log": "x.log"})
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
    from ndap_infra.checks.access_model import build_model
    from ndap_infra.config.enums import Environment, Persona
    from ndap_infra.deploy.probes import witness

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


def test_an_emulator_verdict_is_never_proof() -> None:
    from ndap_infra.config.enums import Environment, Persona
    from ndap_infra.deploy.probes import ProbeRow, render_probes

    leak = ProbeRow(
        Persona.DATA_SCIENTIST, Environment.DEV, "x", False, "allowed", False, "boundary"
    )
    assert not leak.contradicts and leak.verdict == "no evidence either way"
    wrong = ProbeRow(Persona.PLATFORM_ENGINEER, Environment.PRD, "x", False, "allowed", True, "")
    assert wrong.contradicts
    text = render_probes([leak, wrong])
    assert "not a leak" in text and "not proof" in text and "DIFFER" in text


# -- for real: deploy, probe, lock, redeploy, destroy -------------------------------------

DEPLOYED = ("organization", "env-dev")


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


@pytest.mark.deploy
def test_deploy_probe_lock_redeploy_destroy(emulator_work: Path, tmp_path: Path) -> None:
    work, out = emulator_work, tmp_path / "out"
    common = ["-c", str(REFERENCE), "--out", str(out)]

    deployed = run("deploy", *common, *_stacks(*DEPLOYED), work=work)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    text = deployed.stdout
    assert "emulator running at http://127.0.0.1:" in text
    assert "plan: no changes in any stack" in text
    for stack in DEPLOYED:
        assert f"ok   {stack:<12} apply" in text and f"ok   {stack:<12} plan     no changes" in text
    assert "not created: aws_accessanalyzer_analyzer" in text
    gaps = (work / "emulator-gaps.md").read_text()
    assert "aws_accessanalyzer_analyzer" in gaps and "env-dev" in gaps
    # the adopted organization was prepared, and every account was placed in its unit
    assert "member accounts added as if invited: acc, dev, nonprod, prd, tooling" in text
    for key in ("nonprod", "dev", "acc", "prd", "tooling"):
        assert re.search(rf"ok   {key:<8} account \d{{12}} in its unit", text), text

    # the state is really on the emulator, one per stack
    info = lifecycle.require_running(work)
    s3 = lifecycle.client(info, "s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="ndap-terraform-state")["Contents"]}
    assert keys == {"organization.tfstate", "env-dev.tfstate"}

    probed = run("probe", *common, work=work)
    assert probed.returncode == 0, probed.stdout + probed.stderr
    assert "witness?" in probed.stdout and "agrees (identity policies only)" in probed.stdout
    assert "no evidence either way" in probed.stdout
    iam = lifecycle.client(info, "iam", account_id="100000000001")
    assert not [u for u in iam.list_users()["Users"] if u["UserName"].startswith("ndap-probe")]

    # a held state lock: a clear message, nothing applied
    lock = {"ID": "6f1c0e2a-0000", "Operation": "OperationTypeApply", "Who": "alice@laptop",
            "Version": "1.11.4", "Created": "2026-11-28T07:00:00Z", "Info": "",
            "Path": "ndap-terraform-state/env-dev.tfstate"}  # fmt: skip
    s3.put_object(
        Bucket="ndap-terraform-state", Key="env-dev.tfstate.tflock", Body=json.dumps(lock)
    )
    locked = run("deploy", *common, *_stacks("env-dev"), "--no-synth", work=work)
    assert locked.returncode == 1
    assert "the state is locked" in locked.stderr and "alice@laptop" in locked.stderr
    assert "Traceback" not in locked.stderr
    s3.delete_object(Bucket="ndap-terraform-state", Key="env-dev.tfstate.tflock")

    # idempotent: a second deploy changes nothing
    again = run("deploy", *common, *_stacks("env-dev"), "--no-synth", "--no-check-plan", work=work)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 added, 0 changed, 0 destroyed" in again.stdout

    # reversible: everything but the deletion-protected buckets, then those too
    destroyed = run("destroy", *common, *_stacks(*DEPLOYED), "--no-synth", work=work)
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert "kept" in destroyed.stdout and "(prevent_destroy)" in destroyed.stdout
    assert "--include-protected" in destroyed.stdout
    dev = lifecycle.client(info, "s3", account_id="300000000003", region="eu-west-1")
    left = {b["Name"] for b in dev.list_buckets()["Buckets"]}
    # kept: the audit-log buckets and the production-data replica (deletion-protected)
    assert left == {
        "acme-ml-baseline-logs-300000000003",
        "acme-ml-baseline-logs-access-300000000003",
        "acme-ml-dev-datasets-replica-300000000003",
    }, left
    everything = run(
        "destroy", *common, *_stacks(*DEPLOYED), "--include-protected", "--no-synth", work=work
    )
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert "WILL BE DESTROYED" in everything.stderr
    assert dev.list_buckets()["Buckets"] == []
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
        [*NDAP, "deploy", *common, *_stacks("tooling")],
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

    again = run("deploy", *common, *_stacks("tooling"), "--no-synth", work=work)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "plan: no changes in any stack" in again.stdout


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
