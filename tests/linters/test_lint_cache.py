"""The linters' output is kept by the digest of their inputs: an unchanged build reuses it
and says so, a changed stack, policy or tool runs the linter again, and the suppressions
are applied afresh every time. The linters run for real, on small inputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ndap_infra.linters.cache import LintCache, tool_identity
from ndap_infra.linters.checkov import CheckovReport, run_checkov
from ndap_infra.linters.parliament import run_parliament
from ndap_infra.linters.suppressions import CheckovSuppression
from ndap_infra.linters.tools import find_tool
from ndap_infra.stacks.synthesis import STACK_ORDER_FILE
from tests.helpers import run

BUCKET = "aws_s3_bucket.data_5A1B2C3D"


def bucket_stack(directory: Path, name: str = "env-dev", bucket: str = "acme-data") -> Path:
    """A stack of one bare S3 bucket: checkov fails it on several checks."""
    document = {
        "resource": {
            "aws_s3_bucket": {
                "data_5A1B2C3D": {
                    "bucket": bucket,
                    "//": {"metadata": {"path": f"{name}/data/bucket", "uniqueId": "data"}},
                }
            }
        }
    }
    stack = directory / "stacks" / name
    stack.mkdir(parents=True, exist_ok=True)
    (stack / "cdk.tf.json").write_text(json.dumps(document, indent=2))
    return stack


def policy_dir(directory: Path, action: str = "s3:GetObject") -> Path:
    policies = directory / "policies"
    policy = policies / "env-dev" / "personas" / "reader" / "access.json"
    policy.parent.mkdir(parents=True, exist_ok=True)
    statement = {"Effect": "Allow", "Action": [action], "Resource": "*"}
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [statement]}, indent=2))
    return policies


def failed(report: CheckovReport) -> set[str]:
    return {f.check_id for f in report.failures}


def test_checkov_output_is_reused_for_the_same_stacks_and_suppressions_apply_afresh(
    tmp_path: Path,
) -> None:
    cache = LintCache(tmp_path / "cache")
    stack = bucket_stack(tmp_path / "out")

    # GIVEN a first run: checkov runs and its output is kept
    first = run_checkov({"env-dev": stack}, (), cache)
    assert not first.cached and first.seconds > 0 and "CKV_AWS_21" in failed(first)
    (record,) = (tmp_path / "cache").glob("*.json")
    assert str(tmp_path) not in record.read_text(), "the kept output names no directory"

    # WHEN nothing changed THEN the kept output gives the same report
    second = run_checkov({"env-dev": stack}, (), cache)
    assert second.cached and second == first

    # and a suppression added since is applied to it, not to a kept verdict
    accepted = CheckovSuppression(
        "CKV_AWS_21",
        "env-dev/data/bucket",
        "versioning of this bucket is kept by a later resource here",
    )
    suppressed = run_checkov({"env-dev": stack}, (accepted,), cache)
    assert suppressed.cached and "CKV_AWS_21" not in failed(suppressed)
    assert [s.finding.check_id for s in suppressed.suppressed] == ["CKV_AWS_21"]

    # the kept output is what is read: a record edited by hand changes the report (the
    # control that it is not checkov running again)
    kept = json.loads(record.read_text())
    kept["stdout"] = kept["stdout"].replace('"CKV_AWS_21"', '"CKV_AWS_99999"')
    record.write_text(json.dumps(kept))
    tampered = run_checkov({"env-dev": stack}, (), cache)
    assert tampered.cached and "CKV_AWS_99999" in failed(tampered)
    assert "CKV_AWS_21" not in failed(tampered)

    # WHEN the stack changes THEN checkov runs again
    bucket_stack(tmp_path / "out", bucket="acme-other-data")
    changed = run_checkov({"env-dev": stack}, (), cache)
    assert not changed.cached and "CKV_AWS_21" in failed(changed)
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2

    # and the same stack under another name is another input
    renamed = bucket_stack(tmp_path / "elsewhere", name="env-acc", bucket="acme-other-data")
    assert not run_checkov({"env-acc": renamed}, (), cache).cached


def test_a_linter_outside_a_virtualenv_is_always_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = find_tool("checkov", "NDAP_CHECKOV")
    assert tool_identity(real) is not None
    wrapper = tmp_path / "bin" / "checkov"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n')
    os.chmod(wrapper, 0o755)
    monkeypatch.setenv("NDAP_CHECKOV", str(wrapper))
    assert tool_identity(wrapper) is None
    cache = LintCache(tmp_path / "cache")
    stack = bucket_stack(tmp_path / "out")

    for _ in range(2):
        report = run_checkov({"env-dev": stack}, (), cache)
        assert not report.cached and "CKV_AWS_21" in failed(report)
    assert not (tmp_path / "cache").exists()


def test_parliament_output_is_reused_for_the_same_files_wherever_they_are(
    tmp_path: Path,
) -> None:
    cache = LintCache(tmp_path / "cache")
    here = policy_dir(tmp_path / "one", action="s3:GetObjekt")

    first = run_parliament(here, (), cache)
    assert not first.cached and {f.issue for f in first.failures} >= {"UNKNOWN_ACTION"}
    again = run_parliament(here, (), cache)
    assert again.cached and again == first

    # the same files in another directory: the same output, their paths below it
    there = policy_dir(tmp_path / "two", action="s3:GetObjekt")
    moved = run_parliament(there, (), cache)
    assert moved.cached and moved == first
    assert {f.file for f in moved.failures} == {"env-dev/personas/reader/access.json"}

    # a policy changed: parliament runs again and the finding is gone
    policy_dir(tmp_path / "two")
    fixed = run_parliament(there, (), cache)
    assert not fixed.cached and "UNKNOWN_ACTION" not in {f.issue for f in fixed.failures}


def test_ndap_lint_says_when_it_reused_an_output_and_no_cache_runs_both(tmp_path: Path) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    bucket_stack(out)
    (out / STACK_ORDER_FILE).write_text(json.dumps(["env-dev"]))
    policies = policy_dir(tmp_path)
    argv = ("lint", "--out", str(out), "--policies", str(policies))

    def lint(*flags: str) -> tuple[list[str], str]:
        result = run(*argv, *flags, work=work)
        assert result.returncode == 1, result.stdout + result.stderr  # the bare bucket fails
        lines = [ln for ln in result.stdout.splitlines() if ln.startswith(("checkov", "parl"))]
        return lines, (policies / "LINT.md").read_text()

    ran, report = lint()
    assert len(ran) == 2 and not [line for line in ran if "from the cache" in line], ran
    reused, same = lint()
    assert all(line.endswith("[its output for these inputs, from the cache]") for line in reused)
    assert [line.split(" [")[0] for line in reused] == [line.split(" [")[0] for line in ran]
    assert same == report
    forced, _ = lint("--no-cache")
    assert not [line for line in forced if "from the cache" in line], forced
