"""Creation order: every principal a policy names exists when AWS receives the policy.

AWS refuses a trust, bucket, key, SNS/SQS or registry policy that names a role ARN which
does not exist yet ("Invalid principal in policy"). The stacks apply in waves (the
organization, then tooling, then the environments side by side), and inside a stack
Terraform orders only what depends on what. So a role ARN a policy names must be created
in an earlier wave, or earlier in the same stack through a dependency chain; anything else
the platform creates is a forward reference that the first real apply would trip on.

Read on the synthesized JSON only; explanation in docs/design-notes.md#creation-order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ndap_infra.config.enums import TOOLING
from ndap_infra.config.model import NdapConfig
from ndap_infra.names.platform import ORGANIZATION_STACK, environment_stack

REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)[.}\[]")
ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/")


def deploy_waves(stack_names: list[str]) -> dict[str, int]:
    """The wave each stack applies in: organization 0, tooling 1, environments 2 (in
    parallel with each other)."""
    return {
        name: 0 if name == ORGANIZATION_STACK else 1 if name == TOOLING else 2
        for name in stack_names
    }


def stack_accounts(config: NdapConfig) -> dict[str, str]:
    """The account each stack deploys into."""
    accounts = {ORGANIZATION_STACK: config.organization.management_account_id}
    if config.tooling_account_id is not None:
        accounts[TOOLING] = config.tooling_account_id
    for env in config.enabled_environments():
        accounts[environment_stack(env)] = config.account_id(env)
    return accounts


@dataclass(frozen=True)
class ForwardReference:
    """A policy naming a principal that does not exist yet when the policy is saved."""

    stack: str
    policy: str
    """The resource address holding the policy (``aws_s3_bucket_policy.x``)."""
    principal: str
    created_in: str
    """The stack creating the principal."""
    created_by: str
    """Its resource address there."""

    def describe(self, waves: Mapping[str, int]) -> str:
        if self.created_in == self.stack:
            where = (
                f"created by {self.created_by} in the same stack with no dependency chain "
                "from the policy to it"
            )
            fix = (
                f"add depends_on [{self.created_by}] to {self.policy}, or trust the "
                "account root with an aws:PrincipalArn condition"
            )
        else:
            where = (
                f"created by {self.created_in} (wave {waves[self.created_in]}), not before "
                f"{self.stack} (wave {waves[self.stack]})"
            )
            fix = (
                "name the account root as the principal with an aws:PrincipalArn "
                "condition on the role ARN (the role may then be created later), or create "
                "the role in an earlier stack"
            )
        return (
            f"{self.stack}: {self.policy} names {self.principal}, {where}; "
            f"AWS refuses it (Invalid principal in policy). Fix: {fix}."
        )


@dataclass(frozen=True)
class CreationOrderReport:
    waves: dict[str, int]
    checked: int
    """Principal ARNs checked (named in a policy)."""
    forward: tuple[ForwardReference, ...]

    @property
    def ok(self) -> bool:
        return not self.forward

    def render(self) -> str:
        if self.ok:
            return (
                f"creation order: {self.checked} role principals named in policies, each "
                "created in an earlier wave or earlier in its stack"
            )
        lines = [
            f"creation order: FAILS, {len(self.forward)} policies name a principal that "
            "does not exist yet when they are saved"
        ]
        lines += [f"- {f.describe(self.waves)}" for f in self.forward]
        return "\n".join(lines)


def check_creation_order(
    stacks: Mapping[str, Mapping[str, Any]], accounts: Mapping[str, str]
) -> CreationOrderReport:
    """Every role ARN named as an AWS principal in any resource's policy, against where
    and when the platform creates that role (roles the platform does not create are the
    configuration's or AWS's, and taken as existing)."""
    waves = deploy_waves(list(stacks))
    created: dict[str, tuple[str, str]] = {}
    for name, stack in stacks.items():
        for address, resource in _resources(stack):
            if address.startswith("aws_iam_role.") and name in accounts:
                arn = _role_arn(accounts[name], resource)
                if arn is not None:
                    created[arn] = (name, address)
    forward: list[ForwardReference] = []
    checked = 0
    for name, stack in stacks.items():
        graph = _dependencies(stack)
        for address, resource in _resources(stack):
            for principal in sorted(_named_principals(resource)):
                checked += 1
                if principal not in created:
                    continue
                where, by = created[principal]
                if where != name and waves[where] < waves[name]:
                    continue
                if where == name and by in _closure(graph, address):
                    continue
                forward.append(ForwardReference(name, address, principal, where, by))
    return CreationOrderReport(waves, checked, tuple(forward))


def _resources(stack: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind, resources in stack.get("resource", {}).items():
        for name, resource in resources.items():
            yield f"{kind}.{name}", resource


def _role_arn(account: str, resource: Mapping[str, Any]) -> str | None:
    name = resource.get("name")
    if not isinstance(name, str) or "${" in name:
        return None
    path = resource.get("path", "/")
    return f"arn:aws:iam::{account}:role{path}{name}"


def _named_principals(resource: Mapping[str, Any]) -> set[str]:
    """Role ARNs named as ``Principal.AWS`` in any policy document the resource holds."""
    found: set[str] = set()
    for value in _strings(resource):
        if '"Statement"' not in value:
            continue
        try:
            document = json.loads(value)
        except ValueError:
            continue
        statements = document.get("Statement", []) if isinstance(document, dict) else []
        for statement in statements if isinstance(statements, list) else [statements]:
            principal = statement.get("Principal") if isinstance(statement, dict) else None
            if not isinstance(principal, dict):
                continue
            named = principal.get("AWS", [])
            for arn in [named] if isinstance(named, str) else named:
                if isinstance(arn, str) and ROLE_ARN.match(arn):
                    found.add(arn)
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _dependencies(stack: Mapping[str, Any]) -> dict[str, set[str]]:
    """Resource address -> the resource addresses it refers to or depends on."""
    graph: dict[str, set[str]] = {}
    for address, resource in _resources(stack):
        edges = {
            f"{kind}.{name}"
            for text in _strings({k: v for k, v in resource.items() if k != "depends_on"})
            for kind, name in REFERENCE.findall(text)
        }
        edges |= {d for d in resource.get("depends_on", []) if isinstance(d, str)}
        graph[address] = edges
    return graph


def _closure(graph: Mapping[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(graph.get(current, ()))
    return seen
