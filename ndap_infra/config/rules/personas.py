"""Rules on ``personas``: the access matrix keeps invariants 2 and 5 and each persona to
the levels that fit it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ndap_infra.config.enums import Access, Environment, Persona
from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules.registry import INVARIANT_2, INVARIANT_5, rule


def _cell(persona: Persona, env: Environment) -> tuple[str, ...]:
    return ("personas", persona.value, env.value)


def _levels(allowed: set[Access]) -> str:
    return ", ".join(sorted(f"'{a.value}'" for a in allowed))


@rule("personas")
def data_scientist_never_in_acc_or_prd(config: NdapConfig) -> Iterator[ConfigIssue]:
    for env in (Environment.ACC, Environment.PRD):
        access = config.access(Persona.DATA_SCIENTIST, env)
        if access is not Access.NONE:
            yield ConfigIssue(
                _cell(Persona.DATA_SCIENTIST, env),
                f"{INVARIANT_2}: set it to 'none'; production data reaches data scientists "
                "as a read-only replica in dev (data.sharing_mode)",
                access.value,
                True,
            )


@rule("personas")
def nonprod_is_for_engineers_only(config: NdapConfig) -> Iterator[ConfigIssue]:
    for persona in (Persona.DATA_SCIENTIST, Persona.BUSINESS_USER):
        access = config.access(persona, Environment.NONPROD)
        if access is not Access.NONE:
            yield ConfigIssue(
                _cell(persona, Environment.NONPROD),
                "nonprod is for ML, cloud and data engineers only (the model's environment "
                f"table): set it to 'none', or give {persona.value} access in dev",
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


@rule("personas")
def persona_levels_fit_the_persona(config: NdapConfig) -> Iterator[ConfigIssue]:
    for persona, cells in config.persona_matrix().items():
        allowed = PERSONA_LEVELS[persona]
        for env, access in cells.items():
            if access not in allowed:
                yield ConfigIssue(
                    _cell(persona, env),
                    f"{persona.value} cannot have '{access.value}': use one of {_levels(allowed)}",
                    access.value,
                    True,
                )


@rule("personas")
def only_pipelines_change_acc_and_prd(config: NdapConfig) -> Iterator[ConfigIssue]:
    for persona, cells in config.persona_matrix().items():
        if persona in (Persona.DEPLOYER, Persona.BREAK_GLASS, Persona.DATA_SCIENTIST):
            continue  # pipelines and break-glass may; data scientists: see invariant 2
        for env in (Environment.ACC, Environment.PRD):
            access = cells[env]
            if access not in HUMAN_LEVELS_IN_PROTECTED and access in PERSONA_LEVELS[persona]:
                yield ConfigIssue(
                    _cell(persona, env),
                    f"{INVARIANT_5}: a person may have at most "
                    f"{_levels(HUMAN_LEVELS_IN_PROTECTED)} here",
                    access.value,
                    True,
                )
