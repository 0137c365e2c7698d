"""A security review pack per change: what the reviewer-facing output says now, against
what it said at a git revision (e.g. the last release tag).

Reads the committed ``policies/`` at the revision with ``git show`` and the working tree's
``policies/`` (regenerate them first with ``ndap synth``), and writes two Markdown files:
a summary that fits a pull-request comment (counts per kind, the changed decisions
first, each kind truncated with "N more in <details>") and the details beside it (every
change, policy sizes, the Terraform plan per stack, the JSON diff of every policy
document). What changed, kind by kind: ``pack_changes``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from ndap_infra.files.single import starts_with, write_generated_file
from ndap_infra.review.pack_changes import (
    INDEX_FILE,
    KINDS,
    DecisionChange,
    all_changes,
    changed_documents,
    json_diff,
    policy_sizes,
)

__all__ = ["DecisionChange", "ReviewError", "policies_at", "policies_in", "render_review"]

BINARY_SUFFIXES = (".png",)  # the rendered diagram: its SVG source is compared instead


class ReviewError(RuntimeError):
    """A revision or a repository that cannot be read."""


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ReviewError(result.stderr.strip() or f"git {' '.join(args)} failed")
    return result.stdout


def policies_at(repo: Path, revision: str, policies: Path = Path("policies")) -> dict[str, str]:
    """Every file under the ``policies`` directory as committed at ``revision``."""
    top = Path(_git(repo, "rev-parse", "--show-toplevel").strip())
    base = policies if policies.is_absolute() else (Path.cwd() / policies)
    try:
        relative = base.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        raise ReviewError(f"{policies} is not inside the repository {top}") from None
    try:
        commit = _git(repo, "rev-parse", "--verify", "--end-of-options", f"{revision}^{{commit}}")
    except ReviewError:
        raise ReviewError(
            f"revision {revision!r} does not exist in {repo}: give a commit, branch or tag "
            "(e.g. the last release tag)"
        ) from None
    listing = _git(repo, "ls-tree", "-r", "--name-only", commit.strip(), "--", relative)
    return {
        path.removeprefix(f"{relative}/"): _git(repo, "show", f"{commit.strip()}:{path}")
        for path in listing.splitlines()
        if not path.endswith(BINARY_SUFFIXES)
    }


def policies_in(directory: Path) -> dict[str, str]:
    if not directory.is_dir():
        raise ReviewError(f"{directory} does not exist: run `ndap synth` first")
    return {
        p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not p.name.endswith(BINARY_SUFFIXES)
    }


REVIEW_HEADING = "# Security review pack: "
"""How every review pack's summary starts: ``ndap review --out`` replaces only a file
that does."""
DETAILS_HEADING = "# Security review pack, details: "
"""How every details file starts (a summary is never taken for one, nor the reverse)."""
COMMENT_LIMIT = 65_536
"""GitHub's limit on a pull-request comment, in characters."""
SUMMARY_BUDGET = 12_000
"""Characters of change lines in the summary, over all kinds: a few KB on a real change,
far below ``COMMENT_LIMIT`` however large the change."""
PER_KIND = 10
"""Change lines per kind in the summary; the rest are counted and left to the details."""
LINE_LIMIT = 300
"""Characters of one change line in the summary (ARNs are long); the details hold it whole."""
PLAN_IN_SUMMARY = 3_000


def details_path(summary: Path) -> Path:
    """Where the details go beside ``summary``: ``review.md`` -> ``review.details.md``."""
    return summary.with_name(f"{summary.stem}.details{summary.suffix or '.md'}")


def _clip(line: str) -> str:
    return line if len(line) <= LINE_LIMIT else line[: LINE_LIMIT - 1] + "…"


