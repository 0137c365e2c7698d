"""Custom personas by configuration (#20 item 4): accepted within the invariants of the
built-in persona they are like, rejected with a message naming the field otherwise."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ndap_infra.config.enums import Access, CustomPersona, Environment, Persona
from ndap_infra.config.load import validate_data
from tests.helpers import issues_of, minimal

RESEARCH = {
    "name": "research-scientist",
    "like": "data-scientist",
    "description": "Explores new model families in dev.",
    "access": {"dev": "full"},
}
ANALYST = {
    "name": "analyst",
    "like": "business-user",
    "description": "Reads reports in acc and prd.",
    "access": {"dev": "read-only", "acc": "uat", "prd": "read-only"},
}


def with_custom(*personas: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = minimal()
    data["custom_personas"] = [dict(p) for p in personas]
    return data


def test_custom_personas_join_the_matrix_after_the_built_in_ones() -> None:
    config, issues = validate_data(with_custom(RESEARCH, ANALYST))
    assert config is not None, issues
    research = CustomPersona("research-scientist", Persona.DATA_SCIENTIST)
    analyst = CustomPersona("analyst", Persona.BUSINESS_USER)
    assert config.all_personas() == (*Persona, research, analyst)
    assert config.access(research, Environment.DEV) is Access.FULL
    assert config.access(research, Environment.ACC) is Access.NONE  # not given: none
    assert config.access(analyst, Environment.ACC) is Access.UAT
    assert config.data_scientist_like() == (Persona.DATA_SCIENTIST, research)
    assert config.persona_named("analyst") == analyst
    assert config.persona_named("nobody") is None


def test_a_data_scientist_like_persona_given_acc_or_prd_is_rejected() -> None:
    research = {**RESEARCH, "access": {"dev": "full", "acc": "read-only", "prd": "full"}}
    found = issues_of(with_custom(research))
    assert "breaks invariant 2" in found["custom_personas[0].access.acc"]
    assert "breaks invariant 2" in found["custom_personas[0].access.prd"]


def test_levels_are_those_of_the_persona_it_is_like() -> None:
    analyst = {**ANALYST, "access": {"dev": "full"}}
    found = issues_of(with_custom(analyst))
    assert found["custom_personas[0].access.dev"].startswith(
        "analyst (like business-user) cannot have 'full': use one of"
    )
    engineer = {"name": "ops", "like": "ml-engineer", "description": "x", "access": {"prd": "full"}}
    found = issues_of(with_custom(engineer))
    assert "breaks invariant 5" in found["custom_personas[0].access.prd"]


def test_names_must_be_new() -> None:
    twin = {**RESEARCH, "name": "data-scientist"}
    found = issues_of(with_custom(twin))
    assert "is the name of a built-in persona" in found["custom_personas[0].name"]
    found = issues_of(with_custom(ANALYST, ANALYST))
    assert "is the name of another one" in found["custom_personas[1].name"]


def test_nobody_is_like_the_deployer_or_break_glass() -> None:
    for like in ("deployer", "break-glass"):
        found = issues_of(with_custom({**ANALYST, "like": like, "access": {}}))
        assert "cannot be like the deployer" in found["custom_personas[0].like"]


def test_data_scientist_like_names_stay_apart_from_other_roles() -> None:
    """The guardrails deny roles by the name pattern *<name>*: a data-scientist-like name
    says 'scientist', and no other persona or project carries one."""
    found = issues_of(with_custom({**RESEARCH, "name": "explorer"}))
    assert "must contain 'scientist'" in found["custom_personas[0].name"]
    lead = {**ANALYST, "name": "research-scientist-lead"}
    found = issues_of(with_custom(RESEARCH, lead))
    assert "contains 'research-scientist'" in found["custom_personas[1].name"]
    data = with_custom(RESEARCH)
    data["ml_projects"] = [
        {"name": "research-scientist-x", "team": "team-a", "kind": "batch", "repository": "a/b"}
    ]
    found = issues_of(data)
    assert "contains 'research-scientist'" in found["ml_projects[0].name"]


def test_identity_center_groups_name_every_custom_persona_with_access() -> None:
    data = with_custom(RESEARCH)
    groups = {p.value: f"g-{p.value}" for p in Persona if p is not Persona.DEPLOYER}
    data["identity"] = {
        "source": "identity-center",
        "identity_center": {
            "instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
            "groups": {**groups, "stranger": "g-x"},
        },
    }
    found = issues_of(data)
    assert (
        "has access in some environment"
        in found["identity.identity_center.groups.research-scientist"]
    )
    assert "is not a persona" in found["identity.identity_center.groups.stranger"]


LEVELS = st.sampled_from(list(Access))
CELLS = st.fixed_dictionaries({}, optional={e.value: LEVELS.map(str) for e in Environment})


@settings(max_examples=60, deadline=None)
@given(
    name=st.from_regex(r"[a-z][a-z0-9-]{1,12}scientist", fullmatch=True),
    cells=CELLS,
)
def test_a_data_scientist_like_persona_is_accepted_exactly_within_the_invariants(
    name: str, cells: dict[str, str]
) -> None:
    """Accepted iff every cell is one a data scientist may have: nothing in nonprod, acc
    or prd, none/read-only/full in dev (and the name is new)."""
    data = with_custom(
        {"name": name, "like": "data-scientist", "description": "d", "access": cells}
    )
    config, issues = validate_data(data)
    allowed = {
        "nonprod": {"none"},
        "dev": {"none", "read-only", "full"},
        "acc": {"none"},
        "prd": {"none"},
    }
    fits = all(level in allowed[env] for env, level in cells.items())
    new = name not in {p.value for p in Persona}
    assert (config is not None) == (fits and new), [i.render() for i in issues]
    if config is None:
        wrong = {env for env, level in cells.items() if level not in allowed[env]}
        paths = {i.dotted_path for i in issues}
        assert {f"custom_personas[0].access.{env}" for env in wrong} <= paths
