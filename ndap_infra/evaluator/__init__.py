"""An evaluator of AWS's documented IAM policy evaluation logic, for proofs over the
synthesized policies (moto cannot: it ignores SCPs, conditions, resource and trust policies).

It reads standard IAM JSON (``json.loads`` of what is synthesized), so it evaluates exactly
what is deployed. Every decision names the statements (policy name + Sid, or index) behind it.

Covered (IAM User Guide "Policy evaluation logic", "Cross-account policy evaluation logic",
"Condition operators", "Policy variables", "NotPrincipal"; Organizations "SCPs", "RCPs"):

* explicit Deny in any applicable policy wins: identity, permissions boundary, session
  policies, SCPs, RCPs, resource policy (incl. role trust policy);
* SCPs: every level of the caller account's path (root, OUs, account) must allow; they do
  not apply to the management account, service-linked roles or service principals; a level
  with no SCP given has the default ``FullAWSAccess``;
* RCPs: applied to requests whose action belongs to an RCP service (default S3, STS, KMS,
  SQS, Secrets Manager; ``Organization.rcp_services``) on resources of member accounts, not
  to the management account's resources nor to service-linked roles; ``RCPFullAWSAccess`` is
  implicit at every level, custom RCPs may only deny;
* same account: identity Allow (within boundary and session policies) OR resource-policy
  grant; a grant naming the session ARN, user ARN, ``"*"`` or a service is not limited by an
  implicit deny in the boundary/session policies, one naming the role ARN is; one naming the
  account only defers to identity policies;
* cross account: identity side AND resource policy must allow; no resource policy, no access;
* required resource policies (KMS key policies, role trust policies): must allow the
  principal or its account even within the account;
* role assumption (``can_assume``), role chains (``reachable_roles``, breadth-first);
* matching: Action/NotAction (wildcards, case-insensitive), Resource/NotResource
  (wildcards, policy variables), Principal (``"*"``, ``{"AWS": "*"}``, account id / root ARN,
  role, assumed-role session, user, Service, Federated), NotPrincipal with Deny (account must
  be listed too; never exempts a principal with a permissions boundary);
* conditions: String*, Numeric*, Date*, Bool, Null, IpAddress/NotIpAddress, Arn*, the
  ``IfExists`` suffix, ``ForAnyValue:``/``ForAllValues:``, documented missing-key semantics,
  policy variables with defaults (``${aws:PrincipalTag/team, 'none'}``), case-insensitive keys;
* global keys filled in: aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType,
  aws:PrincipalTag/*, aws:username, aws:PrincipalIsAWSService, aws:PrincipalServiceName,
  aws:PrincipalOrgID, aws:ResourceOrgID, aws:ResourceAccount, aws:SecureTransport ("true").

Not covered (each would need to be modelled before a proof may rely on it):

* VPC endpoint policies, S3 access points, S3 ACLs and Block Public Access, S3 Object
  Ownership, KMS grants, Lambda/API Gateway-specific authorization, declarative policies;
* permissions of AWS managed policies, group policies and inline policies unless given as
  documents; IAM Identity Center permission sets unless given as the roles they create;
* session tags, transitive tags, source identity, ``sts:TagSession``/``sts:SetSourceIdentity``
  (ABAC covers principal tags only); federated-user (GetFederationToken) sessions; anonymous
  requests; ``aws:CalledVia``/forward access sessions; service-specific condition keys unless
  the caller supplies them in the context; aws:CurrentTime, aws:SourceIp,
  aws:MultiFactorAuthPresent and aws:PrincipalOrgPaths are never filled in;
* ``BinaryEquals`` (raises), ``CanonicalUser`` principals (raise), principals given as
  unique ids (``AROA...``) match nothing;
* a policy variable that cannot be resolved (absent or multi-valued key, no default) makes
  that value match nothing; under a negated operator or ``NotResource`` the statement
  therefore applies (AWS documents only the ``Resource`` case: no match);
* role chains reuse one context for every hop; session duration limits are not checked;
* the RCP service list is the five services at launch; if AWS extends it, pass the new list.
"""

from __future__ import annotations

from ndap_infra.evaluator.chains import (
    Hop,
    Path,
    Role,
    can_assume,
    principal_for,
    reachable_roles,
    trust_names,
)
from ndap_infra.evaluator.context import RequestContext
from ndap_infra.evaluator.decision import Decision, Layer, StatementRef
from ndap_infra.evaluator.engine import evaluate
from ndap_infra.evaluator.errors import PolicyError, UnsupportedConditionError
from ndap_infra.evaluator.model import (
    RCP_SERVICES,
    NamedPolicy,
    Organization,
    Principal,
    Request,
    Resource,
)

__all__ = [
    "RCP_SERVICES",
    "Decision",
    "Hop",
    "Layer",
    "NamedPolicy",
    "Organization",
    "Path",
    "PolicyError",
    "Principal",
    "Request",
    "RequestContext",
    "Resource",
    "Role",
    "StatementRef",
    "UnsupportedConditionError",
    "can_assume",
    "evaluate",
    "principal_for",
    "reachable_roles",
    "trust_names",
]
