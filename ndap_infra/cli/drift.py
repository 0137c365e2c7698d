"""`ndap drift`: does what is deployed still match the code?

Plans every deployed stack (or the selected ones) against its target without applying
anything and reports, per stack, the resources changed or deleted outside Terraform (with
the attributes that differ) and what `terraform apply` would do about them
(``ndap_infra.deploy.drift``). Exit codes: 0 no drift, 1 drift found (or a stack could not
be planned), 2 bad input: a missing configuration, an unknown stack, nothing deployed, an
unreachable target."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ndap_infra.cli import common
from ndap_infra.cli.common import (
    DEFAULT_CONFIG,
    DEFAULT_OUT,
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    FORMAT_HELP,
    ConfigOption,
    OutOption,
    OutputFormat,
    SynthOption,
    deploy_setup,
    fail,
    load,
    quiet_synthesis,
    say,
    select_stacks,
    stack_runs,
    synthesize_or_exit,
    work_dir,
)
from ndap_infra.config.model import DeployTarget
from ndap_infra.emulator import lifecycle

if TYPE_CHECKING:
    from ndap_infra.deploy.drift import StackDrift
    from ndap_infra.deploy.runner import StackResult


def _local_emulator() -> lifecycle.EmulatorInfo:
    """The running emulator, or exit 2 saying why there is nothing to compare with."""
    current = lifecycle.status(work_dir())
    if current.state is lifecycle.State.STOPPED:
        raise fail(
            "nothing deployed locally: the local emulator is not running (deployed resources "
            "and their Terraform state live in it). Deploy first: ndap deploy --config <file>",
            EXIT_BAD_INPUT,
        )
    if current.state is lifecycle.State.UNREACHABLE or current.info is None:
        raise fail(f"the target is unreachable: {current.message}", EXIT_BAD_INPUT)
    return current.info


def _render_table(results: list[StackDrift]) -> None:
    from rich.table import Table

    from ndap_infra.deploy.drift import summary_line

    table = Table(title="Drift: deployed vs code", show_lines=False)
    table.add_column("stack", no_wrap=True)
    table.add_column("resource", no_wrap=True)  # an address stays whole: copy-pasteable
    table.add_column("difference", overflow="fold")
    table.add_column("attribute: deployed -> now", overflow="fold")
    table.add_column("fix", overflow="fold")
    for result in results:
        if not result.differences:
            table.add_row(result.stack, "", summary_line(result).split(": ", 1)[1], "", "")
            continue
        for difference in result.differences:
            attributes = "\n".join(a.render() for a in difference.attributes)
            table.add_row(
                result.stack,
                difference.address,
                difference.kind.value,
                attributes,
                difference.fix or "",
            )
    common.console.print(table)


def drift(
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
    stacks: Annotated[
        list[str] | None,
        typer.Option(
            "--stack", "--stacks", "-s", help="Only these stacks (repeatable); default: all."
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Stacks planned at the same time.")
    ] = 2,
    output: Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)] = (
        OutputFormat.TEXT
    ),
    json_alias: Annotated[
        bool, typer.Option("--json", hidden=True, help="The same as --format json.")
    ] = False,
    assume_role: Annotated[
        str | None,
        typer.Option(
            "--assume-role",
            help="Plan as this role in each stack's account instead of the account access "
            "role (the scheduled check uses the read-only <org>-drift-reader).",
        ),
    ] = None,
    synth: SynthOption = True,
) -> None:
    """Compare every deployed stack with the code: a plan against the target (nothing is
    applied) that lists the resources changed or deleted outside Terraform, the attributes
    that differ, and what `ndap deploy` would do. Exit 0 in sync, 1 drift, 2 bad input."""
    from ndap_infra.deploy.drift import (
        detect,
        render_text,
        role_override,
        to_json,
        unreachable_reason,
    )
    from ndap_infra.deploy.orchestrate import run_waves
    from ndap_infra.deploy.runner import StackResult

    as_json = json_alias or output is OutputFormat.JSON
    loaded = load(config)
    emulator = _local_emulator() if loaded.deploy.target is DeployTarget.LOCAL else None
    synthesis = (
        quiet_synthesis(loaded, out)
        if as_json and synth
        else synthesize_or_exit(loaded, out, synth=synth)
    )
    selected = select_stacks(synthesis, stacks)
    runs = stack_runs(synthesis, deploy_setup(), emulator)
    results: dict[str, StackDrift] = {}
    start = time.monotonic()

    documents = synthesis.stack_json() if assume_role else {}
    management = loaded.organization.management_account_id

    def check(stack: str) -> StackResult:
        override = role_override(documents[stack], assume_role, management) if assume_role else None
        found = results[stack] = detect(runs[stack], override)
        return StackResult(stack, "drift", found.error is None, found.seconds, found.status, Path())

    console = common.console
    with (
        console.status(
            f"planning {', '.join(selected)} against the target (nothing is applied) ...",
            # a spinner only on a terminal; piped output stays plain
        )
        if console.is_terminal and not as_json
        else contextlib.nullcontext()
    ):
        run_waves([selected], check, workers=workers, stop_on_failure=False, label="drift")
    ordered = [results[s] for s in selected]
    if emulator is not None and not lifecycle.is_healthy(emulator.endpoint):
        raise fail(
            f"the target is unreachable: the local emulator at {emulator.endpoint} stopped "
            f"answering; see {emulator.log}",
            EXIT_BAD_INPUT,
        )
    reason = unreachable_reason(ordered)
    if reason is not None:
        raise fail(
            f"the target is unreachable (no stack could be planned): {reason}; check the "
            "credentials and the network (the logs are under the work directory's logs/)",
            EXIT_BAD_INPUT,
        )
    deployed = [r for r in ordered if not r.nothing_deployed]
    missing = [r.stack for r in ordered if r.nothing_deployed]
    if not deployed or (stacks and missing):
        raise fail(
            f"nothing deployed in {', '.join(missing)} (no resource in its Terraform state): "
            "deploy first, e.g. ndap deploy --config "
            f"{config}" + "".join(f" --stacks {s}" for s in missing),
            EXIT_BAD_INPUT,
        )
    if as_json:
        common.console.print_json(json.dumps(to_json(ordered)))
    elif console.is_terminal:
        _render_table(ordered)
        say(render_text(ordered).splitlines()[-1])
    else:
        say(render_text(ordered))
    for result in ordered:
        if result.error is not None and not as_json:
            common.errors.print(result.error, markup=False)
    if not as_json:
        say(f"drift: checked {len(deployed)} stacks in {time.monotonic() - start:.1f}s")
    if any(r.drifted or r.error is not None for r in ordered):
        raise typer.Exit(EXIT_CHECK_FAILED)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``ndap`` application."""
    app.command("drift")(drift)
