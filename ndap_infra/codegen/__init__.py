"""Generate small typed Python classes for the Terraform types this product uses.

Why and how: docs/design-notes.md, section ndap_infra/codegen/__init__.py."""

from __future__ import annotations

from ndap_infra.codegen.config import CodegenError, TypeList, load_types
from ndap_infra.codegen.extract import dump_schema, extract_provider_schema, trim_schema
from ndap_infra.codegen.generator import differences, generate, write_files

__all__ = [
    "CodegenError",
    "TypeList",
    "differences",
    "dump_schema",
    "extract_provider_schema",
    "generate",
    "load_types",
    "trim_schema",
    "write_files",
]
