"""Run one CodeBuild buildspec locally, as CodeBuild runs it: its phases in order in one
bash shell (variables set by one command are seen by the next), the buildspec's
``env.variables`` and the pipeline action's variables in the environment beside
CodeBuild's own ``CODEBUILD_*`` ones, its ``exported-variables`` read at the end.

Why and how: docs/design-notes.md, section ndap_infra/deploy/codebuild_local.py."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

PHASES = ("install", "pre_build", "build", "post_build")
"""CodeBuild's phases, in order (``post_build`` runs after a failed ``build`` too)."""


@dataclass(frozen=True)
class BuildRequest:
    """One build of one CodeBuild project in a pipeline's execution."""

    project: str
    buildspec: str
    source_dir: Path
    commit: str
    region: str
    account: str
    pipeline: str
    variables: Mapping[str, str] = field(default_factory=dict)
    """The pipeline action's environment variables (they override the buildspec's)."""
    base_environment: Mapping[str, str] = field(default_factory=dict)
    """The build image's environment: PATH, HOME, credentials endpoint, AWS endpoint..."""
    build_id: str | None = None
    """The build's id (``<project>:<uuid>``) as StartBuild answered it; else a new one."""


@dataclass(frozen=True)
class BuildResult:
    project: str
    build_id: str
    ok: bool
    failed_phase: str | None
    exit_code: int
    exported: dict[str, str]
    output: str
    seconds: float
    runtime_note: str | None = None

    def lines(self, prefixes: tuple[str, ...]) -> list[str]:
        """The output's lines that start with one of ``prefixes``."""
        return [line for line in self.output.splitlines() if line.startswith(prefixes)]


def parse(buildspec: str) -> dict[str, Any]:
    document = yaml.safe_load(buildspec)
    if not isinstance(document, dict) or "phases" not in document:
        raise ValueError("not a buildspec: no phases")
    return document


def codebuild_environment(request: BuildRequest, build_id: str) -> dict[str, str]:
    """The variables CodeBuild sets in every build (those a buildspec may read)."""
    number = build_id.rsplit(":", 1)[-1]
    return {
        "CODEBUILD_CI": "true",
        "CODEBUILD_BUILD_ID": build_id,
        "CODEBUILD_BUILD_ARN": (
            f"arn:aws:codebuild:{request.region}:{request.account}:build/{build_id}"
        ),
        "CODEBUILD_BUILD_NUMBER": "1",
        "CODEBUILD_BUILD_IMAGE": "aws/codebuild/standard:7.0 (local: ndap pipeline run)",
        "CODEBUILD_BUILD_SUCCEEDING": "1",
        "CODEBUILD_INITIATOR": f"codepipeline/{request.pipeline}",
        "CODEBUILD_RESOLVED_SOURCE_VERSION": request.commit,
        "CODEBUILD_SOURCE_VERSION": request.commit,
        "CODEBUILD_SRC_DIR": str(request.source_dir),
        "CODEBUILD_START_TIME": str(int(time.time() * 1000)),
        "CODEBUILD_LOG_PATH": number,
        "AWS_REGION": request.region,
        "AWS_DEFAULT_REGION": request.region,
    }


