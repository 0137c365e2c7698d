"""A more honest attacker (#21): what a data scientist creates has a neutral name and may
be a user or a service-trusted role; the data stores' configuration, deletion and key
alias are asked; the guardrail that stops those is load-bearing (removing it flips)."""

from __future__ import annotations

from typing import Any

import pytest

from ndap_infra.config import Environment, Persona
from ndap_infra.evaluator.context import RequestContext
from ndap_infra.evaluator.patterns import wildcard_match
from ndap_infra.names.access import data_scientist_name_patterns
from ndap_infra.proofs.access import (
    DATA_STORE_CHANGES,
    negative_controls,
    without_org_policy,
    without_resource_denials,
)
from ndap_infra.proofs.principals import CREATED_NAME, reachable_principals


def test_what_a_data_scientist_creates_is_reached_under_a_neutral_name(
    reference_proof: Any,
) -> None:
    reached = reachable_principals(reference_proof.model, Persona.DATA_SCIENTIST)
    arns = {p.role_arn or p.arn for _, p in reached}
    dev = reference_proof.model.config.account_id(Environment.DEV)
    assert f"arn:aws:iam::{dev}:role/{CREATED_NAME}" in arns
    assert f"arn:aws:iam::{dev}:user/{CREATED_NAME}" in arns
    assert f"arn:aws:iam::{dev}:role/service-role/{CREATED_NAME}-function" in arns
    (pattern,) = data_scientist_name_patterns([Persona.DATA_SCIENTIST.value])
    created = [a for a in arns if CREATED_NAME in a]
    # The name-based deny cannot match them: only tags and boundaries may hold.
    assert created and not any(
        wildcard_match(pattern, arn, RequestContext(), False) for arn in created
    )
    # Each still carries the boundary.
    assert all(p.permission_boundary is not None for _, p in reached if CREATED_NAME in p.arn)


@pytest.mark.parametrize("action", [*DATA_STORE_CHANGES, "delete-production-data"])
def test_nobody_but_the_platform_changes_the_dev_replica(reference_proof: Any, action: str) -> None:
    cells = [
        c for c in reference_proof.cells if c.action == action and c.environment is Environment.DEV
    ]
    assert cells and all(c.ok for c in cells)
    allowed = {c.persona for c in cells if c.allowed}
    assert allowed <= {Persona.DEPLOYER}
    if action != "delete-production-data":
        assert allowed == {Persona.DEPLOYER}


@pytest.mark.parametrize(
    "attack", ["delete-data-bucket", "change-data-lifecycle", "repoint-data-key-alias"]
)
def test_the_data_store_guardrail_is_load_bearing(reference_proof: Any, attack: str) -> None:
    """The protect-baseline SCP's data-store statements and the stores' own bucket and key
    policy statements each hold alone (#21 part B: defense in depth); without both, a data
    scientist deletes, expires or repoints the dev replica."""
    [result] = [
        r
        for r in negative_controls(reference_proof.model)
        if r.attack.action == attack and r.attack.persona is Persona.DATA_SCIENTIST
    ]
    assert result.denied_with_all_layers
    assert result.sole_layers == ()
    assert (
        "each of these alone stops it: bucket and key policy denials, SCP protect-baseline"
        in result.render()
    )
    assert result.flips_without_all


def test_the_hole_without_the_guardrail_is_a_failing_cell(reference_proof: Any) -> None:
    from ndap_infra.proofs.access import prove

    without_scp = without_org_policy("protect-baseline.json")(reference_proof.model)
    # the stores' own policies still hold them without the SCP
    held = [
        c for c in prove(without_scp, (Persona.DATA_SCIENTIST,)) if c.action in DATA_STORE_CHANGES
    ]
    assert held and all(c.ok for c in held)
    weakened = without_resource_denials(without_scp)
    cells = prove(weakened, (Persona.DATA_SCIENTIST,))
    wrong = {(c.environment, c.action) for c in cells if not c.ok}
    assert (Environment.DEV, "delete-data-bucket") in wrong
    assert (Environment.DEV, "repoint-data-key-alias") in wrong
