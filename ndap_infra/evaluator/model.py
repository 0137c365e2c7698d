"""The request model: named policies, principals, resources, the organization, requests."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ndap_infra.evaluator.errors import PolicyError
from ndap_infra.evaluator.policy import ParsedPolicy, PolicyKind, check_kind, parse_policy

PrincipalKind = Literal["role", "user", "root", "service", "federated"]

#: Services whose resources RCPs govern: those the brief names (S3, STS, KMS, SQS, Secrets
#: Manager, the list at RCP launch). Override per organization with ``Organization.rcp_services``
#: when AWS extends it.
RCP_SERVICES: frozenset[str] = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager"})

_ROLE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):role/(?:.*/)?([^/]+)")
_SESSION_ARN = re.compile(r"arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/(.+)")
_USER_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):user/(?:.*/)?([^/]+)")
_ACCOUNT_ID = re.compile(r"\d{12}")


@dataclass(frozen=True)
class NamedPolicy:
    """A standard IAM JSON policy document and the name explanations cite (e.g. its file
    path). The document is read and checked once, at construction."""

    name: str
    document: Mapping[str, Any] = field(hash=False)
    parsed: ParsedPolicy = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parsed", parse_policy(self.document, self.name))

    @classmethod
    def from_json(cls, name: str, text: str) -> NamedPolicy:
        return cls(name, json.loads(text))

    @classmethod
    def load(cls, path: Path, name: str | None = None) -> NamedPolicy:
        return cls(name or str(path), json.loads(path.read_text(encoding="utf-8")))

    def check(self, kind: PolicyKind) -> NamedPolicy:
        check_kind(self.parsed, kind, self.name)
        return self


@dataclass(frozen=True)
class Principal:
    """Who makes the request.

    ``kind="role"``: ``arn`` is an assumed-role session ARN
    (``arn:aws:sts::<acct>:assumed-role/<name>/<session>``) or the role ARN itself;
    ``role_arn`` is the role's ARN (derived from a session ARN when omitted, which loses a
    role path: give it for roles with a path). ``kind="root"``: the account root user.
    ``kind="service"``: ``arn`` is the service principal (``ec2.amazonaws.com``).
    ``kind="federated"``: ``arn`` is the identity provider (web identity / SAML), only useful
    against trust policies."""

    arn: str
    account_id: str
    kind: PrincipalKind
    identity_policies: tuple[NamedPolicy, ...] = ()
    permission_boundary: NamedPolicy | None = None
    session_policies: tuple[NamedPolicy, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    service_linked: bool = False
    role_arn: str | None = None

    def __post_init__(self) -> None:
        for policy in (*self.identity_policies, *self.session_policies):
            policy.check("identity")
        if self.permission_boundary is not None:
            self.permission_boundary.check("identity")
        if self.kind in ("role", "user", "root") and not _ACCOUNT_ID.fullmatch(self.account_id):
            raise ValueError(f"principal {self.arn}: account id {self.account_id!r} is invalid")
        if self.kind == "role":
            if self.role_arn is None:
                object.__setattr__(self, "role_arn", _role_arn_of(self.arn))
            if self.role_arn is None or not _ROLE_ARN.fullmatch(self.role_arn):
                raise ValueError(f"principal {self.arn}: not a role or assumed-role ARN")
        elif self.role_arn is not None:
            raise ValueError(f"principal {self.arn}: role_arn is only for kind 'role'")
        if self.kind == "user" and not _USER_ARN.fullmatch(self.arn):
            raise ValueError(f"principal {self.arn}: not an IAM user ARN")
        if self.kind not in ("role", "user") and (
            self.identity_policies or self.permission_boundary or self.session_policies
        ):
            raise ValueError(f"principal {self.arn}: a {self.kind} principal has no IAM policies")
        if self.session_policies and self.session_arn is None:
            raise ValueError(f"principal {self.arn}: session policies need a session ARN")

    @property
    def session_arn(self) -> str | None:
        return self.arn if _SESSION_ARN.fullmatch(self.arn) else None

    @property
    def principal_arn(self) -> str:
        """What ``aws:PrincipalArn`` holds: the role ARN for a role session."""
        if self.kind == "role" and self.role_arn:
            return self.role_arn
        if self.kind == "root":
            return f"arn:{self.partition}:iam::{self.account_id}:root"
        return self.arn

    @property
    def partition(self) -> str:
        parts = self.arn.split(":")
        return parts[1] if len(parts) > 2 and parts[0] == "arn" else "aws"

    @property
    def user_name(self) -> str | None:
        match = _USER_ARN.fullmatch(self.arn)
        return match.group(3) if match and self.kind == "user" else None

    @classmethod
    def root(cls, account_id: str) -> Principal:
        return cls(f"arn:aws:iam::{account_id}:root", account_id, "root")

    @classmethod
    def service(cls, name: str) -> Principal:
        return cls(name, "", "service")


def _role_arn_of(arn: str) -> str | None:
    if _ROLE_ARN.fullmatch(arn):
        return arn
    session = _SESSION_ARN.fullmatch(arn)
    if session:
        return f"arn:{session.group(1)}:iam::{session.group(2)}:role/{session.group(3)}"
    return None


@dataclass(frozen=True)
class Resource:
    """What the request acts on. ``resource_policy=None``: the resource has none (so it
    cannot be reached across accounts). ``resource_policy_required=True``: the resource policy
    must allow even within the account, as for KMS key policies and role trust policies.
    ``service`` defaults to the ARN's service field; RCPs are applied by the action's
    service prefix."""

    arn: str
    account_id: str
    service: str = ""
    resource_policy: NamedPolicy | None = None
    resource_policy_required: bool = False

    def __post_init__(self) -> None:
        if not _ACCOUNT_ID.fullmatch(self.account_id):
            raise ValueError(f"resource {self.arn}: account id {self.account_id!r} is invalid")
        if not self.service:
            parts = self.arn.split(":")
            object.__setattr__(self, "service", parts[2] if len(parts) > 2 else "")
        if self.resource_policy is not None:
            self.resource_policy.check("resource")


@dataclass(frozen=True)
class Organization:
    """The organization: each account's path of levels from the root to the account itself
    (e.g. ``("r-root", "ou-workloads", "ou-prd", "500000000005")``), and the SCPs and RCPs
    attached at each level.

    SCPs: a level missing from ``scps`` has only the default ``FullAWSAccess``; a level listed
    is evaluated exactly as given (so list ``FullAWSAccess`` there too if it is attached).
    RCPs: ``RCPFullAWSAccess`` is always attached at every level (AWS does not let it be
    detached); the RCPs given add Deny statements. Accounts absent from ``accounts`` are outside
    the organization: no SCP applies to their principals, no RCP to their resources."""

    management_account_id: str
    accounts: Mapping[str, tuple[str, ...]] = field(hash=False)
    scps: Mapping[str, tuple[NamedPolicy, ...]] = field(default_factory=dict, hash=False)
    rcps: Mapping[str, tuple[NamedPolicy, ...]] = field(default_factory=dict, hash=False)
    org_id: str | None = None
    rcp_services: frozenset[str] = RCP_SERVICES

    def __post_init__(self) -> None:
        levels = {level for path in self.accounts.values() for level in path}
        for account, path in self.accounts.items():
            if not path:
                raise ValueError(f"organization: account {account} has an empty level path")
        for kind, attached in (("scp", self.scps), ("rcp", self.rcps)):
            for level, policies in attached.items():
                if level not in levels:
                    raise ValueError(
                        f"organization: {kind.upper()}s attached to {level!r}, which is on no "
                        "account's path (a typo would silently drop them)"
                    )
                if kind == "scp" and not policies:
                    raise ValueError(
                        f"organization: level {level!r} lists no SCP; AWS requires at least one"
                    )
                for policy in policies:
                    policy.check("scp" if kind == "scp" else "rcp")

    def contains(self, account_id: str) -> bool:
        return account_id == self.management_account_id or account_id in self.accounts

    def path(self, account_id: str) -> tuple[str, ...]:
        return self.accounts.get(account_id, ())


@dataclass(frozen=True)
class Request:
    """One API request: ``action`` is ``service:Action`` (no wildcards); ``context`` holds
    condition keys (case-insensitive names; a list means a multi-valued key) and wins over the
    keys the evaluator fills in."""

    principal: Principal
    action: str
    resource: Resource
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        service, _, name = self.action.partition(":")
        if not service or not name or "*" in self.action or "?" in self.action:
            raise PolicyError(f"request action {self.action!r} must be service:Action")

    @property
    def service(self) -> str:
        return self.action.split(":", 1)[0].lower()
