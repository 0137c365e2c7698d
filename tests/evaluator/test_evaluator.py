"""The policy evaluator against AWS's documented evaluation logic.

Every test checks both sides of its rule (a request that the rule allows and one it denies, or
the same request with and without the policy that makes the difference), so each can fail.
"""

from __future__ import annotations

from typing import Any

import pytest

from ndap_infra.evaluator import (
    NamedPolicy,
    Organization,
    PolicyError,
    Principal,
    Request,
    Resource,
    Role,
    UnsupportedConditionError,
    can_assume,
    evaluate,
    principal_for,
    reachable_roles,
)

MGMT = "100000000001"
DEV = "200000000002"
ACC = "300000000003"
PRD = "500000000005"
ORG_ID = "o-acme12345"

Statement = dict[str, Any]


def doc(*statements: Statement, version: str | None = "2012-10-17") -> dict[str, Any]:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version:
        document["Version"] = version
    return document


def pol(name: str, *statements: Statement) -> NamedPolicy:
    return NamedPolicy(name, doc(*statements))


def stmt(effect: str, action: str | list[str], resource: str | list[str] = "*", **extra: Any):
    out: Statement = {"Effect": effect, "Action": action, "Resource": resource}
    out.update(extra)
    return out


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> Statement:
    return stmt("Allow", action, resource, **extra)


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> Statement:
    return stmt("Deny", action, resource, **extra)


def session(
    account: str,
    name: str = "worker",
    *policies: NamedPolicy,
    boundary: NamedPolicy | None = None,
    tags: dict[str, str] | None = None,
    session_policies: tuple[NamedPolicy, ...] = (),
) -> Principal:
    return Principal(
        arn=f"arn:aws:sts::{account}:assumed-role/{name}/alice",
        account_id=account,
        kind="role",
        identity_policies=policies,
        permission_boundary=boundary,
        session_policies=session_policies,
        tags=tags or {},
    )


def bucket(account: str, name: str = "data", policy: NamedPolicy | None = None) -> Resource:
    return Resource(f"arn:aws:s3:::{name}-{account}/key", account, "s3", policy)


def allowed(
    principal: Principal,
    action: str,
    resource: Resource,
    org: Organization | None = None,
    **context: str | list[str],
) -> bool:
    return evaluate(Request(principal, action, resource, context), org).allowed


FULL_ACCESS = {"Effect": "Allow", "Action": "*", "Resource": "*"}


# --- explicit and implicit deny ------------------------------------------------------------


def test_explicit_deny_beats_allow() -> None:
    grant = pol("role.json", allow("s3:*"))
    refuse = pol("deny.json", deny("s3:GetObject", Sid="DenyGet"))
    assert allowed(session(DEV, "r", grant), "s3:GetObject", bucket(DEV))
    decision = evaluate(Request(session(DEV, "r", grant, refuse), "s3:GetObject", bucket(DEV)))
    assert not decision.allowed
    assert decision.reason == "denied: explicit Deny by DenyGet in deny.json (identity)"
    assert [(d.policy_name, d.sid_or_index, d.layer) for d in decision.deciding] == [
        ("deny.json", "DenyGet", "identity")
    ]


def test_implicit_deny_without_allow() -> None:
    decision = evaluate(Request(session(DEV), "s3:GetObject", bucket(DEV)))
    assert not decision.allowed
    assert "no Allow in identity policies" in decision.reason
    assert allowed(session(DEV, "r", pol("p", allow("s3:GetObject"))), "s3:GetObject", bucket(DEV))


def test_statement_without_sid_is_cited_by_index() -> None:
    refuse = pol("deny.json", allow("s3:*"), deny("s3:*"))
    decision = evaluate(Request(session(DEV, "r", refuse), "s3:GetObject", bucket(DEV)))
    assert decision.deciding[0].sid_or_index == 1
    assert "statement 1 in deny.json (identity)" in decision.reason


# --- action and resource matching -----------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("S3:getobject", "s3:GetObject", True),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:Get?bject", "s3:GetObjectAcl", False),
        ("*", "sagemaker:CreateTrainingJob", True),
        ("s3:*", "s3express:CreateSession", False),
    ],
)
def test_action_wildcards_case_insensitive(pattern: str, action: str, expected: bool) -> None:
    principal = session(DEV, "r", pol("p", allow(pattern)))
    assert allowed(principal, action, bucket(DEV)) is expected


