"""Creation order: every principal a policy names, and every bucket a replication
configuration writes to, exists when AWS receives the request.

AWS refuses a trust, bucket, key, SNS/SQS or registry policy that names a role ARN which
does not exist yet ("Invalid principal in policy"), and a replication configuration whose
destination bucket does not exist yet ("Destination bucket must exist"). The stacks apply
in waves (the organization, then tooling, then the environments side by side, prd after
the environments it replicates into: ``Synthesis.apply_waves``), and inside a stack
Terraform orders only what depends on what. So a role or destination bucket must be
created in an earlier wave, or earlier in the same stack through a dependency chain;
anything else the platform creates is a forward reference that the first real apply would
trip on.

Read on the synthesized JSON only; explanation in docs/design-notes.md#creation-order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ndap_infra.config.accounts import security_account_id
from ndap_infra.config.enums import LOG_ARCHIVE, SECURITY_TOOLING, TOOLING
from ndap_infra.config.model import NdapConfig
from ndap_infra.names.platform import ORGANIZATION_STACK, environment_stack
from ndap_infra.names.security import ORGANIZATION_TRAIL_STACK
from ndap_infra.pipelines.platform import STACK_PROFILE_PREFIX as PROFILE_PREFIX

REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)[.}\[]")
ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/")
REPLICATION = "aws_s3_bucket_replication_configuration"
PRINCIPAL = "principal"
DESTINATION = "replication destination"
DELIVERY = "log delivery destination"
DELIVERIES = ("aws_cloudtrail.", "aws_config_delivery_channel.")
"""Resources whose ``s3_bucket_name`` AWS checks when they are saved: CloudTrail refuses a
trail whose bucket does not exist (InsufficientS3BucketPolicyException), AWS Config a
delivery channel (NoSuchBucketException)."""
KEY_READ = "key read"
"""A data source reading a KMS key by its alias (the organization trail's archive key):
Terraform reads it when it plans, so the alias must exist before the stack is planned."""
ALIAS_ARN = re.compile(r"^arn:aws:kms:[a-z0-9-]+:(\d{12}):(alias/.+)$")


def stack_accounts(config: NdapConfig) -> dict[str, str]:
    """The account each stack deploys into."""
    accounts = {ORGANIZATION_STACK: config.organization.management_account_id}
    if config.tooling_account_id is not None:
        accounts[TOOLING] = config.tooling_account_id
    for env in config.enabled_environments():
        accounts[environment_stack(env)] = config.account_id(env)
    if config.security_accounts is not None:
        accounts[LOG_ARCHIVE] = security_account_id(config, LOG_ARCHIVE)
        accounts[SECURITY_TOOLING] = security_account_id(config, SECURITY_TOOLING)
        accounts[ORGANIZATION_TRAIL_STACK] = config.organization.management_account_id
    return accounts


@dataclass(frozen=True)
class ForwardReference:
    """A policy naming a principal, or a replication configuration naming a destination
    bucket, that does not exist yet when AWS receives it."""

    stack: str
    policy: str
    """The resource address holding the policy or replication configuration."""
    principal: str
    """The role ARN (or, for a replication destination, the bucket ARN) it names."""
    created_in: str
    """The stack creating the principal."""
    created_by: str
    """Its resource address there."""
    kind: str = PRINCIPAL
    """``PRINCIPAL`` or ``DESTINATION``."""

    def describe(self, waves: Mapping[str, int]) -> str:
        if self.kind == KEY_READ:
            return self._describe_read(waves)
        if self.kind in (DESTINATION, DELIVERY):
            return self._describe_destination(waves)
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

    def _describe_read(self, waves: Mapping[str, int]) -> str:
        if self.created_in == self.stack:
            where = f"created by {self.created_by} in the same stack"
            fix = f"create the key in a stack that applies before {self.stack}"
        else:
            where = (
                f"created by {self.created_in} (wave {waves[self.created_in]}), not before "
                f"{self.stack} (wave {waves[self.stack]})"
            )
            fix = (
                f"declare {self.stack}'s dependency on {self.created_in} (stacks/platform.py), "
                "so that it applies in a later wave"
            )
        return (
            f"{self.stack}: {self.policy} reads the key {self.principal}, {where}; its plan "
            f"fails (the alias does not exist yet when it is read). Fix: {fix}."
        )

    def _describe_destination(self, waves: Mapping[str, int]) -> str:
        if self.created_in == self.stack:
            where = f"created by {self.created_by} in the same stack with no dependency chain"
            fix = f"add depends_on [{self.created_by}] to {self.policy}"
        else:
            where = (
                f"created by {self.created_in} (wave {waves[self.created_in]}), not before "
                f"{self.stack} (wave {waves[self.stack]})"
            )
            fix = (
                f"declare {self.stack}'s dependency on {self.created_in} (stacks/platform.py), "
                "so that it applies in a later wave"
            )
        if self.kind == DELIVERY:
            return (
                f"{self.stack}: {self.policy} delivers logs into {self.principal}, {where}; "
                f"AWS refuses it (the bucket does not exist yet). Fix: {fix}."
            )
        return (
            f"{self.stack}: {self.policy} replicates into {self.principal}, {where}; AWS "
            f"refuses it (InvalidRequest: Destination bucket must exist). Fix: {fix}."
        )


@dataclass(frozen=True)
class CreationOrderReport:
    waves: dict[str, int]
    checked: int
    """Principal ARNs checked (named in a policy)."""
    forward: tuple[ForwardReference, ...]
    destinations: int = 0
    """Replication destination buckets checked."""
    key_reads: int = 0
    """Keys read by alias (data sources) checked."""

    @property
    def ok(self) -> bool:
        return not self.forward

    def render(self) -> str:
        if self.ok:
            return (
                f"creation order: {self.checked} role principals named in policies and "
                f"{self.destinations} replication and log delivery destination buckets, each "
                "created in an earlier wave or earlier in its stack; "
                f"{self.key_reads} keys read by alias, each created in an earlier wave"
            )
        lines = [
            f"creation order: FAILS, {len(self.forward)} policies, replication "
            "configurations or key reads name a principal, bucket or key that does not "
            "exist yet when they are saved or read"
        ]
        lines += [f"- {f.describe(self.waves)}" for f in self.forward]
        return "\n".join(lines)


def check_creation_order(
    stacks: Mapping[str, Mapping[str, Any]],
    accounts: Mapping[str, str],
    waves: Mapping[str, int],
) -> CreationOrderReport:
    """Every role ARN named as an AWS principal in any resource's policy, and every bucket
    a replication configuration writes to, against where and when the platform creates it
    (``waves``: the wave each stack applies in). Roles and buckets the platform does not
    create are the configuration's or AWS's, and taken as existing."""
    created: dict[str, tuple[str, str]] = {}
    buckets: dict[str, tuple[str, str]] = {}
    for name, stack in stacks.items():
        for address, resource in _resources(stack):
            if address.startswith("aws_iam_role.") and name in accounts:
                arn = _role_arn(accounts[name], resource)
                if arn is not None:
                    created[arn] = (name, address)
            if address.startswith("aws_s3_bucket.") and _literal(resource.get("bucket")):
                buckets[f"arn:aws:s3:::{resource['bucket']}"] = (name, address)
    forward: list[ForwardReference] = []
    checked = destinations = 0
    for name, stack in stacks.items():
        graph = _dependencies(stack)
        for address, resource in _resources(stack):
            named = [(p, PRINCIPAL, created) for p in sorted(_named_principals(resource))]
            if address.startswith(f"{REPLICATION}."):
                named += [(b, DESTINATION, buckets) for b in _destinations(resource)]
            if address.startswith(DELIVERIES) and _literal(resource.get("s3_bucket_name")):
                named.append((f"arn:aws:s3:::{resource['s3_bucket_name']}", DELIVERY, buckets))
            for arn, kind, known in named:
                checked += kind == PRINCIPAL
                destinations += kind != PRINCIPAL
                if arn not in known:
                    continue
                where, by = known[arn]
                if where != name and waves[where] < waves[name]:
                    continue
                if where == name and by in _closure(graph, address):
                    continue
                forward.append(ForwardReference(name, address, arn, where, by, kind))
    aliases = _created_aliases(stacks, accounts)
    reads = list(_key_reads(stacks, accounts))
    for name, address, key in reads:
        if key not in aliases:
            continue
        where, by = aliases[key]
        if where != name and waves[where] < waves[name]:
            continue
        forward.append(ForwardReference(name, address, key, where, by, KEY_READ))
    return CreationOrderReport(dict(waves), checked, tuple(forward), destinations, len(reads))


def _created_aliases(
    stacks: Mapping[str, Mapping[str, Any]], accounts: Mapping[str, str]
) -> dict[str, tuple[str, str]]:
    """``<account>:alias/<name>`` -> (stack, address) of every KMS alias the platform
    creates with a literal name."""
    return {
        f"{accounts[name]}:{resource['name']}": (name, address)
        for name, stack in stacks.items()
        if name in accounts
        for address, resource in _resources(stack)
        if address.startswith("aws_kms_alias.") and _literal(resource.get("name"))
    }


def _key_reads(
    stacks: Mapping[str, Mapping[str, Any]], accounts: Mapping[str, str]
) -> Iterator[tuple[str, str, str]]:
    """(stack, data source address, ``<account>:alias/<name>``) of every ``aws_kms_key``
    data source that names a key by its alias, in the account its provider reaches."""
    for name, stack in stacks.items():
        for lid, body in stack.get("data", {}).get("aws_kms_key", {}).items():
            key = body.get("key_id")
            if not _literal(key):
                continue
            arn = ALIAS_ARN.match(key)
            if arn is not None:
                account, alias = arn.groups()
            elif key.startswith("alias/"):
                account = _provider_account(stack, body.get("provider"), name, accounts)
                alias = key
            else:
                continue
            if account is not None:
                yield name, f"data.aws_kms_key.{lid}", f"{account}:{alias}"


def _provider_account(
    stack: Mapping[str, Any], provider: Any, name: str, accounts: Mapping[str, str]
) -> str | None:
    """The account the stack's provider ``aws.<alias>`` (or the default) reaches: the one
    its assumed role names, else the one its profile's stack deploys into (``ndap-<stack>``,
    the pipeline's builds), else the stack's own."""
    alias = provider.split(".", 1)[1] if isinstance(provider, str) and "." in provider else None
    for block in stack.get("provider", {}).get("aws", []):
        if block.get("alias") != alias:
            continue
        role = str((block.get("assume_role") or [{}])[0].get("role_arn", ""))
        if ROLE_ARN.match(role):
            return role.split(":")[4]
        profile = block.get("profile")
        if isinstance(profile, str) and profile.startswith(PROFILE_PREFIX):
            return accounts.get(profile.removeprefix(PROFILE_PREFIX))
        return accounts.get(name)
    return None


def _literal(value: Any) -> bool:
    return isinstance(value, str) and "${" not in value


def _destinations(resource: Mapping[str, Any]) -> list[str]:
    """The destination bucket ARNs of a replication configuration's rules."""
    return sorted(
        {
            destination["bucket"]
            for rule in resource.get("rule", [])
            for destination in rule.get("destination", [])
            if _literal(destination.get("bucket"))
        }
    )


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
