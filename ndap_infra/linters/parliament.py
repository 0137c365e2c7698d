"""Gate: parliament over the reviewer policy files, every finding fixed or suppressed.

parliament reads the committed ``policies/`` tree in one run (``--directory`` with
``--include_policy_extension json``: pretty JSON in nested folders, the Markdown files
left out; ``--file`` misbehaves when stdin is not a terminal). It understands identity
policies best, so resource policies, trust policies and organization policies draw
findings that do not apply to them; those are accepted in ``PARLIAMENT_SUPPRESSIONS`` with
a reason, by issue key, file pattern and detail. parliament reports a finding once per
expanded action; the gate keeps one per issue, file, position and detail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ndap_infra.linters.cache import LintCache, inputs_digest
from ndap_infra.linters.suppressions import PARLIAMENT_SUPPRESSIONS, ParliamentSuppression
from ndap_infra.linters.tools import (
    GateError,
    find_tool,
    gate_sections,
    markdown_cell,
    run_tool,
)

PARLIAMENT_ENV = "NDAP_PARLIAMENT"
"""Environment variable naming the parliament executable (default
``.venv-tools/bin/parliament``)."""
EXTENSION = "json"
ROOT_GROUP = "."


@dataclass(frozen=True)
class ParliamentFinding:
    issue: str
    title: str
    severity: str
    file: str
    """Path below the policies directory, e.g. ``env-dev/data-key/key.json``."""
    line: int
    column: int
    detail: str
    """The detail as text (JSON for parliament's list and object details)."""

    @property
    def group(self) -> str:
        return self.file.split("/", 1)[0] if "/" in self.file else ROOT_GROUP

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.issue, self.detail)

    def short_detail(self, limit: int = 200) -> str:
        try:
            value = json.loads(self.detail)
        except json.JSONDecodeError:
            return markdown_cell(self.detail, limit)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            shown = ", ".join(value[:6]) + (f", … ({len(value)} in all)" if len(value) > 6 else "")
            return markdown_cell(shown, limit)
        return markdown_cell(self.detail, limit)


@dataclass(frozen=True)
class SuppressedFinding:
    finding: ParliamentFinding
    suppression: ParliamentSuppression


@dataclass(frozen=True)
class GroupResult:
    """The policy files of one folder below ``policies/`` (one stack)."""

    group: str
    files: int
    failed: int
    suppressed: int


@dataclass(frozen=True)
class ParliamentReport:
    parliament_version: str
    groups: tuple[GroupResult, ...]
    failures: tuple[ParliamentFinding, ...]
    suppressed: tuple[SuppressedFinding, ...]
    stale: tuple[ParliamentSuppression, ...]
    """Suppressions that matched no finding, though policy files they name exist."""
    suppressions: tuple[ParliamentSuppression, ...]
    seconds: float = field(default=0.0, compare=False)
    not_applicable: tuple[ParliamentSuppression, ...] = ()
    """Suppressions naming no policy file of this configuration: neither used nor stale."""
    cached: bool = field(default=False, compare=False)
    """True when parliament's output for these very files was kept from an earlier run."""

    @property
    def ok(self) -> bool:
        return not self.failures and not self.stale

    @property
    def files(self) -> int:
        return sum(g.files for g in self.groups)

    def matched(self, suppression: ParliamentSuppression) -> int:
        return sum(1 for s in self.suppressed if s.suppression == suppression)

    def render(self) -> str:
        return render_parliament(self)


# -- running --------------------------------------------------------------------------


def parliament_command(parliament: Path, policies_dir: Path) -> list[str]:
    return [
        str(parliament),
        "--directory",
        str(policies_dir),
        "--include_policy_extension",
        EXTENSION,
        "--json",
    ]


def run_parliament(
    policies_dir: Path,
    suppressions: Sequence[ParliamentSuppression] = PARLIAMENT_SUPPRESSIONS,
    cache: LintCache | None = None,
) -> ParliamentReport:
    """Run parliament once over every ``*.json`` below ``policies_dir`` and apply the
    suppressions. With a ``cache``, parliament's output for the same parliament and the
    same files is reused instead of running it."""
    root = policies_dir.resolve()
    files = policy_files(root)
    if not files:
        raise GateError(f"no policy files (*.{EXTENSION}) below {root}")
    parliament = find_tool("parliament", PARLIAMENT_ENV)
    argv = parliament_command(parliament, root)
    contents = ((name, root / name) for name in files)
    digest = inputs_digest("parliament", argv, root, {}, contents) if cache is not None else ""
    kept = cache.get(digest, root) if cache is not None and digest else None
    if kept is not None and {"stdout", "version"} <= kept.keys():
        report = evaluate_parliament(
            _parse_lines(kept["stdout"]), root, files, suppressions, version=kept["version"]
        )
        return replace(report, cached=True)
    version_run = run_tool([str(parliament), "--version"], cwd=root, ok_codes=(0,))
    version = version_run.stdout.strip().removeprefix("parliament").strip() or "unknown"
    run = run_tool(argv, cwd=root)
    report = evaluate_parliament(_parse_lines(run.stdout), root, files, suppressions, version)
    if cache is not None and digest:
        cache.put(digest, root, {"stdout": run.stdout, "version": version})
    return replace(report, seconds=version_run.seconds + run.seconds)


