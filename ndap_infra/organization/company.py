"""The company's own guardrails (``organization.company_guardrails``) merged into the
platform's service control policies, within AWS's limits.

AWS attaches at most five SCPs to a unit (its FullAWSAccess included) and counts at most
5,120 characters per policy, minified. acc and prd already carry five, so a statement is
packed first into the platform's policies whose units are all among the ones it names (a
policy attached to a unit it does not name would apply it there too). A unit left without
a free slot (acc alone, prd alone) gets it in one of its access guardrails, limited to its
own accounts by an ``aws:PrincipalAccount`` condition; the other units left get a policy
of the company's own. What cannot fit is rejected, saying where and by how much.
Hand-written: the packing depends on which of our policies may carry what (the parity
proof wants the common guardrails' statements on the security unit too), which no
bin-packing library knows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ndap_infra.config.enums import SECURITY_UNIT
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.model.organization import CompanyGuardrailConfig
from ndap_infra.iam.document import Condition, PolicyDocument, Statement
from ndap_infra.iam.limits import PolicyTooLarge
from ndap_infra.names.platform import scp_name

SCP_LIMIT = 5120
MAX_SCPS_PER_UNIT = 5  # AWS quota, the AWS-managed FullAWSAccess included
SCP = "SERVICE_CONTROL_POLICY"


class CompanyGuardrailRejected(PolicyTooLarge):
    """A company guardrail that does not fit within AWS's limits, or reuses a Sid."""


@dataclass(frozen=True)
class Packable:
    """A platform SCP as the packing sees it: its name, document, units, and whether it
    is one of the common guardrails (which the security unit must carry too)."""

    name: str
    document: PolicyDocument
    units: tuple[str, ...]
    common: bool = False

    @property
    def size(self) -> int:
        return len(self.document.to_json())


@dataclass(frozen=True)
class Placement:
    """Where each company statement went: policy name -> the Sids added to it, and the
    company's own new policies (name, document, units)."""

    added: dict[str, tuple[str, ...]]
    documents: dict[str, PolicyDocument]
    new: tuple[Packable, ...]


def company_statement(guardrail: CompanyGuardrailConfig) -> Statement:
    """The configured statement as a typed IAM statement."""
    conditions = tuple(
        Condition(operator, key, tuple(values))
        for operator, keys in sorted(guardrail.conditions.items())
        for key, values in sorted(keys.items())
    )
    return Statement(
        guardrail.sid,
        guardrail.effect,
        actions=guardrail.actions,
        not_actions=guardrail.not_actions,
        resources=guardrail.resources,
        conditions=conditions,
    )


def _with(document: PolicyDocument, statement: Statement) -> PolicyDocument:
    return PolicyDocument((*document.statements, statement))


def _new_name(org: str, units: Sequence[str], everywhere: Sequence[str], taken: set[str]) -> str:
    suffix = "" if set(units) == set(everywhere) else "-" + "-".join(units)
    base = scp_name(org, f"company-guardrails{suffix}")
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def place_company_guardrails(
    config: NdapConfig,
    platform: Sequence[Packable],
    everywhere: Sequence[str],
    accounts: Mapping[str, Sequence[str]],
) -> Placement:
    """Pack every company statement into ``platform``'s SCPs or new ones (see the module's
    docstring); ``everywhere``: the units a statement naming none applies to; ``accounts``:
    each unit's accounts (a statement is limited to them where it shares a policy)."""
    org = config.organization.name
    documents = {p.name: p.document for p in platform}
    owner: dict[str, str] = {}
    for policy in platform:
        for known in policy.document.statements:
            owner.setdefault(known.sid, policy.name)
    added: dict[str, tuple[str, ...]] = {}
    new: list[Packable] = []

    def place(candidate: Packable, grown: PolicyDocument, sid: str) -> bool:
        """Put ``grown`` in place of ``candidate``'s document if it fits; say whether."""
        if len(grown.to_json()) > SCP_LIMIT:
            return False
        if candidate in new:
            new[new.index(candidate)] = replace(candidate, document=grown)
        else:
            documents[candidate.name] = grown
        added[candidate.name] = (*added.get(candidate.name, ()), sid)
        return True

    for index, guardrail in enumerate(config.organization.company_guardrails):
        where = f"organization.company_guardrails[{index}] ({guardrail.sid})"
        if guardrail.sid in owner:
            raise CompanyGuardrailRejected(
                f"{where}: Sid {guardrail.sid} is already used by the platform's statement "
                f"in {owner[guardrail.sid]}: choose another"
            )
        statement = company_statement(guardrail)
        size = len(PolicyDocument((statement,)).to_json())
        if size > SCP_LIMIT:
            raise CompanyGuardrailRejected(
                f"{where} is {size} characters as a policy of its own (minified, as AWS "
                f"counts), over the limit of {SCP_LIMIT} by {size - SCP_LIMIT}: split it "
                "into smaller statements"
            )
        target = [u for u in everywhere if not guardrail.units or u in guardrail.units]
        target += [u for u in guardrail.units if u not in target]
        remaining = list(target)
        candidates = [
            *(replace(p, document=documents[p.name]) for p in platform),
            *new,
        ]
        for candidate in candidates:
            if not set(candidate.units) <= set(remaining):
                continue
            if candidate.common and SECURITY_UNIT in everywhere and SECURITY_UNIT not in target:
                # The common guardrails' statements belong on the security unit too.
                continue
            if not place(candidate, _with(candidate.document, statement), guardrail.sid):
                continue
            remaining = [u for u in remaining if u not in candidate.units]
            if not remaining:
                break
        full = _full_units(remaining, [*platform, *new])
        narrowed_into = [
            *(replace(p, document=documents[p.name]) for p in platform if not p.common),
            *new,
        ]
        for candidate in narrowed_into if full else ():
            covered = [u for u in full if u in candidate.units]
            narrowed = _narrowed(statement, [a for u in covered for a in accounts[u]])
            if not covered or narrowed is None:
                continue
            if not place(candidate, _with(candidate.document, narrowed), guardrail.sid):
                continue
            remaining = [u for u in remaining if u not in covered]
            full = [u for u in full if u not in covered]
            if not full:
                break
        if full:
            raise CompanyGuardrailRejected(
                _does_not_fit(
                    where, statement, full, [*platform, *new], documents, accounts, target
                )
            )
        if remaining:
            name = _new_name(org, remaining, everywhere, {p.name for p in (*platform, *new)})
            new.append(Packable(name, PolicyDocument((statement,)), tuple(remaining)))
            added[name] = (guardrail.sid,)
        owner[guardrail.sid] = "organization.company_guardrails"
    return Placement(added, documents, tuple(new))


