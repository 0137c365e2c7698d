"""`ndap terraform-validate` reuses a pass whose inputs are unchanged, says so, runs again
what changed, and runs everything with --no-cache.

The stacks here use no provider (Terraform validates them in a fraction of a second; the
AWS provider's schema alone takes seconds): the cache does not look inside a stack, only
at its digest. The reference's stacks are validated for real in tests/stacks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ndap_infra.stacks.synthesis import STACK_ORDER_FILE
from ndap_infra.terraform.validate_cache import ValidateCache, ValidateRecord
from tests.helpers import run

STACKS = ("organization", "env-dev")


def two_stacks(out: Path) -> Path:
    """A synthesis directory holding two small valid stacks."""
    for name in STACKS:
        (out / "stacks" / name).mkdir(parents=True)
        document = {
            "locals": {"stack": name},
            "output": {"stack": {"value": "${local.stack}"}},
        }
        (out / "stacks" / name / "cdk.tf.json").write_text(json.dumps(document))
    (out / STACK_ORDER_FILE).write_text(json.dumps(list(STACKS)))
    return out


def validated(out: Path, work: Path, *flags: str) -> dict[str, str]:
    """Each stack's result line of one `ndap terraform-validate`."""
    result = run("terraform-validate", "--out", str(out), *flags, work=work)
    assert result.returncode == 0, result.stdout + result.stderr
    return {
        name: next(line for line in result.stdout.splitlines() if f" {name}: " in line)
        for name in STACKS
    }


@pytest.mark.terraform
def test_an_unchanged_stack_is_not_validated_again(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    out, work = two_stacks(tmp_path / "out"), tmp_path / "work"

    # GIVEN a first run: every stack is validated, none from the cache
    first = validated(out, work)
    assert not [line for line in first.values() if "cached" in line], first
    assert len(list((work / "cache" / "terraform-validate").glob("*.json"))) == 2

    # WHEN nothing changed THEN both passes are reused, and the output says so
    second = validated(out, work)
    assert all("valid (" in line and "cached" in line for line in second.values()), second

    # WHEN one stack changes THEN only that one runs again
    stack = out / "stacks" / "env-dev" / "cdk.tf.json"
    document = json.loads(stack.read_text())
    document["locals"]["changed"] = 1
    stack.write_text(json.dumps(document))
    third = validated(out, work)
    assert "cached" in third["organization"] and "cached" not in third["env-dev"], third

    # and --no-cache runs both
    forced = validated(out, work, "--no-cache")
    assert not [line for line in forced.values() if "cached" in line], forced


@pytest.mark.terraform
def test_an_invalid_stack_is_never_cached(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    out, work = two_stacks(tmp_path / "out"), tmp_path / "work"
    stack = out / "stacks" / "organization" / "cdk.tf.json"
    stack.write_text(json.dumps({"output": {"broken": {"value": "${local.nothing}"}}}))
    for attempt in range(2):
        result = run("terraform-validate", "--out", str(out), work=work)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "FAIL organization: invalid" in result.stdout
        assert "undeclared local value" in result.stdout.lower()
        (dev,) = [line for line in result.stdout.splitlines() if " env-dev: " in line]
        assert ("cached" in dev) is (attempt == 1), dev


def test_an_unreadable_record_is_a_miss(tmp_path: Path) -> None:
    cache = ValidateCache(tmp_path)
    assert cache.get("a" * 64) is None
    cache.put("a" * 64, ValidateRecord("env-dev", 3, 4.5))
    assert cache.get("a" * 64) == ValidateRecord("env-dev", 3, 4.5)
    (tmp_path / f"{'a' * 64}.json").write_text("{not json")
    assert cache.get("a" * 64) is None
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