def test_not_action() -> None:
    principal = session(
        DEV, "r", pol("p", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    )
    assert allowed(principal, "s3:GetObject", bucket(DEV))
    assert not allowed(principal, "iam:CreateUser", bucket(DEV))
    guarded = session(
        DEV, "r", pol("p", allow("*"), {"Effect": "Deny", "NotAction": "s3:Get*", "Resource": "*"})
    )
    assert allowed(guarded, "s3:GetObject", bucket(DEV))
    assert not allowed(guarded, "s3:PutObject", bucket(DEV))


def test_not_resource() -> None:
    secret = f"arn:aws:s3:::secret-{DEV}/*"
    principal = session(
        DEV, "r", pol("p", {"Effect": "Allow", "Action": "s3:*", "NotResource": secret})
    )
    assert allowed(principal, "s3:GetObject", bucket(DEV, "data"))
    assert not allowed(principal, "s3:GetObject", bucket(DEV, "secret"))


def test_resource_wildcards_are_case_sensitive() -> None:
    principal = session(DEV, "r", pol("p", allow("s3:GetObject", "arn:aws:s3:::dat?-*/*")))
    assert allowed(principal, "s3:GetObject", bucket(DEV, "data"))
    assert not allowed(principal, "s3:GetObject", bucket(DEV, "DATA"))
    assert not allowed(principal, "s3:GetObject", bucket(DEV, "logs"))


# --- conditions ------------------------------------------------------------------------------


def condition_allows(condition: dict[str, Any], context: dict[str, str | list[str]]) -> bool:
    principal = session(DEV, "r", pol("p", allow("s3:GetObject", Condition=condition)))
    return evaluate(Request(principal, "s3:GetObject", bucket(DEV), context)).allowed


CONDITION_CASES = [
    # String family
    ({"StringEquals": {"s3:prefix": "home"}}, {"s3:prefix": "home"}, True),
    ({"StringEquals": {"s3:prefix": "home"}}, {"s3:prefix": "Home"}, False),
    ({"StringNotEquals": {"s3:prefix": "home"}}, {"s3:prefix": "work"}, True),
    ({"StringNotEquals": {"s3:prefix": "home"}}, {"s3:prefix": "home"}, False),
    ({"StringEqualsIgnoreCase": {"s3:prefix": "HOME"}}, {"s3:prefix": "home"}, True),
    ({"StringEqualsIgnoreCase": {"s3:prefix": "HOME"}}, {"s3:prefix": "work"}, False),
    ({"StringNotEqualsIgnoreCase": {"s3:prefix": "HOME"}}, {"s3:prefix": "home"}, False),
    ({"StringNotEqualsIgnoreCase": {"s3:prefix": "HOME"}}, {"s3:prefix": "work"}, True),
    ({"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/alice"}, True),
    ({"StringLike": {"s3:prefix": "home/?"}}, {"s3:prefix": "home/ab"}, False),
    ({"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "work/alice"}, True),
    ({"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/alice"}, False),
    # Numeric family
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, True),
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"}, False),
    ({"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"}, True),
    ({"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10.0"}, False),
    ({"NumericLessThan": {"s3:TlsVersion": "1.2"}}, {"s3:TlsVersion": "1.1"}, True),
    ({"NumericLessThan": {"s3:TlsVersion": "1.2"}}, {"s3:TlsVersion": "1.2"}, False),
    ({"NumericLessThanEquals": {"s3:TlsVersion": "1.2"}}, {"s3:TlsVersion": "1.2"}, True),
    ({"NumericLessThanEquals": {"s3:TlsVersion": "1.2"}}, {"s3:TlsVersion": "1.3"}, False),
    ({"NumericGreaterThan": {"s3:TlsVersion": "1.2"}}, {"s3:TlsVersion": "1.3"}, True),
    ({"NumericGreaterThan": {"s3:TlsVersion": "1.2"}}, {"s3:TlsVersion": "1.2"}, False),
    ({"NumericGreaterThanEquals": {"s3:TlsVersion": "1.2"}}, {"s3:TlsVersion": "1.2"}, True),
    ({"NumericGreaterThanEquals": {"s3:TlsVersion": "1.2"}}, {"s3:TlsVersion": "1.0"}, False),
    # Date family (ISO 8601 and epoch seconds)
    (
        {"DateEquals": {"aws:CurrentTime": "2025-01-01T00:00:00Z"}},
        {"aws:CurrentTime": "2025-01-01T00:00:00+00:00"},
        True,
    ),
    (
        {"DateEquals": {"aws:CurrentTime": "2025-01-01T00:00:00Z"}},
        {"aws:CurrentTime": "2025-01-02T00:00:00Z"},
        False,
    ),
    ({"DateNotEquals": {"aws:CurrentTime": "2025-01-01"}}, {"aws:CurrentTime": "2025-01-02"}, True),
    (
        {"DateNotEquals": {"aws:CurrentTime": "2025-01-01"}},
        {"aws:CurrentTime": "2025-01-01"},
        False,
    ),
    (
        {"DateLessThan": {"aws:CurrentTime": "2025-06-01T00:00:00Z"}},
        {"aws:CurrentTime": "2025-05-31T23:59:59Z"},
        True,
    ),
    (
        {"DateLessThan": {"aws:CurrentTime": "2025-06-01T00:00:00Z"}},
        {"aws:CurrentTime": "2025-06-01T00:00:00Z"},
        False,
    ),
    (
        {"DateLessThanEquals": {"aws:CurrentTime": "2025-06-01T00:00:00Z"}},
        {"aws:CurrentTime": "2025-06-01T00:00:00Z"},
        True,
    ),
    (
        {"DateLessThanEquals": {"aws:CurrentTime": "2025-06-01T00:00:00Z"}},
        {"aws:CurrentTime": "2025-06-02T00:00:00Z"},
        False,
    ),
    (
        {"DateGreaterThan": {"aws:CurrentTime": "2025-06-01T00:00:00Z"}},
        {"aws:CurrentTime": "1767225600"},
        True,
    ),
    (
        {"DateGreaterThan": {"aws:CurrentTime": "2025-06-01T00:00:00Z"}},
        {"aws:CurrentTime": "2025-01-01T00:00:00Z"},
        False,
    ),
    (
        {"DateGreaterThanEquals": {"aws:CurrentTime": "2025-06-01"}},
        {"aws:CurrentTime": "2025-06-01"},
        True,
    ),
    (
        {"DateGreaterThanEquals": {"aws:CurrentTime": "2025-06-01"}},
        {"aws:CurrentTime": "2025-05-01"},
        False,
    ),
    # Bool (case-insensitive true/false; JSON booleans accepted)
    ({"Bool": {"aws:SecureTransport": "true"}}, {}, True),
    ({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "false"}, False),
    (
        {"Bool": {"aws:MultiFactorAuthPresent": "TRUE"}},
        {"aws:MultiFactorAuthPresent": "true"},
        True,
    ),
    # IpAddress / NotIpAddress
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.1.2.3"}, True),
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "192.168.0.1"}, False),
    ({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, {"aws:SourceIp": "2001:db8::1"}, True),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "192.168.0.1"}, True),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.1.2.3"}, False),
    # Arn family: wildcards stay inside one ARN field except the last
    (
        {"ArnEquals": {"aws:SourceArn": f"arn:aws:iam::{DEV}:role/x"}},
        {"aws:SourceArn": f"arn:aws:iam::{DEV}:role/x"},
        True,
    ),
    (
        {"ArnEquals": {"aws:SourceArn": f"arn:aws:iam::{DEV}:role/x"}},
        {"aws:SourceArn": f"arn:aws:iam::{DEV}:role/y"},
        False,
    ),
    (
        {"ArnLike": {"aws:SourceArn": "arn:aws:iam::*:role/ml-*"}},
        {"aws:SourceArn": f"arn:aws:iam::{DEV}:role/ml-a/b"},
        True,
    ),
    (
        {"ArnLike": {"aws:SourceArn": "arn:aws:*:role/ml-*"}},
        {"aws:SourceArn": f"arn:aws:iam::{DEV}:role/ml-a"},
        False,
    ),
    (
        {"ArnLike": {"aws:SourceArn": "arn:aws:iam::*:role/*"}},
        {"aws:SourceArn": "not-an-arn"},
        False,
    ),
    (
        {"ArnNotEquals": {"aws:SourceArn": f"arn:aws:iam::{DEV}:role/x"}},
        {"aws:SourceArn": f"arn:aws:iam::{DEV}:role/y"},
        True,
    ),
    (
        {"ArnNotLike": {"aws:SourceArn": "arn:aws:iam::*:role/ml-*"}},
        {"aws:SourceArn": f"arn:aws:iam::{DEV}:role/ml-a"},
        False,
    ),
    # Null
    ({"Null": {"aws:TokenIssueTime": "true"}}, {}, True),
    ({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2025-01-01"}, False),
    ({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2025-01-01"}, True),
    ({"Null": {"aws:TokenIssueTime": "false"}}, {}, False),
    # Missing keys: positive operators false, negated operators true, IfExists true
    ({"StringEquals": {"s3:prefix": "home"}}, {}, False),
    ({"StringNotEquals": {"s3:prefix": "home"}}, {}, True),
    ({"StringNotLike": {"s3:prefix": "home/*"}}, {}, True),
    ({"ArnNotLike": {"aws:SourceArn": "arn:aws:iam::*:role/*"}}, {}, True),
    ({"NumericLessThan": {"s3:TlsVersion": "1.2"}}, {}, False),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {}, True),
    ({"StringEqualsIfExists": {"s3:prefix": "home"}}, {}, True),
    ({"StringEqualsIfExists": {"s3:prefix": "home"}}, {"s3:prefix": "work"}, False),
    ({"NumericLessThanIfExists": {"s3:TlsVersion": "1.2"}}, {}, True),
    (
        {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
        {"aws:MultiFactorAuthPresent": "false"},
        False,
    ),
    # Several values of one key: OR; several keys or operators: AND
    ({"StringEquals": {"s3:prefix": ["home", "work"]}}, {"s3:prefix": "work"}, True),
    ({"StringEquals": {"s3:prefix": "home", "s3:delimiter": "/"}}, {"s3:prefix": "home"}, False),
    (
        {"StringEquals": {"s3:prefix": "home", "s3:delimiter": "/"}},
        {"s3:prefix": "home", "s3:delimiter": "/"},
        True,
    ),
    (
        {"StringEquals": {"s3:prefix": "home"}, "Bool": {"aws:SecureTransport": "true"}},
        {"s3:prefix": "home", "aws:SecureTransport": "false"},
        False,
    ),
    ({"StringNotEquals": {"s3:prefix": ["home", "work"]}}, {"s3:prefix": "work"}, False),
    # Set qualifiers
    (
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "owner"]}},
        {"aws:TagKeys": ["cost", "team"]},
        True,
    ),
    (
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "owner"]}},
        {"aws:TagKeys": ["cost"]},
        False,
    ),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}, {}, False),
    (
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "owner"]}},
        {"aws:TagKeys": ["team", "owner"]},
        True,
    ),
    (
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "owner"]}},
        {"aws:TagKeys": ["team", "cost"]},
        False,
    ),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, {}, True),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, {"aws:TagKeys": []}, True),
    (
        {"ForAnyValue:StringNotLike": {"aws:TagKeys": "team*"}},
        {"aws:TagKeys": ["team-a", "cost"]},
        True,
    ),
    (
        {"ForAllValues:StringLike": {"aws:TagKeys": "team*"}},
        {"aws:TagKeys": ["team-a", "cost"]},
        False,
    ),
    # Context key names are case-insensitive
    ({"StringEquals": {"S3:Prefix": "home"}}, {"s3:PREFIX": "home"}, True),
]


