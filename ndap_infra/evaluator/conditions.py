"""Condition operators, as documented in the IAM reference "Condition operators".

Why and how: docs/design-notes.md, section ndap_infra/evaluator/conditions.py."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ndap_infra.evaluator.context import RequestContext
from ndap_infra.evaluator.errors import PolicyError, UnsupportedConditionError
from ndap_infra.evaluator.patterns import substitute, wildcard_match

Family = Literal["String", "Numeric", "Date", "Bool", "Ip", "Arn", "Null"]
Qualifier = Literal["ForAnyValue", "ForAllValues"]

# canonical base name -> (family, negated, comparison)
_BASES: dict[str, tuple[Family, bool, str]] = {
    "StringEquals": ("String", False, "eq"),
    "StringNotEquals": ("String", True, "eq"),
    "StringEqualsIgnoreCase": ("String", False, "eq_ci"),
    "StringNotEqualsIgnoreCase": ("String", True, "eq_ci"),
    "StringLike": ("String", False, "like"),
    "StringNotLike": ("String", True, "like"),
    "NumericEquals": ("Numeric", False, "eq"),
    "NumericNotEquals": ("Numeric", True, "eq"),
    "NumericLessThan": ("Numeric", False, "lt"),
    "NumericLessThanEquals": ("Numeric", False, "le"),
    "NumericGreaterThan": ("Numeric", False, "gt"),
    "NumericGreaterThanEquals": ("Numeric", False, "ge"),
    "DateEquals": ("Date", False, "eq"),
    "DateNotEquals": ("Date", True, "eq"),
    "DateLessThan": ("Date", False, "lt"),
    "DateLessThanEquals": ("Date", False, "le"),
    "DateGreaterThan": ("Date", False, "gt"),
    "DateGreaterThanEquals": ("Date", False, "ge"),
    "Bool": ("Bool", False, "eq"),
    "IpAddress": ("Ip", False, "in"),
    "NotIpAddress": ("Ip", True, "in"),
    "ArnEquals": ("Arn", False, "like"),
    "ArnLike": ("Arn", False, "like"),
    "ArnNotEquals": ("Arn", True, "like"),
    "ArnNotLike": ("Arn", True, "like"),
    "Null": ("Null", False, "null"),
}
_BY_LOWER = {name.lower(): name for name in _BASES}
_NOT_IMPLEMENTED = {"binaryequals"}


@dataclass(frozen=True)
class Operator:
    text: str
    base: str
    family: Family
    negated: bool
    comparison: str
    if_exists: bool
    qualifier: Qualifier | None


def parse_operator(text: str) -> Operator:
    """``[ForAnyValue:|ForAllValues:]<Base>[IfExists]``, names compared case-insensitively."""
    rest = text
    qualifier: Qualifier | None = None
    lowered = rest.lower()
    if lowered.startswith("foranyvalue:"):
        qualifier, rest = "ForAnyValue", rest[len("ForAnyValue:") :]
    elif lowered.startswith("forallvalues:"):
        qualifier, rest = "ForAllValues", rest[len("ForAllValues:") :]
    if_exists = rest.lower().endswith("ifexists") and rest.lower() != "ifexists"
    if if_exists:
        rest = rest[: -len("IfExists")]
    lowered = rest.lower()
    if lowered in _NOT_IMPLEMENTED:
        raise UnsupportedConditionError(f"condition operator {text!r} is not implemented")
    base = _BY_LOWER.get(lowered)
    if base is None:
        raise UnsupportedConditionError(f"unknown condition operator {text!r}")
    family, negated, comparison = _BASES[base]
    if family == "Null" and (if_exists or qualifier):
        raise UnsupportedConditionError(f"condition operator {text!r}: Null takes no modifiers")
    return Operator(text, base, family, negated, comparison, if_exists, qualifier)


@dataclass(frozen=True)
class ConditionClause:
    """One ``operator: {key: values}`` entry."""

    operator: Operator
    key: str
    values: tuple[str, ...]


def _value_text(value: object, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise PolicyError(f"{where}: condition value {value!r} is not a string, number or boolean")


def parse_condition_block(block: object, where: str) -> tuple[ConditionClause, ...]:
    if not isinstance(block, Mapping):
        raise PolicyError(f"{where}: Condition must be an object")
    clauses: list[ConditionClause] = []
    for operator_text, keys in block.items():
        operator = parse_operator(str(operator_text))
        if not isinstance(keys, Mapping) or not keys:
            raise PolicyError(f"{where}: {operator_text} must map condition keys to values")
        for key, raw in keys.items():
            items = raw if isinstance(raw, list) else [raw]
            values = tuple(_value_text(v, where) for v in items)
            clause = ConditionClause(operator, str(key), values)
            _check_static_values(clause, where)
            clauses.append(clause)
    return tuple(clauses)


def _check_static_values(clause: ConditionClause, where: str) -> None:
    """Policy-side values that can never be compared are errors, found when the policy is read
    (values holding policy variables are checked when evaluated)."""
    family = clause.operator.family
    for value in clause.values:
        if "${" in value:
            continue
        if family in ("Bool", "Null") and value.lower() not in ("true", "false"):
            raise PolicyError(f"{where}: {clause.operator.text} value {value!r} is not true/false")
        if family == "Numeric":
            _policy_number(value)
        if family == "Date":
            _policy_date(value)
        if family == "Ip":
            _policy_network(value)


def _policy_number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise PolicyError(f"numeric condition value {value!r} is not a number") from None


def _parse_date(value: str) -> datetime | None:
    text = value.strip()
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), tz=UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _policy_date(value: str) -> datetime:
    parsed = _parse_date(value)
    if parsed is None:
        raise PolicyError(f"date condition value {value!r} is not an ISO 8601 date or epoch time")
    return parsed


def _policy_network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise PolicyError(f"IP condition value {value!r} is not an address or CIDR") from None


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def _positive(
    op: Operator, request_value: str, policy_value: str, ctx: RequestContext, variables: bool
) -> bool:
    """The un-negated comparison of one request value with one policy value."""
    if op.comparison in ("like",):
        mode: Literal["glob", "arn"] = "arn" if op.family == "Arn" else "glob"
        if mode == "arn" and request_value.count(":") < 5:
            return False
        return wildcard_match(policy_value, request_value, ctx, variables, mode=mode)
    resolved = substitute(policy_value, ctx, variables)
    if resolved is None:
        return False
    if op.family == "String":
        if op.comparison == "eq_ci":
            return request_value.casefold() == resolved.casefold()
        return request_value == resolved
    if op.family == "Bool":
        if resolved.lower() not in ("true", "false"):
            raise PolicyError(f"{op.text} value {resolved!r} is not true/false")
        return request_value.lower() == resolved.lower()
    if op.family == "Numeric":
        expected = _policy_number(resolved)
        try:
            actual = float(request_value)
        except ValueError:
            return False
        return _ORDER[op.comparison](actual, expected)
    if op.family == "Date":
        expected_date = _policy_date(resolved)
        actual_date = _parse_date(request_value)
        if actual_date is None:
            return False
        return _ORDER[op.comparison](actual_date.timestamp(), expected_date.timestamp())
    if op.family == "Ip":
        network = _policy_network(resolved)
        try:
            address = ipaddress.ip_address(request_value.strip())
        except ValueError:
            return False
        return address.version == network.version and address in network
    raise AssertionError(f"unhandled operator family {op.family}")  # pragma: no cover


def _member_holds(
    clause: ConditionClause, request_value: str, ctx: RequestContext, variables: bool
) -> bool:
    """Does one request value satisfy the clause (any policy value; negation applied)?"""
    op = clause.operator
    matched = any(_positive(op, request_value, v, ctx, variables) for v in clause.values)
    return not matched if op.negated else matched


def clause_holds(clause: ConditionClause, ctx: RequestContext, variables: bool) -> bool:
    op = clause.operator
    present = ctx.get(clause.key)
    if op.family == "Null":
        absent = present is None
        return any((v.lower() == "true") == absent for v in clause.values)
    if present is None:
        if op.if_exists or op.qualifier == "ForAllValues":
            return True
        if op.qualifier == "ForAnyValue":
            return False
        return op.negated
    if op.qualifier == "ForAnyValue":
        return any(_member_holds(clause, v, ctx, variables) for v in present)
    if op.qualifier == "ForAllValues":
        return all(_member_holds(clause, v, ctx, variables) for v in present)
    # No set qualifier: a positive operator holds when some request value matches some policy
    # value; a negated operator holds when no request value matches any policy value.
    matched = any(_positive(op, rv, pv, ctx, variables) for rv in present for pv in clause.values)
    return not matched if op.negated else matched


def conditions_hold(
    clauses: tuple[ConditionClause, ...], ctx: RequestContext, variables: bool
) -> bool:
    return all(clause_holds(clause, ctx, variables) for clause in clauses)
