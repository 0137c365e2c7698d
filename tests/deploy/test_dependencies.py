"""``ndap deploy --stacks`` and the stacks the selected ones depend on. GIVEN the reference
synthesis's declared order, WHEN a selection leaves out a stack a selected one needs, THEN
the deploy goes on only if that stack was applied before, and otherwise stops before
anything is applied, naming it (on AWS the selected stack would fail half-way: its trust
names a role of the unapplied stack)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ndap_infra.deploy.orchestrate import missing_dependencies, unselected_dependencies


@pytest.fixture(scope="module")
def dependencies(reference_synthesis: Any) -> dict[str, list[str]]:
    return reference_synthesis.dependencies()


def test_env_dev_alone_needs_the_organization_the_archive_and_tooling(
    dependencies: dict[str, list[str]],
) -> None:
    # the log archive too: env-dev's Config delivers into it (#18)
    assert unselected_dependencies(dependencies, ["env-dev"]) == {
        "organization": ["env-dev"],
        "log-archive": ["env-dev"],
        "tooling": ["env-dev"],
    }
    # prd replicates into dev's and acc's buckets: they too must exist
    needed = unselected_dependencies(dependencies, ["env-prd"])
    assert {"env-dev", "env-acc", "tooling", "organization"} <= set(needed)
    assert unselected_dependencies(dependencies, list(dependencies)) == {}
    assert unselected_dependencies(dependencies, ["organization"]) == {}


def test_an_unapplied_dependency_stops_the_deploy_and_an_applied_one_is_said(
    dependencies: dict[str, list[str]],
) -> None:
    needed = unselected_dependencies(dependencies, ["env-dev"])
    state = {"organization": 40, "log-archive": 19, "tooling": 0}
    found, missing = missing_dependencies(needed, state.get)
    assert found == [
        "organization: not selected; applied before (40 resources in its state), "
        "as env-dev need(s)",
        "log-archive: not selected; applied before (19 resources in its state), as env-dev need(s)",
    ]
    assert missing == [
        "env-dev depend(s) on tooling, which is not selected and has not been applied (its "
        "state holds no resources): add --stacks tooling, or give no --stacks"
    ]
    # negative control: once tooling is applied, nothing is missing
    state["tooling"] = 94
    assert missing_dependencies(needed, state.get)[1] == []
    # a state that cannot be read is not taken for an applied one
    assert "cannot be read" in missing_dependencies(needed, {}.get)[1][0]


@given(st.data())
def test_every_needed_stack_is_a_real_unselected_ancestor(data: st.DataObject) -> None:
    names = [f"s{i}" for i in range(6)]
    graph = {
        name: data.draw(st.lists(st.sampled_from(names[:i]), unique=True, max_size=3)) if i else []
        for i, name in enumerate(names)
    }
    selected = data.draw(st.lists(st.sampled_from(names), unique=True))
    needed = unselected_dependencies(graph, selected)

    def ancestors(stack: str) -> set[str]:
        found: set[str] = set()
        for parent in graph[stack]:
            found |= {parent} | ancestors(parent)
        return found

    expected = {a for s in selected for a in ancestors(s)} - set(selected)
    assert set(needed) == expected
    for stack, dependents in needed.items():
        assert all(stack in ancestors(d) for d in dependents)
