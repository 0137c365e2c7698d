"""People onboarded into Identity Center's directory (``identity.identity_center.people``):
a user each, a member of each of their personas' groups. Plain data."""

from __future__ import annotations

from dataclasses import dataclass

from ndap_infra.config.model import NdapConfig


@dataclass(frozen=True)
class PersonSpec:
    """One user of the identity store and the groups (by persona) it joins."""

    user_name: str
    display_name: str
    given_name: str
    family_name: str
    email: str
    groups: tuple[tuple[str, str], ...]
    """(persona, group id), in configuration order."""


def people(config: NdapConfig) -> list[PersonSpec]:
    center = config.identity.identity_center
    if center is None:
        return []
    return [
        PersonSpec(
            user_name=p.user_name,
            display_name=f"{p.given_name} {p.family_name}",
            given_name=p.given_name,
            family_name=p.family_name,
            email=p.email,
            groups=tuple((name, center.groups[name]) for name in p.personas),
        )
        for p in center.people
    ]
