"""The company's guardrails merged into the organization stack's SCPs within AWS's limits
(5 SCPs per unit, 5,120 characters per policy), and the platform's units nested under an
existing unit (organization.parent_ou_id)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import App
from cdktf import Testing as CdktfTesting
from hypothesis import given, settings
from hypothesis import strategies as st

from ndap_infra.config.load import validate_data
from ndap_infra.config.model import NdapConfig
from ndap_infra.organization.catalog import guardrail_catalog
from ndap_infra.organization.company import CompanyGuardrailRejected
from ndap_infra.stacks.platform import build_platform
from tests.helpers import minimal, reference_data

HARMLESS = {"sid": "DenyReservedInstances", "actions": ["ec2:PurchaseReservedInstancesOffering"]}


def config_of(data: dict[str, Any], *guardrails: dict[str, Any]) -> NdapConfig:
    data["organization"]["company_guardrails"] = list(guardrails)
    config, issues = validate_data(data)
    assert config is not None, issues
    return config


def organization_stack(config: NdapConfig) -> dict[str, Any]:
    stacks = build_platform(App(outdir="/tmp/ndap-test-unused"), config)
    return dict(json.loads(CdktfTesting.synth(stacks["organization"])))


def scps_on(stack: dict[str, Any]) -> dict[str, list[tuple[str, list[dict[str, Any]]]]]:
    """Unit name -> (policy name, statements) of every SCP attached to it."""
    resources = stack["resource"]
    units = {
        lid: body["name"]
        for lid, body in resources["aws_organizations_organizational_unit"].items()
    }
    policies = resources["aws_organizations_policy"]
    attached: dict[str, list[tuple[str, list[dict[str, Any]]]]] = {}
    for body in resources["aws_organizations_policy_attachment"].values():
        policy = policies[body["policy_id"].split(".")[1]]
        unit = units[body["target_id"].split(".")[1]]
        if policy["type"] == "SERVICE_CONTROL_POLICY":
            content = json.loads(policy["content"])
            attached.setdefault(unit, []).append((policy["name"], content["Statement"]))
    return attached


def sids_on(stack: dict[str, Any]) -> dict[str, set[str]]:
    return {
        unit: {s["Sid"] for _, statements in policies for s in statements}
        for unit, policies in scps_on(stack).items()
    }


@pytest.fixture(scope="module")
def reference_with_guardrails() -> dict[str, Any]:
    """The reference with one statement for every unit and one for acc and prd only."""
    config = config_of(
        reference_data(),
        {"sid": "DenyBillingChanges", "actions": ["aws-portal:Modify*"]},
        {**HARMLESS, "units": ["acc", "prd"]},
    )
    return organization_stack(config)


def test_a_statement_for_every_unit_reaches_every_unit(
    reference_with_guardrails: dict[str, Any],
) -> None:
    sids = sids_on(reference_with_guardrails)
    assert len(sids) == 6  # nonprod, dev, acc, prd, tooling, security
    assert all("DenyBillingChanges" in found for found in sids.values()), sids


def test_a_statement_for_acc_and_prd_reaches_only_them(
    reference_with_guardrails: dict[str, Any],
) -> None:
    reached = {
        unit
        for unit, found in sids_on(reference_with_guardrails).items()
        if "DenyReservedInstances" in found
    }
    assert reached == {"acme-ml-acc", "acme-ml-prd"}


def test_acc_and_prd_keep_five_scps_each_within_the_size_limit(
    reference_with_guardrails: dict[str, Any],
) -> None:
    """Packed into the platform's policies: no sixth policy, none over 5,120 characters."""
    for unit, policies in scps_on(reference_with_guardrails).items():
        assert len(policies) + 1 <= 5, unit  # + FullAWSAccess
    resources = reference_with_guardrails["resource"]["aws_organizations_policy"].values()
    assert all(len(p["content"]) <= 5120 for p in resources)
    images = [p for p in resources if p["name"].endswith("images-only-from-the-platform-registry")]
    assert "Company guardrails: DenyReservedInstances." in images[0]["description"]


