"""Extract the pinned provider's schema with Terraform, and trim it to the listed types."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ndap_infra.codegen.config import WORK_DIR, CodegenError, TypeList
from ndap_infra.terraform.cli_config import provider_address, write_cli_config
from ndap_infra.terraform.provider import PROVIDER_SOURCE, PROVIDER_TYPE, PROVIDER_VERSION


def terraform_binary() -> str | None:
    """The ``terraform`` executable on PATH, if any."""
    return shutil.which("terraform")


def extract_provider_schema(work_dir: Path = WORK_DIR) -> dict[str, Any]:
    """Run ``terraform providers schema -json`` for the pinned provider (about 13 MB of JSON).

    Uses the project's Terraform CLI configuration (provider mirror and plugin cache) written
    under ``work_dir``, and a throw-away Terraform working directory inside it.
    """
    terraform = terraform_binary()
    if terraform is None:
        raise CodegenError("terraform is not on PATH: it is needed to extract the schema")
    setup = write_cli_config(work_dir)
    env = setup.environment()
    root = {
        "terraform": {
            "required_providers": {
                PROVIDER_TYPE: {"source": PROVIDER_SOURCE, "version": PROVIDER_VERSION}
            }
        }
    }
    with tempfile.TemporaryDirectory(
        prefix="codegen-schema-", dir=setup.cli_config_file.parent
    ) as tmp:
        Path(tmp, "main.tf.json").write_text(json.dumps(root, indent=2) + "\n", encoding="utf-8")
        _run([terraform, "init", "-input=false", "-no-color"], Path(tmp), env)
        output = _run([terraform, "providers", "schema", "-json"], Path(tmp), env)
    schema: dict[str, Any] = json.loads(output)
    return schema


def _run(command: Sequence[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        list(command), cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise CodegenError(
            f"`{' '.join(command[1:])}` failed (exit {result.returncode}) in {cwd}:\n"
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    return result.stdout


def trim_schema(full_schema: dict[str, Any], types: TypeList) -> dict[str, Any]:
    """The provider block schema plus the schemas of exactly the listed types."""
    address = provider_address()
    try:
        provider = full_schema["provider_schemas"][address]
    except KeyError:
        raise CodegenError(f"terraform reported no schema for {address}") from None
    missing = [t for t in types.resources if t not in provider["resource_schemas"]] + [
        t for t in types.data_sources if t not in provider["data_source_schemas"]
    ]
    if missing:
        raise CodegenError(
            f"{PROVIDER_SOURCE} {PROVIDER_VERSION} has no type(s) {missing}: "
            "fix ndap_infra/codegen/types.toml"
        )
    return {
        "format_version": full_schema["format_version"],
        "provider_address": address,
        "provider_version": PROVIDER_VERSION,
        "provider": provider["provider"],
        "resource_schemas": {t: provider["resource_schemas"][t] for t in types.resources},
        "data_source_schemas": {t: provider["data_source_schemas"][t] for t in types.data_sources},
    }


def dump_schema(trimmed: dict[str, Any]) -> str:
    """The committed, deterministic text of a trimmed schema."""
    return json.dumps(trimmed, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