@pytest.mark.parametrize(("condition", "context", "expected"), CONDITION_CASES)
def test_condition_operators(
    condition: dict[str, Any], context: dict[str, str | list[str]], expected: bool
) -> None:
    assert condition_allows(condition, context) is expected


def test_deny_with_negated_operator_applies_when_key_missing() -> None:
    """The documented trap: a Deny with StringNotEquals fires when the key is absent."""
    guard = deny("s3:*", Condition={"StringNotEquals": {"aws:PrincipalTag/team": "ml"}})
    grant = pol("p", allow("s3:*"), guard)
    assert not allowed(session(DEV, "r", grant), "s3:GetObject", bucket(DEV))
    assert allowed(session(DEV, "r", grant, tags={"team": "ml"}), "s3:GetObject", bucket(DEV))
    # IfExists does not help: an absent key makes the condition true, so the Deny still fires.
    if_exists = pol(
        "p",
        allow("s3:*"),
        deny("s3:*", Condition={"StringNotEqualsIfExists": {"aws:PrincipalTag/team": "ml"}}),
    )
    assert not allowed(session(DEV, "r", if_exists), "s3:GetObject", bucket(DEV))
    # Only a Null test restricts the Deny to tagged principals.
    tagged_only = pol(
        "p",
        allow("s3:*"),
        deny(
            "s3:*",
            Condition={
                "StringNotEquals": {"aws:PrincipalTag/team": "ml"},
                "Null": {"aws:PrincipalTag/team": "false"},
            },
        ),
    )
    assert allowed(session(DEV, "r", tagged_only), "s3:GetObject", bucket(DEV))
    assert not allowed(
        session(DEV, "r", tagged_only, tags={"team": "bi"}), "s3:GetObject", bucket(DEV)
    )


