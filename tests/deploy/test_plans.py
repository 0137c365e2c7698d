"""The plan summaries `ndap deploy` shows before asking, and the manifest of saved plans.

``tests/fixtures/plans/terraform-data-changes.json`` is ``terraform show -json`` (Terraform
1.11) of a real plan over ``terraform_data`` resources: one created, one updated, one
destroyed, one replaced (``triggers_replace`` changed) and an output changed. The drift
fixtures beside it are real plans of env-dev (one clean, one with drift)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ndap_infra.deploy.plans import (
    PlansRefused,
    check_manifest,
    plan_file,
    render_summaries,
    summarize,
    write_manifest,
)

PLANS = Path(__file__).parents[1] / "fixtures" / "plans"


def recorded(name: str) -> dict[str, object]:
    return dict(json.loads((PLANS / name).read_text()))


def test_counts_follow_terraform_and_name_what_is_destroyed_or_replaced() -> None:
    summary = summarize("demo", recorded("terraform-data-changes.json"))
    # Terraform printed "Plan: 2 to add, 1 to change, 2 to destroy." for this plan
    assert (summary.add, summary.change, summary.destroy) == (2, 1, 2)
    assert summary.destroyed == ("terraform_data.removed",)
    assert summary.replaced == ("terraform_data.replaced",)
    assert summary.lines() == [
        "demo: 2 to add, 1 to change, 2 to destroy",
        "    DESTROY terraform_data.removed",
        "    REPLACE terraform_data.replaced",
    ]
    assert not summary.empty


def test_a_clean_plan_is_no_changes() -> None:
    summary = summarize("env-dev", recorded("env-dev-clean.json"))
    assert summary.empty and summary.lines() == ["env-dev: no changes"]


def test_an_update_only_plan_names_no_address() -> None:
    document = recorded("terraform-data-changes.json")
    changes = document["resource_changes"]
    assert isinstance(changes, list)
    document["resource_changes"] = [c for c in changes if c["change"]["actions"] == ["update"]]
    summary = summarize("demo", document)
    assert summary.lines() == ["demo: 0 to add, 1 to change, 0 to destroy"]


def test_only_outputs_changing_is_still_a_change() -> None:
    document = recorded("terraform-data-changes.json")
    document["resource_changes"] = []
    summary = summarize("demo", document)
    assert not summary.empty
    assert summary.counts() == "0 to add, 0 to change, 0 to destroy (1 output(s) change)"


@given(st.integers(min_value=0, max_value=60))
def test_long_destroy_lists_are_cut_on_screen_but_whole_in_the_file(count: int) -> None:
    document = {
        "resource_changes": [
            {"address": f"aws_s3_bucket.b{i}", "mode": "managed",
             "change": {"actions": ["delete"]}}
            for i in range(count)
        ]
    }  # fmt: skip
    summary = summarize("env-prd", document)
    assert summary.destroy == count
    screen = summary.lines()
    assert sum(line.startswith("    DESTROY") for line in screen) == min(count, 20)
    if count > 20:
        assert screen[-1] == f"    ... and {count - 20} more to destroy"
    text = render_summaries([summary], limit=None)
    assert text.count("DESTROY") == count
    assert text.startswith(f"1 stack(s): 0 to add, 0 to change, {count} to destroy")


def _saved(tmp_path: Path, stacks: dict[str, str]) -> Path:
    for stack in stacks:
        plan_file(tmp_path, stack).write_bytes(b"plan")
    write_manifest(tmp_path, "config-a", stacks, "aws", {s: [f"{s}: no changes"] for s in stacks})
    return tmp_path


def test_saved_plans_apply_only_to_what_they_were_made_from(tmp_path: Path) -> None:
    stacks = {"organization": "h1", "tooling": "h2"}
    saved = _saved(tmp_path, stacks)
    assert check_manifest(saved, "config-a", stacks, "aws") == ["organization", "tooling"]
    refusals = {
        "another configuration": ("config-b", stacks, "aws"),
        "for deploy.target aws, not local": ("config-a", stacks, "local"),
        "--stacks": ("config-a", {"organization": "h1"}, "aws"),
        "plan again": ("config-a", {"organization": "h1", "tooling": "changed"}, "aws"),
    }
    for reason, (configuration, wanted, target) in refusals.items():
        with pytest.raises(PlansRefused, match=reason):
            check_manifest(saved, configuration, wanted, target)
    plan_file(saved, "tooling").unlink()
    with pytest.raises(PlansRefused, match="no saved plan for tooling"):
        check_manifest(saved, "config-a", stacks, "aws")


def test_a_directory_without_a_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlansRefused, match="--plan-only"):
        check_manifest(tmp_path, "config-a", {"organization": "h1"}, "aws")
