"""`ndap emulator start|status|stop|env`: the local AWS emulator's lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ndap_infra.cli.common import (
    EXIT_CHECK_FAILED,
    deploy_setup,
    fail,
    load,
    running_emulator,
    say,
    work_dir,
)
from ndap_infra.config import NdapConfig
from ndap_infra.emulator import lifecycle
from ndap_infra.emulator.lifecycle import EmulatorError, EmulatorInfo

if TYPE_CHECKING:
    pass


emulator_app = typer.Typer(
    help="The local AWS emulator (moto) that `deploy.target: local` deploys into.",
    no_args_is_help=True,
)


@emulator_app.command("start")
def emulator_start(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Also prepare what this configuration adopts (create_organization: false): "
            "the organization and its member accounts, as a user would already have them. "
            "Needed before a plain `cdktf deploy`; `ndap deploy` does it itself.",
        ),
    ] = None,
) -> None:
    """Start the emulator on a free loopback port (it keeps running until `stop`)."""
    loaded = load(config) if config is not None else None
    try:
        started = lifecycle.start(work_dir())
    except EmulatorError as error:
        raise fail(str(error)) from None
    info = started.info
    verb = "already running" if started.already_running else "started"
    say(f"emulator {verb} at {info.endpoint} (pid {info.pid}, log {info.log})")
    if loaded is not None:
        seed(info, loaded)


@emulator_app.command("status")
def emulator_status() -> None:
    """Say whether the emulator runs and where (exit 1 when it does not answer)."""
    current = lifecycle.status(work_dir())
    say(current.message)
    if current.state is not lifecycle.State.RUNNING:
        raise typer.Exit(EXIT_CHECK_FAILED)


@emulator_app.command("stop")
def emulator_stop() -> None:
    """Stop the emulator: everything deployed into it, and its Terraform state, is gone."""
    info = lifecycle.stop(work_dir())
    if info is None:
        say("the local emulator was not running")
    else:
        say(f"stopped the emulator at {info.endpoint} (pid {info.pid}); its resources are gone")


@emulator_app.command("env")
def emulator_env() -> None:
    """Print exports for a plain `terraform` / `npx cdktf` run against the emulator:
    eval "$(ndap emulator env)"."""
    from ndap_infra.deploy.runner import emulator_environment

    info = running_emulator()
    env = deploy_setup().environment({})
    env.update(emulator_environment(info))
    for key, value in sorted(env.items()):
        say(f"export {key}='{value}'")


def seed(emulator: EmulatorInfo, loaded: NdapConfig) -> None:
    """On the emulator, the adopted organization and accounts a user would already have."""
    from ndap_infra.emulator.seed import seed_adopted_organization

    try:
        seeded = seed_adopted_organization(emulator, loaded)
    except Exception as error:  # botocore errors, a refused id: say what failed
        message = f"could not prepare the adopted organization on the emulator: {error}"
        raise fail(message) from None
    if seeded is not None:
        say(seeded.line())


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``ndap`` application."""
    app.add_typer(emulator_app, name="emulator")
