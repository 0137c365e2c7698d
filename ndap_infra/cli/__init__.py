"""The ``ndap`` command line: one module per command group, each adding its commands with
``register(app)``; ``common`` holds what they share. Exit codes: 0 ok, 1 a check failed,
2 bad input, 3 an internal error (a bug in ndap), 130 interrupted."""

from __future__ import annotations

import os
import sys
import traceback
from importlib import metadata
from typing import Annotated

import typer

from ndap_infra.cli import (
    bootstrap,
    build,
    changes,
    deploy,
    drift,
    emulator,
    panels,
    pipeline,
    preflight,
    review,
    tools,
)

app = typer.Typer(
    name="ndap",
    help="Generate and check a secure N-D-A-P multi-account AWS platform for ML teams.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
for group in (
    build,
    tools,
    deploy,
    preflight,
    emulator,
    changes,
    review,
    bootstrap,
    drift,
    pipeline,
):
    group.register(app)
panels.group_commands(app)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ndap {metadata.version('ndap-infra')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Generate and check a secure N-D-A-P multi-account AWS platform for ML teams."""


EXIT_INTERNAL_ERROR = 3


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:
        if os.environ.get("NDAP_DEBUG"):
            traceback.print_exc()
        where = traceback.extract_tb(error.__traceback__)[-1]
        print(
            f"ndap: internal error: {type(error).__name__}: {error}\n"
            f"  at {os.path.basename(where.filename)}:{where.lineno} ({where.name})\n"
            "This is a bug in ndap, not in your input: please report it with the command "
            "you ran and this message (NDAP_DEBUG=1 prints the traceback).",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL_ERROR)
