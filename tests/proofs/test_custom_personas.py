"""Custom personas in the synthesized platform (#20 item 4): their roles and permission
sets exist, the access proof decides their cells, a data-scientist-like one is held by
the same guardrails as data scientists (by tag and by role name), and a matrix that slips
past validation fails the proof."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.config.enums import CustomPersona, Environment, Persona
from ndap_infra.config.load import validate_data
from ndap_infra.config.model import NdapConfig
from ndap_infra.evaluator import NamedPolicy, Principal, Request, Resource, evaluate
from ndap_infra.names.access import PERSONA_TAG
from ndap_infra.proofs.access import (
    LAYERS,
    evaluate_cell,
    negative_controls,
    prove,
)
from ndap_infra.proofs.access_model import ADMINISTRATOR, build_model
from ndap_infra.proofs.principals import base_context, reachable_principals
from ndap_infra.proofs.suite import prove_access
from ndap_infra.review.explain import explain_access
from ndap_infra.stacks.synthesis import synthesize
from tests.helpers import minimal, reference_data, resources

RESEARCH = CustomPersona("research-scientist", Persona.DATA_SCIENTIST)
ANALYST = CustomPersona("analyst", Persona.BUSINESS_USER)
CUSTOM = [
    {
        "name": "research-scientist",
        "like": "data-scientist",
        "description": "Explores new model families in dev.",
        "access": {"dev": "full"},
    },
    {
        "name": "analyst",
        "like": "business-user",
        "description": "Reads reports in acc and prd.",
        "access": {"dev": "read-only", "acc": "uat", "prd": "read-only"},
    },
]
GROUPS = {p.value: f"g-{p.value}" for p in Persona if p is not Persona.DEPLOYER}


def custom_data(source: str = "iam-roles") -> dict[str, Any]:
    data: dict[str, Any] = minimal()
    data["custom_personas"] = copy.deepcopy(CUSTOM)
    if source != "iam-roles":
        data["identity"] = {
            "source": source,
            "identity_center": {
                "instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
                "groups": {**GROUPS, "research-scientist": "g-rs", "analyst": "g-an"},
            },
        }
    return data


def valid(data: dict[str, Any]) -> NdapConfig:
    config, issues = validate_data(data)
    assert config is not None, [i.render() for i in issues]
    return config


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> tuple[NdapConfig, Any, Any]:
    config = valid(custom_data())
    synthesis = synthesize(config, tmp_path_factory.mktemp("custom") / "cdktf.out")
    return config, synthesis.stack_json(), prove_access(config, synthesis)


def test_the_proof_decides_every_cell_of_the_custom_personas(custom: Any) -> None:
    _, _, proof = custom
    assert proof.ok
    personas = {c.persona for c in proof.cells}
    assert {RESEARCH, ANALYST} <= personas
    allowed = {(c.persona, c.environment, c.action) for c in proof.cells if c.allowed}
    research = {(e, a) for p, e, a in allowed if p == RESEARCH}
    assert research and {e for e, _ in research} == {Environment.DEV}
    assert (Environment.DEV, "create-role-without-boundary") not in research
    analyst = {(e, a) for p, e, a in allowed if p == ANALYST}
    assert (Environment.ACC, "invoke-endpoint") in analyst
    assert (Environment.PRD, "read-reports") in analyst
    assert not {a for e, a in analyst if e is not Environment.DEV} & {
        "write-working-data",
        "create-endpoint",
    }


def test_a_data_scientist_like_role_carries_the_boundary_and_the_guardrails_name_it(
    custom: Any,
) -> None:
    _, stacks, _ = custom
    roles = resources(stacks["env-dev"], "aws_iam_role")
    mine = [r for r in roles.values() if r["name"] == "acme-ml-research-scientist"]
    assert len(mine) == 1 and mine[0]["permissions_boundary"]
    assert mine[0]["tags"] == {PERSONA_TAG: "research-scientist"}
    boundaries = resources(stacks["env-dev"], "aws_iam_policy")
    assert [b["name"] for b in boundaries.values()].count("acme-ml-data-scientist-boundary") == 1
    assert not [
        r
        for r in resources(stacks["env-acc"], "aws_iam_role").values()
        if "research-scientist" in r["name"]
    ]
    analyst = [
        r
        for r in resources(stacks["env-acc"], "aws_iam_role").values()
        if r["name"] == "acme-ml-analyst"
    ]
    assert len(analyst) == 1 and "permissions_boundary" not in analyst[0]


def _acc_admin(config: NdapConfig, name: str, tags: dict[str, str]) -> Principal:
    acc = config.account_id(Environment.ACC)
    arn = f"arn:aws:iam::{acc}:role/{name}"
    return Principal(
        arn=arn,
        account_id=acc,
        kind="role",
        role_arn=arn,
        identity_policies=(NamedPolicy("hypothetical/admin.json", ADMINISTRATOR),),
        tags=tags,
    )


@pytest.mark.parametrize(
    ("name", "tags", "denied"),
    [
        ("copy-of-research-scientist", {}, True),  # by name, untagged
        ("helper", {PERSONA_TAG: "research-scientist"}, True),  # by tag, neutral name
        ("helper", {}, False),  # negative control: neither, and the same request passes
        ("helper", {PERSONA_TAG: "analyst"}, False),
    ],
)
def test_the_guardrails_catch_a_research_scientist_by_name_or_tag_in_acc(
    custom: Any, name: str, tags: dict[str, str], denied: bool
) -> None:
    config, stacks, _ = custom
    model = build_model(config, stacks)
    acc = config.account_id(Environment.ACC)
    principal = _acc_admin(config, name, tags)
    resource = Resource(f"arn:aws:sagemaker:eu-west-1:{acc}:endpoint/probe", acc)
    request = Request(principal, "sagemaker:CreateEndpoint", resource, base_context(config))
    decision = evaluate(request, model.organization)
    assert decision.allowed is not denied


def test_a_matrix_that_slipped_past_validation_fails_the_proof(tmp_path: Path, custom: Any) -> None:
    """Negative control: the same research scientist given acc read-only, built without
    the rules (model_validate only). Validation rejects it; the proof fails on it too,
    with every layer (the guardrails deny what the matrix grants) and without them
    (invariant 2 forbids what the policies then allow)."""
    data = custom_data()
    data["custom_personas"][0]["access"]["acc"] = "read-only"
    assert validate_data(data)[0] is None
    bypassed = NdapConfig.model_validate(data)
    synthesis = synthesize(bypassed, tmp_path / "out")
    model = build_model(bypassed, synthesis.stack_json())
    cells = prove(model, [RESEARCH])
    failing = {(c.environment, c.action) for c in cells if not c.ok}
    assert (Environment.ACC, "read-working-data") in failing
    assert not any(c.allowed for c in cells if c.environment is Environment.ACC)
    stripped = model
    for layer in LAYERS:
        stripped = layer.remove(stripped)
    principals = reachable_principals(stripped, RESEARCH)
    cell = evaluate_cell(stripped, principals, RESEARCH, Environment.ACC, "read-working-data")
    assert cell.allowed and cell.expected and cell.forbidden and not cell.ok
    # The valid configuration's cell, stripped the same way: nothing to forbid (no role).
    _, stacks, _ = custom
    good = build_model(custom[0], stacks)
    for layer in LAYERS:
        good = layer.remove(good)
    cell = evaluate_cell(
        good, reachable_principals(good, RESEARCH), RESEARCH, Environment.ACC, "read-working-data"
    )
    assert not cell.allowed and cell.ok


def test_explain_answers_a_custom_persona_cell(custom: Any) -> None:
    config, stacks, _ = custom
    model = build_model(config, stacks)
    answer = explain_access(model, ["research-scientist", "acc", "read-working-data"])
    assert answer.holds is False and answer.expected is False
    assert "research-scientist cannot read-working-data in acc" in answer.verdict
    answer = explain_access(model, ["analyst", "acc", "invoke-endpoint"])
    assert answer.holds is True and answer.as_expected


@pytest.mark.parametrize("source", ["identity-center", "both"])
def test_identity_center_permission_sets_of_custom_personas_are_proved(
    source: str, tmp_path: Path
) -> None:
    config = valid(custom_data(source))
    synthesis = synthesize(config, tmp_path / "out")
    stacks = synthesis.stack_json()
    org = stacks["organization"]["resource"]
    names = {p["name"] for p in org["aws_ssoadmin_permission_set"].values()}
    assert {"acme-ml-research-scientist-dev", "acme-ml-analyst-acc"} <= names
    assert not [n for n in names if "research-scientist" in n and not n.endswith("-dev")]
    assignments = org["aws_ssoadmin_account_assignment"].values()
    rs = [a for a in assignments if a["principal_id"] == "g-rs"]
    assert {a["target_id"] for a in rs} == {config.account_id(Environment.DEV)}
    assert len(org["aws_ssoadmin_permissions_boundary_attachment"]) == 2  # ds, rs in dev
    dev_roles = resources(stacks["env-dev"], "aws_iam_role").values()
    assert any(r["name"] == "acme-ml-research-scientist" for r in dev_roles) is (source == "both")
    proof = prove_access(config, synthesis)
    assert [c for c in proof.cells if not c.ok] == []
    assert {c.persona for c in proof.cells} >= {RESEARCH, ANALYST}
    assert all(r.denied_with_all_layers for r in negative_controls(proof.model))


def test_the_pipeline_proofs_cover_custom_personas_on_the_reference(tmp_path: Path) -> None:
    """On the reference platform (tooling account, projects, feature pipelines, the
    platform's own pipeline): every proof holds with the custom personas, and they can do
    nothing to any pipeline (no role in the tooling account)."""
    data = reference_data()
    data["custom_personas"] = copy.deepcopy(CUSTOM)
    config = valid(data)
    proof = prove_access(config, synthesize(config, tmp_path / "out"))
    assert proof.ok
    assert proof.pipelines is not None and proof.platform is not None
    for who in ("research-scientist", "analyst"):
        pipeline = [c for c in proof.pipelines.cells if c.who == who]
        platform = [c for c in proof.platform.cells if c.who == who]
        assert pipeline and not any(c.allowed or c.expected for c in pipeline)
        assert platform and not any(c.allowed or c.expected for c in platform)
