"""Rules on ``personas`` and ``custom_personas``: the access matrix keeps invariants 2 and
5 and each persona to the levels that fit it; a custom persona is held to the rules of
the built-in persona it is ``like``, and its name cannot be mistaken for another's.
"""

from __future__ import annotations

from collections.abc import Iterator

from ndap_infra.config.enums import (
    Access,
    AnyPersona,
    CustomPersona,
    Environment,
    Persona,
)
from ndap_infra.config.issues import ConfigIssue, Path
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules.registry import INVARIANT_2, INVARIANT_5, rule


def _cell(config: NdapConfig, persona: AnyPersona, env: Environment) -> Path:
    if isinstance(persona, CustomPersona):
        return ("custom_personas", config.custom_persona_index(persona), "access", env.value)
    return ("personas", persona.value, env.value)


def _levels(allowed: set[Access]) -> str:
    return ", ".join(sorted(f"'{a.value}'" for a in allowed))


def _name(persona: AnyPersona) -> str:
    if isinstance(persona, CustomPersona):
        return f"{persona.value} (like {persona.like.value})"
    return persona.value


@rule("personas", "custom_personas")
def data_scientist_never_in_acc_or_prd(config: NdapConfig) -> Iterator[ConfigIssue]:
    for persona in config.data_scientist_like():
        for env in (Environment.ACC, Environment.PRD):
            access = config.access(persona, env)
            if access is not Access.NONE:
                yield ConfigIssue(
                    _cell(config, persona, env),
                    f"{INVARIANT_2}: set it to 'none'; production data reaches data "
                    "scientists as a read-only replica in dev (data.sharing_mode)",
                    access.value,
                    True,
                )


@rule("personas", "custom_personas")
def nonprod_is_for_engineers_only(config: NdapConfig) -> Iterator[ConfigIssue]:
    for persona in config.all_personas():
        if persona.like not in (Persona.DATA_SCIENTIST, Persona.BUSINESS_USER):
            continue
        access = config.access(persona, Environment.NONPROD)
        if access is not Access.NONE:
            yield ConfigIssue(
                _cell(config, persona, Environment.NONPROD),
                "nonprod is for ML, cloud and data engineers only (the model's environment "
                f"table): set it to 'none', or give {_name(persona)} access in dev",
                access.value,
                True,
            )


HUMAN_LEVELS_IN_PROTECTED = {Access.NONE, Access.READ_ONLY, Access.SECURITY_AUDIT, Access.UAT}


PERSONA_LEVELS: dict[Persona, set[Access]] = {
    Persona.DEPLOYER: {Access.NONE, Access.DEPLOY},
    Persona.BREAK_GLASS: {Access.NONE, Access.ADMIN},
    Persona.SECURITY_AUDITOR: {Access.NONE, Access.SECURITY_AUDIT, Access.READ_ONLY},
    Persona.BUSINESS_USER: {Access.NONE, Access.UAT, Access.READ_ONLY},
    Persona.DATA_SCIENTIST: {Access.NONE, Access.READ_ONLY, Access.FULL},
    Persona.ML_ENGINEER: {Access.NONE, Access.READ_ONLY, Access.FULL},
    Persona.PLATFORM_ENGINEER: {Access.NONE, Access.READ_ONLY, Access.FULL},
}


@rule("personas", "custom_personas")
def persona_levels_fit_the_persona(config: NdapConfig) -> Iterator[ConfigIssue]:
    for persona, cells in config.persona_matrix().items():
        allowed = PERSONA_LEVELS[persona.like]
        for env, access in cells.items():
            if access not in allowed:
                yield ConfigIssue(
                    _cell(config, persona, env),
                    f"{_name(persona)} cannot have '{access.value}': use one of {_levels(allowed)}",
                    access.value,
                    True,
                )


@rule("personas", "custom_personas")
def only_pipelines_change_acc_and_prd(config: NdapConfig) -> Iterator[ConfigIssue]:
    for persona, cells in config.persona_matrix().items():
        if persona.like in (Persona.DEPLOYER, Persona.BREAK_GLASS, Persona.DATA_SCIENTIST):
            continue  # pipelines and break-glass may; data scientists: see invariant 2
        for env in (Environment.ACC, Environment.PRD):
            access = cells[env]
            if access not in HUMAN_LEVELS_IN_PROTECTED and access in PERSONA_LEVELS[persona.like]:
                yield ConfigIssue(
                    _cell(config, persona, env),
                    f"{INVARIANT_5}: a person may have at most "
                    f"{_levels(HUMAN_LEVELS_IN_PROTECTED)} here",
                    access.value,
                    True,
                )


# -- custom personas' names and kinds ----------------------------------------------------

NOT_LIKE = (Persona.DEPLOYER, Persona.BREAK_GLASS)
"""The pipelines' identity and the emergency access are one each: no persona is like them."""
SCIENTIST = "scientist"
"""What a data-scientist-like persona's name must contain: the guardrails deny every role
whose name contains a data-scientist-like persona's name (``*<name>*``), so the name must
be one no platform role and no other persona carries."""


@rule("custom_personas")
def custom_persona_names_are_new(config: NdapConfig) -> Iterator[ConfigIssue]:
    seen: set[str] = {p.value for p in Persona}
    for index, custom in enumerate(config.custom_personas):
        if custom.name in seen:
            what = "a built-in persona" if custom.name in set(Persona) else "another one"
            yield ConfigIssue(
                ("custom_personas", index, "name"),
                f"is the name of {what}: choose another name (to change a built-in persona's "
                "cells, use personas.<name>)",
                custom.name,
                True,
            )
        seen.add(custom.name)


@rule("custom_personas")
def custom_persona_is_like_a_person(config: NdapConfig) -> Iterator[ConfigIssue]:
    for index, custom in enumerate(config.custom_personas):
        if custom.like in NOT_LIKE:
            yield ConfigIssue(
                ("custom_personas", index, "like"),
                "a custom persona cannot be like the deployer (the pipelines' identity) or "
                "break-glass (one emergency access): use data-scientist, ml-engineer, "
                "platform-engineer, business-user or security-auditor",
                custom.like.value,
                True,
            )


@rule("custom_personas")
def data_scientist_like_names_are_distinct(config: NdapConfig) -> Iterator[ConfigIssue]:
    """The guardrails match data-scientist-like principals by the role-name pattern
    ``*<name>*`` too (a renamed or hand-made role is still caught): a data-scientist-like
    name must say 'scientist', and no other persona's name may contain it (that persona's
    roles would be denied in acc and prd)."""
    scientists = config.data_scientist_like()
    for index, custom in enumerate(config.custom_personas):
        if custom.like is Persona.DATA_SCIENTIST and SCIENTIST not in custom.name:
            yield ConfigIssue(
                ("custom_personas", index, "name"),
                f"a data-scientist-like persona's name must contain '{SCIENTIST}': the "
                "guardrails deny every role whose name contains it, in every account",
                custom.name,
                True,
            )
        if custom.like is not Persona.DATA_SCIENTIST:
            for scientist in scientists:
                if scientist.value in custom.name:
                    yield ConfigIssue(
                        ("custom_personas", index, "name"),
                        f"contains '{scientist.value}', a data-scientist-like persona's name: "
                        "the guardrails would deny its roles in acc and prd; choose another",
                        custom.name,
                        True,
                    )
