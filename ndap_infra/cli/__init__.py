"""The ``ndap`` command line: one module per command group, each adding its commands with
``register(app)``; ``common`` holds what they share. Exit codes: 0 ok, 1 a check failed,
2 bad input."""

from __future__ import annotations

import sys

import typer

from ndap_infra.cli import (
    bootstrap,
    build,
    changes,
    deploy,
    drift,
    emulator,
    preflight,
    review,
    tools,
)

app = typer.Typer(
    name="ndap",
    help="Generate and check a secure N-D-A-P multi-account AWS platform for ML teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for group in (build, tools, deploy, preflight, emulator, changes, review, bootstrap, drift):
    group.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
