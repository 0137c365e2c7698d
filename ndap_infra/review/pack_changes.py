"""What changed between two versions of the reviewer files, kind by kind: the decisions
of ACCESS.md (persona cells, the delivery pipelines, the platform's own pipeline), the
rows of JOBS.md and PROVENANCE.md, the statements of every SCP and RCP, the controls of
BASELINE.md, the results of LINT.md, policy sizes (INDEX.md) and the other policy
documents. Each change is one Markdown line; the review pack (``review_pack``) orders,
counts and truncates them."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ndap_infra.review.report_tables import Table, tables

ACCESS_FILE = "ACCESS.md"
JOBS_FILE = "JOBS.md"
PROVENANCE_FILE = "PROVENANCE.md"
BASELINE_FILE = "BASELINE.md"
LINT_FILE = "LINT.md"
INDEX_FILE = "INDEX.md"
PIPELINES_SECTION = "The delivery pipelines"
PLATFORM_SECTION = "The platform's own pipeline"
GUARDRAIL_FOLDERS = ("organization/guardrails/", "organization/access-guardrails/")
"""Where the SCPs and RCPs are written under ``policies/``."""


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    decision: bool
    """A changed decision (who may do what): listed first."""


KINDS: tuple[Kind, ...] = (
    Kind("access", "access decisions", True),
    Kind("pipelines", "delivery pipeline decisions", True),
    Kind("platform", "platform pipeline decisions", True),
    Kind("jobs", "jobs rows", True),
    Kind("provenance", "provenance rows", True),
    Kind("guardrails", "guardrail statements (SCP/RCP)", False),
    Kind("baseline", "baseline controls", False),
    Kind("lint", "lint results", False),
    Kind("sizes", "policy sizes", False),
    Kind("documents", "other policy documents", False),
)

Files = Mapping[str, str]
Changes = dict[str, list[str]]
"""Kind name -> its changes, one Markdown line each (no bullet)."""


def all_changes(before: Files, after: Files) -> Changes:
    """Every change, by kind (every kind present, possibly empty)."""
    return {
        "access": [c.render() for c in access_changes(before, after)],
        "pipelines": matrix_changes(before, after, PIPELINES_SECTION, "the project pipelines"),
        "platform": matrix_changes(before, after, PLATFORM_SECTION, "the platform pipeline"),
        "jobs": job_changes(before, after),
        "provenance": provenance_changes(before, after),
        "guardrails": guardrail_changes(before, after),
        "baseline": baseline_changes(before, after),
        "lint": lint_changes(before, after),
        "sizes": size_changes(before, after),
        "documents": document_changes(before, after),
    }


def _tables(files: Files, name: str) -> list[Table]:
    return tables(files.get(name, ""))


def _code(text: str) -> str:
    return text.strip("`")


RANK = {"gained": 0, "lost": 1, "changed": 1, "has no": 2}
"""Within a kind, what a reviewer reads first: a power gained, then a power lost or a
changed value, then new rows that are denied anyway."""


def _by_rank(ranked: list[tuple[int, str]]) -> list[str]:
    return [text for _, text in sorted(ranked, key=lambda item: item[0])]


def _verb(before: str | None, after: str | None) -> str:
    if before == "yes" and after != "yes":
        return "lost"
    if after == "yes" and before != "yes":
        return "gained"
    if before is None:
        return "has no"  # a new row or column (e.g. a new environment), denied
    return "changed"


# ---- ACCESS.md: persona x environment x action ---------------------------------------------

Decisions = dict[tuple[str, str, str], str]  # (persona, environment, action) -> yes/-/n/a


def access_decisions(access_md: str) -> Decisions:
    """The evaluated cells of ``ACCESS.md``'s "Every decision" tables."""
    decisions: Decisions = {}
    for table in tables(access_md):
        if table.section != "Every decision" or table.header[:1] != ("action",):
            continue
        for row in table.rows:
            for env, mark in zip(table.header[1:], row[1:], strict=False):
                decisions[(table.subsection, env, row[0])] = mark
    return decisions