def driver_script(document: dict[str, Any], exported_file: Path) -> str:
    """One bash script running the buildspec's phases as CodeBuild does: each command in
    the same shell, a failing command ends its phase, a failed install or pre_build skips
    the rest, post_build runs after build whatever its result."""
    phases = document.get("phases") or {}
    out = [
        'cd "$CODEBUILD_SRC_DIR"',
        "ndap_failed_phase=''",
        "ndap_current_phase=''",
        "ndap_exit=0",
    ]
    for phase in PHASES:
        commands = (phases.get(phase) or {}).get("commands") or []
        out.append(f"ndap_phase_{phase}() {{")
        out.append(f'  echo "[Container] entering phase {phase.upper()}"')
        for command in commands:
            out.append(str(command).rstrip("\n"))
            out.append(
                '  ndap_rc=$?; if [ "$ndap_rc" -ne 0 ]; then echo "[Container] command did '
                f'not exit successfully (exit status $ndap_rc) in phase {phase.upper()}"; '
                'return "$ndap_rc"; fi'
            )
        out.append("  return 0")
        out.append("}")
    exported = (document.get("env") or {}).get("exported-variables") or []
    target = _quote(str(exported_file))
    # On any way out (a command may `exit` the shell itself): the exported variables and
    # the failed phase, if any.
    out.append("ndap_finish() {")
    out.append("  ndap_rc=$?")
    out.append(
        '  if [ -n "$ndap_current_phase" ] && [ -z "$ndap_failed_phase" ]; then '
        'ndap_failed_phase="$ndap_current_phase"; ndap_exit="$ndap_rc"; fi'
    )
    out.append(f"  : > {target}")
    for name in exported:
        out.append(f"  printf '%s=%s\\n' {_quote(str(name))} \"${{{name}:-}}\" >> {target}")
    out.append('  echo "ndap_failed_phase=$ndap_failed_phase" >&2')
    out.append('  exit "$ndap_exit"')
    out.append("}")
    out.append("trap ndap_finish EXIT")
    out += [
        'ndap_run_phase() { ndap_current_phase="$1"; "ndap_phase_$1"; ndap_rc=$?; '
        'ndap_current_phase=""; '
        'if [ "$ndap_rc" -ne 0 ] && [ -z "$ndap_failed_phase" ]; then '
        'ndap_failed_phase="$1"; ndap_exit="$ndap_rc"; CODEBUILD_BUILD_SUCCEEDING=0; fi; }',
        "ndap_run_phase install",
        '[ -n "$ndap_failed_phase" ] || ndap_run_phase pre_build',
        '[ -n "$ndap_failed_phase" ] || ndap_run_phase build',
        '[ "$ndap_failed_phase" = install ] || [ "$ndap_failed_phase" = pre_build ] '
        "|| ndap_run_phase post_build",
    ]
    return "\n".join(out) + "\n"


def run_build(request: BuildRequest, work: Path) -> BuildResult:
    """Run the build in ``request.source_dir``; its log goes to ``work/<project>.log``."""
    document = parse(request.buildspec)
    build_id = request.build_id or f"{request.project}:{uuid.uuid4()}"
    work.mkdir(parents=True, exist_ok=True)
    exported_file = work / f"{request.project}.exported"
    script = work / f"{request.project}.sh"
    script.write_text(driver_script(document, exported_file))
    env_section = document.get("env") or {}
    variables = {str(k): str(v) for k, v in (env_section.get("variables") or {}).items()}
    environment = {
        **request.base_environment,
        **codebuild_environment(request, build_id),
        **variables,
        **request.variables,
    }
    start = time.monotonic()
    done = subprocess.run(
        ["bash", str(script)],
        cwd=request.source_dir,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - start
    output = done.stdout
    kept = "\n".join(
        line for line in output.splitlines() if not line.startswith("ndap_failed_phase=")
    )
    (work / f"{request.project}.log").write_text(kept + "\n")
    failed = None
    for line in output.splitlines():
        if line.startswith("ndap_failed_phase="):
            failed = line.split("=", 1)[1] or None
    exported: dict[str, str] = {}
    if exported_file.exists():
        for line in exported_file.read_text().splitlines():
            name, _, value = line.partition("=")
            exported[name] = value
    runtime = (document.get("phases", {}).get("install") or {}).get("runtime-versions") or {}
    note = None
    wanted = runtime.get("python")
    have = environment.get("NDAP_BUILD_PYTHON")
    if wanted is not None and have is not None and str(wanted) != have:
        note = f"runtime-versions asks for python {wanted}; this build ran python {have}"
    return BuildResult(
        project=request.project,
        build_id=build_id,
        ok=done.returncode == 0,
        failed_phase=failed,
        exit_code=done.returncode,
        exported=exported,
        output=kept,
        seconds=seconds,
        runtime_note=note,
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


__all__ = ["PHASES", "BuildRequest", "BuildResult", "codebuild_environment", "run_build"]
