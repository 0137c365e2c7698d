"""Gate: checkov over the synthesized Terraform JSON, every failure fixed or suppressed.

checkov runs once over every stack's ``cdk.tf.json`` (``--framework terraform_json``; a
directory scan with the ``terraform`` framework finds nothing in cdktf output), offline
(``--skip-download``: otherwise it tries its vendor's API and still exits 0), with JSON
output. Each failed check is then matched against ``CHECKOV_SUPPRESSIONS`` by check id and
construct path; what no suppression matches is a failure of the gate, and so is a
suppression that matches nothing (stale). A stack on which checkov ran no check at all, or
that it could not parse, is an error: a silent scan is not a passed one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ndap_infra.linters.cache import LintCache, inputs_digest
from ndap_infra.linters.suppressions import CHECKOV_SUPPRESSIONS, CheckovSuppression
from ndap_infra.linters.tools import (
    GateError,
    find_tool,
    gate_sections,
    markdown_cell,
    run_tool,
)

CHECKOV_ENV = "NDAP_CHECKOV"
"""Environment variable naming the checkov executable (default ``.venv-tools/bin/checkov``)."""
FRAMEWORK = "terraform_json"
STACK_FILE = "cdk.tf.json"
OFFLINE_ENV = {
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",  # no PyPI version check at start
    "LOG_LEVEL": "WARNING",
}
SETTING_PREFIXES = ("CKV_", "CHECKOV_", "BC_", "PRISMA_")
"""Environment variables checkov reads as settings: part of a kept output's digest."""


@dataclass(frozen=True)
class CheckovFinding:
    """One failed check on one resource."""

    check_id: str
    check_name: str
    stack: str
    address: str
    """Terraform address, e.g. ``aws_s3_bucket.data-bucket_D46037D5``."""
    construct_path: str
    """``<stack>/<construct path>``, e.g. ``env-dev/data-bucket/bucket``."""

    @property
    def sort_key(self) -> tuple[str, str, str]:
        return (self.construct_path, self.check_id, self.address)


@dataclass(frozen=True)
class SuppressedFinding:
    finding: CheckovFinding
    suppression: CheckovSuppression


@dataclass(frozen=True)
class StackResult:
    stack: str
    passed: int
    failed: int
    """Failed checks no suppression accepts."""
    suppressed: int


@dataclass(frozen=True)
class CheckovReport:
    checkov_version: str
    stacks: tuple[StackResult, ...]
    failures: tuple[CheckovFinding, ...]
    """Failed checks no suppression accepts, sorted."""
    suppressed: tuple[SuppressedFinding, ...]
    stale: tuple[CheckovSuppression, ...]
    """Suppressions that matched no failed check, though resources they name exist."""
    suppressions: tuple[CheckovSuppression, ...]
    seconds: float = field(default=0.0, compare=False)
    """How long checkov ran (not rendered: the report is deterministic)."""
    not_applicable: tuple[CheckovSuppression, ...] = ()
    """Suppressions naming no resource of this configuration (e.g. the tooling account's
    on a platform without one): neither used nor stale."""
    cached: bool = field(default=False, compare=False)
    """True when checkov's output for these very inputs was kept from an earlier run."""

    @property
    def ok(self) -> bool:
        return not self.failures and not self.stale

    def matched(self, suppression: CheckovSuppression) -> int:
        return sum(1 for s in self.suppressed if s.suppression == suppression)

    def render(self) -> str:
        return render_checkov(self)


# -- running --------------------------------------------------------------------------


def stack_files(stacks: Mapping[str, Path]) -> dict[str, Path]:
    """Stack name -> its ``cdk.tf.json`` (given the stack's directory or the file)."""
    files = {}
    for name, path in stacks.items():
        file = path / STACK_FILE if path.is_dir() else path
        if not file.is_file():
            raise GateError(f"stack {name}: no {file}")
        files[name] = file.resolve()
    return files


def checkov_command(checkov: Path, files: Iterable[Path]) -> list[str]:
    argv = [
        str(checkov),
        "--skip-download",
        "--skip-results-upload",
        "--framework",
        FRAMEWORK,
        "--output",
        "json",
    ]
    for file in files:
        argv += ["--file", str(file)]
    return argv


