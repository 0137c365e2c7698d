"""The scaffold's "working in dev" guide names what the platform creates.

GIVEN configurations that differ in identity source, data sharing mode, persona matrix
and account creation, WHEN a project's scaffold is generated, THEN its
``docs/working-in-dev.md`` names the roles, permission sets, boundary and buckets the
platform's own layers derive from that configuration, and nothing of the other choice."""

from __future__ import annotations

from typing import Any

import pytest

from ndap_infra.bootstrap.scaffold import scaffold_files
from ndap_infra.bootstrap.working_in_dev import GUIDE_PATH
from ndap_infra.config.enums import Environment, Persona
from ndap_infra.config.load import validate_data
from ndap_infra.config.model import NdapConfig
from ndap_infra.names.access import (
    boundary_policy_arn,
    dataset_bucket_name,
    permission_set_name,
    persona_role_arn,
)
from tests.helpers import reference_data

DS, MLE = Persona.DATA_SCIENTIST, Persona.ML_ENGINEER
DEV_ACCOUNT, PRD_ACCOUNT, IDENTITY = "300000000003", "500000000005", "100000000001"
INSTANCE = "arn:aws:sso:::instance/ssoins-722378a1b2c3d4e5"
GROUPS = {p.value: f"group-{p.value}" for p in Persona if p is not Persona.DEPLOYER}


def guide_of(data: dict[str, Any]) -> tuple[NdapConfig, str]:
    config, issues = validate_data(data)
    assert config is not None, issues
    return config, scaffold_files(config, config.ml_projects[2])[GUIDE_PATH]


def section(text: str, title: str) -> str:
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_reference_guide_names_roles_boundary_and_buckets() -> None:
    config, guide = guide_of(reference_data())
    readme = scaffold_files(config, config.ml_projects[2])["README.md"]
    assert f"and where the data is: `{GUIDE_PATH}`" in readme
    signing_in = section(guide, "Signing in to dev")
    for persona in (DS, MLE):
        arn = persona_role_arn("acme-ml", persona, DEV_ACCOUNT)
        assert f"assume the role `{arn}` from the identity account `{IDENTITY}`, with MFA" in (
            signing_in
        )
    assert "permission set" not in signing_in and "aws configure sso" not in signing_in
    boundary = boundary_policy_arn("acme-ml", DEV_ACCOUNT)
    assert f"--permissions-boundary {boundary}" in section(guide, "The permission boundary")
    data = section(guide, "Where the data is")
    replica = dataset_bucket_name("acme-ml", Environment.DEV, DEV_ACCOUNT)
    for dataset in config.data.datasets:
        assert f"`s3://{replica}/{dataset.name}/`" in data
    assert "**read-only replica**" in data and f"s3://{replica}/integration-subset/" in data
    assert "s3://acme-ml-dev-data-300000000003/projects/demand-forecast/input/" in data
    assert "starts retraining in dev" in data  # the project retrains ad hoc
    limits = section(guide, "What you cannot do")
    assert "**data-scientist**: no access at all to nonprod, acc, prd." in limits
    assert "**ml-engineer**: no access at all to prd; nonprod: full, acc: read-only" in limits


@pytest.mark.parametrize("source", ["identity-center", "both"])
def test_identity_center_names_the_permission_set(source: str) -> None:
    data = reference_data()
    data["identity"] = {
        "source": source,
        "identity_center": {"instance_arn": INSTANCE, "groups": GROUPS},
    }
    _, guide = guide_of(data)
    signing_in = section(guide, "Signing in to dev")
    name = permission_set_name("acme-ml", DS, Environment.DEV)
    assert (
        f"choose account `{DEV_ACCOUNT}` and the permission set `{name}` "
        f"(your group `group-data-scientist`, sessions of 4h)"
    ) in signing_in
    assert "aws configure sso" in signing_in
    roles = persona_role_arn("acme-ml", DS, DEV_ACCOUNT) in signing_in
    assert roles is (source == "both")  # no persona roles with Identity Center only


def test_cross_account_reads_name_the_prd_datasets_not_a_replica() -> None:
    data = reference_data()
    data["data"]["sharing_mode"] = "cross-account-read"
    data["data"].pop("integration_subset", None)
    config, guide = guide_of(data)
    where = section(guide, "Where the data is")
    source = dataset_bucket_name("acme-ml", Environment.PRD, PRD_ACCOUNT)
    for dataset in config.data.datasets:
        assert f"`s3://{source}/{dataset.name}/`" in where
    assert "replica" not in where and "read directly in prd, **read-only**" in where


def test_the_persona_matrix_decides_what_the_team_cannot_do() -> None:
    data = reference_data()
    data["personas"]["ml-engineer"] = {"acc": "none"}
    _, guide = guide_of(data)
    limits = section(guide, "What you cannot do")
    assert "**ml-engineer**: no access at all to acc, prd; nonprod: full" in limits


def test_an_account_still_to_create_is_named_as_such() -> None:
    data = reference_data()
    dev = data["environments"]["dev"]
    dev.pop("account_id")
    dev["email"] = "aws-dev@acme.example"
    config, guide = guide_of(data)
    assert "arn:aws:iam::<dev account id>:policy/acme-ml-data-scientist-boundary" in guide
    assert "s3://acme-ml-dev-data-<dev account id>/projects/demand-forecast/" in guide
    assert config.environments.dev.account_id is None
    assert not any(ch.isdigit() for ch in guide.split("dev is account `")[1].split("`")[0])


def test_without_mfa_the_guide_asks_for_none() -> None:
    data = reference_data()
    data["identity"]["require_mfa"] = False
    _, guide = guide_of(data)
    signing_in = section(guide, "Signing in to dev")
    arn = persona_role_arn("acme-ml", DS, DEV_ACCOUNT)
    assert f"assume the role `{arn}` from the identity account `{IDENTITY}`." in signing_in
    assert "with MFA" not in signing_in and "mfa_serial" not in signing_in
