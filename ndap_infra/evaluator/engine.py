"""Evaluation of one request, following AWS's documented policy evaluation logic.

Why and how: docs/design-notes.md, section ndap_infra/evaluator/engine.py."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ndap_infra.evaluator.conditions import conditions_hold
from ndap_infra.evaluator.context import RequestContext
from ndap_infra.evaluator.decision import Decision, Layer, StatementRef
from ndap_infra.evaluator.global_keys import build_context
from ndap_infra.evaluator.matching import (
    DIRECT_SCOPES,
    Scope,
    action_matches,
    not_principal_exempts,
    principal_scope,
    resource_matches,
)
from ndap_infra.evaluator.model import NamedPolicy, Organization, Principal, Request
from ndap_infra.evaluator.policy import Effect, ParsedStatement

ResourceLayer = Literal["resource", "trust"]

_NOUN: dict[Layer, str] = {
    "identity": "identity policy",
    "boundary": "permissions boundary",
    "session": "session policy",
    "resource": "resource policy",
    "trust": "trust policy",
    "scp": "SCP",
    "rcp": "RCP",
}


@dataclass(frozen=True)
class _Hit:
    ref: StatementRef
    scope: Scope


def _principal_applies(statement: ParsedStatement, principal: Principal) -> Scope | None:
    spec = statement.principal
    if spec is None:
        return "any"
    if statement.not_principal:
        return None if not_principal_exempts(spec, principal) else "any"
    return principal_scope(spec, principal)


def _hits(
    policy: NamedPolicy,
    layer: Layer,
    effect: Effect,
    request: Request,
    ctx: RequestContext,
    level: str | None = None,
) -> list[_Hit]:
    """Statements of ``policy`` with ``effect`` that apply to the request."""
    found: list[_Hit] = []
    variables = policy.parsed.variables
    for statement in policy.parsed.statements:
        if statement.effect != effect:
            continue
        scope = _principal_applies(statement, request.principal)
        if scope is None:
            continue
        if not action_matches(statement, request.action):
            continue
        if not resource_matches(statement, request.resource.arn, ctx, variables):
            continue
        if not conditions_hold(statement.conditions, ctx, variables):
            continue
        ref = StatementRef(policy.name, statement.label, effect, layer, level)
        found.append(_Hit(ref, scope))
    return found


def _first_allow(
    policies: Iterable[NamedPolicy],
    layer: Layer,
    request: Request,
    ctx: RequestContext,
    level: str | None = None,
) -> StatementRef | None:
    for policy in policies:
        hits = _hits(policy, layer, "Allow", request, ctx, level)
        if hits:
            return hits[0].ref
    return None


def _scp_levels(
    principal: Principal, org: Organization | None
) -> list[tuple[str, tuple[NamedPolicy, ...] | None]]:
    """SCP levels that govern the caller; None stands for the default FullAWSAccess."""
    if (
        org is None
        or principal.kind in ("service", "federated")
        or principal.service_linked
        or principal.account_id == org.management_account_id
        or principal.account_id not in org.accounts
    ):
        return []
    return [(level, org.scps.get(level)) for level in org.path(principal.account_id)]


def _rcp_levels(
    request: Request, org: Organization | None
) -> list[tuple[str, tuple[NamedPolicy, ...]]]:
    account = request.resource.account_id
    if (
        org is None
        or account == org.management_account_id
        or account not in org.accounts
        or request.service not in org.rcp_services
        or request.principal.service_linked
    ):
        return []
    return [(level, org.rcps.get(level, ())) for level in org.path(account)]


def _describe(ref: StatementRef) -> str:
    return f"{_NOUN[ref.layer]} {ref.policy_name} ({ref.statement})"


def evaluate(
    request: Request,
    org: Organization | None = None,
    *,
    resource_layer: ResourceLayer = "resource",
) -> Decision:
    """Is ``request`` allowed? ``org`` supplies SCPs and RCPs (None: no organization).
    ``resource_layer="trust"`` labels the resource policy as a role trust policy (used by
    :func:`ndap_infra.evaluator.chains.can_assume`)."""
    p, r, action = request.principal, request.resource, request.action
    ctx = build_context(request, org)
    scp_levels = _scp_levels(p, org)
    rcp_levels = _rcp_levels(request, org)
    resource_policy = r.resource_policy

    # 1. Explicit deny anywhere.
    denies: list[_Hit] = []
    principal_side: list[tuple[Layer, Sequence[NamedPolicy]]] = [
        ("identity", p.identity_policies),
        ("boundary", (p.permission_boundary,) if p.permission_boundary else ()),
        ("session", p.session_policies),
    ]
    for layer, policies in principal_side:
        for policy in policies:
            denies += _hits(policy, layer, "Deny", request, ctx)
    for level, scps in scp_levels:
        for policy in scps or ():
            denies += _hits(policy, "scp", "Deny", request, ctx, level)
    for level, rcps in rcp_levels:
        for policy in rcps:
            denies += _hits(policy, "rcp", "Deny", request, ctx, level)
    if resource_policy is not None:
        denies += _hits(resource_policy, resource_layer, "Deny", request, ctx)
    if denies:
        deny_refs = tuple(hit.ref for hit in denies)
        reason = "denied: explicit Deny by " + "; ".join(map(str, deny_refs))
        return Decision(False, reason, deny_refs)

    # 2. SCPs: an Allow at every level of the caller account's path.
    scp_allows: list[StatementRef] = []
    for level, scps in scp_levels:
        if scps is None:
            continue
        allow = _first_allow(scps, "scp", request, ctx, level)
        if allow is None:
            return Decision(
                False,
                f"denied: no SCP attached at {level} allows {action} (implicit deny in scp; "
                f"every level of account {p.account_id}'s path must allow)",
            )
        scp_allows.append(allow)

    # 3. RCPs: RCPFullAWSAccess allows at every level; their Deny statements were step 1.

    # 4. Identity side and resource policy.
    identity_ref = _first_allow(p.identity_policies, "identity", request, ctx)
    identity_allowed = p.kind == "root" or identity_ref is not None
    boundary = p.permission_boundary
    boundary_ref = _first_allow((boundary,), "boundary", request, ctx) if boundary else None
    boundary_ok = boundary is None or boundary_ref is not None
    session_ref = _first_allow(p.session_policies, "session", request, ctx)
    session_ok = not p.session_policies or session_ref is not None
    identity_ok = identity_allowed and boundary_ok and session_ok
    limits = [ref for ref in (boundary_ref, session_ref) if ref is not None]

    grant: _Hit | None = None
    if resource_policy is not None:
        hits = _hits(resource_policy, resource_layer, "Allow", request, ctx)
        direct = [h for h in hits if h.scope in DIRECT_SCOPES]
        role = [h for h in hits if h.scope == "role"]
        best = direct or role or hits
        grant = best[0] if best else None

    resource_noun = f"{_NOUN[resource_layer]} {resource_policy.name}" if resource_policy else ""

    def identity_description() -> str:
        if p.kind == "root" and identity_ref is None:
            text = f"the root user of account {p.account_id}"
        else:
            assert identity_ref is not None
            text = _describe(identity_ref)
        return " within ".join([text, *map(_describe, limits)])

    def identity_failures() -> list[str]:
        parts = []
        if not identity_allowed:
            parts.append(f"no Allow in identity policies of {p.arn}")
        if boundary is not None and boundary_ref is None:
            parts.append(
                f"permissions boundary {boundary.name} has no Allow for {action} (implicit deny)"
            )
        if p.session_policies and session_ref is None:
            names = ", ".join(s.name for s in p.session_policies)
            parts.append(f"session policies ({names}) have no Allow for {action} (implicit deny)")
        return parts

    def allowed(
        reason: str, refs: Iterable[StatementRef | None], note: str | None = None
    ) -> Decision:
        kept = tuple(ref for ref in refs if ref is not None) + tuple(scp_allows)
        notes = [note] if note else []
        if scp_allows:
            notes.append("SCPs allow at every level")
        return Decision(True, "; ".join([f"allowed by {reason}", *notes]), kept)

    def denied(parts: list[str], refs: Iterable[StatementRef | None]) -> Decision:
        kept = tuple(ref for ref in refs if ref is not None)
        return Decision(False, "denied: " + "; ".join(parts), kept)

    matched_identity = [identity_ref, *limits]

    if p.kind in ("service", "federated"):
        if grant is not None:
            return allowed(_describe(grant.ref), [grant.ref])
        where = resource_noun or f"{r.arn} (no resource policy)"
        return denied([f"no Allow for {p.arn} in {where}"], [])

    if p.account_id != r.account_id:
        cross = f"cross-account request ({p.account_id} to {r.account_id})"
        if resource_policy is None:
            return denied([f"{cross} and {r.arn} has no resource-based policy"], matched_identity)
        if grant is None:
            return denied(
                [f"{cross} needs an Allow for the principal in {resource_noun}; none applies"],
                matched_identity,
            )
        if not identity_ok:
            return denied(
                [f"{cross} needs the identity side to allow too", *identity_failures()],
                [grant.ref],
            )
        return allowed(
            f"{identity_description()} and {_describe(grant.ref)}",
            [*matched_identity, grant.ref],
            cross,
        )

    if r.resource_policy_required and grant is None:
        what = (
            f"{resource_noun} has no Allow for the principal or its account"
            if resource_policy is not None
            else f"{r.arn} has no {_NOUN[resource_layer]}"
        )
        return denied([f"{what}, and it is required even within the account"], matched_identity)
    resource_ok = grant is not None and (
        grant.scope in DIRECT_SCOPES or (grant.scope == "role" and boundary_ok and session_ok)
    )
    refs: list[StatementRef | None]
    if resource_ok:
        assert grant is not None
        reason = _describe(grant.ref)
        refs = [grant.ref]
        if grant.scope == "role":
            reason = " within ".join([reason, *map(_describe, limits)])
            refs += limits
        if identity_ok:
            reason = f"{identity_description()} and {reason}"
            refs = [*matched_identity, *refs]
        return allowed(reason, refs)
    if identity_ok:
        reason = identity_description()
        refs = list(matched_identity)
        if grant is not None:
            reason += f" and {_describe(grant.ref)}, which allows the account"
            refs.append(grant.ref)
        return allowed(reason, refs)

    parts = identity_failures()
    if resource_policy is None:
        parts.append("no resource policy")
    elif grant is None:
        parts.append(f"no Allow for the principal in {resource_noun}")
    elif grant.scope == "account":
        parts.append(
            f"{_describe(grant.ref)} allows only the account, which defers to identity policies"
        )
    else:
        parts.append(
            f"{_describe(grant.ref)} allows the role ARN, which is limited by the implicit deny "
            "in the permissions boundary or session policies"
        )
    return denied(parts, [*matched_identity, grant.ref if grant else None])
