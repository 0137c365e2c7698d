"""The central promise, proved by evaluating the synthesized policies: data scientists
never reach acceptance or production, and each layer holds as designed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.config import Environment, Persona
from ndap_infra.config.load import validate_data
from ndap_infra.proofs.access import ACTION_NAMES, expected, prove
from ndap_infra.proofs.principals import reachable_principals
from ndap_infra.proofs.suite import prove_access
from ndap_infra.stacks.synthesis import synthesize
from tests.helpers import REFERENCE, ROOT


def test_every_decision_matches_the_model(reference_proof: Any) -> None:
    cells = reference_proof.cells
    assert len(cells) == len(Persona) * 4 * len(ACTION_NAMES)
    wrong = [
        f"{c.persona.value}/{c.environment.value}/{c.action}: "
        f"expected {c.expected}, got {c.allowed} via {c.via}"
        for c in cells
        if not c.ok
    ]
    assert wrong == []


def test_data_scientists_can_do_nothing_in_acc_or_prd(reference_proof: Any) -> None:
    for cell in reference_proof.cells:
        if cell.persona is Persona.DATA_SCIENTIST and cell.environment in (
            Environment.ACC,
            Environment.PRD,
        ):
            assert cell.allowed is not True, cell


def test_data_scientists_work_in_dev_and_read_the_replica(reference_proof: Any) -> None:
    allowed = {
        c.action
        for c in reference_proof.cells
        if c.persona is Persona.DATA_SCIENTIST and c.environment is Environment.DEV and c.allowed
    }
    assert {
        "read-production-data",
        "write-working-data",
        "create-training-job",
        "create-endpoint",
    } <= allowed
    assert "write-production-data" not in allowed, "the replica is written by replication only"
    assert "create-role-without-boundary" not in allowed


def test_data_scientist_chains_never_leave_dev(reference_proof: Any, reference_config: Any) -> None:
    dev = reference_config.account_id(Environment.DEV)
    principals = reachable_principals(reference_proof.model, Persona.DATA_SCIENTIST)
    reached = [p for _, p in principals[1:]]  # the first is the person in the identity account
    assert reached, "the data scientist reaches their dev role"
    assert {p.account_id for p in reached} == {dev}


def test_nonprod_never_reads_production_data(reference_proof: Any) -> None:
    nonprod_only = [
        c
        for c in reference_proof.cells
        if c.environment is Environment.NONPROD and c.action == "read-production-data"
    ]
    assert all(c.allowed is None for c in nonprod_only), "no production data exists in nonprod"


def test_each_layer_holds_as_designed(reference_proof: Any) -> None:
    results = {r.attack.name: r for r in reference_proof.controls}
    assert all(r.denied_with_all_layers and r.flips_without_all for r in results.values())
    boundary_only = results["data scientist creates a role without the boundary"]
    assert boundary_only.sole_layers == ("data-scientist permission boundary",)
    trust = results["data scientist assumes a prd role whose trust was loosened to dev"]
    assert {
        "data-scientist permission boundary",
        "SCP dev-stays-out-of-acc-prd (dev unit)",
        "RCP protect-acc-prd-resources (acc/prd units)",
    } <= set(trust.holding_layers)
    assert trust.sole_layers == ()  # redundant by design: no single layer is load-bearing
    data = results["data scientist reads prd data that a bucket policy mistakenly grants to dev"]
    assert "bucket and key policy denials" in data.holding_layers


def test_every_role_the_platform_makes_is_one_the_guardrails_protect(
    reference_stacks: Any, reference_config: Any
) -> None:
    """A platform role outside the protected patterns could be changed by whoever may
    change roles in its account (the drift reader was, at path /, until this test)."""
    from fnmatch import fnmatchcase

    from ndap_infra.access.boundary import platform_role_patterns

    org = reference_config.organization
    patterns = platform_role_patterns(org.name, org.account_access_role)
    unprotected = [
        f"{stack}: {body.get('path', '/')}{body['name']}"
        for stack, document in reference_stacks.items()
        for body in document.get("resource", {}).get("aws_iam_role", {}).values()
        if not any(
            fnmatchcase(f"arn:aws:iam::*:role{body.get('path', '/')}{body['name']}", pattern)
            for pattern in patterns
        )
    ]
    assert unprotected == []


def test_removing_the_dev_scp_and_boundary_and_rcp_opens_a_loosened_trust(
    reference_proof: Any,
) -> None:
    """Negative control on the full table: with the layers gone and a mistaken trust, the
    data scientist's prd cells flip."""
    from ndap_infra.proofs.access import LAYERS, loosen_prd_trust_to_dev

    model = loosen_prd_trust_to_dev(reference_proof.model)
    for layer in LAYERS:
        model = layer.remove(model)
    cells = prove(model, [Persona.DATA_SCIENTIST])
    flipped = {c.action for c in cells if c.environment is Environment.PRD and c.allowed}
    assert "read-production-data" in flipped


def cross_account_config() -> Any:
    data = json.loads(
        json.dumps(
            __import__("ruamel.yaml", fromlist=["YAML"])
            .YAML(typ="safe")
            .load(REFERENCE.read_text())
        )
    )
    data["data"]["sharing_mode"] = "cross-account-read"
    config, issues = validate_data(data)
    assert config is not None, issues
    return config


def test_cross_account_read_mode_grants_exactly_a_read(tmp_path: Path) -> None:
    config = cross_account_config()
    synthesis = synthesize(config, tmp_path / "out")
    proof = prove_access(config, synthesis)
    assert [c for c in proof.cells if not c.ok] == []
    ds_prd = {
        c.action
        for c in proof.cells
        if c.persona is Persona.DATA_SCIENTIST and c.environment is Environment.PRD and c.allowed
    }
    assert ds_prd == {"read-production-data"}
    assert (
        expected(config, Persona.DATA_SCIENTIST, Environment.PRD, "write-production-data") is False
    )


