"""A security review pack per change: what the reviewer-facing output says now, against
what it said at a git revision (e.g. the last release tag).

Reads the committed ``policies/`` at the revision with ``git show`` and the working tree's
``policies/`` (regenerate them first with ``ndap synth``), and writes Markdown meant to be
pasted into a pull request: the persona x environment decisions that changed (read from
the evaluated tables of ``ACCESS.md``), the policy documents that changed (a readable JSON
diff), the policy sizes against their AWS limits, and, given a configuration whose target
is reachable, the Terraform plan per stack (``ndap_infra.review.plan_summary``).
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ACCESS_FILE = "ACCESS.md"
INDEX_FILE = "INDEX.md"
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


Decisions = dict[tuple[str, str, str], str]  # (persona, environment, action) -> yes/-/n/a


def access_decisions(access_md: str) -> Decisions:
    """The evaluated cells of ``ACCESS.md``'s "Every decision" tables."""
    decisions: Decisions = {}
    persona = None
    environments: list[str] = []
    in_decisions = False
    for line in access_md.splitlines():
        if line.startswith("## "):
            in_decisions = line.strip() == "## Every decision"
            continue
        if not in_decisions:
            continue
        if line.startswith("### "):
            persona = line[4:].strip()
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| action |"):
            environments = cells[1:]
        elif persona and line.startswith("| ") and not line.startswith("|---"):
            for env, mark in zip(environments, cells[1:], strict=False):
                decisions[(persona, env, cells[0])] = mark
    return decisions


@dataclass(frozen=True)
class DecisionChange:
    persona: str
    environment: str
    action: str
    before: str | None
    after: str | None

    def render(self) -> str:
        if self.before == "yes" and self.after != "yes":
            verb = "lost"
        elif self.after == "yes" and self.before != "yes":
            verb = "gained"
        elif self.before is None:
            verb = "has no"  # a new row (e.g. a new environment), denied
        else:
            verb = "changed"
        return (
            f"- **{self.persona} {verb} `{self.action}` in {self.environment}** "
            f"({self.before or 'absent'} -> {self.after or 'absent'})"
        )


def decision_changes(before: Decisions, after: Decisions) -> list[DecisionChange]:
    keys = sorted(set(before) | set(after))
    return [
        DecisionChange(*key, before.get(key), after.get(key))
        for key in keys
        if before.get(key) != after.get(key)
    ]


def _pretty(text: str) -> list[str]:
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True).splitlines()
    except json.JSONDecodeError:
        return text.splitlines()


def policy_diffs(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Markdown sections, one per policy document added, removed or changed."""
    sections = []
    names = sorted(n for n in set(before) | set(after) if n.endswith(".json"))
    for name in names:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        diff = difflib.unified_diff(
            _pretty(old or "{}") if old is not None else [],
            _pretty(new or "{}") if new is not None else [],
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
            lineterm="",
        )
        sections.append(f"### {name} ({status})\n\n```diff\n" + "\n".join(diff) + "\n```\n")
    return sections


SIZE_ROW = re.compile(
    r"^\| \[(?P<file>[^\]]+)\]\([^)]*\) \| (?P<kind>[^|]+) \| (?P<size>\d+) / (?P<limit>\d+)"
)


def policy_sizes(index_md: str) -> dict[str, tuple[str, int, int]]:
    sizes = {}
    for line in index_md.splitlines():
        match = SIZE_ROW.match(line)
        if match:
            sizes[match["file"]] = (match["kind"].strip(), int(match["size"]), int(match["limit"]))
    return sizes


REVIEW_HEADING = "# Security review pack: "
"""How every review pack starts: ``ndap review --out`` replaces only a file that does."""


def render_review(
    revision: str, before: Mapping[str, str], after: Mapping[str, str], plan_summary: str = ""
) -> str:
    changes = decision_changes(
        access_decisions(before.get(ACCESS_FILE, "")), access_decisions(after.get(ACCESS_FILE, ""))
    )
    diffs = policy_diffs(before, after)
    old_sizes = policy_sizes(before.get(INDEX_FILE, ""))
    new_sizes = policy_sizes(after.get(INDEX_FILE, ""))
    lines = [
        f"{REVIEW_HEADING}this change against `{revision}`",
        "",
        f"- access decisions changed: **{len(changes)}**",
        f"- policy documents added, removed or changed: **{len(diffs)}**",
        "",
        "## Access decisions (persona x environment, as evaluated)",
        "",
        *(c.render() for c in changes),
    ]
    if not changes:
        lines.append("No decision changed.")
    lines += [
        "",
        "## Policy sizes against AWS limits",
        "",
        "| file | kind | before | after | limit |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(set(old_sizes) | set(new_sizes)):
        old = old_sizes.get(name)
        new = new_sizes.get(name)
        if old is not None and new is not None and old[1] == new[1]:
            continue
        kind = (new or old or ("", 0, 0))[0]
        limit = (new or old or ("", 0, 0))[2]
        warn = " **near the limit**" if new and new[1] > 0.9 * new[2] else ""
        was = old[1] if old else "-"
        now = new[1] if new else "-"
        lines.append(f"| {name} | {kind} | {was} | {now} | {limit}{warn} |")
    largest = sorted(new_sizes.items(), key=lambda item: -item[1][1] / item[1][2])[:5]
    lines += [
        "",
        "Largest relative to their limit now: "
        + ", ".join(f"{n} {s}/{lim}" for n, (_, s, lim) in largest),
        "",
        "## Terraform plan per stack",
        "",
        plan_summary
        or "Not run: no target was given (`ndap review --config <file>` plans each stack "
        "against the configuration's deploy target when it is reachable).",
        "",
        "## Policy documents",
        "",
        *(diffs or ["No policy document changed.\n"]),
    ]
    return "\n".join(lines).rstrip() + "\n"
