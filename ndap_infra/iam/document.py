"""IAM policy documents as typed values.

Statements are frozen dataclasses; ``PolicyDocument.to_json()`` renders the canonical,
deterministic JSON (sorted action and resource lists, stable key order, no whitespace
variations), which is what the stacks deploy and what reviewers read under ``policies/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Effect = Literal["Allow", "Deny"]


@dataclass(frozen=True)
class Condition:
    """One condition: ``{operator: {key: values}}``."""

    operator: str
    key: str
    values: tuple[str, ...]

    @classmethod
    def of(cls, operator: str, key: str, *values: str) -> Condition:
        return cls(operator, key, tuple(values))


@dataclass(frozen=True)
class Principal:
    """``{"AWS": [...]}``, ``{"Service": [...]}``, ``{"Federated": ...}`` or ``"*"``."""

    kind: Literal["AWS", "Service", "Federated", "*"]
    identifiers: tuple[str, ...] = ()

    @classmethod
    def aws(cls, *arns: str) -> Principal:
        return cls("AWS", tuple(arns))

    @classmethod
    def service(cls, *names: str) -> Principal:
        return cls("Service", tuple(names))

    @classmethod
    def anyone(cls) -> Principal:
        return cls("*")


def _one_or_many(values: Sequence[str]) -> str | list[str]:
    ordered = sorted(set(values))
    return ordered[0] if len(ordered) == 1 else ordered


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: Effect
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    principals: tuple[Principal, ...] = ()
    conditions: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        if not self.sid.isalnum():
            raise ValueError(f"statement id {self.sid!r} must be alphanumeric (IAM rule)")
        if bool(self.actions) == bool(self.not_actions):
            raise ValueError(f"statement {self.sid}: give exactly one of actions/not_actions")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Sid": self.sid, "Effect": self.effect}
        if self.principals:
            out["Principal"] = _principal_block(self.principals)
        if self.actions:
            out["Action"] = _one_or_many(self.actions)
        if self.not_actions:
            out["NotAction"] = _one_or_many(self.not_actions)
        if self.resources:
            out["Resource"] = _one_or_many(self.resources)
        if self.not_resources:
            out["NotResource"] = _one_or_many(self.not_resources)
        if self.conditions:
            out["Condition"] = _condition_block(self.conditions)
        return out


def _principal_block(principals: Sequence[Principal]) -> str | dict[str, Any]:
    if any(p.kind == "*" for p in principals):
        return "*"
    block: dict[str, list[str]] = {}
    for p in principals:
        block.setdefault(p.kind, []).extend(p.identifiers)
    return {kind: _one_or_many(ids) for kind, ids in sorted(block.items())}


def _condition_block(conditions: Sequence[Condition]) -> dict[str, dict[str, Any]]:
    block: dict[str, dict[str, list[str]]] = {}
    for c in conditions:
        block.setdefault(c.operator, {}).setdefault(c.key, []).extend(c.values)
    return {
        op: {key: _one_or_many(values) for key, values in sorted(keys.items())}
        for op, keys in sorted(block.items())
    }


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        sids = [s.sid for s in self.statements]
        duplicates = sorted({s for s in sids if sids.count(s) > 1})
        if duplicates:
            raise ValueError(f"duplicate statement ids: {', '.join(duplicates)}")

    def to_dict(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": [s.to_dict() for s in self.statements]}

    def to_json(self) -> str:
        """Compact canonical JSON: what AWS stores and size limits count."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def to_terraform_json(self) -> str:
        """The compact JSON as a Terraform string literal: ``${`` and ``%{`` (IAM policy
        variables) escaped, so Terraform does not read them as interpolations."""
        return escape_terraform(self.to_json())

    def to_terraform_json_with_tokens(self) -> str:
        """Like ``to_terraform_json``, but cdktf tokens (``${TfToken[...]}``: references to
        other resources' attributes, resolved at synthesis) are kept as they are, so a
        document may name a resource of its own stack and use IAM policy variables."""
        return escape_terraform_keeping_tokens(self.to_json())

    def to_pretty_json(self) -> str:
        """Indented JSON for reviewers."""
        return json.dumps(self.to_dict(), indent=2) + "\n"


def escape_terraform(text: str) -> str:
    """Escape a literal for a Terraform JSON string (``${`` -> ``$${``, ``%{`` -> ``%%{``)."""
    return text.replace("${", "$${").replace("%{", "%%{")


_NOT_A_TOKEN = re.compile(r"\$\{(?!TfToken\[)")


def escape_terraform_keeping_tokens(text: str) -> str:
    """``escape_terraform`` for text that may hold cdktf tokens, which stay unescaped."""
    return _NOT_A_TOKEN.sub("$${", text).replace("%{", "%%{")


def unescape_terraform(text: str) -> str:
    """The literal a Terraform JSON string holds (inverse of ``escape_terraform``)."""
    return text.replace("$${", "${").replace("%%{", "%{")
