"""Global condition keys the evaluator fills into every request context."""

from __future__ import annotations

from ndap_infra.evaluator.context import RequestContext
from ndap_infra.evaluator.model import Organization, Request

_PRINCIPAL_TYPE = {"role": "AssumedRole", "user": "User", "root": "Account"}


def build_context(request: Request, org: Organization | None) -> RequestContext:
    """Standard keys derived from the request, then the caller's ``Request.context``, which
    wins: ``aws:PrincipalArn`` (the role ARN for a role session), ``aws:PrincipalAccount``,
    ``aws:PrincipalType``, ``aws:PrincipalTag/<key>``, ``aws:username`` (IAM users),
    ``aws:PrincipalIsAWSService``, ``aws:PrincipalServiceName`` (service principals),
    ``aws:PrincipalOrgID`` and ``aws:ResourceOrgID`` (when ``org.org_id`` is set and the account
    is in the organization), ``aws:ResourceAccount`` and ``aws:SecureTransport`` (``"true"``).
    ``aws:MultiFactorAuthPresent``, ``aws:SourceIp``, ``aws:CurrentTime`` and every other key
    are present only if the caller gives them."""
    p, r = request.principal, request.resource
    keys: dict[str, object] = {}
    if p.kind == "service":
        keys["aws:PrincipalIsAWSService"] = "true"
        keys["aws:PrincipalServiceName"] = p.arn
    else:
        keys["aws:PrincipalIsAWSService"] = "false"
    if p.kind in _PRINCIPAL_TYPE:
        keys["aws:PrincipalArn"] = p.principal_arn
        keys["aws:PrincipalAccount"] = p.account_id
        keys["aws:PrincipalType"] = _PRINCIPAL_TYPE[p.kind]
        for tag, value in p.tags.items():
            keys[f"aws:PrincipalTag/{tag}"] = value
        if p.user_name is not None:
            keys["aws:username"] = p.user_name
        if org is not None and org.org_id and org.contains(p.account_id):
            keys["aws:PrincipalOrgID"] = org.org_id
    keys["aws:ResourceAccount"] = r.account_id
    if org is not None and org.org_id and org.contains(r.account_id):
        keys["aws:ResourceOrgID"] = org.org_id
    keys["aws:SecureTransport"] = "true"
    return RequestContext.of(keys, request.context)