def test_unknown_condition_operator_raises() -> None:
    with pytest.raises(UnsupportedConditionError, match="StringEqualz"):
        pol("p", allow("s3:*", Condition={"StringEqualz": {"s3:prefix": "x"}}))
    with pytest.raises(UnsupportedConditionError, match="not implemented"):
        pol("p", allow("s3:*", Condition={"BinaryEquals": {"s3:prefix": "eA=="}}))
    with pytest.raises(UnsupportedConditionError):
        pol("p", allow("s3:*", Condition={"NullIfExists": {"s3:prefix": "true"}}))
    with pytest.raises(UnsupportedConditionError):
        pol("p", allow("s3:*", Condition={"ForSomeValues:StringEquals": {"s3:prefix": "x"}}))
    pol("p", allow("s3:*", Condition={"ForAnyValue:StringLikeIfExists": {"s3:prefix": "x"}}))


def test_malformed_policies_raise() -> None:
    with pytest.raises(PolicyError, match="Conditon"):
        pol("p", allow("s3:*", Conditon={"Bool": {"aws:SecureTransport": "true"}}))
    with pytest.raises(PolicyError, match="Effect"):
        pol("p", stmt("Permit", "s3:*"))
    with pytest.raises(PolicyError, match="not a number"):
        pol("p", allow("s3:*", Condition={"NumericLessThan": {"s3:TlsVersion": "one"}}))
    with pytest.raises(PolicyError, match="needs Resource"):
        session(DEV, "r", pol("p", {"Effect": "Allow", "Action": "s3:*"}))
    with pytest.raises(PolicyError, match="cannot have Principal"):
        session(DEV, "r", pol("p", allow("s3:*", Principal="*")))
    with pytest.raises(PolicyError, match="NotPrincipal is only supported with Effect Deny"):
        pol("p", allow("s3:*", NotPrincipal={"AWS": DEV}))
    with pytest.raises(PolicyError, match="not a valid AWS principal"):
        pol("p", allow("s3:*", Principal={"AWS": f"arn:aws:iam::{DEV}:role/*"}))


def test_policy_variables() -> None:
    own_prefix = allow("s3:GetObject", "arn:aws:s3:::home/${aws:PrincipalTag/team}/*")
    principal = session(DEV, "r", pol("p", own_prefix), tags={"team": "ml"})
    home = Resource("arn:aws:s3:::home/ml/x", DEV)
    other = Resource("arn:aws:s3:::home/bi/x", DEV)
    assert evaluate(Request(principal, "s3:GetObject", home)).allowed
    assert not evaluate(Request(principal, "s3:GetObject", other)).allowed
    # no tag and no default: the resource matches nothing
    untagged = session(DEV, "r", pol("p", own_prefix))
    assert not evaluate(Request(untagged, "s3:GetObject", home)).allowed
    # a default value
    defaulted = session(
        DEV,
        "r",
        pol("p", allow("s3:GetObject", "arn:aws:s3:::home/${aws:PrincipalTag/team, 'ml'}/*")),
    )
    assert evaluate(Request(defaulted, "s3:GetObject", home)).allowed
    # a resolved value is literal: a '*' in a tag is not a wildcard
    starred = session(DEV, "r", pol("p", own_prefix), tags={"team": "*"})
    assert not evaluate(Request(starred, "s3:GetObject", home)).allowed
    # in condition values, with the standard aws:username and aws:PrincipalAccount
    user = Principal(
        f"arn:aws:iam::{DEV}:user/alice",
        DEV,
        "user",
        identity_policies=(
            pol(
                "p",
                allow(
                    "s3:ListBucket",
                    Condition={
                        "StringLike": {"s3:prefix": "${aws:username}/*"},
                        "StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"},
                    },
                ),
            ),
        ),
    )
    listing = bucket(DEV)
    assert evaluate(Request(user, "s3:ListBucket", listing, {"s3:prefix": "alice/x"})).allowed
    assert not evaluate(Request(user, "s3:ListBucket", listing, {"s3:prefix": "bob/x"})).allowed
    assert not evaluate(
        Request(user, "s3:ListBucket", bucket(PRD), {"s3:prefix": "alice/x"})
    ).allowed


def test_policy_variables_only_in_version_2012() -> None:
    literal = NamedPolicy(
        "old",
        doc(
            allow("s3:GetObject", "arn:aws:s3:::home/${aws:PrincipalTag/team}/*"),
            version="2008-10-17",
        ),
    )
    principal = session(DEV, "r", literal, tags={"team": "ml"})
    assert not allowed(principal, "s3:GetObject", Resource("arn:aws:s3:::home/ml/x", DEV))
    assert allowed(
        principal, "s3:GetObject", Resource("arn:aws:s3:::home/${aws:PrincipalTag/team}/x", DEV)
    )