@dataclass(frozen=True)
class DecisionChange:
    persona: str
    environment: str
    action: str
    before: str | None
    after: str | None

    def render(self) -> str:
        return (
            f"**{self.persona} {_verb(self.before, self.after)} `{self.action}` in "
            f"{self.environment}** ({self.before or 'absent'} -> {self.after or 'absent'})"
        )


def decision_changes(before: Decisions, after: Decisions) -> list[DecisionChange]:
    keys = sorted(set(before) | set(after))
    return [
        DecisionChange(*key, before.get(key), after.get(key))
        for key in keys
        if before.get(key) != after.get(key)
    ]


def access_changes(before: Files, after: Files) -> list[DecisionChange]:
    """The changed cells, powers gained first."""
    changes = decision_changes(
        access_decisions(before.get(ACCESS_FILE, "")), access_decisions(after.get(ACCESS_FILE, ""))
    )
    return sorted(changes, key=lambda c: RANK[_verb(c.before, c.after)])


# ---- ACCESS.md: the pipelines' tables (who x action) ------------------------------------------


def matrix(access_md: str, section: str) -> dict[tuple[str, str], str]:
    """The ``who`` x action cells of the first table of the section starting ``section``."""
    for table in tables(access_md):
        if table.section.startswith(section) and table.header[:1] == ("who",):
            return {
                (row[0], action): mark
                for row in table.rows
                for action, mark in zip(table.header[1:], row[1:], strict=False)
            }
    return {}


def matrix_changes(before: Files, after: Files, section: str, where: str) -> list[str]:
    old = matrix(before.get(ACCESS_FILE, ""), section)
    new = matrix(after.get(ACCESS_FILE, ""), section)
    ranked = []
    for key in _changed(old, new):
        who, action = key
        was, now = old.get(key), new.get(key)
        verb = _verb(was, now)
        ranked.append(
            (
                RANK[verb],
                f"**{who} {verb} `{action}`** on {where} ({was or 'absent'} -> {now or 'absent'})",
            )
        )
    return _by_rank(ranked)


# ---- JOBS.md and PROVENANCE.md ------------------------------------------------------------------

JOB_HEADER = ("identity", "operation", "resource", "why", "decision")


def job_rows(jobs_md: str) -> dict[tuple[str, str, str, str, str], str]:
    """(the job, identity, operation, resource, why) -> the decision: a job may need the
    same operation of the same identity for two reasons, each a row."""
    return {
        (table.section, _code(row[0]), _code(row[1]), _code(row[2]), row[3]): row[4]
        for table in tables(jobs_md)
        if table.header == JOB_HEADER
        for row in table.rows
        if len(row) == len(JOB_HEADER)
    }


def job_changes(before: Files, after: Files) -> list[str]:
    old, new = job_rows(before.get(JOBS_FILE, "")), job_rows(after.get(JOBS_FILE, ""))
    ranked = []
    for key in _changed(old, new):
        job, identity, operation, resource, why = key
        was, now = old.get(key, "absent"), new.get(key, "absent")
        # a row now wrong (**DENIED** job, **ALLOWED** power) first; new rows last
        rank = 0 if "**" in now else 2 if was == "absent" else 1
        ranked.append(
            (rank, f"{job}: `{identity}` `{operation}` on `{resource}`: {was} -> {now} ({why})")
        )
    return _by_rank(ranked)


def provenance_rows(provenance_md: str) -> dict[str, dict[str, str]]:
    return {
        _code(row[0]): dict(zip(table.header[1:], row[1:], strict=False))
        for table in tables(provenance_md)
        if table.header[:1] == ("identity",)
        for row in table.rows
    }


def provenance_changes(before: Files, after: Files) -> list[str]:
    old = provenance_rows(before.get(PROVENANCE_FILE, ""))
    new = provenance_rows(after.get(PROVENANCE_FILE, ""))
    ranked = []
    for key in _changed(old, new):
        was, now = old.get(key), new.get(key)
        state = (now or {}).get("state", "")
        rank = 0 if state != "ok" and now is not None else 2 if was is None else 1
        ranked.append((rank, _row_change(f"`{key}`", was, now)))
    return _by_rank(ranked)


