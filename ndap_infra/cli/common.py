"""What every command shares: exit codes, default paths, options, the consoles, loading
the configuration, the Terraform settings, and the deploy target's synthesis, stack
selection and emulator, each turning a failure into a message and an exit code."""

from __future__ import annotations

import os
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ndap_infra.config import ConfigError, NdapConfig, load_config_checked
from ndap_infra.config.model import DeployTarget
from ndap_infra.emulator import lifecycle
from ndap_infra.emulator.lifecycle import EmulatorError, EmulatorInfo
from ndap_infra.terraform.cli_config import MirrorError, TerraformSetup, write_cli_config

if TYPE_CHECKING:
    from ndap_infra.deploy.runner import StackRun
    from ndap_infra.stacks.synthesis import Synthesis

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2

DEFAULT_CONFIG = Path("platform.yaml")
"""Where a command looks when neither ``-c`` nor ``$NDAP_CONFIG`` names a configuration
(the file ``ndap init`` writes). The bundled example is used only when asked for by name."""

EXAMPLE_CONFIG = Path("examples/reference.yaml")

DEFAULT_OUT = Path("cdktf.out")

DEFAULT_POLICIES = Path("policies")

LINT_FILE = "LINT.md"

WORK_DIR = Path(os.environ.get("NDAP_WORK_DIR", ".ndap"))

console = Console(highlight=False, soft_wrap=True)

errors = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        envvar="NDAP_CONFIG",
        help="The platform configuration (YAML); default: $NDAP_CONFIG, else platform.yaml "
        "in the current directory.",
    ),
]

OutOption = Annotated[Path, typer.Option("--out", help="Where synthesized stacks are written.")]


class OutputFormat(StrEnum):
    """What a command prints on stdout: ``--format text|json``, the one spelling of every
    command that can print for machines (docs/commands.md, Conventions)."""

    JSON = "json"
    TEXT = "text"


FORMAT_HELP = "text (for people) or json (for machines)."

PoliciesOption = Annotated[
    Path, typer.Option("--policies", help="Where reviewer-facing policy files are written.")
]

NoCacheOption = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Run every check again, even those whose inputs passed before "
        "(results are kept by digest under the work directory's cache/).",
    ),
]

StacksOption = Annotated[
    list[str] | None,
    typer.Option("--stacks", "--stack", "-s", help="Only these stacks (repeatable); default: all."),
]

WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="Stacks of one wave run in parallel, this many at a time; default: the whole "
        "wave (on the reference, env-nonprod, env-dev and env-acc), as far as the available "
        "memory allows at about 2 GB per stack.",
    ),
]

SynthOption = Annotated[
    bool,
    typer.Option(
        help="Synthesize first (default). --no-synth uses the stacks already in --out, "
        "synthesized from this configuration."
    ),
]


def work_dir() -> Path:
    return lifecycle.default_work_dir()


def say(text: str) -> None:
    console.print(text, markup=False)


def fail(text: str, code: int = EXIT_CHECK_FAILED) -> typer.Exit:
    errors.print(text, markup=False)
    return typer.Exit(code)


def no_configuration(path: Path) -> str | None:
    """The message for a configuration that was never named and is not where ndap looks
    (None when ``path`` was named, or exists)."""
    if path != DEFAULT_CONFIG or path.exists():
        return None
    return (
        f"no configuration: {DEFAULT_CONFIG} is not in {Path.cwd()}. Name one with -c FILE "
        "or NDAP_CONFIG=FILE, or write one with `ndap init`; to try the bundled example: "
        f"-c {EXAMPLE_CONFIG} (in an ndap-infra checkout)"
    )