def test_standard_keys_are_filled_and_caller_context_wins() -> None:
    org = Organization(MGMT, {DEV: ("r-root", DEV)}, org_id=ORG_ID)
    condition = {
        "StringEquals": {
            "aws:PrincipalArn": f"arn:aws:iam::{DEV}:role/worker",
            "aws:PrincipalAccount": DEV,
            "aws:PrincipalOrgID": ORG_ID,
            "aws:ResourceAccount": DEV,
            "aws:PrincipalTag/team": "ml",
        },
        "Bool": {"aws:SecureTransport": "true"},
    }
    principal = session(
        DEV, "worker", pol("p", allow("s3:GetObject", Condition=condition)), tags={"team": "ml"}
    )
    assert allowed(principal, "s3:GetObject", bucket(DEV), org)
    assert not allowed(principal, "s3:GetObject", bucket(DEV), None)  # no org id without org
    assert not allowed(
        principal, "s3:GetObject", bucket(DEV), org, **{"aws:securetransport": "false"}
    )


# --- SCPs --------------------------------------------------------------------------------------


def organization(
    scps: dict[str, tuple[NamedPolicy, ...]] | None = None,
    rcps: dict[str, tuple[NamedPolicy, ...]] | None = None,
) -> Organization:
    return Organization(
        management_account_id=MGMT,
        accounts={
            MGMT: ("r-root", MGMT),
            DEV: ("r-root", "ou-workloads", "ou-dev", DEV),
            ACC: ("r-root", "ou-workloads", "ou-acc", ACC),
            PRD: ("r-root", "ou-workloads", "ou-prd", PRD),
        },
        scps=scps or {},
        rcps=rcps or {},
        org_id=ORG_ID,
    )


FULL_AWS_ACCESS = pol(
    "organization/scp/FullAWSAccess.json", {**FULL_ACCESS, "Sid": "FullAWSAccess"}
)


def test_scp_ou_deny_beats_root_allow() -> None:
    deny_sm = pol("organization/scp/deny-sagemaker.json", deny("sagemaker:*", Sid="DenySageMaker"))
    org = organization({"r-root": (FULL_AWS_ACCESS,), "ou-prd": (FULL_AWS_ACCESS, deny_sm)})
    admin = pol("admin.json", allow("*"))
    notebook = Resource(f"arn:aws:sagemaker:eu-west-1:{PRD}:notebook-instance/n", PRD)
    decision = evaluate(
        Request(
            session(PRD, "admin", admin), "sagemaker:CreatePresignedNotebookInstanceUrl", notebook
        ),
        org,
    )
    assert not decision.allowed
    assert decision.reason.startswith(
        "denied: explicit Deny by DenySageMaker in organization/scp/deny-sagemaker.json "
        "(scp at ou-prd)"
    )
    dev_notebook = Resource(f"arn:aws:sagemaker:eu-west-1:{DEV}:notebook-instance/n", DEV)
    assert allowed(
        session(DEV, "admin", admin),
        "sagemaker:CreatePresignedNotebookInstanceUrl",
        dev_notebook,
        org,
    )


def test_scp_without_allow_at_one_level_denies() -> None:
    only_deny = pol("organization/scp/deny-leave.json", deny("organizations:LeaveOrganization"))
    admin = pol("admin.json", allow("*"))
    broken = organization({"ou-dev": (only_deny,)})
    decision = evaluate(Request(session(DEV, "admin", admin), "s3:GetObject", bucket(DEV)), broken)
    assert not decision.allowed
    assert "no SCP attached at ou-dev allows s3:GetObject" in decision.reason
    fixed = organization({"ou-dev": (FULL_AWS_ACCESS, only_deny)})
    decision = evaluate(Request(session(DEV, "admin", admin), "s3:GetObject", bucket(DEV)), fixed)
    assert decision.allowed
    assert any(ref.layer == "scp" and ref.level == "ou-dev" for ref in decision.deciding)


def test_scps_do_not_affect_management_account_or_service_linked_roles() -> None:
    deny_all = pol("organization/scp/deny-s3.json", deny("s3:*"))
    org = organization({"r-root": (FULL_AWS_ACCESS, deny_all)})
    admin = pol("admin.json", allow("*"))
    assert allowed(session(MGMT, "admin", admin), "s3:GetObject", bucket(MGMT), org)
    assert not allowed(session(DEV, "admin", admin), "s3:GetObject", bucket(DEV), org)
    linked = Principal(
        f"arn:aws:sts::{DEV}:assumed-role/AWSServiceRoleForX/s",
        DEV,
        "role",
        (admin,),
        service_linked=True,
    )
    assert allowed(linked, "s3:GetObject", bucket(DEV), org)
    root = Principal.root(DEV)
    assert allowed(root, "s3:GetObject", bucket(DEV))
    assert not allowed(root, "s3:GetObject", bucket(DEV), org)  # SCPs bind member-account root


def test_organization_rejects_policies_on_unknown_levels() -> None:
    with pytest.raises(ValueError, match="ou-prod"):
        organization({"ou-prod": (FULL_AWS_ACCESS,)})
    with pytest.raises(ValueError, match="at least one"):
        organization({"ou-prd": ()})


# --- RCPs ---------------------------------------------------------------------------------------