def _full_units(units: Sequence[str], policies: Sequence[Packable]) -> list[str]:
    """The units among ``units`` with no free SCP slot."""
    return [
        u
        for u in units
        if sum(u in p.units for p in policies) + 1 >= MAX_SCPS_PER_UNIT  # + FullAWSAccess
    ]


def _narrowed(statement: Statement, accounts: Sequence[str]) -> Statement | None:
    """The statement limited to principals of ``accounts`` (the accounts of the units it
    names), so a policy also attached to other units may carry it; None when the statement
    conditions ``aws:PrincipalAccount`` under StringEquals itself (the values would merge
    into one list, widening what it names)."""
    if any(
        c.operator == "StringEquals" and c.key == "aws:PrincipalAccount"
        for c in statement.conditions
    ):
        return None
    only = Condition.of("StringEquals", "aws:PrincipalAccount", *accounts)
    return replace(statement, conditions=(*statement.conditions, only))


EMPTY_POLICY = len('{"Version":"2012-10-17","Statement":[]}')


def _does_not_fit(
    where: str,
    statement: Statement,
    full: Sequence[str],
    policies: Sequence[Packable],
    documents: dict[str, PolicyDocument],
    accounts: Mapping[str, Sequence[str]],
    target: Sequence[str],
) -> str:
    """Where and by how much: per full unit, the policy that came closest to carrying the
    statement (as it is where all the policy's units are named, else limited to the unit's
    accounts) and by how many characters it missed."""
    parts = []
    for unit in full:
        closest: tuple[int, int, int, str] | None = None
        for policy in policies:
            if unit not in policy.units:
                continue
            fitted: Statement | None = statement
            if not set(policy.units) <= set(target):
                fitted = None if policy.common else _narrowed(statement, accounts[unit])
            if fitted is None:
                continue
            # A statement adds its own characters and a comma to a policy's JSON.
            need = len(PolicyDocument((fitted,)).to_json()) - EMPTY_POLICY + 1
            room = SCP_LIMIT - len(documents.get(policy.name, policy.document).to_json())
            option = (need - room, room, need, policy.name)
            closest = option if closest is None or option < closest else closest
        slots = f"the {unit} unit carries {MAX_SCPS_PER_UNIT} of {MAX_SCPS_PER_UNIT} SCPs"
        if closest is None:
            parts.append(
                f"{slots}, each attached to units the statement does not name, and a "
                "statement that conditions aws:PrincipalAccount under StringEquals itself "
                "cannot be limited to the unit's accounts"
            )
            continue
        over, room, need, name = closest
        parts.append(
            f"{slots}; the closest, {name}, has {room} characters left for {need}: "
            f"{over} characters over"
        )
    return (
        f"{where} does not fit within AWS's limits ({MAX_SCPS_PER_UNIT} SCPs per unit, "
        f"FullAWSAccess included; {SCP_LIMIT} characters per policy, minified): "
        + "; ".join(parts)
        + ". Shorten the statement, or name other units."
    )
