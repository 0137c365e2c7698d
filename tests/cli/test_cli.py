"""The command line as a user runs it: real processes, exit codes, files produced."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ndap_infra.files.directories import MANIFEST, read_tree
from ndap_infra.review.reviewer_files import reviewer_files
from tests.helpers import FIXTURES, REFERENCE, ROOT

NDAP = [sys.executable, "-m", "ndap_infra"]


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NDAP, *args],
        cwd=cwd,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )


def test_committed_policies_are_current(reference_synthesis, reference_proof) -> None:  # type: ignore[no-untyped-def]
    expected = reviewer_files(reference_synthesis, reference_proof)
    committed = read_tree(ROOT / "policies")
    committed.pop("LINT.md", None)  # checked against the linters in test_policy_gates
    stale = sorted(set(expected) ^ set(committed)) + sorted(
        name for name in expected if name in committed and expected[name] != committed[name]
    )
    assert stale == [], f"policies/ is stale ({stale}): run `make build` and commit policies/"
    manifest = json.loads((ROOT / "policies" / MANIFEST).read_text())["files"]
    on_disk = sorted(
        p.relative_to(ROOT / "policies").as_posix()
        for p in (ROOT / "policies").rglob("*")
        if p.is_file() and p.name != MANIFEST
    )
    assert manifest == on_disk, "policies/.ndap-output is stale: run `make build`"


def test_synth_writes_stacks_and_policies(tmp_path: Path) -> None:
    out, policies = tmp_path / "out", tmp_path / "policies"
    result = run("synth", "-c", str(REFERENCE), "--out", str(out), "--policies", str(policies))
    assert result.returncode == 0, result.stderr
    assert "Synthesized 9 stacks" in result.stdout
    assert (out / "stacks" / "env-prd" / "cdk.tf.json").is_file()
    assert (policies / "INDEX.md").is_file()
    assert (policies / "organization").is_dir()
    assert "\x1b[" not in result.stdout, "plain output when not on a terminal"


def test_bad_config_exits_2_with_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    result = run(
        "build",
        "-c",
        str(FIXTURES / "invalid" / "many-problems.yaml"),
        "--out",
        str(tmp_path / "o"),
    )
    assert result.returncode == 2
    assert "7 problems in" in result.stderr
    assert not (tmp_path / "o").exists()


def test_missing_terraform_says_what_to_install(tmp_path: Path, reference_synthesis) -> None:  # type: ignore[no-untyped-def]
    env = dict(os.environ, PATH=str(Path(sys.executable).parent), NDAP_WORK_DIR=str(tmp_path / "w"))
    result = run("terraform-validate", "--out", str(reference_synthesis.out_dir), env=env)
    assert result.returncode == 2
    assert "terraform was not found on PATH: install Terraform" in result.stderr


@pytest.mark.terraform
def test_no_mirror_and_no_registry_names_the_variable(tmp_path: Path, reference_synthesis) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    # the session's synthesis (`ndap synth` itself: test_synth_writes_stacks_and_policies),
    # copied: terraform init writes into the stack directories
    out = tmp_path / "out"
    shutil.copytree(reference_synthesis.out_dir, out)
    env = dict(
        os.environ,
        NDAP_TF_PROVIDER_MIRROR="off",
        NDAP_WORK_DIR=str(tmp_path / "w"),
        HTTPS_PROXY="http://127.0.0.1:9",  # make the registry unreachable even with network
        HTTP_PROXY="http://127.0.0.1:9",
    )
    result = run("terraform-validate", "--out", str(out), env=env)
    assert result.returncode == 1
    assert "set NDAP_TF_PROVIDER_MIRROR to a directory holding a filesystem mirror" in result.stdout


def test_terraform_validate_before_synth_is_bad_input(tmp_path: Path) -> None:
    result = run("terraform-validate", "--out", str(tmp_path / "nothing"))
    assert result.returncode == 2
    assert "run `ndap synth` first" in result.stderr


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in (
        "validate",
        "synth",
        "terraform-validate",
        "build",
        "schema",
        "cdktf",
        "env",
        "parity",
        "access",
        "explain",
    ):
        assert command in result.stdout


@pytest.mark.cli
def test_pinned_cdktf_cli_synthesizes_the_same_stacks(tmp_path: Path, reference_stacks) -> None:  # type: ignore[no-untyped-def]
    if not (ROOT / "node_modules" / ".bin" / "cdktf").exists():
        pytest.skip("the pinned cdktf CLI is not installed: run `make setup`")
    out = tmp_path / "cli-out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_SILENCE")}
    env.update(CI="1", NDAP_WORK_DIR=str(tmp_path / "w"))  # ndap itself must silence jsii
    result = run("cdktf", "synth", "--output", str(out), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Node 20 is end-of-life" not in result.stdout + result.stderr
    for name, expected in reference_stacks.items():
        produced = json.loads((out / "stacks" / name / "cdk.tf.json").read_text())
        assert produced["resource"] == expected["resource"], name
        assert produced["provider"] == expected["provider"], name
