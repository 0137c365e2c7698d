"""Generate small typed Python classes for the Terraform types this product uses.

The classes sit directly on cdktf core (``TerraformResource``, ``TerraformDataSource``,
``TerraformProvider``) instead of the prebuilt, slow-to-import AWS provider bindings.

Inputs:

* ``ndap_infra/codegen/types.toml``: the resource and data-source types to generate.
* ``ndap_infra/resources/schema/aws-<version>.json``: the pinned provider's schema, trimmed to
  those types (``--refresh-schema`` re-extracts it with Terraform).

Output: ``ndap_infra/resources/aws/``, one module per type.

Usage::

    python -m ndap_infra.codegen                   # regenerate from the committed schema
    python -m ndap_infra.codegen --check           # exit 1 if the committed output is stale
    python -m ndap_infra.codegen --refresh-schema  # re-extract the schema, then regenerate
"""

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
