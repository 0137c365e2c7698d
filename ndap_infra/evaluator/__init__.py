"""An evaluator of AWS's documented IAM policy evaluation logic, for proofs over the
synthesized policies (moto cannot: it ignores SCPs, conditions, resource and trust policies).

Why and how: docs/design-notes.md, section ndap_infra/evaluator/__init__.py."""

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
