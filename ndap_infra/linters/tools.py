"""The pinned policy linters (checkov, parliament), found in their own virtualenv.

They live in ``.venv-tools`` (``make setup``, from ``requirements-tools.txt``), never in the
project's venv: checkov pins an older boto3 than the project. An environment variable per
tool points elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_VENV = REPO_ROOT / ".venv-tools"
"""Beside this checkout (an editable install). A platform repository, where ndap is an
installed wheel, has its own ``.venv-tools`` in the working directory: that one first."""


class GateError(RuntimeError):
    """A gate could not give an answer: its tool is missing, failed, or said nothing usable."""


def find_tool(name: str, env_var: str) -> Path:
    """``$env_var`` if set, else ``.venv-tools/bin/<name>``; an error naming the fix if absent."""
    override = os.environ.get(env_var)
    here = Path.cwd() / TOOLS_VENV.name / "bin" / name
    path = Path(override) if override else here if here.is_file() else TOOLS_VENV / "bin" / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        where = f"${env_var} points to {path}" if override else f"no {path}"
        raise GateError(
            f"{name} is not installed ({where}): run `make setup`, which installs the pinned "
            f"linters from requirements-tools.txt into {TOOLS_VENV.name}/ "
            f"(or set {env_var} to a {name} executable)"
        )
    return path


@dataclass(frozen=True)
class ToolRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_tool(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    ok_codes: tuple[int, ...] = (0, 1),
) -> ToolRun:
    """Run a linter with no stdin (parliament reads stdin when it is not a terminal)."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise GateError(f"{Path(argv[0]).name} did not finish within {timeout:.0f} s") from error
    run = ToolRun(done.returncode, done.stdout, done.stderr, time.monotonic() - started)
    if run.returncode not in ok_codes:
        tail = "\n".join((run.stderr or run.stdout).strip().splitlines()[-15:])
        raise GateError(f"{Path(argv[0]).name} failed (exit {run.returncode}):\n{tail}")
    return run


def markdown_cell(text: str, limit: int = 300) -> str:
    """Text safe inside a Markdown table cell, shortened to ``limit`` characters."""
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def gate_sections(
    heading: str,
    failures: tuple[str, list[str]],
    stale: list[str],
    not_applicable: tuple[str, list[str]],
    suppressions: tuple[str, list[str]],
) -> list[str]:
    """A gate report's sections after its summary table, each only when it has rows:
    failures (a table header and rows), stale suppressions, suppressions for what this
    configuration does not have (what they name, and rows), and every suppression."""
    failures_header, failure_rows = failures
    absent, absent_rows = not_applicable
    suppressions_header, suppression_rows = suppressions

    def section(title: str, body: list[str]) -> list[str]:
        return ["", f"{heading}# {title}", "", *body]

    lines: list[str] = []
    if failure_rows:
        lines += section("Failures (fix, or suppress with a reason)", [failures_header])
        lines += failure_rows
    if stale:
        lines += section("Stale suppressions (they match nothing: remove them)", stale)
    if absent_rows:
        lines += section(f"Suppressions for {absent} this configuration does not have", absent_rows)
    return lines + section("Suppressions", [suppressions_header]) + suppression_rows
