"""The security review pack: decisions and policies of a change against a git revision."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

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
    assert "No change: every decision, guardrail" in result.stdout
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
    assert "- **platform-engineer gained `write-production-data` in acc** (- -> yes)" in report
    details = (tmp_path / "review.details.md").read_text()
    assert "### organization/guardrails/acme-ml-protect-baseline.json (changed)" in details
    assert '-      "Effect": "Deny",' in details and '+      "Effect": "Allow",' in details
    assert "-      " not in report, "the summary names changes; the diffs are in the details"


def test_a_new_denied_row_reads_as_a_denial_not_a_change() -> None:
    from ndap_infra.review.review_pack import DecisionChange

    new = DecisionChange("business-user", "acc", "change-scp", None, "-")
    assert new.render() == "**business-user has no `change-scp` in acc** (absent -> -)"
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


# -- every kind of change, a summary that fits a pull-request comment, the details beside it --


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def _drop_statement(path: Path) -> str:
    """Remove the first statement of a policy file; its Sid."""
    import json

    document = json.loads(path.read_text())
    removed = document["Statement"].pop(0)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return str(removed["Sid"])


def _job_row(jobs_md: str) -> tuple[str, str]:
    """The first allowed row of JOBS.md, and its identity."""
    row = next(line for line in jobs_md.splitlines() if line.endswith("| allowed |"))
    return row, row.split("`")[1]


def test_each_kind_of_change_is_in_the_summary_and_the_details_beside_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    policies = repo / "policies"
    sid = _drop_statement(
        policies / "organization" / "guardrails" / "acme-ml-protect-baseline.json"
    )
    _edit(
        policies / "ACCESS.md",
        "| ml-engineer | - | - | - | - | yes |",
        "| ml-engineer | - | - | - | - | - |",
    )
    _edit(policies / "BASELINE.md", "| min 14 chars,", "| min 8 chars,")
    jobs = policies / "JOBS.md"
    row, identity = _job_row(jobs.read_text())
    _edit(jobs, row, row.removesuffix("| allowed |") + "| **DENIED**: explicit Deny |")
    _edit(policies / "PROVENANCE.md", "| ok |\n", "| FAILS (a finding) |\n")
    _edit(policies / "LINT.md", "| 0 | 0 | passes |", "| 2 | 0 | FAILS |")
    out = tmp_path / "pack" / "review.md"
    out.parent.mkdir()
    result = run_review(repo, "--base", "v1.0.0", "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = out.read_text()
    for count in (
        "delivery pipeline decisions changed: **1**",
        "jobs rows changed: **1**",
        "provenance rows changed: **1**",
        "guardrail statements (SCP/RCP) changed: **1**",
        "baseline controls changed: **1**",
        "access decisions changed: **0**",
    ):
        assert count in summary, count
    assert (
        "**ml-engineer lost `approve-prd-release`** on the project pipelines (yes -> -)" in summary
    )
    assert f"statement `{sid}` **removed** (was Deny " in summary
    assert "`IAM password policy`: nonprod min 14 chars" in summary
    assert f"`{identity}`" in summary and "allowed -> **DENIED**: explicit Deny" in summary
    assert "state ok -> FAILS (a finding)" in summary
    assert "gate checkov: failed 0 -> 2; verdict passes -> FAILS" in summary
    assert summary.index("## Changed decisions") < summary.index("## Other changes")
    details = (out.parent / "review.details.md").read_text()
    assert details.startswith("# Security review pack, details: ")
    assert f'-      "Sid": "{sid}"' in details
    assert len(summary) < 8_000 and f"({len(summary.encode())} bytes)" in result.stdout


@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.generate])
@given(
    statements=st.integers(min_value=0, max_value=3_000),
    sid=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=1,
                max_size=300),
    flip_access=st.booleans(),
)  # fmt: skip
def test_a_huge_change_keeps_the_summary_under_a_comment(
    statements: int, sid: str, flip_access: bool
) -> None:
    import json

    from ndap_infra.review.review_pack import COMMENT_LIMIT, PER_KIND, render_summary

    before = _committed()
    after = dict(before)
    name = "organization/guardrails/acme-ml-protect-baseline.json"
    document = json.loads(after[name])
    document["Statement"] += [
        {"Sid": f"{sid}{i}", "Effect": "Deny", "Action": ["s3:*"] * 5, "Resource": "*"}
        for i in range(statements)
    ]
    if statements:
        after[name] = json.dumps(document)
    if flip_access:
        table = after["ACCESS.md"].split("## Every decision", 1)
        after["ACCESS.md"] = table[0] + "## Every decision" + table[1].replace("| - |", "| yes |")
    after["JOBS.md"] = after["JOBS.md"].replace("| allowed |", "| **DENIED**: a guardrail |")
    summary = render_summary("v1.0.0", before, after, details="`review.details.md`")
    assert len(summary) < COMMENT_LIMIT
    assert f"guardrail statements (SCP/RCP) changed: **{statements}**" in summary
    # a row written twice in one job's table is one row
    jobs = len(
        {line for line in after["JOBS.md"].splitlines() if "**DENIED**: a guardrail" in line}
    )
    assert f"jobs rows changed: **{jobs}**" in summary
    assert f"- {jobs - PER_KIND} more in `review.details.md`" in summary
    if statements > PER_KIND:
        assert "more in `review.details.md`" in summary.split("### guardrail statements", 1)[1]


_COMMITTED: dict[str, str] = {}


def _committed() -> dict[str, str]:
    from ndap_infra.review.review_pack import policies_in

    if not _COMMITTED:
        _COMMITTED.update(policies_in(ROOT / "policies"))
    return _COMMITTED


def test_the_pack_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    out = tmp_path / "review.md"
    details = tmp_path / "review.details.md"
    details.write_text("my notes\n")
    refused = run_review(repo, "--base", "v1.0.0", "--out", str(out))
    assert refused.returncode == 2 and "nothing was written" in refused.stderr
    assert details.read_text() == "my notes\n" and not out.exists()
    details.unlink()
    first = run_review(repo, "--base", "v1.0.0", "--out", str(out))
    assert first.returncode == 0, first.stderr
    earlier = details.read_text()
    out.write_text("a user's summary\n")  # the summary's place now holds someone's file
    _edit(repo / "policies" / "BASELINE.md", "| min 14 chars,", "| min 8 chars,")
    again = run_review(repo, "--base", "v1.0.0", "--out", str(out))
    assert again.returncode == 2 and "nothing was written" in again.stderr
    assert out.read_text() == "a user's summary\n"
    assert details.read_text() == earlier, "the details are put back as they were"
