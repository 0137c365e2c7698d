"""Global condition keys the evaluator fills into every request context."""

from __future__ import annotations

from ndap_infra.evaluator.context import RequestContext
from ndap_infra.evaluator.model import Organization, Request

_PRINCIPAL_TYPE = {"role": "AssumedRole", "user": "User", "root": "Account"}

#: Actions for which AWS leaves ``aws:ResourceAccount`` out of the request context (IAM
#: User Guide, "AWS global condition context keys", aws:ResourceAccount, Availability):
#: every Amazon EBS direct API action, the EC2 actions that copy or create across accounts,
#: EventBridge's PutEvents and WorkSpaces' CopyWorkspaceImage. A careful subset: a guardrail
#: conditioned on the key must not be credited for these.
NO_RESOURCE_ACCOUNT: tuple[str, ...] = (
    "ebs:*",
    "ec2:CopyFpgaImage",
    "ec2:CopyImage",
    "ec2:CopySnapshot",
    "ec2:CreateTransitGatewayPeeringAttachment",
    "ec2:CreateVolume",
    "ec2:CreateVpcPeeringConnection",
    "events:PutEvents",
    "workspaces:CopyWorkspaceImage",
)


def has_resource_account(action: str) -> bool:
    """Does AWS put ``aws:ResourceAccount`` in the context of ``action``?"""
    service, _, name = action.lower().partition(":")
    for pattern in NO_RESOURCE_ACCOUNT:
        pattern_service, _, pattern_name = pattern.lower().partition(":")
        if service == pattern_service and pattern_name in ("*", name):
            return False
    return True


def build_context(request: Request, org: Organization | None) -> RequestContext:
    """Standard keys derived from the request, then the caller's ``Request.context``, which
    wins: ``aws:PrincipalArn`` (the role ARN for a role session), ``aws:PrincipalAccount``,
    ``aws:PrincipalType``, ``aws:PrincipalTag/<key>``, ``aws:username`` (IAM users),
    ``aws:PrincipalIsAWSService``, ``aws:PrincipalServiceName`` (service principals),
    ``aws:PrincipalOrgID`` and ``aws:ResourceOrgID`` (when ``org.org_id`` is set and the account
    is in the organization), ``aws:ResourceAccount`` (but for the actions AWS leaves it out
    of: ``NO_RESOURCE_ACCOUNT``) and ``aws:SecureTransport`` (``"true"``).
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
    if has_resource_account(request.action):
        keys["aws:ResourceAccount"] = r.account_id
    if org is not None and org.org_id and org.contains(r.account_id):
        keys["aws:ResourceOrgID"] = org.org_id
    keys["aws:SecureTransport"] = "true"
    return RequestContext.of(keys, request.context)
