"""Where the generator reads and writes, and the list of types it generates."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ndap_infra.terraform.provider import PROVIDER_TYPE

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # .../ndap_infra
REPO_ROOT = PACKAGE_ROOT.parent
TYPES_FILE = Path(__file__).resolve().parent / "types.toml"
OUTPUT_DIR = PACKAGE_ROOT / "resources" / "aws"
OUTPUT_PACKAGE = "ndap_infra.resources.aws"
WORK_DIR = REPO_ROOT / ".ndap"


class CodegenError(RuntimeError):
    """The generator cannot run with the current configuration or schema."""


class SchemaMismatchError(CodegenError):
    """The committed trimmed schema does not hold exactly the types in ``types.toml``."""


@dataclass(frozen=True)
class TypeList:
    """The Terraform types to generate classes for, each list sorted."""

    resources: tuple[str, ...]
    data_sources: tuple[str, ...]


def load_types(path: Path = TYPES_FILE) -> TypeList:
    """Read and validate ``types.toml``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise CodegenError(f"cannot read {path}: {err}") from err
    unknown = sorted(set(data) - {"resources", "data_sources"})
    if unknown:
        raise CodegenError(f"{path}: unknown keys {unknown}; expected resources, data_sources")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("resources", "data_sources"):
        values = data.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise CodegenError(f"{path}: {key} must be a list of strings")
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise CodegenError(f"{path}: {key} lists {duplicates} more than once")
        bad = [v for v in values if not v.startswith(f"{PROVIDER_TYPE}_") or not v.isidentifier()]
        if bad:
            raise CodegenError(f"{path}: {key} has invalid type names {bad}")
        lists[key] = tuple(sorted(values))
    return TypeList(resources=lists["resources"], data_sources=lists["data_sources"])
