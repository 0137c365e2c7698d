"""People onboarded into Identity Center (``identity.identity_center.people``): which
account and permission set each person reaches, read from the synthesized organization
stack (user -> group memberships -> account assignments of each group), against what their
personas' cells allow; and no person holding a data-scientist-like persona reaches acc
or prd, whatever the matrix says."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ndap_infra.config.enums import PROTECTED_ENVIRONMENTS, Access, Environment
from ndap_infra.config.model import NdapConfig
from ndap_infra.names.access import permission_set_name
from ndap_infra.proofs.access_model import reference

USER_ID = ("aws_identitystore_user", "user_id")
PERMISSION_SET_ARN = ("aws_ssoadmin_permission_set", "arn")

Reach = frozenset[tuple[Environment, str]]
"""(environment, permission set name) pairs."""


@dataclass(frozen=True)
class PersonRow:
    user_name: str
    personas: tuple[str, ...]
    reached: Reach
    expected: Reach
    data_scientist: bool

    @property
    def protected(self) -> frozenset[Environment]:
        return frozenset(e for e, _ in self.reached if e in PROTECTED_ENVIRONMENTS)

    @property
    def ok(self) -> bool:
        return self.reached == self.expected and not (self.data_scientist and self.protected)

    def differences(self) -> list[str]:
        out = []
        if self.data_scientist and self.protected:
            out.append(
                "a data-scientist-like person reaches "
                + ", ".join(sorted(e.value for e in self.protected))
            )
        for env, name in sorted(self.reached - self.expected):
            out.append(f"reaches {name} in {env.value}, which no persona of theirs has")
        for env, name in sorted(self.expected - self.reached):
            out.append(f"does not reach {name} in {env.value}, which {env.value} grants them")
        return out


def _resources(stack: Mapping[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return dict(stack.get("resource", {}).get(rtype, {}))


def prove_people(config: NdapConfig, org_stack: Mapping[str, Any]) -> list[PersonRow]:
    center = config.identity.identity_center
    if center is None or not center.people:
        return []
    accounts = {config.account_id(e): e for e in config.enabled_environments()}
    sets = {
        lid: str(body["name"])
        for lid, body in _resources(org_stack, "aws_ssoadmin_permission_set").items()
    }
    by_group: dict[str, set[tuple[Environment, str]]] = {}
    for body in _resources(org_stack, "aws_ssoadmin_account_assignment").values():
        found = reference(body["permission_set_arn"])
        env = accounts.get(str(body["target_id"]))
        if not found or found[::2] != PERMISSION_SET_ARN or env is None:
            continue
        if body.get("principal_type") != "GROUP":
            continue
        by_group.setdefault(str(body["principal_id"]), set()).add((env, sets[found[1]]))
    users = {
        lid: str(body["user_name"])
        for lid, body in _resources(org_stack, "aws_identitystore_user").items()
    }
    groups_of: dict[str, set[str]] = {}
    for body in _resources(org_stack, "aws_identitystore_group_membership").values():
        found = reference(body["member_id"])
        if found and found[::2] == USER_ID and found[1] in users:
            groups_of.setdefault(users[found[1]], set()).add(str(body["group_id"]))
    matrix = config.persona_matrix()
    org = config.organization.name
    rows = []
    for person in center.people:
        personas = [p for p in (config.persona_named(n) for n in person.personas) if p]
        expected = {
            (env, permission_set_name(org, persona, env))
            for persona in personas
            for env in config.enabled_environments()
            if matrix[persona][env] not in (Access.NONE, Access.DEPLOY)
        }
        reached = {
            pair
            for group in groups_of.get(person.user_name, ())
            for pair in by_group.get(group, ())
        }
        rows.append(
            PersonRow(
                person.user_name,
                tuple(person.personas),
                frozenset(reached),
                frozenset(expected),
                any(p.is_data_scientist_like for p in personas),
            )
        )
    return rows
