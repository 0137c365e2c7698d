"""Runtime support shared by the generated resource classes.

``ndap_infra.codegen`` copies this module verbatim to ``ndap_infra/resources/aws/_runtime.py``
so that the generated package does not depend on the generator. Edit it here, then
regenerate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import cdktf

from ndap_infra.terraform.provider import PROVIDER_SOURCE, PROVIDER_TYPE, PROVIDER_VERSION

__all__ = ["GENERATOR_METADATA", "PROVIDER_SOURCE", "Block", "render", "synthesize"]

# Tells cdktf which provider (and version) the generated classes belong to; it becomes the
# stack's `terraform.required_providers` entry.
GENERATOR_METADATA = cdktf.TerraformProviderGeneratorMetadata(
    provider_name=PROVIDER_TYPE, provider_version_constraint=PROVIDER_VERSION
)


class Block:
    """Base class of the generated nested-block dataclasses.

    A block renders to a dict keyed by Terraform names, without the fields left as None.
    """

    __slots__ = ()

    # Python field name -> Terraform name, for the fields renamed to avoid a Python keyword.
    _TF_NAMES: ClassVar[Mapping[str, str]] = {}

    def to_terraform(self) -> dict[str, Any]:
        """This block as Terraform JSON (nested blocks rendered too)."""
        names = self._TF_NAMES
        result: dict[str, Any] = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if value is not None:
                result[names.get(field.name, field.name)] = render(value)
        return result


def render(value: Any) -> Any:
    """Turn blocks into dicts and sequences into lists, recursively; keep everything else."""
    if isinstance(value, Block):
        return value.to_terraform()
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return [render(item) for item in value]
    if isinstance(value, set | frozenset):
        return [render(item) for item in sorted(value, key=repr)]
    if isinstance(value, Mapping):
        return {key: render(item) for key, item in value.items()}
    return value


def synthesize(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The ``_synthesize_attributes`` result: every attribute that is not None, rendered."""
    return {key: render(value) for key, value in attributes.items() if value is not None}
