"""What people in the identity account may do: assume their own persona's roles, nothing
else. Attach it to the identity account's groups (or permission sets) of people; each
person carries the ``ndap:persona`` tag that names their persona."""

from __future__ import annotations

from ndap_infra.iam.document import Condition, PolicyDocument, Statement
from ndap_infra.names.access import PERSONA_PATH, PERSONA_TAG


def people_policy(org: str, account_access_role: str) -> PolicyDocument:
    own_persona = f"arn:aws:iam::*:role{PERSONA_PATH}{org}-${{aws:PrincipalTag/{PERSONA_TAG}}}"
    return PolicyDocument(
        (
            Statement(
                "AssumeOwnPersonaRoles",
                "Allow",
                actions=("sts:AssumeRole",),
                resources=(own_persona,),
                conditions=(Condition.of("Bool", "aws:MultiFactorAuthPresent", "true"),),
            ),
            Statement(
                "NeverThePlatformDeploymentRole",
                "Deny",
                actions=("sts:AssumeRole",),
                resources=(f"arn:aws:iam::*:role/{account_access_role}",),
            ),
        )
    )
