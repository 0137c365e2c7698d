"""People onboarded into Identity Center (identity.identity_center.people): GIVEN people
and their personas, WHEN the platform is synthesized, THEN each is a user of the identity
store and a member of their personas' groups, and the proof reads from the synthesized
memberships and assignments that each reaches exactly their personas' permission sets;
a membership added by hand (a data scientist into the ML engineers' group) or dropped
fails it (negative controls). Validation refuses a data scientist with a second persona
that reaches acc or prd."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.config.enums import Environment, Persona
from ndap_infra.config.load import validate_data
from ndap_infra.proofs.people import prove_people
from ndap_infra.review.access_report import people_section
from ndap_infra.stacks.synthesis import synthesize
from tests.helpers import reference_data

GROUPS = {p.value: f"g-{p.value}" for p in Persona if p is not Persona.DEPLOYER}
PEOPLE = [
    {"user_name": "ana.lima", "given_name": "Ana", "family_name": "Lima",
     "email": "ana@acme.example", "personas": ["data-scientist"]},
    {"user_name": "ben.okafor", "given_name": "Ben", "family_name": "Okafor",
     "email": "ben@acme.example", "personas": ["ml-engineer", "platform-engineer"]},
]  # fmt: skip


def people_data(people: list[dict[str, Any]] = PEOPLE, store: str | None = "d-906712a1b2") -> Any:
    data = reference_data()
    center: dict[str, Any] = {
        "instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
        "groups": GROUPS,
        "people": people,
    }
    if store is not None:
        center["identity_store_id"] = store
    data["identity"] = {"source": "identity-center", "identity_center": center}
    return data


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    config, issues = validate_data(people_data())
    assert config is not None, issues
    synthesis = synthesize(config, tmp_path_factory.mktemp("people") / "out")
    return config, synthesis.stack_json()["organization"]


def test_each_person_is_a_user_and_a_member_of_their_personas_groups(
    onboarded: tuple[Any, dict[str, Any]],
) -> None:
    _, org = onboarded
    users = org["resource"]["aws_identitystore_user"]
    assert sorted(u["user_name"] for u in users.values()) == ["ana.lima", "ben.okafor"]
    ana = next(u for u in users.values() if u["user_name"] == "ana.lima")
    assert ana["identity_store_id"] == "d-906712a1b2"
    assert ana["emails"][0]["value"] == "ana@acme.example"
    memberships = org["resource"]["aws_identitystore_group_membership"].values()
    assert sorted(m["group_id"] for m in memberships) == [
        "g-data-scientist", "g-ml-engineer", "g-platform-engineer",
    ]  # fmt: skip


def test_each_person_reaches_exactly_their_personas_permission_sets(
    onboarded: tuple[Any, dict[str, Any]],
) -> None:
    config, org = onboarded
    rows = {r.user_name: r for r in prove_people(config, org)}
    assert [r.differences() for r in rows.values() if not r.ok] == []
    assert rows["ana.lima"].reached == {(Environment.DEV, "acme-ml-data-scientist-dev")}
    assert Environment.ACC in {e for e, _ in rows["ben.okafor"].reached}
    assert "| ana.lima | data-scientist | acme-ml-data-scientist-dev | yes |" in people_section(
        list(rows.values())
    )


def test_a_membership_added_or_dropped_by_hand_fails_the_proof(
    onboarded: tuple[Any, dict[str, Any]],
) -> None:
    config, org = onboarded
    added = copy.deepcopy(org)
    memberships = added["resource"]["aws_identitystore_group_membership"]
    ana = next(k for k, m in memberships.items() if m["group_id"] == "g-data-scientist")
    memberships["ana-as-engineer"] = {**memberships[ana], "group_id": "g-ml-engineer"}
    row = next(r for r in prove_people(config, added) if r.user_name == "ana.lima")
    assert not row.ok
    assert "a data-scientist-like person reaches acc" in row.differences()
    assert "reaches acme-ml-ml-engineer-acc in acc, which no persona of theirs has" in (
        row.differences()
    )
    dropped = copy.deepcopy(org)
    del dropped["resource"]["aws_identitystore_group_membership"][ana]
    row = next(r for r in prove_people(config, dropped) if r.user_name == "ana.lima")
    assert row.differences() == [
        "does not reach acme-ml-data-scientist-dev in dev, which dev grants them"
    ]


def test_a_failing_person_fails_the_access_proof(onboarded: tuple[Any, dict[str, Any]]) -> None:
    from ndap_infra.proofs.suite import AccessProof

    config, org = onboarded
    (row, *_) = prove_people(config, org)
    proof = AccessProof(model=None, cells=[], controls=[], people=(row,))  # type: ignore[arg-type]
    assert proof.ok
    assert not replace(proof, people=(replace(row, reached=frozenset()),)).ok


@pytest.mark.parametrize(
    ("people", "store", "message"),
    [
        ([{**PEOPLE[0], "personas": ["data-scientist", "ml-engineer"]}], "d-906712a1b2",
         "ana.lima would be data-scientist and ml-engineer, which reaches acc or prd"),
        ([{**PEOPLE[0], "personas": ["data-wizard"]}], "d-906712a1b2",
         "no persona of people has this name"),
        (PEOPLE, None, "people are onboarded into the instance's identity store"),
        ([PEOPLE[0], {**PEOPLE[1], "user_name": "ana.lima"}], "d-906712a1b2",
         "ana.lima is also people[0]'s"),
    ],
)  # fmt: skip
def test_validation_refuses_unsafe_onboarding(
    people: list[dict[str, Any]], store: str | None, message: str
) -> None:
    config, issues = validate_data(people_data(people, store))
    assert config is None
    assert any(message in i.message for i in issues), [i.message for i in issues]


def test_no_people_no_rows(tmp_path: Path) -> None:
    config, issues = validate_data(people_data([]))
    assert config is not None, issues
    assert prove_people(config, {}) == []
