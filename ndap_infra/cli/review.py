"""`ndap review`: the security review pack of a change (Markdown for a pull request)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ndap_infra.files.directories import UnsafeOutput
from ndap_infra.review.review_pack import (
    ReviewError,
    details_path,
    policies_at,
    policies_in,
    render_details,
    render_review,
    render_summary,
    write_review_pack,
)


def review(
    base: Annotated[
        str,
        typer.Option("--base", help="Git revision to compare against, e.g. the last release tag."),
    ],
    policies: Annotated[Path, typer.Option(help="The working tree's reviewer files.")] = Path(
        "policies"
    ),
    repo: Annotated[Path, typer.Option(help="The git repository holding policies/.")] = Path("."),
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the summary (it fits a pull-request comment) here, and the details "
            "beside it (review.md -> review.details.md); both or neither. Default: both to "
            "stdout, the summary first."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Also plan every stack of this configuration against its deploy target "
            "(the running local emulator, or AWS) and add the plan per stack; when the "
            "target is not reachable the section says so.",
        ),
    ] = None,
    synthesized: Annotated[
        Path, typer.Option("--synth-out", help="Where the stacks are synthesized for the plan.")
    ] = Path("cdktf.out"),
) -> None:
    """Compare the reviewer files (policies/) with a git revision and write a review pack:
    a summary for the pull request (counts per kind: access, pipeline, platform, jobs and
    provenance decisions, SCP/RCP statements, baseline controls, lint results, policy sizes
    and documents; the changed decisions first) and the details beside it; with --config
    the Terraform plan per stack."""
    try:
        before = policies_at(repo, base, policies)
        after = policies_in(policies)
    except ReviewError as error:
        print(str(error), file=sys.stderr)
        raise typer.Exit(2) from None
    plan_section = "" if config is None else _plan_section(config, synthesized)
    if out is None:
        sys.stdout.write(render_review(base, before, after, plan_section))
        return
    beside = details_path(out)
    summary = render_summary(base, before, after, plan_section, f"`{beside.name}`")
    details = render_details(base, before, after, plan_section)
    try:
        write_review_pack(out, summary, details)
    except UnsafeOutput as error:
        print(f"ndap review: {error}; nothing was written", file=sys.stderr)
        raise typer.Exit(2) from None
    except OSError as error:
        print(
            f"ndap review: cannot write {out} ({error.strerror or error}); nothing was written",
            file=sys.stderr,
        )
        raise typer.Exit(2) from None
    print(f"Wrote {out} ({len(summary.encode())} bytes) and {beside}")


def _plan_section(config: Path, synthesized: Path) -> str:
    """Plan each stack against the configuration's target; one line when unreachable."""
    from ndap_infra.cli.common import deploy_setup, load, quiet_synthesis, stack_runs, work_dir
    from ndap_infra.config.model import DeployTarget
    from ndap_infra.deploy.orchestrate import run_waves
    from ndap_infra.deploy.runner import StackResult, plan_document
    from ndap_infra.emulator import lifecycle
    from ndap_infra.review.plan_summary import (
        StackPlan,
        render_plan_section,
        summarize,
        unreachable,
    )

    loaded = load(config)
    emulator = None
    if loaded.deploy.target is DeployTarget.LOCAL:
        current = lifecycle.status(work_dir())
        if current.state is not lifecycle.State.RUNNING or current.info is None:
            reason = (
                "the local emulator is not running: nothing is deployed, `ndap deploy` first"
                if current.state is lifecycle.State.STOPPED
                else current.message
            )
            return unreachable(reason)
        emulator = current.info
        target = f"the local emulator at {emulator.endpoint}"
    else:
        target = "AWS"
    synthesis = quiet_synthesis(loaded, synthesized)
    runs = stack_runs(synthesis, deploy_setup(), emulator)
    plans: dict[str, StackPlan] = {}

    def plan(stack: str) -> StackResult:
        made = plan_document(runs[stack], action="review")
        if made.error is not None:
            plans[stack] = StackPlan(stack, error=made.error)
        elif made.document is None:
            plans[stack] = StackPlan(stack, not_deployed=True)
        else:
            plans[stack] = summarize(stack, made.document)
        return StackResult(stack, "review", made.error is None, made.seconds, "", Path())

    stacks = list(synthesis.stacks)
    run_waves([stacks], plan, stop_on_failure=False, label="review")
    ordered = [plans[s] for s in stacks]
    if all(p.error is not None for p in ordered):
        first = (ordered[0].error or "").strip().splitlines()
        return unreachable(first[0] if first else "every plan failed")
    if all(p.not_deployed for p in ordered):
        return unreachable(f"nothing is deployed on {target}: `ndap deploy` first")
    return render_plan_section(ordered, target)


def register(app: typer.Typer) -> None:
    """Add ``ndap review`` to the ``ndap`` application."""
    app.command("review")(review)
