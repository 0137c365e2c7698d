"""Rules on ``identity``: Identity Center settings fit the identity source and give a group
to every persona with access.
"""

from __future__ import annotations

from collections.abc import Iterator

from ndap_infra.config.enums import PROTECTED_ENVIRONMENTS, Access, IdentitySource, Persona
from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules.registry import rule


@rule("identity", "personas", "custom_personas")
def identity_center_is_configured(config: NdapConfig) -> Iterator[ConfigIssue]:
    identity = config.identity
    if identity.source is IdentitySource.IAM_ROLES:
        if identity.identity_center is not None:
            yield ConfigIssue(
                ("identity", "identity_center"),
                "is not used with source 'iam-roles': remove it or set source to "
                "'identity-center' or 'both'",
            )
        return
    if identity.identity_center is None:
        yield ConfigIssue(
            ("identity", "identity_center"),
            f"source '{identity.source.value}' needs the Identity Center instance_arn and a "
            "group per persona: add identity_center",
        )
        return
    groups = identity.identity_center.groups
    for persona, cells in config.persona_matrix().items():
        needs_group = persona is not Persona.DEPLOYER and any(
            a not in (Access.NONE, Access.DEPLOY) for a in cells.values()
        )
        if needs_group and persona.value not in groups:
            yield ConfigIssue(
                ("identity", "identity_center", "groups", persona.value),
                f"{persona.value} has access in some environment: add its Identity Center group id",
            )
    known = {p.value for p in config.all_personas()} - {Persona.DEPLOYER.value}
    for name in groups:
        if name not in known:
            yield ConfigIssue(
                ("identity", "identity_center", "groups", name),
                "is not a persona: use a built-in persona's name or a custom_personas name "
                f"({', '.join(sorted(known))})",
            )


@rule("identity", "personas", "custom_personas")
def people_are_onboarded_safely(config: NdapConfig) -> Iterator[ConfigIssue]:
    """identity_center.people: each person once, into the groups of personas that exist,
    and never a data-scientist-like persona beside one that reaches acc or prd (the
    person would then reach production: the model's separation of duties)."""
    center = config.identity.identity_center
    if center is None or not center.people:
        return
    base: tuple[str | int, ...] = ("identity", "identity_center")
    if center.identity_store_id is None:
        yield ConfigIssue(
            (*base, "identity_store_id"),
            "people are onboarded into the instance's identity store: add its id (aws "
            "sso-admin list-instances prints IdentityStoreId)",
        )
    matrix = config.persona_matrix()
    seen: dict[str, int] = {}
    for index, person in enumerate(center.people):
        path = (*base, "people", index)
        for key in (person.user_name.lower(), person.email.lower()):
            if key in seen:
                yield ConfigIssue(
                    path,
                    f"{key} is also people[{seen[key]}]'s: a person is onboarded once, "
                    "with every persona of theirs",
                )
            seen.setdefault(key, index)
        personas = []
        for name in person.personas:
            persona = config.persona_named(name)
            if persona is None or persona is Persona.DEPLOYER:
                yield ConfigIssue(
                    (*path, "personas"),
                    "no persona of people has this name (personas: "
                    + ", ".join(p.value for p in matrix if p is not Persona.DEPLOYER)
                    + ")",
                    name,
                    True,
                )
            elif name not in center.groups:
                yield ConfigIssue(
                    (*path, "personas"),
                    f"{name} has no group in identity_center.groups to join",
                    name,
                    True,
                )
            else:
                personas.append(persona)
        scientist = [p.value for p in personas if p.is_data_scientist_like]
        production = [
            p.value
            for p in personas
            if any(matrix[p][e] is not Access.NONE for e in PROTECTED_ENVIRONMENTS)
        ]
        if scientist and production:
            yield ConfigIssue(
                (*path, "personas"),
                f"{person.user_name} would be {', '.join(scientist)} and "
                f"{', '.join(production)}, which reaches acc or prd: a data scientist gets "
                "no access to acc and prd, also through a second persona; onboard them as "
                "one or the other",
            )
