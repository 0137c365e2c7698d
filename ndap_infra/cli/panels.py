"""The groups `ndap --help` lists its commands in (typer's rich help panels), in one place
so a new command has exactly one line to add; tests/cli/test_help.py fails for a command in
no group."""

from __future__ import annotations

import inspect
import re

import typer

CONFIGURE = "Configure"
BUILD = "Build and prove"
REVIEW = "Review"
DEPLOY = "Deploy and operate"
PIPELINES = "Project pipelines"
EMULATOR = "Emulator"

PANELS: dict[str, str] = {
    "init": CONFIGURE,
    "add-project": CONFIGURE,
    "validate": CONFIGURE,
    "schema": CONFIGURE,
    "build": BUILD,
    "synth": BUILD,
    "access": BUILD,
    "terraform-validate": BUILD,
    "parity": BUILD,
    "creation-order": BUILD,
    "lint": BUILD,
    "explain": REVIEW,
    "review": REVIEW,
    "promotion": REVIEW,
    "state-bucket-policy": REVIEW,
    "preflight": DEPLOY,
    "deploy": DEPLOY,
    "destroy": DEPLOY,
    "drift": DEPLOY,
    "env": DEPLOY,
    "cdktf": DEPLOY,
    "changes": PIPELINES,
    "pipeline": PIPELINES,
    "probe": EMULATOR,
    "emulator": EMULATOR,
}


ORDER = (CONFIGURE, BUILD, REVIEW, DEPLOY, PIPELINES, EMULATOR)


def _name(info: typer.models.CommandInfo) -> str:
    """The command's name as typer derives it when none is given."""
    return info.name or (info.callback.__name__.lower().replace("_", "-") if info.callback else "")


def summary(info: typer.models.CommandInfo) -> str | None:
    """The first sentence of the command's docstring on one line: what the command list
    shows (the docstrings are wrapped at the source's width, which the list would keep)."""
    text = " ".join((inspect.getdoc(info.callback) or "").split()) if info.callback else ""
    found = re.match(r"(.+?(?<!e\.g)(?<!i\.e)[.!?])(\s|$)", text)
    return (found.group(1) if found else text) or None


def group_commands(app: typer.Typer) -> None:
    """Put every registered command and command group in its help panel, in ``ORDER``,
    each listed with a one-line summary."""
    for command in app.registered_commands:
        command.rich_help_panel = PANELS.get(_name(command), command.rich_help_panel)
        command.short_help = command.short_help or summary(command)
    for group in app.registered_groups:
        group.rich_help_panel = PANELS.get(group.name or "", group.rich_help_panel)

    def rank(panel: str | None) -> int:
        return ORDER.index(panel) if panel in ORDER else len(ORDER)

    app.registered_commands.sort(key=lambda c: rank(c.rich_help_panel))
