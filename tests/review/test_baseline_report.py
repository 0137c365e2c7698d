"""policies/BASELINE.md with the security accounts (#18): GuardDuty and Security Hub are
the delegated administrator's in every member, and the report says so instead of MISSING;
without the administrator's stack the same cells are MISSING."""

from __future__ import annotations

from typing import Any

from ndap_infra.review.baseline_report import render_baseline_report

COLUMNS = ("nonprod", "dev", "acc", "prd", "tooling")


def _rows(stacks: dict[str, Any], administrator: Any) -> dict[str, str]:
    columns = {c: stacks[c if c == "tooling" else f"env-{c}"] for c in COLUMNS}
    text = render_baseline_report(list(columns), columns, {}, administrator)
    return {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if "|" in line}


def test_detection_left_to_the_administrator_is_shown_as_such(
    reference_stacks: dict[str, Any],
) -> None:
    rows = _rows(reference_stacks, reference_stacks["security-tooling"])
    guardduty = (
        "by the delegated administrator (auto-enable ALL, in 2 regions), findings every "
        "fifteen minutes"
    )
    assert rows["GuardDuty"].count(guardduty) == len(COLUMNS)
    hub = (
        "by the delegated administrator (central configuration): "
        "aws-foundational-security-best-practices/v/1.0.0; cis-aws-foundations-benchmark/v/1.4.0"
    )
    assert rows["Security Hub"].count(hub) == len(COLUMNS)
    assert "MISSING" not in rows["GuardDuty"] + rows["Security Hub"]


def test_without_the_administrator_the_cells_are_missing(
    reference_stacks: dict[str, Any], per_account_stacks: dict[str, Any]
) -> None:
    rows = _rows(reference_stacks, None)
    assert rows["GuardDuty"].count("**MISSING**") == len(COLUMNS)
    assert rows["Security Hub"].count("**MISSING**") == len(COLUMNS)
    # switched off, each account's own detector, as before
    own = _rows(per_account_stacks, None)
    assert own["GuardDuty"].count("enabled=True, findings every fifteen minutes") == len(COLUMNS)
