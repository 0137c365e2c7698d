"""`ndap pipeline run`: one git event of an ML project's flow, run locally for real
against the emulator (docs/pipelines.md, "Running a project's pipelines locally")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ndap_infra.cli.common import (
    DEFAULT_CONFIG,
    DEFAULT_OUT,
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    ConfigOption,
    OutOption,
    fail,
    load,
    running_emulator,
    say,
    work_dir,
)

pipeline_app = typer.Typer(
    help="Run an ML project's pipelines locally, on the emulator.", no_args_is_help=True
)


@pipeline_app.command("run")
def run(
    project: Annotated[
        str,
        typer.Argument(
            help="The ML project (ml_projects[].name) or feature pipeline "
            "(<feature_pipelines[].team>-features)."
        ),
    ],
    event: Annotated[
        str,
        typer.Option(
            help="pull-request, push-develop, tag-develop (with TAG) or merge-main (with TAG)."
        ),
    ],
    tag: Annotated[
        str | None, typer.Argument(help="The release tag (tag-develop, merge-main).")
    ] = None,
    repository: Annotated[
        Path, typer.Option("--repo", help="The project's git repository (a local clone).")
    ] = Path("."),
    head: Annotated[
        str | None, typer.Option(help="pull-request: the proposed branch or commit (default HEAD).")
    ] = None,
    approve: Annotated[
        bool, typer.Option("--approve", help="Approve the prd release when the pipeline asks.")
    ] = False,
    transcript: Annotated[
        Path | None, typer.Option(help="Also write the transcript to this file.")
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
) -> None:
    """Execute the event's generated pipelines: the buildspecs' phases with bash, the real
    AWS CLI against the emulator as the stage's build role, on a clone of the repository
    at the event's commit; print what ran, what was skipped and why, the digests checked
    and the emulator gaps met. Exit 0 when every build passed (or waits for approval),
    1 when one failed, 2 on bad input."""
    from ndap_infra.deploy.build_image import BuildImageError
    from ndap_infra.deploy.pipeline_run import (
        Event,
        PipelineRunError,
        Run,
        run_event,
        runnable_names,
    )

    try:
        chosen = Event(event)
    except ValueError:
        raise fail(
            f"--event must be one of {', '.join(e.value for e in Event)} (got {event!r})",
            EXIT_BAD_INPUT,
        ) from None
    loaded = load(config)
    known = runnable_names(loaded)
    if project not in known:
        raise fail(
            f"no ML project or feature pipeline {project!r} in {config} "
            f"({', '.join(known) or 'none'})",
            EXIT_BAD_INPUT,
        )
    if not (repository / ".git").exists():
        raise fail(f"--repo {repository}: not a git repository", EXIT_BAD_INPUT)
    emulator = None if chosen is Event.PULL_REQUEST else running_emulator()
    work = work_dir().resolve() / "pipeline-runs" / project / chosen.value
    try:
        result = run_event(
            Run(loaded, project, chosen, repository.resolve(), work, tag, head, approve, out),
            emulator,
            on_line=say,
        )
    except (PipelineRunError, BuildImageError) as error:
        raise fail(f"pipeline run: {error}", EXIT_BAD_INPUT) from None
    if transcript is not None:
        transcript.write_text(result.text())
    if not result.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``ndap`` application."""
    app.add_typer(pipeline_app, name="pipeline")