def _changed(old: Mapping[Any, Any], new: Mapping[Any, Any]) -> list[Any]:
    return [k for k in sorted(set(old) | set(new), key=str) if old.get(k) != new.get(k)]


def _row_change(name: str, old: Mapping[str, str] | None, new: Mapping[str, str] | None) -> str:
    if old is None:
        return f"{name} added: " + "; ".join(f"{k}: {v}" for k, v in (new or {}).items())
    if new is None:
        return f"{name} **removed** (was: " + "; ".join(f"{k}: {v}" for k, v in old.items()) + ")"
    return f"{name}: " + "; ".join(
        f"{column} {old.get(column, 'absent')} -> {new.get(column, 'absent')}"
        for column in dict.fromkeys([*old, *new])
        if old.get(column) != new.get(column)
    )


# ---- SCPs and RCPs, statement by statement ------------------------------------------------------


def _statements(text: str) -> dict[str, dict[str, Any]] | None:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    return {
        str(s.get("Sid") or f"statement {index}"): s
        for index, s in enumerate(statements)
        if isinstance(s, dict)
    }


def _gist(statement: Mapping[str, Any]) -> str:
    """``Deny s3:PutObject, s3:DeleteObject and 3 more``: a statement in a few words."""
    key = "Action" if "Action" in statement else "NotAction"
    actions = statement.get(key, [])
    actions = [actions] if isinstance(actions, str) else list(actions)
    shown = ", ".join(str(a) for a in actions[:3])
    more = f" and {len(actions) - 3} more" if len(actions) > 3 else ""
    negation = "everything but " if key == "NotAction" else ""
    return f"{statement.get('Effect', '?')} {negation}{shown}{more}"


def guardrail_changes(before: Files, after: Files) -> list[str]:
    """Statements removed first (a guardrail weakened), then the rest."""
    changes: list[str] = []
    removed: list[str] = []
    names = sorted(n for n in set(before) | set(after) if n.startswith(GUARDRAIL_FOLDERS))
    for name in names:
        old_text, new_text = before.get(name), after.get(name)
        if old_text == new_text or not name.endswith(".json"):
            continue
        if old_text is None or new_text is None:
            count = len(_statements(new_text or old_text or "") or {})
            if new_text is None:
                removed.append(f"`{name}` **removed** ({count} statements)")
            else:
                changes.append(f"`{name}` added ({count} statements)")
            continue
        old, new = _statements(old_text), _statements(new_text)
        if old is None or new is None:
            changes.append(f"`{name}` changed (not readable as a policy)")
            continue
        for sid in _changed(old, new):
            if sid not in new:
                removed.append(f"`{name}`: statement `{sid}` **removed** (was {_gist(old[sid])})")
            elif sid not in old:
                changes.append(f"`{name}`: statement `{sid}` added ({_gist(new[sid])})")
            else:
                fields = [k for k in dict.fromkeys([*old[sid], *new[sid]])
                          if old[sid].get(k) != new[sid].get(k)]  # fmt: skip
                changes.append(
                    f"`{name}`: statement `{sid}` changed ({', '.join(fields)}; now "
                    f"{_gist(new[sid])})"
                )
        if old == new:
            changes.append(f"`{name}` changed (layout only: no statement differs)")
    return removed + changes


# ---- BASELINE.md and LINT.md -----------------------------------------------------------------


def _keyed(
    files: Files, name: str, key: Callable[[Table, tuple[str, ...]], str | None]
) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for table in _tables(files, name):
        for row in table.rows:
            found = key(table, row)
            if found is not None:
                rows[found] = dict(zip(table.header[1:], row[1:], strict=False))
    return rows