def test_the_reference_without_company_guardrails_has_none(
    reference_stacks: dict[str, Any],
) -> None:
    """The negative control of the tests above: the same units carry no such statement."""
    assert not any(
        {"DenyBillingChanges", "DenyReservedInstances"} & found
        for found in sids_on(reference_stacks["organization"]).values()
    )


def test_a_unit_with_a_free_slot_gets_a_policy_of_the_companys_own() -> None:
    """Too large for dev-stays-out-of-acc-prd's room, dev has a fourth slot: a new policy."""
    big = {"sid": "Big", "actions": [f"ec2:Action{i:04d}" for i in range(250)], "units": ["dev"]}
    stack = organization_stack(config_of(reference_data(), big, {**big, "sid": "Big2"}))
    dev = dict(scps_on(stack)["acme-ml-dev"])
    assert "acme-ml-company-guardrails-dev" in dev
    assert len(dev) + 1 == 5
    found = {s["Sid"] for statements in dev.values() for s in statements}
    assert {"Big", "Big2"} <= found
    assert all("Big" not in str(p) for u, p in scps_on(stack).items() if u != "acme-ml-dev")


def test_a_statement_that_does_not_fit_says_where_and_by_how_much() -> None:
    """acc and prd carry 5 of 5 SCPs; the closest policy that may carry an acc/prd statement
    has 4,902 characters left (218 of 5,120 used), the statement takes 4,986: 84 over."""
    big = {"sid": "Big", "actions": [f"ec2:Action{i:04d}" for i in range(290)]}
    with pytest.raises(CompanyGuardrailRejected) as raised:
        guardrail_catalog(config_of(reference_data(), {**big, "units": ["acc", "prd"]}))
    message = str(raised.value)
    assert "organization.company_guardrails[0] (Big) does not fit" in message
    for unit in ("acc", "prd"):
        assert (
            f"the {unit} unit carries 5 of 5 SCPs; the closest, "
            "acme-ml-images-only-from-the-platform-registry, has 4902 characters left for "
            "4986: 84 characters over"
        ) in message
    # 10 actions fewer fit (the negative control)
    fewer = {**big, "actions": big["actions"][:280], "units": ["acc", "prd"]}
    assert guardrail_catalog(config_of(reference_data(), fewer))


def test_a_statement_for_prd_alone_is_limited_to_the_prd_account() -> None:
    """prd has no free slot and every policy on it is attached to other units too: the
    statement joins one of its access guardrails, limited to prd's principals."""
    stack = organization_stack(config_of(reference_data(), {**HARMLESS, "units": ["prd"]}))
    carried = [
        (unit, statement)
        for unit, policies in scps_on(stack).items()
        for _, statements in policies
        for statement in statements
        if statement["Sid"] == "DenyReservedInstances"
    ]
    assert {unit for unit, _ in carried} >= {"acme-ml-prd"}
    for _, statement in carried:
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "500000000005"}}
    assert all(len(policies) + 1 <= 5 for policies in scps_on(stack).values())


def test_a_statement_naming_the_principal_account_itself_is_not_narrowed() -> None:
    """Its own aws:PrincipalAccount values and the unit's would merge into one list."""
    own = {"StringEquals": {"aws:PrincipalAccount": ["400000000004"]}}
    with pytest.raises(CompanyGuardrailRejected, match="cannot be limited to the unit's accounts"):
        guardrail_catalog(
            config_of(reference_data(), {**HARMLESS, "units": ["prd"], "conditions": own})
        )


def test_a_statement_larger_than_a_policy_is_rejected_on_its_own() -> None:
    big = {"sid": "Huge", "actions": [f"ec2:Action{i:04d}" for i in range(300)]}
    with pytest.raises(
        CompanyGuardrailRejected, match=r"5195 characters .* over the limit of 5120 by 75"
    ):
        guardrail_catalog(config_of(reference_data(), big))


def test_a_sid_of_the_platforms_own_is_rejected() -> None:
    with pytest.raises(CompanyGuardrailRejected, match="DenyOtherRegions is already used"):
        guardrail_catalog(config_of(minimal(), {**HARMLESS, "sid": "DenyOtherRegions"}))


