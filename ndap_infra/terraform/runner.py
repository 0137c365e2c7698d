"""Run the real Terraform binary over synthesized stacks: init and validate, offline."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ndap_infra.provider import PROVIDER_SOURCE, PROVIDER_VERSION
from ndap_infra.terraform.cache_lock import plugin_cache_lock
from ndap_infra.terraform.cli_config import MIRROR_ENV, TerraformSetup


class TerraformMissing(RuntimeError):
    pass


def find_terraform() -> str:
    path = shutil.which("terraform")
    if path is None:
        raise TerraformMissing(
            "terraform was not found on PATH: install Terraform 1.5 or newer "
            "(https://developer.hashicorp.com/terraform/install) and try again"
        )
    return path


@dataclass(frozen=True)
class StackCheck:
    stack: str
    ok: bool
    seconds: float
    message: str


def _run(args: Sequence[str], cwd: Path, setup: TerraformSetup) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=cwd, env=setup.environment(), capture_output=True, text=True, check=False
    )


def _init_failure(stack: str, output: str, setup: TerraformSetup) -> str:
    if setup.mirror.path is None and (
        "Failed to query available provider packages" in output
        or "could not connect" in output
        or "no such host" in output
    ):
        return (
            f"{stack}: terraform init could not download {PROVIDER_SOURCE} {PROVIDER_VERSION} "
            f"({setup.mirror.reason}). Without network access, set {MIRROR_ENV} to a "
            "directory holding a filesystem mirror of that provider."
        )
    return f"{stack}: terraform init failed:\n{output.strip()}"


def init_and_validate(stack: str, directory: Path, setup: TerraformSetup) -> StackCheck:
    """``terraform init`` (no backend) and ``terraform validate`` in one stack directory."""
    terraform = find_terraform()
    start = time.monotonic()
    with plugin_cache_lock(setup.plugin_cache_dir):
        init = _run(
            [terraform, "init", "-backend=false", "-input=false", "-no-color"], directory, setup
        )
    if init.returncode != 0:
        output = init.stdout + init.stderr
        return StackCheck(
            stack, False, time.monotonic() - start, _init_failure(stack, output, setup)
        )
    validate = _run([terraform, "validate", "-json", "-no-color"], directory, setup)
    seconds = time.monotonic() - start
    try:
        report = json.loads(validate.stdout)
    except json.JSONDecodeError:
        return StackCheck(stack, False, seconds, f"{stack}: {validate.stderr.strip()}")
    if report.get("valid"):
        warnings = report.get("warning_count", 0)
        return StackCheck(stack, True, seconds, f"{stack}: valid ({warnings} warnings)")
    problems = [
        f"{d.get('severity')}: {d.get('summary')}: {d.get('detail', '')}".strip()
        for d in report.get("diagnostics", [])
    ]
    return StackCheck(stack, False, seconds, f"{stack}: invalid\n  " + "\n  ".join(problems))


def validate_stacks(
    stacks: dict[str, Path], setup: TerraformSetup, workers: int = 2
) -> list[StackCheck]:
    """Init and validate every stack, a few at a time, in the given order."""
    find_terraform()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(init_and_validate, name, path, setup) for name, path in stacks.items()
        ]
        return [f.result() for f in futures]