PRD_ONLY_RCP = pol(
    "organization/rcp/prd-data-perimeter.json",
    deny(
        ["s3:*", "sagemaker:*"],
        Sid="DenyOutsidePrd",
        Principal="*",
        Condition={"StringNotEquals": {"aws:PrincipalAccount": PRD}},
    ),
)


def prd_bucket_open_to_dev() -> Resource:
    policy = pol(
        "env-prd/data-bucket/policy.json",
        allow(
            "s3:GetObject",
            f"arn:aws:s3:::data-{PRD}/*",
            Sid="ReadFromDev",
            Principal={"AWS": f"arn:aws:iam::{DEV}:root"},
        ),
    )
    return bucket(PRD, "data", policy)


def test_rcp_blocks_cross_account_read_despite_bucket_policy() -> None:
    reader = session(DEV, "data-scientist", pol("ds.json", allow("s3:GetObject")))
    assert allowed(reader, "s3:GetObject", prd_bucket_open_to_dev(), organization())
    org = organization(rcps={"ou-prd": (PRD_ONLY_RCP,)})
    decision = evaluate(Request(reader, "s3:GetObject", prd_bucket_open_to_dev()), org)
    assert not decision.allowed
    assert (
        "DenyOutsidePrd in organization/rcp/prd-data-perimeter.json (rcp at ou-prd)"
        in decision.reason
    )
    # The same RCP does not restrict prd's own principals.
    owner = session(PRD, "pipeline", pol("p.json", allow("s3:GetObject")))
    assert allowed(owner, "s3:GetObject", prd_bucket_open_to_dev(), org)


def test_rcp_does_not_apply_to_non_rcp_service() -> None:
    org = organization(rcps={"ou-prd": (PRD_ONLY_RCP,)})
    notebook = Resource(
        f"arn:aws:sagemaker:eu-west-1:{PRD}:model/m",
        PRD,
        resource_policy=pol("m.json", allow("sagemaker:*", Principal={"AWS": DEV})),
    )
    reader = session(DEV, "data-scientist", pol("ds.json", allow("sagemaker:*")))
    assert allowed(reader, "sagemaker:DescribeModel", notebook, org)
    assert not allowed(reader, "s3:GetObject", prd_bucket_open_to_dev(), org)


def test_rcp_does_not_apply_to_management_account_resources() -> None:
    everywhere = pol("organization/rcp/deny-s3.json", deny("s3:*", Principal="*"))
    org = Organization(
        MGMT, {MGMT: ("r-root", MGMT), DEV: ("r-root", DEV)}, rcps={"r-root": (everywhere,)}
    )
    reader = session(DEV, "r", pol("p", allow("s3:GetObject")))
    mgmt_bucket = bucket(MGMT, "logs", pol("b", allow("s3:GetObject", Principal={"AWS": DEV})))
    dev_bucket = bucket(DEV, "logs")
    assert allowed(reader, "s3:GetObject", mgmt_bucket, org)
    assert not allowed(reader, "s3:GetObject", dev_bucket, org)


def test_rcp_allow_other_than_full_access_is_rejected() -> None:
    partial = pol("rcp.json", allow("s3:GetObject", Principal="*"))
    with pytest.raises(PolicyError, match="RCPFullAWSAccess"):
        organization(rcps={"ou-prd": (partial,)})
    full = pol("RCPFullAWSAccess.json", allow("*", Principal="*"))
    organization(rcps={"ou-prd": (full,)})


# --- resource policies, cross-account, KMS ------------------------------------------------------


def test_cross_account_needs_both_sides() -> None:
    identity = pol("ds.json", allow("s3:GetObject"))
    grant_role = pol(
        "bucket.json",
        allow(
            "s3:GetObject", "*", Sid="ReadForDs", Principal={"AWS": f"arn:aws:iam::{DEV}:role/ds"}
        ),
    )
    with_identity = session(DEV, "ds", identity)
    without_identity = session(DEV, "ds")
    no_policy = evaluate(Request(with_identity, "s3:GetObject", bucket(PRD)))
    assert not no_policy.allowed and "has no resource-based policy" in no_policy.reason
    only_resource = evaluate(
        Request(without_identity, "s3:GetObject", bucket(PRD, policy=grant_role))
    )
    assert not only_resource.allowed and "identity side" in only_resource.reason
    both = evaluate(Request(with_identity, "s3:GetObject", bucket(PRD, policy=grant_role)))
    assert both.allowed
    assert {ref.layer for ref in both.deciding} == {"identity", "resource"}
    other_role = session(DEV, "other", identity)
    assert not allowed(other_role, "s3:GetObject", bucket(PRD, policy=grant_role))


def test_same_account_resource_policy_grants_without_identity_policy() -> None:
    to_role = pol(
        "bucket.json", allow("s3:GetObject", Principal={"AWS": f"arn:aws:iam::{DEV}:role/ds"})
    )
    to_account = pol("bucket.json", allow("s3:GetObject", Principal={"AWS": DEV}))
    assert allowed(session(DEV, "ds"), "s3:GetObject", bucket(DEV, policy=to_role))
    decision = evaluate(Request(session(DEV, "ds"), "s3:GetObject", bucket(DEV, policy=to_account)))
    assert not decision.allowed
    assert "allows only the account" in decision.reason
    assert allowed(
        session(DEV, "ds", pol("p", allow("s3:GetObject"))),
        "s3:GetObject",
        bucket(DEV, policy=to_account),
    )


def kms_key(account: str, key_policy: NamedPolicy | None) -> Resource:
    return Resource(
        f"arn:aws:kms:eu-west-1:{account}:key/1234",
        account,
        "kms",
        key_policy,
        resource_policy_required=True,
    )


