"""Names and ARNs of the access layer (personas, boundary, data sharing): pure functions.

Persona roles carry the persona in their name *and* in the ``ndap:persona`` tag, so the
guardrails can match a data-scientist principal either way (a renamed role still carries
the tag; a role created by mistake with the name still matches the pattern).
"""

from __future__ import annotations

from collections.abc import Sequence

from ndap_infra.config.enums import AnyPersona, Environment, Persona
from ndap_infra.config.model import NdapConfig

PERSONA_TAG = "ndap:persona"
PERSONA_PATH = "/ndap/personas/"


def persona_role_name(org: str, persona: AnyPersona) -> str:
    return f"{org}-{persona.value}"


def role_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:role{path}{name}"


def persona_role_arn(org: str, persona: AnyPersona, account_id: str) -> str:
    return role_arn(account_id, persona_role_name(org, persona), PERSONA_PATH)


def data_scientist_name_patterns(names: Sequence[str]) -> tuple[str, ...]:
    """Match any role whose name mentions a data-scientist-like persona's name (the
    built-in ``data-scientist`` and the custom personas like it), in any account and
    path."""
    return tuple(f"arn:aws:iam::*:role/*{name}*" for name in names)


def boundary_policy_name(org: str) -> str:
    return f"{org}-{Persona.DATA_SCIENTIST.value}-boundary"


def boundary_policy_arn(org: str, account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:policy/{boundary_policy_name(org)}"


def replication_role_name(org: str) -> str:
    """The identity in prd that writes production data to the dev replica / acc copy."""
    return f"{org}-data-replication"


def dataset_bucket_name(org: str, env: Environment, account_id: str) -> str:
    """The bucket holding production datasets in an environment: the source in prd, the
    copy in acc, the read-only replica in dev."""
    purpose = {
        Environment.PRD: "datasets",
        Environment.ACC: "datasets-copy",
        Environment.DEV: "datasets-replica",
        Environment.NONPROD: "no-datasets",
    }[env]
    return f"{org}-{env.value}-{purpose}-{account_id}"


def account_access_role_arn(account_id: str, role_name: str) -> str:
    """The role the stacks' providers assume in a member account (platform deployment)."""
    return role_arn(account_id, role_name)


SUBSET_PURPOSE = "integration-subset"


def sampler_project_name(org: str) -> str:
    return f"{org}-{SUBSET_PURPOSE}"


def sampler_role_name(org: str) -> str:
    return f"{org}-integration-sampler"


def sampler_schedule_role_name(org: str) -> str:
    return f"{org}-integration-sampler-schedule"


def permission_set_name(org: str, persona: AnyPersona, env: Environment) -> str:
    """At most 32 characters (the AWS limit), always with the full persona name, so the
    role Identity Center creates (``AWSReservedSSO_<name>_<id>``) matches the guardrails'
    role-name pattern for data scientists."""
    name = f"{org}-{persona.value}-{env.value}"
    return name if len(name) <= 32 else f"{persona.value}-{env.value}"


def data_scientist_names(config: NdapConfig) -> tuple[str, ...]:
    """The names the data-scientist guardrails match: the built-in persona's and every
    custom persona like it."""
    return tuple(p.value for p in config.data_scientist_like())


def data_scientist_role_arn(config: NdapConfig) -> str:
    return persona_role_arn(
        config.organization.name, Persona.DATA_SCIENTIST, config.account_id(Environment.DEV)
    )
