"""Rules on ``identity``: Identity Center settings fit the identity source and give a group
to every persona with access.
"""

from __future__ import annotations

from collections.abc import Iterator

from ndap_infra.config.enums import Access, IdentitySource, Persona
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
