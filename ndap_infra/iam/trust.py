"""Trust policies the platform's roles share: pure builders (no CDKTF).

Two shapes recur: a role only an AWS service assumes on behalf of one account (and of
named resources), and a role only one named role of one account assumes.
"""

from __future__ import annotations

from collections.abc import Sequence

from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement


def service_trust(service: str, account_id: str, source_arns: Sequence[str] = ()) -> PolicyDocument:
    """A role only ``service`` assumes, on behalf of ``account_id`` (and of the named
    resources): the confused-deputy guard AWS documents."""
    conditions: tuple[Condition, ...] = (
        Condition.of("StringEquals", "aws:SourceAccount", account_id),
    )
    if source_arns:
        conditions += (Condition.of("ArnLike", "aws:SourceArn", *source_arns),)
    return PolicyDocument(
        (
            Statement(
                "ServiceAssumes",
                "Allow",
                principals=(Principal.service(service),),
                actions=("sts:AssumeRole",),
                conditions=conditions,
            ),
        )
    )


def only_role_trust(sid: str, role_arn: str, account_id: str) -> PolicyDocument:
    """A role only ``role_arn`` assumes, named by its ARN and by ``aws:PrincipalAccount``
    (the account it lives in)."""
    return PolicyDocument(
        (
            Statement(
                sid,
                "Allow",
                principals=(Principal.aws(role_arn),),
                actions=("sts:AssumeRole",),
                conditions=(Condition.of("StringEquals", "aws:PrincipalAccount", account_id),),
            ),
        )
    )


def later_role_trust(sid: str, role_arn: str, account_id: str) -> PolicyDocument:
    """A role only ``role_arn`` assumes, where that role may not exist yet when this trust
    is saved (created by a later stack, or by a stack applied side by side): AWS refuses a
    principal ARN that does not exist, so the principal is the account root (which always
    exists) and ``aws:PrincipalArn`` names the one role. The role's own identity policy must
    then allow the assumption too (the account delegates)."""
    return PolicyDocument(
        (
            Statement(
                sid,
                "Allow",
                principals=(Principal.aws(f"arn:aws:iam::{account_id}:root"),),
                actions=("sts:AssumeRole",),
                conditions=(Condition.of("ArnEquals", "aws:PrincipalArn", role_arn),),
            ),
        )
    )


SCHEDULER_SERVICE = "scheduler.amazonaws.com"