def load(path: Path) -> NdapConfig:
    missing = no_configuration(path)
    if missing is not None:
        errors.print(missing, markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        config, warnings = load_config_checked(path)
    except ConfigError as error:
        errors.print(error.render(), markup=False)
        errors.print("Nothing was written.", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    for warning in warnings:
        errors.print(f"warning: {warning.render(str(path))}", markup=False)
    if warnings:
        errors.print(
            "(set validation.credential_like_values: error to refuse such a configuration)",
            markup=False,
        )
    return config


def terraform_setup() -> TerraformSetup:
    from ndap_infra.terraform.runner import TerraformMissing, find_terraform
    from ndap_infra.terraform.version import TerraformTooOld, require_terraform

    try:
        require_terraform(find_terraform())
        return write_cli_config(WORK_DIR)
    except (MirrorError, TerraformMissing, TerraformTooOld) as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def deploy_setup() -> TerraformSetup:
    """The project's Terraform settings; a missing terraform is named here, before any
    stack runs (not as a traceback from a worker thread)."""
    from ndap_infra.terraform.cli_config import MirrorError, write_cli_config
    from ndap_infra.terraform.runner import TerraformMissing, find_terraform
    from ndap_infra.terraform.version import TerraformTooOld, require_terraform

    try:
        require_terraform(find_terraform())
        return write_cli_config(work_dir())
    except (MirrorError, TerraformMissing, TerraformTooOld) as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None


def running_emulator() -> EmulatorInfo:
    try:
        return lifecycle.require_running(work_dir())
    except EmulatorError as error:
        raise fail(str(error)) from None


def synthesize_or_exit(
    loaded: NdapConfig, out: Path, *, synth: bool = True, prove_jobs: bool = False
) -> Synthesis:
    """The synthesis to deploy from (written now, or the one in ``out`` with ``synth``
    false). ``prove_jobs``: with company or inherited guardrails configured, refuse
    (nothing written) a synthesis whose guardrails deny a job of the platform's own, as
    ``ndap build`` does."""
    from ndap_infra.emulator.settings import EMULATOR_ENDPOINT_VARIABLE
    from ndap_infra.stacks.synthesis import REFUSALS, NotSynthesized, load_synthesis, synthesize

    def check_jobs(synthesis: Synthesis) -> None:
        organization = loaded.organization
        guardrails = bool(organization.company_guardrails or organization.inherited_guardrails)
        if not (prove_jobs and guardrails):
            return
        if synthesis.phase_one is not None:
            return
        from ndap_infra.proofs.access_model import build_model
        from ndap_infra.proofs.jobs import (
            CompanyGuardrailBreaksJobs,
            check_company_guardrails,
        )
        from ndap_infra.proofs.jobs import prove_jobs as evaluate_jobs

        model = build_model(loaded, synthesis.stack_json())
        try:
            check_company_guardrails(loaded, evaluate_jobs(model))
        except CompanyGuardrailBreaksJobs as error:
            raise fail(f"{error}\nNothing was deployed.", EXIT_BAD_INPUT) from None

    if not synth:
        try:
            existing = load_synthesis(out)
        except NotSynthesized as error:
            raise fail(str(error), EXIT_BAD_INPUT) from None
        local = loaded.deploy.target is DeployTarget.LOCAL
        for name, document in existing.stack_json().items():
            if (EMULATOR_ENDPOINT_VARIABLE in document.get("variable", {})) != local:
                raise fail(
                    f"{out}/stacks/{name} was not synthesized for deploy.target "
                    f"{loaded.deploy.target.value}: synthesize again (drop --no-synth)",
                    EXIT_BAD_INPUT,
                )
        check_jobs(existing)
        return existing
    start = time.monotonic()
    try:
        synthesis = synthesize(loaded, out, before_swap=check_jobs)
    except REFUSALS as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
    say(
        f"synthesized {len(synthesis.stacks)} stacks into {out}/stacks "
        f"[{time.monotonic() - start:.1f}s]"
    )
    return synthesis


def select_stacks(synthesis: Synthesis, stacks: list[str] | None) -> list[str]:
    from ndap_infra.deploy.orchestrate import UnknownStacks, select

    try:
        return select(list(synthesis.stacks), stacks or [])
    except UnknownStacks as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None


def emulator_for(loaded: NdapConfig, *, start: bool) -> EmulatorInfo | None:
    if loaded.deploy.target is not DeployTarget.LOCAL:
        return None
    if not start:
        return running_emulator()
    try:
        started = lifecycle.start(work_dir())
    except EmulatorError as error:
        raise fail(str(error)) from None
    verb = "running" if started.already_running else "started"
    say(f"emulator {verb} at {started.info.endpoint} (deploy.target: local)")
    return started.info


def stack_runs(
    synthesis: Synthesis, setup: TerraformSetup, emulator: EmulatorInfo | None
) -> dict[str, StackRun]:
    from ndap_infra.deploy.flow import stack_runs

    return stack_runs(synthesis, setup, emulator, work_dir())


def quiet_synthesis(loaded: NdapConfig, out: Path) -> Synthesis:
    """Synthesize without the progress line: with --json, stdout carries only JSON."""
    from ndap_infra.stacks.synthesis import REFUSALS, synthesize

    try:
        return synthesize(loaded, out)
    except REFUSALS as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
