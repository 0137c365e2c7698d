"""Matching one statement's Action, Resource and Principal elements against a request."""

from __future__ import annotations

import re
from typing import Literal

from ndap_infra.evaluator.context import RequestContext
from ndap_infra.evaluator.model import Principal
from ndap_infra.evaluator.patterns import wildcard_match
from ndap_infra.evaluator.policy import ParsedStatement, PrincipalSpec

#: How a resource-policy statement names the requesting principal, which decides what else is
#: needed (IAM evaluation logic, "Policy evaluation for requests within a single account"):
#: ``account`` (account id or ``:root``) only delegates to the account's identity policies;
#: ``role`` (the role ARN) grants, but within the account is limited by an implicit deny in a
#: permissions boundary or session policy; ``session``, ``user``, ``service``, ``federated`` and
#: ``any`` (``"*"``) grant directly.
Scope = Literal["any", "session", "user", "service", "federated", "role", "account"]
DIRECT_SCOPES: frozenset[Scope] = frozenset({"any", "session", "user", "service", "federated"})
_RANK: dict[Scope, int] = {s: 2 for s in DIRECT_SCOPES} | {"role": 1, "account": 0}

_ACCOUNT_ROOT = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):root")


def action_matches(statement: ParsedStatement, action: str) -> bool:
    """Action names and their wildcards compare case-insensitively."""
    empty = RequestContext()
    hit = any(
        wildcard_match(pattern, action, empty, False, ignore_case=True)
        for pattern in statement.actions
    )
    return hit != statement.not_action


def resource_matches(
    statement: ParsedStatement, resource_arn: str, ctx: RequestContext, variables: bool
) -> bool:
    """Resource ARNs compare case-sensitively; an absent Resource element (trust and other
    resource policies may omit it) means the resource the policy is attached to."""
    if statement.resources is None:
        return True
    hit = any(
        wildcard_match(pattern, resource_arn, ctx, variables) for pattern in statement.resources
    )
    return hit != statement.not_resource


def _account_of(identifier: str) -> str | None:
    if len(identifier) == 12 and identifier.isdigit():
        return identifier
    match = _ACCOUNT_ROOT.fullmatch(identifier)
    return match.group(1) if match else None


def principal_scope(spec: PrincipalSpec, principal: Principal) -> Scope | None:
    """The strongest way ``spec`` names ``principal``, or None if it does not."""
    if spec.wildcard:
        return "any"
    found: list[Scope] = []
    if principal.kind == "service":
        if principal.arn in spec.service or "*" in spec.aws:
            found.append("service")
    elif principal.kind == "federated":
        if principal.arn in spec.federated or "*" in spec.aws:
            found.append("federated")
    else:
        session = principal.session_arn
        for identifier in spec.aws:
            lowered = identifier.lower()
            if identifier == "*":
                found.append("any")
            elif _account_of(identifier) == principal.account_id:
                found.append("account")
            elif principal.kind == "role" and lowered == (principal.role_arn or "").lower():
                found.append("role")
            elif session is not None and lowered == session.lower():
                found.append("session")
            elif principal.kind == "user" and lowered == principal.arn.lower():
                found.append("user")
    if not found:
        return None
    return max(found, key=lambda s: _RANK[s])


def not_principal_exempts(spec: PrincipalSpec, principal: Principal) -> bool:
    """Is ``principal`` exempt from a ``Deny`` with this ``NotPrincipal``?

    Documented rules: AWS checks the account, then the role, then the session, so the account
    must be listed as well as the user or role (or session); a principal with a permissions
    boundary is never exempt ("NotPrincipal with Deny always denies any IAM principal that has
    a permissions boundary")."""
    if spec.wildcard:
        return True
    if principal.kind == "service":
        return principal.arn in spec.service
    if principal.kind == "federated":
        return principal.arn in spec.federated
    if principal.permission_boundary is not None:
        return False
    listed = {identifier.lower() for identifier in spec.aws}
    accounts = {_account_of(identifier) for identifier in spec.aws}
    if principal.account_id not in accounts:
        return False
    if principal.kind == "root":
        return True
    own = {principal.arn.lower(), (principal.role_arn or "").lower()} - {""}
    return bool(own & listed)