def test_kms_key_policy_is_required_even_in_the_same_account() -> None:
    user_of_key = session(PRD, "pipeline", pol("p.json", allow("kms:Decrypt")))
    root_admin = pol(
        "env-prd/data-key/key.json",
        allow("kms:*", Sid="AccountAdministersKey", Principal={"AWS": f"arn:aws:iam::{PRD}:root"}),
    )
    other_account = pol("key.json", allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACC}:root"}))
    assert allowed(user_of_key, "kms:Decrypt", kms_key(PRD, root_admin))
    decision = evaluate(Request(user_of_key, "kms:Decrypt", kms_key(PRD, other_account)))
    assert not decision.allowed and "required even within the account" in decision.reason
    assert not allowed(user_of_key, "kms:Decrypt", kms_key(PRD, None))
    # the key policy names only the account: identity policies must still allow
    assert not allowed(session(PRD, "pipeline"), "kms:Decrypt", kms_key(PRD, root_admin))


# --- permissions boundaries and session policies -----------------------------------------------


def test_permission_boundary_limits_identity_allow() -> None:
    boundary = pol("boundary.json", allow("s3:GetObject", Sid="ReadOnly"))
    principal = session(DEV, "r", pol("p.json", allow("s3:*")), boundary=boundary)
    decision = evaluate(Request(principal, "s3:GetObject", bucket(DEV)))
    assert decision.allowed
    assert [r.layer for r in decision.deciding] == ["identity", "boundary"]
    decision = evaluate(Request(principal, "s3:PutObject", bucket(DEV)))
    assert not decision.allowed
    assert "permissions boundary boundary.json has no Allow for s3:PutObject" in decision.reason


def test_permission_boundary_does_not_grant() -> None:
    boundary = pol("boundary.json", allow("*"))
    assert not allowed(session(DEV, "r", boundary=boundary), "s3:GetObject", bucket(DEV))
    assert allowed(
        session(DEV, "r", pol("p", allow("s3:GetObject")), boundary=boundary),
        "s3:GetObject",
        bucket(DEV),
    )


def test_resource_grant_to_role_arn_is_limited_by_boundary_but_not_to_session_arn() -> None:
    boundary = pol("boundary.json", allow("ec2:*"))
    to_role = pol(
        "bucket.json", allow("s3:GetObject", Principal={"AWS": f"arn:aws:iam::{DEV}:role/ds"})
    )
    to_session = pol(
        "bucket.json",
        allow("s3:GetObject", Principal={"AWS": f"arn:aws:sts::{DEV}:assumed-role/ds/alice"}),
    )
    bounded = session(DEV, "ds", boundary=boundary)
    unbounded = session(DEV, "ds")
    assert allowed(unbounded, "s3:GetObject", bucket(DEV, policy=to_role))
    decision = evaluate(Request(bounded, "s3:GetObject", bucket(DEV, policy=to_role)))
    assert not decision.allowed and "limited by the implicit deny" in decision.reason
    assert allowed(bounded, "s3:GetObject", bucket(DEV, policy=to_session))


def test_session_policies_limit_identity_permissions() -> None:
    identity = pol("p.json", allow("s3:*"))
    narrow = pol("session.json", allow("s3:GetObject"))
    principal = session(DEV, "ds", identity, session_policies=(narrow,))
    assert allowed(principal, "s3:GetObject", bucket(DEV))
    assert not allowed(principal, "s3:PutObject", bucket(DEV))
    to_session = pol("bucket.json", allow("s3:PutObject", Principal={"AWS": principal.arn}))
    assert allowed(principal, "s3:PutObject", bucket(DEV, policy=to_session))


def test_not_principal_deny() -> None:
    role_arn = f"arn:aws:iam::{PRD}:role/pipeline"
    exempt_both = pol(
        "b.json",
        allow("s3:*", Principal={"AWS": PRD}),
        deny("s3:*", NotPrincipal={"AWS": [role_arn, f"arn:aws:iam::{PRD}:root"]}),
    )
    exempt_role_only = pol(
        "b.json",
        allow("s3:*", Principal={"AWS": PRD}),
        deny("s3:*", NotPrincipal={"AWS": [role_arn]}),
    )
    pipeline = session(PRD, "pipeline", pol("p", allow("s3:*")))
    other = session(PRD, "other", pol("p", allow("s3:*")))
    assert allowed(pipeline, "s3:GetObject", bucket(PRD, policy=exempt_both))
    assert not allowed(other, "s3:GetObject", bucket(PRD, policy=exempt_both))
    assert not allowed(pipeline, "s3:GetObject", bucket(PRD, policy=exempt_role_only))
    bounded = session(PRD, "pipeline", pol("p", allow("s3:*")), boundary=pol("bd", allow("s3:*")))
    assert not allowed(bounded, "s3:GetObject", bucket(PRD, policy=exempt_both))


def test_service_principal_through_resource_policy() -> None:
    trail = pol(
        "bucket.json", allow("s3:PutObject", Principal={"Service": "cloudtrail.amazonaws.com"})
    )
    service = Principal.service("cloudtrail.amazonaws.com")
    assert allowed(service, "s3:PutObject", bucket(DEV, policy=trail))
    assert not allowed(
        Principal.service("config.amazonaws.com"), "s3:PutObject", bucket(DEV, policy=trail)
    )


# --- role assumption and chains -----------------------------------------------------------------


def trust(name: str, *principals: str, condition: dict[str, Any] | None = None) -> NamedPolicy:
    statement: Statement = {
        "Sid": "Trust",
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"AWS": list(principals)},
    }
    if condition:
        statement["Condition"] = condition
    return NamedPolicy(name, doc(statement))


