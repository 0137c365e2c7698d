"""Role assumption and role chains.

``can_assume`` evaluates ``sts:AssumeRole`` with the role's trust policy as a required
resource policy (layer ``trust``): across accounts the caller's identity side (within its
boundary and its account's SCPs) and the trust policy must both allow; within the account a
trust policy naming the caller's ARN suffices on its own, one naming the account root defers to
the caller's identity policies (as the STS AssumeRole documentation states). RCPs of the role's
account apply (``sts`` is an RCP service).

``reachable_roles`` is a breadth-first search over those edges: every role reachable by
chaining, each with a shortest path of hops. Each hop is evaluated with the same caller-given
context (so e.g. ``aws:MultiFactorAuthPresent`` given once is assumed for every hop; session
tags and source identity are not propagated).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ndap_infra.evaluator.decision import Decision
from ndap_infra.evaluator.engine import evaluate
from ndap_infra.evaluator.matching import principal_scope
from ndap_infra.evaluator.model import NamedPolicy, Organization, Principal, Request, Resource

_ROLE_NAME = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):role/(?:.*/)?([^/]+)")


@dataclass(frozen=True)
class Role:
    """An IAM role: its trust policy, permission policies, boundary and tags."""

    arn: str
    account_id: str
    trust_policy: NamedPolicy
    identity_policies: tuple[NamedPolicy, ...] = ()
    permission_boundary: NamedPolicy | None = None
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    service_linked: bool = False
    max_session_duration: int = 3600

    def __post_init__(self) -> None:
        match = _ROLE_NAME.fullmatch(self.arn)
        if match is None or match.group(2) != self.account_id:
            raise ValueError(f"role {self.arn}: not a role ARN of account {self.account_id}")
        self.trust_policy.check("trust")
        for policy in self.identity_policies:
            policy.check("identity")
        if self.permission_boundary is not None:
            self.permission_boundary.check("identity")

    @property
    def name(self) -> str:
        match = _ROLE_NAME.fullmatch(self.arn)
        assert match is not None
        return match.group(3)

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]

    def as_resource(self) -> Resource:
        """The role as the target of ``sts:AssumeRole``: its trust policy is required."""
        return Resource(self.arn, self.account_id, "sts", self.trust_policy, True)


def principal_for(
    role: Role,
    session_name: str = "ndap-evaluator",
    session_policies: tuple[NamedPolicy, ...] = (),
) -> Principal:
    """The assumed-role session principal: session ARN
    ``arn:aws:sts::<acct>:assumed-role/<name>/<session>``, the role's policies and tags."""
    return Principal(
        arn=f"arn:{role.partition}:sts::{role.account_id}:assumed-role/{role.name}/{session_name}",
        account_id=role.account_id,
        kind="role",
        identity_policies=role.identity_policies,
        permission_boundary=role.permission_boundary,
        session_policies=session_policies,
        tags=dict(role.tags),
        service_linked=role.service_linked,
        role_arn=role.arn,
    )


def trust_names(role: Role, principal: Principal) -> bool:
    """Does an ``Allow`` statement of the role's trust policy name ``principal`` (by ``"*"``,
    its account, its role, its session or its user ARN), conditions aside? The trust
    policy is a required resource policy, so a principal it names nowhere cannot assume the
    role: an exact pre-check that spares the full evaluation (``can_assume`` decides)."""
    return any(
        statement.effect == "Allow"
        and statement.principal is not None
        and not statement.not_principal
        and principal_scope(statement.principal, principal) is not None
        for statement in role.trust_policy.parsed.statements
    )


def can_assume(
    principal: Principal,
    role: Role,
    org: Organization | None = None,
    context: Mapping[str, str | Sequence[str]] | None = None,
) -> Decision:
    """May ``principal`` call ``sts:AssumeRole`` on ``role``?"""
    request = Request(principal, "sts:AssumeRole", role.as_resource(), dict(context or {}))
    return evaluate(request, org, resource_layer="trust")


@dataclass(frozen=True)
class Hop:
    role: Role
    decision: Decision


@dataclass(frozen=True)
class Path:
    """How ``start`` reaches ``target``: the roles assumed in order, with each decision."""

    start: Principal
    hops: tuple[Hop, ...]

    @property
    def target(self) -> Role:
        return self.hops[-1].role

    @property
    def roles(self) -> tuple[Role, ...]:
        return tuple(hop.role for hop in self.hops)

    def describe(self) -> str:
        return " -> ".join([self.start.arn, *(hop.role.arn for hop in self.hops)])


def reachable_roles(
    start: Principal,
    roles: Sequence[Role],
    org: Organization | None = None,
    context: Mapping[str, str | Sequence[str]] | None = None,
    *,
    max_depth: int | None = None,
) -> list[Path]:
    """Every role in ``roles`` that ``start`` can reach by assuming roles in a chain, each with
    a shortest path, in breadth-first order. The start's own role is not listed."""
    own = start.role_arn if start.kind == "role" else None
    seen: set[str] = {own} if own else set()
    found: list[Path] = []
    queue: deque[tuple[Principal, tuple[Hop, ...]]] = deque([(start, ())])
    while queue:
        current, hops = queue.popleft()
        if max_depth is not None and len(hops) >= max_depth:
            continue
        for role in roles:
            if role.arn in seen or not trust_names(role, current):
                continue
            decision = can_assume(current, role, org, context)
            if not decision.allowed:
                continue
            seen.add(role.arn)
            path = Path(start, (*hops, Hop(role, decision)))
            found.append(path)
            queue.append((principal_for(role), path.hops))
    return found
