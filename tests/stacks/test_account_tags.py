"""An account in the organization stack is tagged with its own environment, not the
stack's default ``organization`` (issue #16, item 7)."""

from __future__ import annotations

from typing import Any

from tests.helpers import resources


def test_each_member_account_carries_its_own_environment_tag(
    reference_stacks: dict[str, Any],
) -> None:
    stack = reference_stacks["organization"]
    # One provider per allowed region: GuardDuty's administrator is registered region by region.
    for provider in stack["provider"]["aws"]:
        assert provider["default_tags"][0]["tags"]["ndap:environment"] == "organization"
    accounts = resources(stack, "aws_organizations_account")
    keys = ("nonprod", "dev", "acc", "prd", "tooling", "log-archive", "security-tooling")
    assert set(accounts) == {f"accounts/{k}" for k in keys}
    for path, body in accounts.items():
        assert body["tags"] == {"ndap:environment": path.split("/")[1]}, path
