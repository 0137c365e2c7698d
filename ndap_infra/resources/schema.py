"""The trimmed provider schema the typed resource classes are generated from.

``ndap_infra/resources/schema/aws-<version>.json`` holds, for the pinned provider version,
the Terraform schema of the provider block and of exactly the resource and data-source
types listed in ``ndap_infra/codegen/types.toml``. ``python -m ndap_infra.codegen
--refresh-schema`` writes it; ``python -m ndap_infra.codegen`` generates
``ndap_infra/resources/aws`` from it.

This module deliberately does not import ``cdktf``: checking a synthesized stack against the
schema must stay cheap.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ndap_infra.terraform.provider import PROVIDER_SOURCE, PROVIDER_TYPE, PROVIDER_VERSION

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"

# Terraform meta-arguments and cdktf metadata: valid in every resource / data block.
RESOURCE_META_KEYS = frozenset(
    {"provider", "depends_on", "count", "for_each", "lifecycle", "provisioner", "connection", "//"}
)
# Meta-arguments of a provider block.
PROVIDER_META_KEYS = frozenset({"alias", "version", "//"})
# Types of Terraform's built-in provider (terraform.io/builtin/terraform).
BUILTIN_TYPES: Mapping[str, frozenset[str]] = {
    "resource": frozenset({"terraform_data"}),
    "data": frozenset({"terraform_remote_state"}),
}


def schema_path(version: str = PROVIDER_VERSION) -> Path:
    """Where the trimmed schema of ``version`` of the pinned provider lives."""
    return SCHEMA_DIR / f"{PROVIDER_TYPE}-{version}.json"


@functools.cache
def load_schema() -> dict[str, Any]:
    """The committed trimmed schema of the pinned provider version (cached; do not mutate).

    Keys: ``provider`` (the provider block schema), ``resource_schemas`` and
    ``data_source_schemas`` (type name -> ``{"version": ..., "block": ...}`` exactly as
    ``terraform providers schema -json`` reports them), plus ``format_version``,
    ``provider_address`` and ``provider_version``.
    """
    path = schema_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing: run `python -m ndap_infra.codegen --refresh-schema` to "
            f"extract the {PROVIDER_SOURCE} {PROVIDER_VERSION} schema"
        ) from None
    schema: dict[str, Any] = json.loads(text)
    return schema


def unknown_attributes(synthesized_stack: Mapping[str, Any]) -> list[str]:
    """Every key of a synthesized stack that the provider schema does not know.

    ``synthesized_stack`` is the JSON of one synthesized cdktf stack (``cdk.tf.json``, or
    ``json.loads(Testing.synth(stack))``). Its ``resource``, ``data`` and ``provider``
    sections are walked; each attribute or nested-block key, at any depth (including the
    content of ``dynamic`` blocks), must be in the schema. Terraform meta-arguments and
    cdktf's ``//`` metadata are ignored. Attribute *values* are not checked (a map or object
    attribute may hold any keys). Resource and data-source types missing from the trimmed
    schema are reported too: add them to ``ndap_infra/codegen/types.toml``.

    Returns one human-readable message per problem, in a stable order; empty means clean.
    """
    schema = load_schema()
    problems: list[str] = []
    sections = (
        ("resource", "resource", schema["resource_schemas"]),
        ("data", "data source", schema["data_source_schemas"]),
    )
    for section, kind, type_schemas in sections:
        for type_name, instances in _items(synthesized_stack.get(section)):
            type_schema = type_schemas.get(type_name)
            builtin = type_name in BUILTIN_TYPES[section]
            for name, body in _items(instances):
                where = f"{kind} {type_name}.{name}"
                if builtin:
                    continue
                if type_schema is None:
                    problems.append(
                        f"{where}: type '{type_name}' is not in the trimmed "
                        f"{PROVIDER_SOURCE} {PROVIDER_VERSION} schema "
                        "(add it to ndap_infra/codegen/types.toml and regenerate)"
                    )
                    continue
                problems.extend(
                    f"{where}: {problem}"
                    for problem in _check_block(body, type_schema["block"], "", RESOURCE_META_KEYS)
                )
    for provider_name, configs in _items(synthesized_stack.get("provider")):
        bodies = configs if isinstance(configs, list) else [configs]
        for index, body in enumerate(bodies):
            where = f"provider {provider_name}[{index}]"
            if provider_name != PROVIDER_TYPE:
                problems.append(f"{where}: provider '{provider_name}' is not {PROVIDER_SOURCE}")
                continue
            problems.extend(
                f"{where}: {problem}"
                for problem in _check_block(
                    body, schema["provider"]["block"], "", PROVIDER_META_KEYS
                )
            )
    return problems


def _items(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        yield from value.items()


def _check_block(
    body: Any, block: Mapping[str, Any], prefix: str, meta_keys: frozenset[str]
) -> Iterator[str]:
    """Problems of one block body (an object) against its block schema."""
    if not isinstance(body, Mapping):
        return  # a token or expression: nothing to check statically
    attributes: Mapping[str, Any] = block.get("attributes", {})
    block_types: Mapping[str, Any] = block.get("block_types", {})
    for key, value in body.items():
        path = f"{prefix}{key}"
        if key in meta_keys or key in attributes:
            continue
        if key in block_types:
            yield from _check_nested(value, block_types[key]["block"], path)
        elif key == "dynamic" and isinstance(value, Mapping):
            for name, dynamic in value.items():
                dynamic_path = f"{prefix}dynamic.{name}"
                if name not in block_types:
                    yield _unknown("nested block", dynamic_path)
                elif isinstance(dynamic, Mapping):
                    yield from _check_block(
                        dynamic.get("content"),
                        block_types[name]["block"],
                        f"{dynamic_path}.content.",
                        frozenset({"//"}),
                    )
        else:
            yield _unknown("attribute", path)


def _check_nested(value: Any, block: Mapping[str, Any], path: str) -> Iterator[str]:
    """A nested block value is one object, or a list of objects (list / set nesting)."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        yield from _check_block(item, block, f"{path}.", frozenset({"//"}))


def _unknown(what: str, path: str) -> str:
    return f"{what} '{path}' is not in the {PROVIDER_SOURCE} {PROVIDER_VERSION} schema"
