"""Terraform older than the S3 backends' ``use_lockfile`` needs is refused before any stack
runs, with what to do; the installed one passes."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from ndap_infra.terraform.runner import find_terraform
from ndap_infra.terraform.version import MINIMUM, TerraformTooOld, require_terraform
from tests.helpers import NDAP, ROOT


def fake_terraform(directory: Path, reported: str) -> Path:
    """A stand-in that answers only ``terraform version -json`` (no older Terraform can be
    installed offline); the check must refuse it before running anything else."""
    path = directory / "terraform"
    path.write_text(
        "#!/bin/sh\n"
        f'[ "$1 $2" = "version -json" ] && echo \'{{"terraform_version": "{reported}"}}\' '
        "&& exit 0\necho ran: $@ >&2\nexit 9\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.mark.terraform
def test_the_installed_terraform_is_new_enough() -> None:
    assert require_terraform(find_terraform())[:2] >= MINIMUM


@pytest.mark.parametrize("reported", ["1.9.8", "1.5.7", "0.15.0"])
def test_an_older_terraform_is_refused_with_what_to_do(tmp_path: Path, reported: str) -> None:
    with pytest.raises(TerraformTooOld, match=f"Terraform {reported} .* needs 1.10 or newer"):
        require_terraform(str(fake_terraform(tmp_path, reported)))


@pytest.mark.parametrize("reported", ["1.10.0", "1.11.0-beta1", "2.0.0"])
def test_newer_ones_pass(tmp_path: Path, reported: str) -> None:
    assert require_terraform(str(fake_terraform(tmp_path, reported)))[:2] >= MINIMUM


def test_the_command_stops_before_any_stack(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_terraform(bin_dir, "1.9.8")
    env = dict(
        os.environ,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        NDAP_WORK_DIR=str(tmp_path / "work"),
    )
    result = subprocess.run(
        [*NDAP, "env"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Terraform 1.9.8" in result.stderr and "1.10 or newer" in result.stderr
    assert "ran:" not in result.stderr  # nothing but the version was asked
