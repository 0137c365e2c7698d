"""Results of ``terraform validate`` kept by the digest of their inputs, so an unchanged
stack is not validated again.

The digest covers what decides the result: the stack's Terraform JSON, the Terraform
version, the pinned provider and the platform. Only passing results are kept; a failure
is run again every time. Why and how: docs/design-notes.md, this module's section."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ndap_infra.terraform.provider import PROVIDER_SOURCE, PROVIDER_VERSION

CACHE_SUBDIR = Path("cache") / "terraform-validate"
"""Below the work directory (``.ndap`` by default)."""
FORMAT = 1
"""Bumped when what a record means changes: old records then miss."""
STACK_FILE = "cdk.tf.json"


@cache
def terraform_version(terraform: str) -> str:
    """``terraform version`` of this binary (one call per process)."""
    completed = subprocess.run(
        [terraform, "version", "-json"], capture_output=True, text=True, check=False
    )
    try:
        return str(json.loads(completed.stdout)["terraform_version"])
    except (json.JSONDecodeError, KeyError):
        return completed.stdout.strip() or "unknown"


def stack_digest(stack_dir: Path, terraform: str, platform: str) -> str:
    """The digest of one stack's validate inputs."""
    digest = hashlib.sha256()
    for part in (
        f"format {FORMAT}",
        f"terraform {terraform_version(terraform)}",
        f"provider {PROVIDER_SOURCE} {PROVIDER_VERSION} {platform}",
    ):
        digest.update(part.encode() + b"\n")
    digest.update((stack_dir / STACK_FILE).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ValidateRecord:
    """A passing ``terraform validate``, as it was recorded."""

    stack: str
    warnings: int
    seconds: float


@dataclass(frozen=True)
class ValidateCache:
    """One record file per digest in ``directory``."""

    directory: Path

    @classmethod
    def in_work_dir(cls, work_dir: Path) -> ValidateCache:
        return cls(work_dir / CACHE_SUBDIR)

    def get(self, digest: str) -> ValidateRecord | None:
        try:
            data = json.loads((self.directory / f"{digest}.json").read_text())
            return ValidateRecord(str(data["stack"]), int(data["warnings"]), float(data["seconds"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or unreadable: validate again

    def put(self, digest: str, record: ValidateRecord) -> None:
        """Write the record atomically (a reader sees the old state or the new one)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(
            {"stack": record.stack, "warnings": record.warnings, "seconds": record.seconds}
        )
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "w") as stream:
            stream.write(text + "\n")
        Path(temporary).replace(self.directory / f"{digest}.json")
