"""The Terraform version ndap needs, checked before any stack runs.

1.10 is the floor: every S3 backend ndap generates locks with ``use_lockfile`` (no
DynamoDB table), which older Terraform rejects only when it reads the backend, after
some stacks may have run."""

from __future__ import annotations

import json
import subprocess
from functools import cache

MINIMUM = (1, 10)


class TerraformTooOld(RuntimeError):
    """The terraform on PATH is older than ndap needs (the message says what to do)."""


@cache
def terraform_version(terraform: str) -> tuple[int, int, int]:
    """``terraform version -json`` as numbers (cached per binary path)."""
    result = subprocess.run(
        [terraform, "version", "-json"], capture_output=True, text=True, check=False
    )
    try:
        text = json.loads(result.stdout)["terraform_version"]
        major, minor, patch = (int(part) for part in text.split("-")[0].split(".")[:3])
    except (ValueError, KeyError, TypeError):
        raise TerraformTooOld(
            f"{terraform} did not report its version (`terraform version -json`); install "
            f"Terraform {MINIMUM[0]}.{MINIMUM[1]} or newer"
        ) from None
    return major, minor, patch


def require_terraform(terraform: str) -> tuple[int, int, int]:
    """The version of ``terraform``; TerraformTooOld when it is below ``MINIMUM``."""
    version = terraform_version(terraform)
    if version[:2] < MINIMUM:
        found = ".".join(map(str, version))
        raise TerraformTooOld(
            f"Terraform {found} at {terraform} is too old: ndap needs "
            f"{MINIMUM[0]}.{MINIMUM[1]} or newer (the stacks' S3 backends lock with "
            "use_lockfile); install a newer one "
            "(https://developer.hashicorp.com/terraform/install)"
        )
    return version
