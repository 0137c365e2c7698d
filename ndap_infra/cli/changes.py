"""`ndap changes`: what changed between two revisions of an ML project's repository, and
which pipeline stages run (JSON for pipelines, text for people).

Registered on the main `ndap` application by `ndap_infra/cli.py`. Exit codes as everywhere:
0 ok (whatever the plan says), 2 bad input (unknown project, invalid configuration, not a
repository, a revision that does not exist, an unsupported path pattern).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ndap_infra.changes import (
    ChangesError,
    GlobError,
    plan_changes,
    plan_to_json_text,
    plan_to_text,
)
from ndap_infra.cli.common import (
    DEFAULT_CONFIG,
    EXIT_BAD_INPUT,
    FORMAT_HELP,
    ConfigOption,
    OutputFormat,
    no_configuration,
)
from ndap_infra.config import ConfigError, load_config
from ndap_infra.config.model import PathRulesConfig


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"ndap changes: {message}\n")
    return typer.Exit(EXIT_BAD_INPUT)


def _path_rules(project: str | None, config: Path) -> PathRulesConfig:
    if project is None:
        return PathRulesConfig()
    missing = no_configuration(config)
    if missing is not None:
        raise _fail(missing)
    try:
        loaded = load_config(config)
    except ConfigError as error:
        sys.stderr.write(error.render() + "\n")
        raise _fail(f"{config} is not a valid configuration") from None
    for candidate in loaded.ml_projects:
        if candidate.name == project:
            return candidate.paths
    names = ", ".join(p.name for p in loaded.ml_projects) or "none"
    raise _fail(f"unknown project {project!r} in {config} (its ml_projects: {names})")


def changes(
    base: Annotated[
        str,
        typer.Option(
            "--base", help="The revision whose model is registered and deployed (e.g. main)."
        ),
    ],
    head: Annotated[
        str, typer.Option("--head", help="The revision to plan for (e.g. HEAD).")
    ] = "HEAD",
    repo: Annotated[
        Path, typer.Option("--repo", help="The project's git repository (bare or not).")
    ] = Path("."),
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            help="An ml_projects name of the configuration: use its path rules. Default: "
            "the default path rules.",
        ),
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    registered: Annotated[
        list[str] | None,
        typer.Option(
            "--registered",
            help="Fingerprint (sha256:<hex> or <hex>) of a model the registry already holds "
            "(repeatable): a head with that fingerprint reuses it instead of retraining.",
        ),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help=FORMAT_HELP + " Default: json.")
    ] = OutputFormat.JSON,
) -> None:
    """Classify what changed between two revisions of an ML project's repository and print
    which stages run (tests, feature pipeline, retrain, register, redeploy serving, deploy
    orchestration), with the paths and model fingerprint that decided each."""
    rules = _path_rules(project, config)
    try:
        plan = plan_changes(repo, base, head, rules, registered or ())
    except (ChangesError, GlobError) as error:
        raise _fail(str(error)) from None
    text = plan_to_json_text(plan) if output is OutputFormat.JSON else plan_to_text(plan)
    sys.stdout.write(text)


def register(app: typer.Typer) -> None:
    """Add ``ndap changes`` to the ``ndap`` application."""
    app.command("changes")(changes)
