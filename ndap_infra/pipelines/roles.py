"""A role as plain data: name, trust, one inline policy, tags, description."""

from __future__ import annotations

from dataclasses import dataclass

from ndap_infra.iam.document import PolicyDocument


@dataclass(frozen=True)
class RoleSpec:
    name: str
    trust: PolicyDocument
    policy: PolicyDocument
    tags: dict[str, str]
    description: str
