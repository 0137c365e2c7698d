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

from ndap_infra.terraform.cache_lock import plugin_cache_lock
from ndap_infra.terraform.cli_config import MIRROR_ENV, TerraformSetup, terraform_platform
from ndap_infra.terraform.provider import PROVIDER_SOURCE, PROVIDER_VERSION
from ndap_infra.terraform.validate_cache import ValidateCache, ValidateRecord, stack_digest


class TerraformMissing(RuntimeError):
    pass


def find_terraform() -> str:
    path = shutil.which("terraform")
    if path is None:
        raise TerraformMissing(
            "terraform was not found on PATH: install Terraform 1.10 or newer "
            "(https://developer.hashicorp.com/terraform/install) and try again"
        )
    return path


@dataclass(frozen=True)
class StackCheck:
    stack: str
    ok: bool
    seconds: float
    message: str
    warnings: int = 0
    cached: bool = False
    """True when an earlier, identical validate's result was reused."""


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


def init_stack(stack: str, directory: Path, setup: TerraformSetup) -> StackCheck | None:
    """``terraform init`` (no backend) in one stack directory: None when it worked."""
    start = time.monotonic()
    with plugin_cache_lock(setup.plugin_cache_dir):
        init = _run(
            [find_terraform(), "init", "-backend=false", "-input=false", "-no-color"],
            directory,
            setup,
        )
    if init.returncode != 0:
        output = init.stdout + init.stderr
        return StackCheck(
            stack, False, time.monotonic() - start, _init_failure(stack, output, setup)
        )
    return None


def init_and_validate(stack: str, directory: Path, setup: TerraformSetup) -> StackCheck:
    """``terraform init`` (no backend) and ``terraform validate`` in one stack directory."""
    failed = init_stack(stack, directory, setup)
    return failed if failed is not None else validate_stack(stack, directory, setup)


def validate_stack(stack: str, directory: Path, setup: TerraformSetup) -> StackCheck:
    """``terraform validate`` in an initialized stack directory."""
    start = time.monotonic()
    validate = _run([find_terraform(), "validate", "-json", "-no-color"], directory, setup)
    seconds = time.monotonic() - start
    try:
        report = json.loads(validate.stdout)
    except json.JSONDecodeError:
        return StackCheck(stack, False, seconds, f"{stack}: {validate.stderr.strip()}")
    if report.get("valid"):
        warnings = report.get("warning_count", 0)
        return StackCheck(
            stack, True, seconds, f"{stack}: valid ({warnings} warnings)", warnings=warnings
        )
    problems = [
        f"{d.get('severity')}: {d.get('summary')}: {d.get('detail', '')}".strip()
        for d in report.get("diagnostics", [])
    ]
    return StackCheck(stack, False, seconds, f"{stack}: invalid\n  " + "\n  ".join(problems))


def validate_stacks(
    stacks: dict[str, Path],
    setup: TerraformSetup,
    workers: int = 2,
    cache: ValidateCache | None = None,
) -> list[StackCheck]:
    """Init every stack, one at a time, then validate them a few at a time, in the given
    order. Inits never overlap a validate: an init can rewrite the plugin cache's entry
    that another stack's ``.terraform/providers`` links to (seen here: "there is no
    package for registry.terraform.io/hashicorp/aws 5.100.0 cached in
    .terraform/providers" from a validate running beside an init).

    With a ``cache``, a stack whose inputs passed before is not run again (its result
    says ``cached``), and every pass is recorded."""
    terraform = find_terraform()
    digests = {name: _digest(path, terraform, cache) for name, path in stacks.items()}
    hits = {name: _hit(name, digests[name], cache) for name in stacks}
    todo = {name: path for name, path in stacks.items() if hits[name] is None}
    failed = {name: init_stack(name, path, setup) for name, path in todo.items()}
    ready = {name: path for name, path in todo.items() if failed[name] is None}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            name: pool.submit(validate_stack, name, path, setup) for name, path in ready.items()
        }
        results = [hits[name] or failed[name] or futures[name].result() for name in stacks]
    for result in results:
        digest = digests[result.stack]
        if cache is not None and digest is not None and result.ok and not result.cached:
            cache.put(digest, ValidateRecord(result.stack, result.warnings, result.seconds))
    return results


def _digest(path: Path, terraform: str, cache: ValidateCache | None) -> str | None:
    if cache is None:
        return None
    return stack_digest(path, terraform, terraform_platform())


def _hit(stack: str, digest: str | None, cache: ValidateCache | None) -> StackCheck | None:
    record = None if cache is None or digest is None else cache.get(digest)
    if record is None:
        return None
    return StackCheck(
        stack,
        True,
        0.0,
        f"{stack}: valid ({record.warnings} warnings; cached: these inputs passed before, "
        f"in {record.seconds:.1f}s)",
        warnings=record.warnings,
        cached=True,
    )
