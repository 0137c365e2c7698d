"""The AWS provider of a stack: which account it deploys into, and how."""

from __future__ import annotations

from constructs import Construct

from ndap_infra.resources.aws import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags


def account_provider(
    scope: Construct,
    *,
    region: str,
    tags: dict[str, str],
    assume_role_arn: str | None = None,
    session_name: str = "ndap-infra",
) -> AwsProvider:
    """A provider for one account: assumes ``assume_role_arn`` when given (member
    accounts), or uses the caller's credentials (the management account)."""
    return AwsProvider(
        scope,
        "aws",
        region=region,
        assume_role=(
            [AwsProviderAssumeRole(role_arn=assume_role_arn, session_name=session_name)]
            if assume_role_arn
            else None
        ),
        default_tags=[AwsProviderDefaultTags(tags=tags)] if tags else None,
    )