def render_summary(
    revision: str,
    before: Mapping[str, str],
    after: Mapping[str, str],
    plan_section: str = "",
    details: str = "the details file",
) -> str:
    """The pull-request comment: counts per kind, then the changes (decisions first),
    each kind cut at ``PER_KIND`` lines and all of them at ``SUMMARY_BUDGET``
    characters, naming how many more are in ``details``."""
    changes = all_changes(before, after)
    total = sum(len(items) for items in changes.values())
    lines = [f"{REVIEW_HEADING}this change against `{revision}`", ""]
    lines += [f"- {kind.title} changed: **{len(changes[kind.name])}**" for kind in KINDS]
    lines.append("")
    if total == 0:
        lines += [
            f"No change: every decision, guardrail, baseline control, lint result and policy "
            f"document is as at `{revision}`.",
            "",
        ]
    budget = SUMMARY_BUDGET
    for decisions, title in ((True, "Changed decisions"), (False, "Other changes")):
        kinds = [k for k in KINDS if k.decision is decisions and changes[k.name]]
        if not kinds:
            continue
        lines += [f"## {title}", ""]
        for kind in kinds:
            items = changes[kind.name]
            lines += [f"### {kind.title} ({len(items)})", ""]
            shown = 0
            for item in items[:PER_KIND]:
                line = f"- {_clip(item)}"
                if len(line) + 1 > budget:
                    break
                lines.append(line)
                budget -= len(line) + 1
                shown += 1
            if shown < len(items):
                lines.append(f"- {len(items) - shown} more in {details}")
            lines.append("")
    plan = plan_section or (
        "Not run: no target was given (`ndap review --config <file>` plans each stack "
        "against the configuration's deploy target when it is reachable)."
    )
    if len(plan) > PLAN_IN_SUMMARY:
        kept = [line for line in plan.splitlines() if line.startswith("|") or not line]
        plan = "\n".join(kept).strip() + f"\n\nThe changed resources of each stack: in {details}."
    lines += ["## Terraform plan per stack", "", plan, ""]
    lines.append(
        f"Every change in full, policy sizes and the JSON diff of every policy document: {details}."
    )
    return "\n".join(lines).rstrip() + "\n"


def render_details(
    revision: str, before: Mapping[str, str], after: Mapping[str, str], plan_section: str = ""
) -> str:
    """Everything the summary leaves out: every change of every kind, the policy sizes,
    the plan per stack, and the JSON diff of every policy document."""
    changes = all_changes(before, after)
    lines = [f"{DETAILS_HEADING}this change against `{revision}`", ""]
    for kind in KINDS:
        items = changes[kind.name]
        lines += [f"## {kind.title[0].upper()}{kind.title[1:]} ({len(items)})", ""]
        lines += [f"- {item}" for item in items] or ["No change."]
        lines.append("")
    old_sizes = policy_sizes(before.get(INDEX_FILE, ""))
    new_sizes = policy_sizes(after.get(INDEX_FILE, ""))
    largest = sorted(new_sizes.items(), key=lambda item: -item[1][1] / item[1][2])[:5]
    lines += [
        "## Policy sizes against AWS limits",
        "",
        "Largest relative to their limit now: "
        + (", ".join(f"{n} {s}/{lim}" for n, (_, s, lim) in largest) or "none")
        + f" ({len(old_sizes)} documents measured before, {len(new_sizes)} now).",
        "",
        "## Terraform plan per stack",
        "",
        plan_section or "Not run: no target was given.",
        "",
        "## Policy documents",
        "",
    ]
    documents = changed_documents(before, after)
    for name in documents:
        old, new = before.get(name), after.get(name)
        status = "added" if old is None else "removed" if new is None else "changed"
        lines += [f"### {name} ({status})", "", "```diff", *json_diff(name, old, new), "```", ""]
    if not documents:
        lines.append("No policy document changed.")
    return "\n".join(lines).rstrip() + "\n"


def render_review(
    revision: str, before: Mapping[str, str], after: Mapping[str, str], plan_summary: str = ""
) -> str:
    """The summary and the details as one document (``ndap review`` without ``--out``)."""
    return (
        render_summary(revision, before, after, plan_summary, "the details below")
        + "\n"
        + render_details(revision, before, after, plan_summary)
    )


def write_review_pack(summary_path: Path, summary: str, details: str) -> Path:
    """Write the summary and, beside it, the details: both or neither (the details are
    written first and put back as they were when the summary cannot be written); never
    over a file ndap did not write (``UnsafeOutput``). Returns the details' path."""
    beside = details_path(summary_path)
    previous = None
    if beside.is_file():
        try:
            previous = beside.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            previous = None
    own_details = starts_with(DETAILS_HEADING)
    write_generated_file(beside, details, own_details, "a review pack's details")
    try:
        write_generated_file(summary_path, summary, starts_with(REVIEW_HEADING), "a review pack")
    except BaseException:
        if previous is None:
            beside.unlink(missing_ok=True)
        else:
            write_generated_file(beside, previous, own_details, "a review pack's details")
        raise
    return beside
