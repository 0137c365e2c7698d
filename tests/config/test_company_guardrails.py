"""organization.company_guardrails and organization.parent_ou_id: what validation accepts
and what it rejects, with the field and the reason."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ndap_infra.config.load import validate_data
from tests.helpers import issues_of, minimal, reference_data

HARMLESS = {"sid": "DenyReservedInstances", "actions": ["ec2:PurchaseReservedInstancesOffering"]}


def with_guardrails(*guardrails: dict[str, Any]) -> dict[str, Any]:
    data = minimal()
    data["organization"]["company_guardrails"] = list(guardrails)  # type: ignore[index]
    return data


def test_a_deny_statement_is_accepted_with_its_defaults() -> None:
    config, issues = validate_data(with_guardrails(HARMLESS))
    assert config is not None, issues
    (guardrail,) = config.organization.company_guardrails
    assert guardrail.effect == "Deny"
    assert guardrail.resources == ("*",)
    assert guardrail.units == ()


def test_a_full_statement_is_accepted() -> None:
    statement = {
        "sid": "OnlyEncryptedVolumes",
        "actions": ["ec2:CreateVolume"],
        "resources": ["arn:aws:ec2:*:*:volume/*"],
        "conditions": {"Bool": {"ec2:Encrypted": ["false"]}},
        "units": ["acc", "prd"],
    }
    config, issues = validate_data(with_guardrails(statement))
    assert config is not None, issues


def test_an_allow_is_rejected() -> None:
    """FullAWSAccess stays attached to every unit: an Allow in an SCP narrows nothing."""
    issues = issues_of(with_guardrails({**HARMLESS, "effect": "Allow"}))
    assert "organization.company_guardrails[0].effect" in issues


def test_actions_and_not_actions_are_exclusive_and_one_is_required() -> None:
    both = issues_of(with_guardrails({**HARMLESS, "not_actions": ["iam:*"]}))
    neither = issues_of(with_guardrails({"sid": "Nothing"}))
    for issues in (both, neither):
        assert any("exactly one of actions or not_actions" in m for m in issues.values()), issues


def test_malformed_actions_resources_and_conditions_are_rejected() -> None:
    cases = {
        "actions": {**HARMLESS, "actions": ["PurchaseReservedInstancesOffering"]},
        "resources": {**HARMLESS, "resources": ["bucket-name"]},
        "conditions": {**HARMLESS, "conditions": {"StringEqualz": {"aws:PrincipalTag/x": ["y"]}}},
    }
    for field, statement in cases.items():
        issues = issues_of(with_guardrails(statement))
        assert any(path.startswith("organization.company_guardrails[0]") for path in issues), (
            field,
            issues,
        )
    empty = issues_of(
        with_guardrails({**HARMLESS, "conditions": {"StringEquals": {"aws:PrincipalTag/x": []}}})
    )
    assert any("at least one value" in m for m in empty.values()), empty


def test_sids_are_unique_among_the_company_guardrails() -> None:
    issues = issues_of(with_guardrails(HARMLESS, {**HARMLESS, "actions": ["aws-portal:*"]}))
    assert "organization.company_guardrails[1].sid" in issues
    assert (
        "also used by organization.company_guardrails[0]"
        in (issues["organization.company_guardrails[1].sid"])
    )


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=20).filter(lambda s: not (s.isascii() and s.isalnum())))
def test_a_sid_that_is_not_ascii_letters_and_digits_is_rejected(sid: str) -> None:
    config, _ = validate_data(with_guardrails({**HARMLESS, "sid": sid}))
    assert config is None


def test_units_the_platform_does_not_create_are_rejected() -> None:
    # minimal(): no tooling account, no security accounts, nonprod off
    issues = issues_of(with_guardrails({**HARMLESS, "units": ["tooling", "dev"]}))
    message = issues["organization.company_guardrails[0].units"]
    assert "creates no tooling unit" in message
    assert issues_of(with_guardrails({**HARMLESS, "units": ["nonprod"]}))
    config, issues_ok = validate_data(with_guardrails({**HARMLESS, "units": ["dev"]}))
    assert config is not None, issues_ok


def test_the_reference_accepts_every_unit() -> None:
    data = reference_data()
    data["organization"]["company_guardrails"] = [
        {**HARMLESS, "units": ["nonprod", "dev", "acc", "prd", "tooling", "security"]}
    ]
    config, issues = validate_data(data)
    assert config is not None, issues


def test_parent_ou_id_follows_the_aws_pattern() -> None:
    data = minimal()
    data["organization"]["parent_ou_id"] = "ou-ab12-cd34ef56"  # type: ignore[index]
    config, issues = validate_data(data)
    assert config is not None, issues
    assert config.organization.parent_ou_id == "ou-ab12-cd34ef56"
    for wrong in ("r-ab12", "ou-AB12-cd34ef56", "ou-ab12", "ou-ab12-cd34"):
        data["organization"]["parent_ou_id"] = wrong  # type: ignore[index]
        assert "organization.parent_ou_id" in issues_of(data), wrong


def test_parent_ou_id_needs_an_existing_organization() -> None:
    data = minimal()
    data["organization"].update(  # type: ignore[attr-defined]
        {"parent_ou_id": "ou-ab12-cd34ef56", "create_organization": True}
    )
    issues = issues_of(data)
    assert "no existing unit to nest under" in issues["organization.parent_ou_id"]