def role(account: str, name: str, trust_policy: NamedPolicy, *policies: NamedPolicy) -> Role:
    return Role(f"arn:aws:iam::{account}:role/{name}", account, trust_policy, policies)


ASSUME_ANY = pol("assume.json", allow("sts:AssumeRole"))


def test_role_trust_with_mfa_condition() -> None:
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    target = role(
        PRD,
        "break-glass",
        trust("env-prd/break-glass/trust.json", f"arn:aws:iam::{DEV}:root", condition=mfa),
    )
    caller = session(DEV, "ops", ASSUME_ANY)
    without = can_assume(caller, target)
    assert not without.allowed
    assert "trust policy env-prd/break-glass/trust.json" in without.reason
    assert not can_assume(caller, target, context={"aws:MultiFactorAuthPresent": "false"}).allowed
    with_mfa = can_assume(caller, target, context={"aws:MultiFactorAuthPresent": "true"})
    assert with_mfa.allowed
    assert {ref.layer for ref in with_mfa.deciding} == {"identity", "trust"}


def test_cross_account_assume_needs_identity_allow() -> None:
    target = role(PRD, "reader", trust("t.json", f"arn:aws:iam::{DEV}:role/ops"))
    assert can_assume(session(DEV, "ops", ASSUME_ANY), target).allowed
    assert not can_assume(session(DEV, "ops"), target).allowed
    assert not can_assume(session(DEV, "other", ASSUME_ANY), target).allowed


def test_same_account_trust_naming_account_root_needs_identity_allow() -> None:
    via_root = role(DEV, "shared", trust("t.json", f"arn:aws:iam::{DEV}:root"))
    assert not can_assume(session(DEV, "ops"), via_root).allowed
    assert can_assume(session(DEV, "ops", ASSUME_ANY), via_root).allowed
    via_arn = role(DEV, "shared", trust("t.json", f"arn:aws:iam::{DEV}:role/ops"))
    assert can_assume(session(DEV, "ops"), via_arn).allowed  # trust alone suffices
    assert not can_assume(session(DEV, "other", ASSUME_ANY), via_arn).allowed


def test_scp_and_rcp_apply_to_role_assumption() -> None:
    target = role(PRD, "reader", trust("t.json", f"arn:aws:iam::{DEV}:root"))
    caller = session(DEV, "ops", ASSUME_ANY)
    no_assume = pol(
        "organization/scp/no-prd.json",
        deny("sts:AssumeRole", f"arn:aws:iam::{PRD}:role/*", Sid="NoPrdRoles"),
    )
    assert can_assume(caller, target, organization()).allowed
    decision = can_assume(caller, target, organization({"ou-dev": (FULL_AWS_ACCESS, no_assume)}))
    assert not decision.allowed and "NoPrdRoles" in decision.reason
    perimeter = pol(
        "organization/rcp/sts.json",
        deny(
            "sts:AssumeRole",
            Sid="OnlyPrd",
            Principal="*",
            Condition={"StringNotEquals": {"aws:PrincipalAccount": PRD}},
        ),
    )
    decision = can_assume(caller, target, organization(rcps={"ou-prd": (perimeter,)}))
    assert not decision.allowed and "(rcp at ou-prd)" in decision.reason


def chain_roles(middle_trusts_dev: bool = True) -> tuple[Principal, list[Role]]:
    start = session(DEV, "a", ASSUME_ANY)
    b_trust = trust(
        "env-acc/b/trust.json",
        *(
            [f"arn:aws:iam::{DEV}:role/a"]
            if middle_trusts_dev
            else [f"arn:aws:iam::{DEV}:role/nobody"]
        ),
    )
    b = role(ACC, "b", b_trust, ASSUME_ANY)
    c = role(
        PRD,
        "c",
        trust("env-prd/c/trust.json", f"arn:aws:iam::{ACC}:role/b"),
        pol("c.json", allow("s3:*")),
    )
    unrelated = role(PRD, "d", trust("env-prd/d/trust.json", f"arn:aws:iam::{ACC}:role/x"))
    return start, [c, unrelated, b]


def test_reachable_roles_follows_chain_across_accounts() -> None:
    start, roles = chain_roles()
    paths = reachable_roles(start, roles, organization())
    assert [p.target.name for p in paths] == ["b", "c"]
    assert [r.name for r in paths[1].roles] == ["b", "c"]
    assert paths[1].describe().endswith(f"arn:aws:iam::{ACC}:role/b -> arn:aws:iam::{PRD}:role/c")
    # what the reached principal can do
    reached = principal_for(paths[1].target)
    assert reached.arn == f"arn:aws:sts::{PRD}:assumed-role/c/ndap-evaluator"
    assert allowed(reached, "s3:GetObject", bucket(PRD))
    assert [p.target.name for p in reachable_roles(start, roles, organization(), max_depth=1)] == [
        "b"
    ]


def test_reachable_roles_chain_broken_when_middle_trust_removed() -> None:
    start, roles = chain_roles(middle_trusts_dev=False)
    assert reachable_roles(start, roles, organization()) == []


def test_decision_explain_names_statements_and_files() -> None:
    refuse = pol(
        "env-dev/personas/data-scientist/role.json", allow("s3:*"), deny("s3:*", Sid="NoS3")
    )
    decision = evaluate(Request(session(DEV, "ds", refuse), "s3:GetObject", bucket(DEV)))
    assert decision.explain().splitlines() == [
        "denied: explicit Deny by NoS3 in env-dev/personas/data-scientist/role.json (identity)",
        "  Deny: NoS3 in env-dev/personas/data-scientist/role.json (identity)",
    ]
