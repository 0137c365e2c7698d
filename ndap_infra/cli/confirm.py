"""Plan, then confirm: how `ndap deploy` applies on ``deploy.target: aws`` (and on the
emulator with ``--confirm``). For each apply wave: a saved plan per stack, its summary
(destroyed and replaced addresses first), one question for the wave, then exactly the saved
plans applied. ``--plan-only`` writes the plans, their summary and a manifest and stops;
``--apply-plans DIR`` applies such reviewed plans. See docs/commands.md (deploy)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ndap_infra.cli import common
from ndap_infra.cli.common import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, fail, say
from ndap_infra.deploy.plans import (
    MANIFEST_FILE,
    SUMMARY_FILE,
    PlansRefused,
    PlanSummary,
    check_manifest,
    render_summaries,
    stack_fingerprints,
    summarize,
    write_manifest,
)

if TYPE_CHECKING:
    from ndap_infra.config import NdapConfig
    from ndap_infra.deploy.runner import StackResult, StackRun
    from ndap_infra.stacks.synthesis import Synthesis

Report = Callable[["StackResult"], None]


def require_an_answer(auto_approve: bool) -> None:
    """Exit 2, before anything is planned or applied, when there is nobody to ask."""
    if auto_approve or sys.stdin.isatty():
        return
    raise fail(
        "deploy: this deploy asks before applying each wave of stacks, but the input is not a "
        "terminal, so nothing was applied. In automation either add --auto-approve, or "
        "review first: `ndap deploy --plan-only`, then `ndap deploy --apply-plans DIR "
        "--auto-approve` once the plans are approved.",
        EXIT_BAD_INPUT,
    )


def configuration_fingerprint(loaded: NdapConfig) -> str:
    from ndap_infra.deploy.plans import fingerprint

    return fingerprint(loaded.model_dump_json())


def _plans_or_exit(runs: dict[str, StackRun], wave: Sequence[str], directory: Path,
                   workers: int) -> list[PlanSummary]:  # fmt: skip
    from ndap_infra.deploy.flow import save_plans

    saved = save_plans(runs, wave, directory, workers=workers)
    failed = [p for p in saved if p.error is not None]
    for plan in failed:
        common.errors.print(plan.error, markup=False)
    if failed:
        raise fail(
            f"deploy: the plan of {', '.join(p.stack for p in failed)} failed; nothing of this "
            "wave was applied"
        )
    return [summarize(p.stack, p.document or {}) for p in saved]


def _show(summaries: Sequence[PlanSummary]) -> None:
    for summary in summaries:
        for line in summary.lines():
            say(f"  {line}")


def _ask(wave: Sequence[str], applied: Sequence[str]) -> None:
    if typer.confirm(f"Apply these {len(wave)} stacks?", default=False):
        return
    done = f"applied before: {', '.join(applied)}" if applied else "nothing was applied"
    raise fail(f"deploy: not applied ({', '.join(wave)}) at your answer; {done}", EXIT_CHECK_FAILED)


def confirmed_apply(
    runs: dict[str, StackRun],
    selected: Sequence[str],
    levels: Mapping[str, int] | None,
    directory: Path,
    *,
    auto_approve: bool,
    workers: int,
    on_result: Report,
) -> list[StackResult]:
    """Per apply wave: save a plan per stack, show the summaries, ask once (unless
    ``auto_approve``), apply the saved plans. Stops at the first wave that fails."""
    from ndap_infra.deploy.flow import apply_saved
    from ndap_infra.deploy.orchestrate import waves

    results: list[StackResult] = []
    groups = waves(selected, levels=levels)
    for number, wave in enumerate(groups, 1):
        say(f"wave {number}/{len(groups)}: terraform plan -out={directory}/<stack>.tfplan")
        summaries = _plans_or_exit(runs, wave, directory, workers)
        _show(summaries)
        if all(s.empty for s in summaries):
            say("  nothing to change in this wave")
            continue
        if not auto_approve:
            _ask(wave, [r.stack for r in results])
        applied = apply_saved(runs, wave, directory, workers=workers, on_result=on_result)
        results += applied
        if not all(r.ok for r in applied):
            break
    return results


def plan_only(
    runs: dict[str, StackRun],
    synthesis: Synthesis,
    selected: Sequence[str],
    loaded: NdapConfig,
    directory: Path,
    *,
    workers: int,
) -> None:
    """Save a plan of every selected stack, write their summary and the manifest, stop."""
    summaries = _plans_or_exit(runs, selected, directory, workers)
    text = render_summaries(summaries)
    (directory / SUMMARY_FILE).write_text(text)
    fingerprints = stack_fingerprints(synthesis.stack_json(), selected)
    write_manifest(
        directory,
        configuration_fingerprint(loaded),
        fingerprints,
        loaded.deploy.target.value,
        {s.stack: s.lines(limit=None) for s in summaries},
    )
    say(text.rstrip())
    say(
        f"plans saved in {directory} ({SUMMARY_FILE} to review, {MANIFEST_FILE}); nothing "
        f"applied. Apply exactly these plans with `ndap deploy --apply-plans {directory}`."
    )


def apply_reviewed(
    runs: dict[str, StackRun],
    synthesis: Synthesis,
    selected: Sequence[str],
    loaded: NdapConfig,
    directory: Path,
    *,
    auto_approve: bool,
    workers: int,
    on_result: Report,
) -> list[StackResult]:
    """Apply the saved plans of ``directory``, wave by wave, after checking they were made
    from this configuration and these stacks (Terraform refuses a stale one itself)."""
    from ndap_infra.deploy.flow import apply_saved
    from ndap_infra.deploy.orchestrate import waves
    from ndap_infra.deploy.plans import read_manifest

    fingerprints = stack_fingerprints(synthesis.stack_json(), selected)
    try:
        check_manifest(
            directory, configuration_fingerprint(loaded), fingerprints, loaded.deploy.target.value
        )
    except PlansRefused as error:
        raise fail(f"deploy: refused: {error}", EXIT_BAD_INPUT) from None
    shown = read_manifest(directory).get("summaries", {})
    results: list[StackResult] = []
    groups = waves(selected, levels=synthesis.apply_waves())
    for number, wave in enumerate(groups, 1):
        say(f"wave {number}/{len(groups)}: the saved plans of {directory}")
        for stack in wave:
            for line in shown.get(stack, [f"{stack}: (no summary saved)"]):
                say(f"  {line}")
        if not auto_approve:
            _ask(wave, [r.stack for r in results])
        applied = apply_saved(
            runs, wave, directory, workers=workers, on_result=on_result, init_first=True
        )
        results += applied
        if not all(r.ok for r in applied):
            break
    return results
