"""Placement as synthesized (#21): which SCPs and RCPs apply to an account is read from
the synthesized organization stack (account resources, their parent unit, the import
that names their id), never from the configuration's intent."""

from __future__ import annotations

from typing import Any

import pytest

from ndap_infra.config import Environment, Persona
from ndap_infra.config.load import validate_data
from ndap_infra.proofs.access import prove
from ndap_infra.proofs.access_model import ROOT_LEVEL, build_model, ou_level, placement
from ndap_infra.stacks.synthesis import synthesize
from tests.helpers import reference_data


@pytest.fixture(scope="module")
def unplaced(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The reference platform with dev adopted without an e-mail: never moved into its
    unit. Validation refuses such a configuration (adopted_accounts_are_placed); the proof
    must not credit the unit either way, so the configuration is built past validation."""
    data = reference_data()
    config, issues = validate_data(data)
    assert config is not None, issues
    del data["environments"]["dev"]["email"]
    assert validate_data(data)[0] is None, "validation refuses it"
    environments = config.environments.model_copy(
        update={"dev": config.environments.dev.model_copy(update={"email": None})}
    )
    config = config.model_copy(update={"environments": environments})
    synthesis = synthesize(config, tmp_path_factory.mktemp("unplaced") / "cdktf.out")
    stacks = synthesis.stack_json()
    return build_model(config, stacks), stacks["organization"]


def test_the_reference_accounts_are_placed_in_their_units(reference_proof: Any) -> None:
    model = reference_proof.model
    for env in model.config.enabled_environments():
        account = model.config.account_id(env)
        assert model.organization.path(account) == (ROOT_LEVEL, ou_level(env), account)


def test_an_unplaced_account_gets_no_unit_guardrail(unplaced: Any, reference_stacks: Any) -> None:
    model, org_stack = unplaced
    dev = model.config.account_id(Environment.DEV)
    assert dev not in placement(org_stack)
    assert placement(reference_stacks["organization"])[dev] == Environment.DEV.value
    organization = model.organization
    assert organization.path(dev) == (ROOT_LEVEL, dev)
    credited = [
        p.name for level in organization.path(dev) for p in organization.scps.get(level, ())
    ]
    assert credited == []
    assert any(f"account {dev} is not placed" in note for note in model.notes)
    # The other accounts keep their units.
    prd = model.config.account_id(Environment.PRD)
    assert organization.path(prd) == (ROOT_LEVEL, ou_level(Environment.PRD), prd)


def test_the_proof_fails_where_only_the_unit_guardrail_held(unplaced: Any) -> None:
    """The dev unit's SCPs (protect-baseline, organization-integrity) are what stop these:
    uncredited, the access proof reports them, so `ndap build` fails. The data stores'
    configuration no longer depends on the unit: their own bucket and key policies hold it
    (#21 part B)."""
    cells = prove(unplaced[0], (Persona.DATA_SCIENTIST, Persona.ML_ENGINEER))
    wrong = {(c.persona, c.environment, c.action) for c in cells if not c.ok}
    assert (Persona.ML_ENGINEER, Environment.DEV, "stop-trail") in wrong
    assert (Persona.DATA_SCIENTIST, Environment.DEV, "delete-data-bucket") not in wrong
    assert (Persona.DATA_SCIENTIST, Environment.DEV, "repoint-data-key-alias") not in wrong
    # Data scientists still reach nothing in acc or prd (boundary, RCPs, resource policies).
    assert not [
        c
        for c in cells
        if c.persona is Persona.DATA_SCIENTIST
        and c.environment in (Environment.ACC, Environment.PRD)
        and c.allowed
    ]