def run_checkov(
    stacks: Mapping[str, Path],
    suppressions: Sequence[CheckovSuppression] = CHECKOV_SUPPRESSIONS,
    cache: LintCache | None = None,
) -> CheckovReport:
    """Run checkov once over every stack (name -> stack directory or ``cdk.tf.json``, in
    the order to report them) and apply the suppressions. With a ``cache``, checkov's
    output for the same checkov and the same stacks is reused instead of running it."""
    if not stacks:
        raise GateError("no stacks to check")
    checkov = find_tool("checkov", CHECKOV_ENV)
    with tempfile.TemporaryDirectory(prefix="ndap-checkov-") as temporary:
        scratch = Path(temporary).resolve()
        files = scannable_copies(stack_files(stacks), scratch)
        cwd = Path(*_common_parts(files.values()))
        argv = checkov_command(checkov, files.values())
        digest = _digest(argv, files, scratch) if cache is not None else ""
        kept = cache.get(digest, scratch) if cache is not None and digest else None
        if kept is not None and "stdout" in kept:
            report = evaluate_checkov(_parse_json(kept["stdout"]), files, suppressions)
            return replace(report, cached=True)
        run = run_tool(argv, cwd=cwd, env=OFFLINE_ENV)
        raw = _parse_json(run.stdout)
        report = replace(evaluate_checkov(raw, files, suppressions), seconds=run.seconds)
        if cache is not None and digest:
            cache.put(digest, scratch, {"stdout": run.stdout})
        return report


def _digest(argv: list[str], files: Mapping[str, Path], scratch: Path) -> str:
    """The digest of checkov's inputs, with the settings it reads from the environment."""
    settings = {k: v for k, v in os.environ.items() if k.startswith(SETTING_PREFIXES)}
    return inputs_digest("checkov", argv, scratch, {**settings, **OFFLINE_ENV}, files.items())


def scannable_copies(files: Mapping[str, Path], scratch: Path) -> dict[str, Path]:
    """Copies of the stacks without Terraform ``import`` blocks, which checkov 3.3.30
    cannot parse ("could not parse" for the whole file). An import block only says which
    existing object a resource adopts; the resource's configuration, which checkov
    scans, is unchanged."""
    copies = {}
    for name, path in files.items():
        document = json.loads(path.read_text())
        document.pop("import", None)
        target = scratch / name / STACK_FILE
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(document, indent=2))
        copies[name] = target.resolve()
    return copies


def _common_parts(paths: Iterable[Path]) -> tuple[str, ...]:
    parts = [p.parent.parts for p in paths]
    common: list[str] = []
    for column in zip(*parts, strict=False):
        if len(set(column)) != 1:
            break
        common.append(column[0])
    return tuple(common) or ("/",)


def _parse_json(stdout: str) -> Any:
    text = stdout.strip()
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        raise GateError(f"checkov printed no JSON report: {text[:500]!r}")
    try:
        return json.loads(text[min(starts) :])
    except json.JSONDecodeError as error:
        raise GateError(f"checkov's report is not JSON ({error})") from error


# -- evaluating a report ----------------------------------------------------------------


def evaluate_checkov(
    raw: Any,
    files: Mapping[str, Path],
    suppressions: Sequence[CheckovSuppression] = CHECKOV_SUPPRESSIONS,
) -> CheckovReport:
    """Apply the suppressions to checkov's JSON report over ``files`` (stack -> file)."""
    by_file = {path.resolve(): name for name, path in files.items()}
    index = {name: _resource_index(json.loads(path.read_text())) for name, path in files.items()}
    results = _framework_results(raw)
    version = _version(raw)

    errors = [str(e) for r in results for e in r.get("parsing_errors", [])]
    if errors:
        raise GateError("checkov could not parse: " + ", ".join(sorted(errors)))

    passed: Counter[str] = Counter()
    failed: list[CheckovFinding] = []
    for result in results:
        for check in result.get("passed_checks", []):
            passed[_stack_of(check, by_file)] += 1
        for check in result.get("failed_checks", []):
            stack = _stack_of(check, by_file)
            address, path = _resolve(check["resource"], stack, index[stack])
            failed.append(
                CheckovFinding(check["check_id"], check["check_name"], stack, address, path)
            )

    failures: list[CheckovFinding] = []
    suppressed: list[SuppressedFinding] = []
    used: set[CheckovSuppression] = set()
    for finding in sorted(set(failed), key=lambda f: f.sort_key):
        matching = [s for s in suppressions if s.matches(finding.check_id, finding.construct_path)]
        used.update(matching)
        if matching:
            suppressed.append(SuppressedFinding(finding, matching[0]))
        else:
            failures.append(finding)

    silent = [
        name for name in files if passed[name] == 0 and not any(f.stack == name for f in failed)
    ]
    if silent:
        raise GateError(
            f"checkov ran no check on {', '.join(silent)}: is it synthesized Terraform JSON?"
        )
    stacks = tuple(
        StackResult(
            name,
            passed[name],
            sum(1 for f in failures if f.stack == name),
            sum(1 for s in suppressed if s.finding.stack == name),
        )
        for name in files
    )
    paths = {path for stack_index in index.values() for _, path in stack_index.values()}
    unused = [s for s in suppressions if s not in used]
    applicable = [s for s in unused if s.applies_to(paths)]
    return CheckovReport(
        checkov_version=version,
        stacks=stacks,
        failures=tuple(failures),
        suppressed=tuple(suppressed),
        stale=tuple(applicable),
        suppressions=tuple(suppressions),
        not_applicable=tuple(s for s in unused if s not in applicable),
    )


