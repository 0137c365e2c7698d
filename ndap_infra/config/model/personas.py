"""Custom personas: a persona of the organization's own, defined by configuration and
held to the invariants of the built-in persona it is ``like``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from ndap_infra.config.enums import Access, CustomPersona, Environment, Persona
from ndap_infra.config.model.types import Slug, StrictModel


class CustomPersonaConfig(StrictModel):
    """One custom persona: its name, the built-in persona it is like, and its access per
    environment (environments not given: ``none``)."""

    name: Slug = Field(
        description="The persona's name: its roles are <organization>-<name>, its tag "
        "ndap:persona=<name>. Must not be a built-in persona's name.",
        examples=["research-scientist"],
    )
    like: Persona = Field(
        description="The built-in persona whose invariants, guardrails and permission "
        "boundary it takes: a data-scientist-like persona never has access in acc or prd "
        "and carries the data-scientist boundary; levels are those its 'like' may have. "
        "Not deployer or break-glass.",
        examples=["data-scientist"],
    )
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="What the persona is for, shown in ACCESS.md.",
        examples=["Explores new model families in dev."],
    )
    access: dict[Environment, Access] = Field(
        default_factory=dict,
        description="Access per environment; environments not given have 'none'.",
        examples=[{"nonprod": "none", "dev": "full", "acc": "none", "prd": "none"}],
    )

    @property
    def persona(self) -> CustomPersona:
        return CustomPersona(self.name, self.like)

    def cells(self) -> dict[Environment, Access]:
        return {env: self.access.get(env, Access.NONE) for env in Environment}