def test_units_nest_under_the_configured_parent() -> None:
    data = minimal()
    data["organization"]["parent_ou_id"] = "ou-ab12-cd34ef56"  # type: ignore[index]
    config = config_of(data)
    units = organization_stack(config)["resource"]["aws_organizations_organizational_unit"]
    assert {u["parent_id"] for u in units.values()} == {"ou-ab12-cd34ef56"}
    root = organization_stack(config_of(minimal()))["resource"][
        "aws_organizations_organizational_unit"
    ]
    (parent,) = {u["parent_id"] for u in root.values()}
    assert parent.startswith("${data.aws_organizations_organization.root_organization")
    assert parent.endswith(".roots.0.id}")


UNITS = ("nonprod", "dev", "acc", "prd", "tooling", "security")


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=120),
            st.lists(st.sampled_from(UNITS), unique=True, max_size=4),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_every_statement_reaches_exactly_its_units_within_the_limits(
    statements: list[tuple[int, list[str]]],
) -> None:
    """Packed or refused, never wrong: each unit carries at most 4 SCPs besides
    FullAWSAccess, none over 5,120 characters, and each statement applies to the principals
    of exactly the units it names (a copy on a policy shared with other units is limited
    to its units' accounts)."""
    guardrails = [
        {"sid": f"Company{i}", "actions": [f"ec2:Action{a:04d}" for a in range(n)], "units": u}
        for i, (n, u) in enumerate(statements)
    ]
    config = config_of(reference_data(), *guardrails)
    try:
        catalog = guardrail_catalog(config)
    except CompanyGuardrailRejected as error:
        assert "does not fit" in str(error) or "over the limit" in str(error)
        return
    accounts = {
        "nonprod": {"200000000002"},
        "dev": {"300000000003"},
        "acc": {"400000000004"},
        "prd": {"500000000005"},
        "tooling": {config.tooling_account_id},
        "security": {
            config.organization.security_accounts.log_archive.account_id,  # type: ignore[union-attr]
            config.organization.security_accounts.security_tooling.account_id,  # type: ignore[union-attr]
        },
    }
    specs = [
        g
        for g in catalog.common + catalog.access + catalog.security + catalog.company
        if g.policy_type == "SERVICE_CONTROL_POLICY"
    ]
    for unit in UNITS:
        assert sum(unit in [str(e) for e in g.environments] for g in specs) <= 4, unit
    assert all(g.size <= 5120 for g in specs)
    for guardrail in guardrails:
        named = set(guardrail["units"] or UNITS)
        reached: set[str] = set()
        for spec in specs:
            for statement in spec.document.statements:
                if statement.sid != guardrail["sid"]:
                    continue
                limited = {
                    a
                    for c in statement.conditions
                    if c.key == "aws:PrincipalAccount"
                    for a in c.values
                }
                for unit in (str(e) for e in spec.environments):
                    if not limited or accounts[unit] <= limited:
                        reached.add(unit)
                    else:
                        assert not accounts[unit] & limited
        assert reached == named, guardrail["sid"]


def test_nested_units_get_security_hub_at_their_parent_not_the_root() -> None:
    """Nested in an existing landing zone, the Security Hub configuration policy reaches the
    platform's units (their parent), not every account of the organization; the coverage
    row follows the target, and fails when the policy is put back on the root."""
    from ndap_infra.proofs.coverage import member_coverage

    data = reference_data()
    data["organization"]["parent_ou_id"] = "ou-ab12-cd34ef56"
    config = config_of(data)
    stacks = build_platform(App(outdir="/tmp/ndap-test-unused"), config)
    synthesized = {name: json.loads(CdktfTesting.synth(s)) for name, s in stacks.items()}
    tooling = synthesized["security-tooling"]["resource"]
    (association,) = tooling["aws_securityhub_configuration_policy_association"].values()
    assert association["target_id"] == "ou-ab12-cd34ef56"
    hub_rows = [r for r in member_coverage(config, synthesized) if r.service == "Security Hub"]
    assert hub_rows and all(r.ok for r in hub_rows)
    assert all("parent unit ou-ab12-cd34ef56" in r.how for r in hub_rows)
    association["target_id"] = "${data.aws_organizations_organization.x.roots.0.id}"
    assert not any(
        r.ok for r in member_coverage(config, synthesized) if r.service == "Security Hub"
    )
