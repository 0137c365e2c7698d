"""Deploying through the pinned cdktf CLI (``cdktf deploy``) instead of Terraform directly:
the habit of cdktf users, with the project's Terraform settings."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from ndap_infra.deploy.runner import StackResult, stack_environment
from ndap_infra.emulator.lifecycle import EmulatorInfo
from ndap_infra.terraform.cli_config import TerraformSetup


class NpxMissing(RuntimeError):
    """Node.js's npx is not on the PATH."""


def deploy_with_cdktf(
    config: Path,
    out: Path,
    selected: list[str],
    setup: TerraformSetup,
    emulator: EmulatorInfo | None,
    workers: int,
    log: Path,
) -> StackResult:
    """Run ``cdktf deploy`` of ``selected`` (it synthesizes again through cdktf.json's app,
    with ``NDAP_CONFIG`` set to ``config``); its output goes to ``log``."""
    npx = shutil.which("npx")
    if npx is None:
        raise NpxMissing("npx was not found: install Node.js 20 or newer, then `npm ci`.")
    env = stack_environment(setup, emulator)
    env["NDAP_CONFIG"] = str(config)
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        npx,
        "--no-install",
        "cdktf",
        "deploy",
        "--auto-approve",
        "--no-color",
        "--output",
        str(out),
        "--parallelism",
        str(workers),
        *selected,
    ]
    start = time.monotonic()
    with log.open("w") as stream:
        completed = subprocess.run(
            command, env=env, stdout=stream, stderr=subprocess.STDOUT, check=False
        )
    seconds = time.monotonic() - start
    text = log.read_text(errors="replace")
    ok = completed.returncode == 0
    detail = (
        "" if ok else f"cdktf deploy failed (log {log}):\n" + "\n".join(text.splitlines()[-40:])
    )
    return StackResult(
        "+".join(selected),
        "cdktf",
        ok,
        seconds,
        "deployed" if ok else f"exit {completed.returncode}",
        log,
        detail,
    )
