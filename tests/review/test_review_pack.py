"""The security review pack: decisions and policies of a change against a git revision."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, make_repo


def run_review(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ndap_infra",
            "review",
            "--repo",
            str(repo),
            "--policies",
            str(repo / "policies"),
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_unchanged_tree_reports_no_change(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    result = run_review(repo, "--base", "v1.0.0")
    assert result.returncode == 0, result.stderr
    assert "access decisions changed: **0**" in result.stdout
    assert "No policy document changed." in result.stdout


def test_a_gained_permission_and_a_changed_policy_are_named(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    access = repo / "policies" / "ACCESS.md"
    text = access.read_text()
    section = text.index("### platform-engineer")
    row = text.index("| write-production-data |", section)
    end = text.index("\n", row)
    cells = text[row:end].split("|")
    cells[4] = " yes "  # the acc column of this persona's table
    access.write_text(text[:row] + "|".join(cells) + text[end:])
    scp = repo / "policies" / "organization" / "guardrails" / "acme-ml-protect-baseline.json"
    scp.write_text(scp.read_text().replace('"Deny"', '"Allow"', 1))
    out = tmp_path / "review.md"
    result = run_review(repo, "--base", "v1.0.0", "--out", str(out))
    assert result.returncode == 0, result.stderr
    report = out.read_text()
    assert "**platform-engineer gained `write-production-data` in acc** (- -> yes)" in report

    assert "### organization/guardrails/acme-ml-protect-baseline.json (changed)" in report
    assert '-      "Effect": "Deny",' in report and '+      "Effect": "Allow",' in report


def test_a_new_denied_row_reads_as_a_denial_not_a_change() -> None:
    from ndap_infra.review.review_pack import DecisionChange

    new = DecisionChange("business-user", "acc", "change-scp", None, "-")
    assert new.render() == "- **business-user has no `change-scp` in acc** (absent -> -)"
    granted = DecisionChange("business-user", "acc", "invoke-endpoint", None, "yes")
    assert "gained" in granted.render()


def test_unknown_revision_is_bad_input(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    result = run_review(repo, "--base", "v9.9.9")
    assert result.returncode == 2
    assert "revision 'v9.9.9' does not exist" in result.stderr


# -- the Terraform plan per stack -------------------------------------------------------


def test_plan_summary_counts_like_terraform_and_names_the_changed_resources() -> None:
    import json

    from ndap_infra.review.plan_summary import StackPlan, render_plan_section, summarize
    from tests.helpers import FIXTURES

    drifted = json.loads((FIXTURES / "plans" / "env-dev-drift.json").read_text())
    clean = json.loads((FIXTURES / "plans" / "env-dev-clean.json").read_text())
    plan = summarize("env-dev", drifted)
    assert (plan.add, plan.change, plan.destroy) == (1, 1, 0)
    replaced = summarize(
        "x",
        {"resource_changes": [{"address": "a.b", "change": {"actions": ["delete", "create"]}}]},
    )
    assert (replaced.add, replaced.change, replaced.destroy) == (1, 0, 1)
    text = render_plan_section(
        [summarize("organization", clean), plan, StackPlan("env-acc", not_deployed=True)],
        "the local emulator",
    )
    assert "| organization | 0 | 0 | 0 |" in text and "| env-dev | 1 | 1 | 0 |" in text
    assert "| env-acc | not deployed | | |" in text
    assert "`aws_iam_role.personas_data-scientist_role_09B258F6`: update in place" in text
    assert "`aws_cloudwatch_metric_alarm.baseline_alarm-root-account-use_B1AB7448`: create" in text


def test_an_unreachable_target_is_one_line_not_an_error(tmp_path: Path) -> None:
    import os

    from tests.helpers import REFERENCE

    repo = make_repo(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "ndap_infra", "review", "--repo", str(repo), "--policies",
         str(repo / "policies"), "--base", "v1.0.0", "--config", str(REFERENCE)],
        cwd=ROOT, capture_output=True, text=True,
        env=dict(os.environ, NDAP_WORK_DIR=str(tmp_path / "work")),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("## Terraform plan per stack\n\n", 1)[1].split("\n")[0]
    assert section == (
        "Not run: the target is not reachable (the local emulator is not running: nothing "
        "is deployed, `ndap deploy` first)."
    )
    assert "access decisions changed: **0**" in result.stdout, "the rest is unchanged"