def policy_files(root: Path) -> list[str]:
    """Every policy file below ``root``, as sorted relative POSIX paths."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob(f"*.{EXTENSION}"))


def _parse_lines(stdout: str) -> list[dict[str, Any]]:
    rows = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise GateError(
                f"parliament printed a line that is not JSON: {line[:300]!r}"
            ) from error
        if not isinstance(row, dict) or "issue" not in row:
            raise GateError(f"unexpected parliament finding: {line[:300]!r}")
        rows.append(row)
    return rows


# -- evaluating findings ----------------------------------------------------------------


def evaluate_parliament(
    rows: Sequence[Mapping[str, Any]],
    root: Path,
    files: Sequence[str],
    suppressions: Sequence[ParliamentSuppression] = PARLIAMENT_SUPPRESSIONS,
    version: str = "unknown",
) -> ParliamentReport:
    """Deduplicate parliament's findings over ``files`` (below ``root``) and apply the
    suppressions."""
    findings = sorted({_finding(row, root) for row in rows}, key=lambda f: f.sort_key)
    failures: list[ParliamentFinding] = []
    suppressed: list[SuppressedFinding] = []
    used: set[ParliamentSuppression] = set()
    for finding in findings:
        matching = [
            s for s in suppressions if s.matches(finding.issue, finding.file, finding.detail)
        ]
        used.update(matching)
        if matching:
            suppressed.append(SuppressedFinding(finding, matching[0]))
        else:
            failures.append(finding)

    # A suppression naming no file of this configuration, or (with a detail) no file with
    # a finding of its issue, is not applicable here; unused otherwise, it is stale.
    unused = [s for s in suppressions if s not in used]
    issues_by_file = {(f.issue, f.file) for f in findings}
    applicable = [
        s
        for s in unused
        if any(re.fullmatch(s.file, f) for f in files)
        and (
            s.detail is None
            or any(i == s.issue and re.fullmatch(s.file, f) for i, f in issues_by_file)
        )
    ]
    groups: dict[str, list[str]] = {}
    for file in files:
        groups.setdefault(file.split("/", 1)[0] if "/" in file else ROOT_GROUP, []).append(file)
    for finding in findings:
        groups.setdefault(finding.group, [])
    return ParliamentReport(
        parliament_version=version,
        groups=tuple(
            GroupResult(
                group,
                len(groups[group]),
                sum(1 for f in failures if f.group == group),
                sum(1 for s in suppressed if s.finding.group == group),
            )
            for group in sorted(groups)
        ),
        failures=tuple(failures),
        suppressed=tuple(suppressed),
        stale=tuple(applicable),
        suppressions=tuple(suppressions),
        not_applicable=tuple(s for s in unused if s not in applicable),
    )


def _finding(row: Mapping[str, Any], root: Path) -> ParliamentFinding:
    location = row.get("location") or {}
    raw_path = str(location.get("filepath", ""))
    path = Path(raw_path)
    if path.is_absolute():
        try:
            file = path.resolve().relative_to(root).as_posix()
        except ValueError:
            file = raw_path
    else:
        file = raw_path
    detail = row.get("detail", "")
    return ParliamentFinding(
        issue=str(row["issue"]),
        title=str(row.get("title", "")),
        severity=str(row.get("severity", "")),
        file=file,
        line=int(location.get("line", 0) or 0),
        column=int(location.get("column", 0) or 0),
        detail=detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True),
    )


# -- rendering --------------------------------------------------------------------------


def render_parliament(report: ParliamentReport, heading: str = "##") -> str:
    lines = [
        f"{heading} parliament: policy documents",
        "",
        f"parliament {report.parliament_version} over the {report.files} policy files in "
        f"`policies/` (one finding per issue, file, position and detail): "
        f"**{len(report.suppressed)} suppressed, {len(report.failures)} failed**"
        + (f", **{len(report.stale)} stale suppressions**" if report.stale else "")
        + ".",
        "",
        "| folder | files | suppressed | failed |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {g.group} | {g.files} | {g.suppressed} | {g.failed} |" for g in report.groups]
    lines += gate_sections(
        heading,
        (
            "| issue | file | line | detail |\n|---|---|---:|---|",
            [
                f"| {f.issue} ({f.severity}) | `{f.file}` | {f.line} | {f.short_detail()} |"
                for f in report.failures
            ],
        ),
        [f"- `{markdown_cell(s.key, 300)}`" for s in report.stale],
        ("policy files", [f"- `{markdown_cell(s.key, 300)}`" for s in report.not_applicable]),
        (
            "| issue | files | detail | findings | reason |\n|---|---|---|---:|---|",
            [
                f"| {s.issue} | `{markdown_cell(s.file)}` | "
                + ("any" if s.detail is None else f"`{markdown_cell(s.detail)}`")
                + f" | {report.matched(s)} | {markdown_cell(s.reason, 1000)} |"
                for s in sorted(
                    report.suppressions, key=lambda s: (s.issue, s.file, s.detail or "")
                )
            ],
        ),
    )
    return "\n".join(lines) + "\n"