def test_explain_names_statement_and_file(reference_synthesis: Any) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ndap_infra",
            "explain",
            "data-scientist",
            "prd",
            "read-production-data",
            "-c",
            str(REFERENCE),
            "--out",
            str(reference_synthesis.out_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr
    assert "data-scientist cannot read-production-data in prd" in result.stdout
    assert (
        "NothingInProtectedAccounts in env-dev/personas/data-scientist/boundary.json (boundary)"
        in result.stdout
    )
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "ndap_infra",
            "explain",
            "wizard",
            "prd",
            "x",
            "-c",
            str(REFERENCE),
            "--out",
            str(reference_synthesis.out_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    assert bad.returncode == 2 and "unknown persona" in bad.stderr


def test_policy_too_large_is_an_error_naming_it(tmp_path: Path) -> None:
    """At scale (cross-account reads of 150 datasets) a guardrail outgrows the SCP limit:
    synthesis refuses, names the policy and its size, and writes nothing."""
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(REFERENCE.read_text())
    data["data"]["sharing_mode"] = "cross-account-read"
    data["data"]["datasets"] = [{"name": f"dataset-{i:03d}"} for i in range(150)]
    path = tmp_path / "big.yaml"
    YAML().dump(data, path)
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ndap_infra",
            "synth",
            "-c",
            str(path),
            "--out",
            str(out),
            "--policies",
            str(tmp_path / "policies"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "acme-ml-dev-stays-out-of-acc-prd is" in result.stderr
    assert "over the AWS limit of 5120" in result.stderr
    assert not out.exists() and not (tmp_path / "policies").exists()


def test_oversized_synthesized_policy_is_named(tmp_path: Path, reference_synthesis: Any) -> None:
    from ndap_infra.iam.limits import PolicyTooLarge
    from ndap_infra.stacks.synthesis import Synthesis, check_policy_sizes

    stacks = {name: tmp_path / name for name in reference_synthesis.stacks}
    for name, source in reference_synthesis.stacks.items():
        stacks[name].mkdir()
        (stacks[name] / "cdk.tf.json").write_text((source / "cdk.tf.json").read_text())
    prd = json.loads((stacks["env-prd"] / "cdk.tf.json").read_text())
    role = next(iter(prd["resource"]["aws_iam_role"].values()))
    trust = json.loads(role["assume_role_policy"])
    trust["Statement"][0]["Sid"] = "X" * 2100
    role["assume_role_policy"] = json.dumps(trust)
    (stacks["env-prd"] / "cdk.tf.json").write_text(json.dumps(prd))
    with pytest.raises(
        PolicyTooLarge, match=r"env-prd/.*\.json: role trust policy of \d+ characters, limit 2048"
    ):
        check_policy_sizes(Synthesis(tmp_path, stacks))


GROUPS = {p.value: f"g-{p.value}" for p in Persona if p is not Persona.DEPLOYER}


def identity_center_config(source: str) -> Any:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(REFERENCE.read_text())
    data["identity"] = {
        "source": source,
        "identity_center": {
            "instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
            "groups": GROUPS,
        },
    }
    config, issues = validate_data(data)
    assert config is not None, issues
    return config


@pytest.mark.parametrize("source", ["identity-center", "both"])
def test_identity_center_permission_sets_are_proved_too(source: str, tmp_path: Path) -> None:
    config = identity_center_config(source)
    synthesis = synthesize(config, tmp_path / "out")
    org = synthesis.stack_json()["organization"]["resource"]
    names = sorted(p["name"] for p in org["aws_ssoadmin_permission_set"].values())
    assert "acme-ml-data-scientist-dev" in names
    assert not [n for n in names if "data-scientist" in n and not n.endswith("-dev")]
    assignments = org["aws_ssoadmin_account_assignment"].values()
    ds = [a for a in assignments if a["principal_id"] == "g-data-scientist"]
    assert {a["target_id"] for a in ds} == {config.account_id(Environment.DEV)}
    assert len(org["aws_ssoadmin_permissions_boundary_attachment"]) == 1
    dev_roles = synthesis.stack_json()["env-dev"]["resource"].get("aws_iam_role", {})
    persona_roles = [r for r in dev_roles.values() if r.get("path") == "/ndap/personas/"]
    assert bool(persona_roles) is (source == "both")
    proof = prove_access(config, synthesis)
    assert [c for c in proof.cells if not c.ok] == []
    assert all(r.denied_with_all_layers and r.flips_without_all for r in proof.controls)


def test_identity_center_needs_its_settings() -> None:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(REFERENCE.read_text())
    data["identity"] = {"source": "identity-center"}
    _, issues = validate_data(data)
    assert any(
        i.dotted_path == "identity.identity_center" and "needs the Identity Center" in i.message
        for i in issues
    )
    data["identity"]["identity_center"] = {
        "instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
        "groups": {"ml-engineer": "g-1"},
    }
    _, issues = validate_data(data)
    assert "identity.identity_center.groups.data-scientist" in {i.dotted_path for i in issues}


@pytest.mark.scale
def test_full_table_holds_with_100_projects(tmp_path: Path) -> None:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(REFERENCE.read_text())
    data["ml_projects"] = [
        {"name": f"project-{i:03d}", "team": "t-1", "kind": "batch", "repository": f"acme/p{i}"}
        for i in range(100)
    ]
    config, issues = validate_data(data)
    assert config is not None, issues
    synthesis = synthesize(config, tmp_path / "out")
    proof = prove_access(config, synthesis)
    assert len(proof.cells) == len(Persona) * 4 * len(ACTION_NAMES)
    assert [c for c in proof.cells if not c.ok] == []
