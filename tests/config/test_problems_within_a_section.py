"""Every problem at once within a section too (#15, item 4): a structurally broken item of
a list section does not hide the rules on its other items, issues keep the file's item
indices, and a rule that looks names up in a section with a broken item stays quiet rather
than call a broken declaration undeclared."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ndap_infra.config import load, validate_data
from tests.helpers import issues_of, reference_data


def broken_first_project() -> dict[str, Any]:
    """The issue's example: an unknown kind on one project, a duplicate name and a prd
    stage without approval on the others."""
    data = reference_data()
    data["ml_projects"][0]["kind"] = "streaming"
    data["ml_projects"][2]["name"] = data["ml_projects"][1]["name"]
    data["ml_projects"][1]["pipeline"] = {"prd_approval": False}
    return data


def test_a_broken_item_does_not_hide_the_rules_on_the_others() -> None:
    found = issues_of(broken_first_project())
    assert found["ml_projects[0].kind"] == "Input should be 'batch' or 'realtime'"
    # indices are the file's (the rule saw the valid items only: [1] and [2] as 0 and 1)
    assert found["ml_projects[2].name"].startswith("is already used by ml_projects[1]:")
    assert "manual approval" in found["ml_projects[1].pipeline.prd_approval"]


def test_without_item_by_item_validation_they_were_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Negative control: as before, a broken item invalidates the whole section."""
    monkeypatch.setattr(load, "_valid_items", lambda annotation, raw: None)
    found = issues_of(broken_first_project())
    assert set(found) == {"ml_projects[0].kind"}


def test_a_lookup_in_a_section_with_a_broken_item_reports_nothing_false() -> None:
    data = reference_data()
    data["feature_groups"][0]["team"] = "Growth Team"  # not a slug
    found = issues_of(data)
    assert set(found) == {"feature_groups[0].team"}  # no project "uses an undeclared group"


def test_two_broken_items_and_rules_on_the_rest() -> None:
    data = reference_data()
    data["ml_projects"].append(dict(data["ml_projects"][1], name="fraud-scoring-eu"))
    data["ml_projects"][1]["kind"] = "realtime-ish"
    data["ml_projects"][2]["team"] = 7
    data["ml_projects"][3]["retraining"] = {"strategy": "periodic"}  # no schedule
    found = issues_of(data)
    assert "ml_projects[1].kind" in found and "ml_projects[2].team" in found
    assert any(path.startswith("ml_projects[3].retraining") for path in found), found


# -- any edit of a valid configuration: issues, never an exception ------------------------


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [path] + [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [path] + [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path]


PATHS = [p for p in _leaves(reference_data()) if p]
DELETE = object()
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["dev", "prd", "acc", "nonprod", "eu-west-1", "batch", "periodic"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(edits=st.lists(st.tuples(st.sampled_from(PATHS), VALUES | st.just(DELETE)), max_size=4))
def test_any_edit_of_a_valid_configuration_gives_issues_not_an_exception(
    edits: list[tuple[tuple[Any, ...], Any]],
) -> None:
    data = reference_data()
    for path, value in edits:
        node: Any = data
        try:
            for part in path[:-1]:
                node = node[part]
            if value is DELETE:
                del node[path[-1]]
            else:
                node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this place
    config, issues = validate_data(data)
    assert (config is None) == bool(issues)
    for issue in issues:
        assert issue.render()  # every issue can be shown