def _framework_results(raw: Any) -> list[dict[str, Any]]:
    reports = raw if isinstance(raw, list) else [raw]
    results = []
    for report in reports:
        if not isinstance(report, dict):
            raise GateError(f"unexpected checkov report: {str(report)[:200]}")
        if report.get("check_type", FRAMEWORK) != FRAMEWORK:
            continue
        results.append(report.get("results", {}))
    return results


def _version(raw: Any) -> str:
    for report in raw if isinstance(raw, list) else [raw]:
        if isinstance(report, dict):
            version = report.get("summary", report).get("checkov_version")
            if version:
                return str(version)
    return "unknown"


def _stack_of(check: Mapping[str, Any], by_file: Mapping[Path, str]) -> str:
    file = Path(str(check.get("file_abs_path", ""))).resolve()
    if file not in by_file:
        raise GateError(f"checkov reported on a file it was not given: {file}")
    return by_file[file]


def _resource_index(stack: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Logical id -> (resource type, construct path) for every resource of a stack."""
    index = {}
    for rtype, bodies in stack.get("resource", {}).items():
        for logical_id, body in bodies.items():
            path = body.get("//", {}).get("metadata", {}).get("path", logical_id)
            index[logical_id] = (rtype, str(path))
    return index


def _resolve(resource: str, stack: str, index: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
    """(Terraform address, construct path) of checkov's ``resource``: ``type.logical_id``,
    or ``resource.logical_id`` for some checks on Terraform JSON."""
    kind, _, logical_id = resource.partition(".")
    if logical_id in index:
        rtype, path = index[logical_id]
        if kind in (rtype, "resource"):
            return f"{rtype}.{logical_id}", path
    return resource, f"{stack}/{resource}"


# -- rendering --------------------------------------------------------------------------


def render_checkov(report: CheckovReport, heading: str = "##") -> str:
    passed = sum(s.passed for s in report.stacks)
    lines = [
        f"{heading} checkov: synthesized Terraform",
        "",
        f"checkov {report.checkov_version}, `--framework {FRAMEWORK}`, once over every "
        f"stack's `{STACK_FILE}`: **{passed} passed, {len(report.suppressed)} suppressed, "
        f"{len(report.failures)} failed**"
        + (f", **{len(report.stale)} stale suppressions**" if report.stale else "")
        + ".",
        "",
        "| stack | passed | suppressed | failed |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {s.stack} | {s.passed} | {s.suppressed} | {s.failed} |" for s in report.stacks]
    lines += gate_sections(
        heading,
        (
            "| check | resource | address |\n|---|---|---|",
            [
                f"| {f.check_id}: {markdown_cell(f.check_name, 120)} | `{f.construct_path}` "
                f"| `{f.address}` |"
                for f in report.failures
            ],
        ),
        [f"- {s.check_id} `{markdown_cell(s.resource)}`" for s in report.stale],
        (
            "resources",
            [f"- {s.check_id} `{markdown_cell(s.resource)}`" for s in report.not_applicable],
        ),
        (
            "| check | resources | findings | reason |\n|---|---|---:|---|",
            [
                f"| {s.check_id} | `{markdown_cell(s.resource)}` | {report.matched(s)} "
                f"| {markdown_cell(s.reason, 1000)} |"
                for s in sorted(report.suppressions, key=lambda s: (s.check_id, s.resource))
            ],
        ),
    )
    return "\n".join(lines) + "\n"
