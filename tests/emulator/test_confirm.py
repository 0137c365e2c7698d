"""Plan, then confirm, for real: one stack of the reference deployed onto an emulator of its
own with ``--confirm`` (the flow deploy.target: aws always uses), answered on a terminal.

One chain, in order: plans saved for review, no terminal refused, "n" (nothing applied),
"y" (applied), the reviewed plans now stale (Terraform's refusal shown), and plans refused
for another stack set."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ndap_infra.emulator import lifecycle
from tests.helpers import NDAP, REFERENCE, ROOT, on_terminal, run

STACK = "organization"


@pytest.fixture(scope="module")
def emulator_work(tmp_path_factory) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    work = tmp_path_factory.mktemp("confirm") / "work"
    lifecycle.start(work)
    try:
        yield work
    finally:
        lifecycle.stop(work)


def answered(*args: str, answer: str, work: Path) -> subprocess.CompletedProcess[str]:
    """``ndap *args`` from the checkout with a terminal as its input, ``answer`` typed."""
    env = dict(
        os.environ, NDAP_WORK_DIR=str(work), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20"
    )
    return on_terminal([*NDAP, *args], answer=answer, cwd=ROOT, env=env)


def state_resources(work: Path) -> list[object]:
    """The resources in the organization stack's state on the emulator ([] when none)."""
    s3 = lifecycle.client(lifecycle.require_running(work), "s3")
    listed = s3.list_objects_v2(Bucket="ndap-terraform-state").get("Contents", [])
    if f"{STACK}.tfstate" not in {o["Key"] for o in listed}:
        return []
    body = s3.get_object(Bucket="ndap-terraform-state", Key=f"{STACK}.tfstate")["Body"].read()
    return list(json.loads(body).get("resources", []))


@pytest.mark.deploy
def test_a_confirmed_deploy_applies_only_what_was_shown_and_accepted(
    emulator_work: Path, tmp_path: Path
) -> None:
    work, out = emulator_work, tmp_path / "out"
    common = ["-c", str(REFERENCE), "--out", str(out), "--stacks", STACK]

    # --plan-only: plans, a reviewable summary and a manifest; nothing applied
    planned = run("deploy", *common, "--plan-only", work=work)
    assert planned.returncode == 0, planned.stdout[-3000:] + planned.stderr[-3000:]
    plans = work / "plans"
    summary = (plans / "plan-summary.txt").read_text()
    # the reference adopts its accounts: Terraform imports them, then updates them
    counts = re.search(rf"^{STACK}: (\d+) to import, (\d+) to add, \d+ to change, 0 to destroy$",
                       summary, re.M)  # fmt: skip
    assert counts is not None and int(counts.group(2)) > 10, summary
    terraform_said = (work / "logs" / f"{STACK}.plan.log").read_text()
    assert f"Plan: {counts.group(0).split(': ', 1)[1]}." in terraform_said
    assert (plans / f"{STACK}.tfplan").is_file() and (plans / "manifest.json").is_file()
    assert "--apply-plans" in planned.stdout
    reviewed = tmp_path / "reviewed"
    shutil.copytree(plans, reviewed)
    assert state_resources(work) == []

    # no terminal and no --auto-approve: exit 2 with what to do, nothing applied
    blind = run("deploy", *common, "--confirm", "--no-synth", work=work)
    assert blind.returncode == 2, blind.stdout + blind.stderr
    assert "not a terminal" in blind.stderr and "--auto-approve" in blind.stderr
    assert "--plan-only" in blind.stderr

    # "n": the plan is shown, the question asked once, nothing applied
    declined = answered("deploy", *common, "--confirm", "--no-synth", answer="n\n", work=work)
    assert declined.returncode == 1, declined.stdout[-3000:] + declined.stderr[-3000:]
    assert "Apply these 1 stacks? [y/N]" in declined.stdout
    assert f"  {counts.group(0)}" in declined.stdout
    assert "nothing was applied" in declined.stderr
    assert f"ok   {STACK:<12} apply" not in declined.stdout
    assert state_resources(work) == []

    # "y": exactly the saved plan applied, then the plan after it is empty
    accepted = answered("deploy", *common, "--confirm", "--no-synth", answer="y\n", work=work)
    assert accepted.returncode == 0, accepted.stdout[-3000:] + accepted.stderr[-3000:]
    assert accepted.stdout.count("Apply these 1 stacks? [y/N]") == 1
    assert f"ok   {STACK:<12} apply" in accepted.stdout
    assert "plan: no changes in any stack" in accepted.stdout
    applied_log = (work / "logs" / f"{STACK}.apply.log").read_text()
    assert f"-lock-timeout=0s {plans / (STACK + '.tfplan')}" in applied_log
    assert len(state_resources(work)) > 0

    # the reviewed plans were made before that apply: Terraform refuses them as stale
    stale = run("deploy", *common, "--apply-plans", str(reviewed), "--auto-approve",
                "--no-synth", work=work)  # fmt: skip
    assert stale.returncode == 1, stale.stdout[-3000:] + stale.stderr[-3000:]
    assert "Saved plan is stale" in stale.stderr

    # plans for another stack set are refused before Terraform runs
    elsewhere = ["-c", str(REFERENCE), "--out", str(out), "--stacks", "tooling", "--no-synth",
                 "--ignore-missing-dependencies"]  # fmt: skip
    other = run("deploy", *elsewhere, "--apply-plans", str(reviewed), "--auto-approve", work=work)
    assert other.returncode == 2, other.stdout + other.stderr
    assert "refused" in other.stderr and "--stacks" in other.stderr
