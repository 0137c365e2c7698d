"""Reading standard IAM JSON policy documents into checked statements.

The reader is strict: unknown elements, malformed principals, ``Allow`` with
``NotPrincipal`` and unknown condition operators are errors, because a statement the
evaluator misreads would make a proof silently wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ndap_infra.evaluator.conditions import ConditionClause, parse_condition_block
from ndap_infra.evaluator.errors import PolicyError

Effect = Literal["Allow", "Deny"]
PolicyKind = Literal["identity", "resource", "trust", "scp", "rcp"]

_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
}
_DOCUMENT_KEYS = {"Version", "Id", "Statement"}
_PRINCIPAL_TYPES = {"AWS", "Service", "Federated", "CanonicalUser"}
_ACTION = re.compile(r"[A-Za-z0-9*?_-]+:[A-Za-z0-9*?_-]+")
_ACCOUNT_ID = re.compile(r"\d{12}")
_AWS_PRINCIPAL_ARN = re.compile(
    r"arn:aws[a-z-]*:(?:iam::(\d{12}):(?:root|role/.+|user/.+|federated-user/.+)"
    r"|sts::(\d{12}):(?:assumed-role/[^/]+/.+|federated-user/.+))"
)
_UNIQUE_ID = re.compile(r"A[A-Z0-9]{3}[A-Z0-9]{12,}")


@dataclass(frozen=True)
class PrincipalSpec:
    """The ``Principal``/``NotPrincipal`` element: ``"*"`` or typed identifier lists."""

    wildcard: bool = False
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedStatement:
    index: int
    sid: str | None
    effect: Effect
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...] | None  # None: element absent (trust policies)
    not_resource: bool
    principal: PrincipalSpec | None  # None: element absent (identity policies, SCPs)
    not_principal: bool
    conditions: tuple[ConditionClause, ...]

    @property
    def label(self) -> str | int:
        """The Sid, or the statement's index in the document when it has none."""
        return self.sid if self.sid else self.index


@dataclass(frozen=True)
class ParsedPolicy:
    version: str | None
    statements: tuple[ParsedStatement, ...]

    @property
    def variables(self) -> bool:
        """Policy variables are only substituted in version 2012-10-17 documents."""
        return self.version == "2012-10-17"


def _strings(value: Any, element: str, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise PolicyError(f"{where}: {element} must be a non-empty string or list of strings")
    return tuple(items)


def _principal(value: Any, where: str) -> PrincipalSpec:
    if value == "*":
        return PrincipalSpec(wildcard=True)
    if not isinstance(value, Mapping) or not value:
        raise PolicyError(f'{where}: Principal must be "*" or an object of principal types')
    unknown = set(value) - _PRINCIPAL_TYPES
    if unknown:
        raise PolicyError(f"{where}: unknown principal type(s) {sorted(unknown)}")
    if "CanonicalUser" in value:
        raise PolicyError(f"{where}: CanonicalUser principals are not supported by the evaluator")
    aws = _strings(value["AWS"], "Principal.AWS", where) if "AWS" in value else ()
    for identifier in aws:
        if identifier == "*":
            continue
        if not (
            _ACCOUNT_ID.fullmatch(identifier)
            or _AWS_PRINCIPAL_ARN.fullmatch(identifier)
            or _UNIQUE_ID.fullmatch(identifier)
        ) or ("*" in identifier or "?" in identifier):
            raise PolicyError(f"{where}: {identifier!r} is not a valid AWS principal")
    service = _strings(value["Service"], "Principal.Service", where) if "Service" in value else ()
    federated = (
        _strings(value["Federated"], "Principal.Federated", where) if "Federated" in value else ()
    )
    return PrincipalSpec(False, aws, service, federated)


def _statement(index: int, raw: Any, name: str) -> ParsedStatement:
    where = f"{name} statement {index}"
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: a statement must be an object")
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise PolicyError(f"{where}: unknown element(s) {sorted(unknown)}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{where}: Sid must be a string")
    if sid:
        where = f"{name} statement {sid}"
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect must be Allow or Deny, not {effect!r}")
    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyError(f"{where}: give exactly one of Action or NotAction")
    not_action = "NotAction" in raw
    actions = _strings(raw["NotAction" if not_action else "Action"], "Action", where)
    for action in actions:
        if action != "*" and not _ACTION.fullmatch(action):
            raise PolicyError(f"{where}: {action!r} is not an action (service:Action)")
    if "Resource" in raw and "NotResource" in raw:
        raise PolicyError(f"{where}: give at most one of Resource or NotResource")
    not_resource = "NotResource" in raw
    resources: tuple[str, ...] | None = None
    if "Resource" in raw or not_resource:
        resources = _strings(raw["NotResource" if not_resource else "Resource"], "Resource", where)
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyError(f"{where}: give at most one of Principal or NotPrincipal")
    not_principal = "NotPrincipal" in raw
    principal: PrincipalSpec | None = None
    if "Principal" in raw or not_principal:
        principal = _principal(raw["NotPrincipal" if not_principal else "Principal"], where)
    if not_principal and effect == "Allow":
        raise PolicyError(f"{where}: NotPrincipal is only supported with Effect Deny")
    conditions = parse_condition_block(raw["Condition"], where) if "Condition" in raw else ()
    return ParsedStatement(
        index,
        sid or None,
        effect,
        actions,
        not_action,
        resources,
        not_resource,
        principal,
        not_principal,
        conditions,
    )


def parse_policy(document: Mapping[str, Any], name: str) -> ParsedPolicy:
    if not isinstance(document, Mapping):
        raise PolicyError(f"{name}: a policy document must be a JSON object")
    unknown = set(document) - _DOCUMENT_KEYS
    if unknown:
        raise PolicyError(f"{name}: unknown top-level element(s) {sorted(unknown)}")
    version = document.get("Version")
    if version not in (None, "2012-10-17", "2008-10-17"):
        raise PolicyError(f"{name}: unknown policy Version {version!r}")
    if "Statement" not in document:
        raise PolicyError(f"{name}: no Statement element")
    raw = document["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    return ParsedPolicy(version, tuple(_statement(i, s, name) for i, s in enumerate(items)))


def check_kind(policy: ParsedPolicy, kind: PolicyKind, name: str) -> None:
    """Element rules that depend on where a policy is attached."""
    for s in policy.statements:
        where = f"{name} statement {s.label}"
        if kind in ("identity", "scp"):
            if s.principal is not None:
                raise PolicyError(f"{where}: a {kind} policy cannot have Principal/NotPrincipal")
            if s.resources is None:
                raise PolicyError(f"{where}: a {kind} policy statement needs Resource")
        else:
            if s.principal is None:
                raise PolicyError(f"{where}: a {kind} policy statement needs Principal")
            if s.not_principal and kind in ("trust", "rcp"):
                raise PolicyError(f"{where}: NotPrincipal is not supported in a {kind} policy")
        if kind == "rcp" and s.effect == "Allow" and not _is_allow_all(s):
            raise PolicyError(
                f"{where}: RCPs only support Allow in RCPFullAWSAccess (allow everything); "
                "write restrictions as Deny statements"
            )


def _is_allow_all(s: ParsedStatement) -> bool:
    return (
        s.actions == ("*",)
        and not s.not_action
        and s.resources in (None, ("*",))
        and not s.not_resource
        and s.principal is not None
        and (s.principal.wildcard or s.principal.aws == ("*",))
        and not s.conditions
    )