def baseline_changes(before: Files, after: Files) -> list[str]:
    def key(table: Table, row: tuple[str, ...]) -> str | None:
        return f"`{row[0]}`" if table.header[:1] == ("control",) else None

    old = _keyed(before, BASELINE_FILE, key)
    new = _keyed(after, BASELINE_FILE, key)
    return [
        _row_change(control, old.get(control), new.get(control)) for control in _changed(old, new)
    ]


VERSION = re.compile(r"\s+\d[\w.]*$")


def lint_changes(before: Files, after: Files) -> list[str]:
    """The gates' verdicts first (a version bump is not a new gate), then every other row
    of LINT.md's tables (per stack, per folder, each suppression)."""

    def key(table: Table, row: tuple[str, ...]) -> str | None:
        if table.header[:1] == ("gate",):
            return f"gate {VERSION.sub('', row[0])}"
        where = " / ".join(part for part in (table.section, table.subsection) if part)
        return f"{where}: `{row[0]}`" + (f" `{row[1]}`" if len(row) > 1 else "")

    old, new = _keyed(before, LINT_FILE, key), _keyed(after, LINT_FILE, key)
    changed = _changed(old, new)
    gates = [k for k in changed if k.startswith("gate ")]
    rest = [k for k in changed if not k.startswith("gate ")]
    return [_row_change(k, old.get(k), new.get(k)) for k in (*gates, *rest)]


# ---- policy sizes and the other policy documents -----------------------------------------------

SIZE_ROW = re.compile(
    r"^\| \[(?P<file>[^\]]+)\]\([^)]*\) \| (?P<kind>[^|]+) \| (?P<size>\d+) / (?P<limit>\d+)"
)
NEAR_LIMIT = 0.9


def policy_sizes(index_md: str) -> dict[str, tuple[str, int, int]]:
    sizes = {}
    for line in index_md.splitlines():
        match = SIZE_ROW.match(line)
        if match:
            sizes[match["file"]] = (match["kind"].strip(), int(match["size"]), int(match["limit"]))
    return sizes


def size_changes(before: Files, after: Files) -> list[str]:
    old = policy_sizes(before.get(INDEX_FILE, ""))
    new = policy_sizes(after.get(INDEX_FILE, ""))
    changes = []
    for name in sorted(set(old) | set(new)):
        was, now = old.get(name), new.get(name)
        if was is not None and now is not None and was[1] == now[1]:
            continue
        kind, _, limit = now or was or ("", 0, 0)
        warn = " **near the limit**" if now and now[1] > NEAR_LIMIT * now[2] else ""
        changes.append(
            f"`{name}` ({kind}): {was[1] if was else '-'} -> {now[1] if now else '-'} "
            f"of {limit}{warn}"
        )
    return changes


def _pretty(text: str) -> list[str]:
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True).splitlines()
    except json.JSONDecodeError:
        return text.splitlines()


def json_diff(name: str, old: str | None, new: str | None) -> list[str]:
    return list(
        difflib.unified_diff(
            _pretty(old) if old is not None else [],
            _pretty(new) if new is not None else [],
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
            lineterm="",
        )
    )


def changed_documents(before: Files, after: Files) -> list[str]:
    """Every policy document (``.json``) added, removed or changed, SCPs and RCPs included."""
    return sorted(
        n for n in set(before) | set(after) if n.endswith(".json") and before.get(n) != after.get(n)
    )


def document_changes(before: Files, after: Files) -> list[str]:
    """The policy documents other than SCPs and RCPs (those are read statement by
    statement above): identity, boundary, trust, bucket, key and registry policies."""
    changes = []
    for name in changed_documents(before, after):
        if name.startswith(GUARDRAIL_FOLDERS):
            continue
        old, new = before.get(name), after.get(name)
        status = "added" if old is None else "**removed**" if new is None else "changed"
        diff = json_diff(name, old, new)[2:]
        plus = sum(1 for line in diff if line.startswith("+"))
        minus = sum(1 for line in diff if line.startswith("-"))
        changes.append(f"`{name}` {status} (+{plus} -{minus} lines)")
    return changes
