"""The `ndap` command line. Exit codes: 0 ok, 1 a check failed, 2 bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ndap_infra.config import ConfigError, NdapConfig, load_config
from ndap_infra.config.schema import SCHEMA_PATH, config_json_schema
from ndap_infra.terraform.cli_config import MirrorError, TerraformSetup, write_cli_config

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_CONFIG = Path("examples/reference.yaml")
DEFAULT_OUT = Path("cdktf.out")
DEFAULT_POLICIES = Path("policies")
WORK_DIR = Path(os.environ.get("NDAP_WORK_DIR", ".ndap"))

app = typer.Typer(
    name="ndap",
    help="Generate and check a secure N-D-A-P multi-account AWS platform for ML teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The platform configuration (YAML).")
]
OutOption = Annotated[Path, typer.Option("--out", help="Where synthesized stacks are written.")]
PoliciesOption = Annotated[
    Path, typer.Option("--policies", help="Where reviewer-facing policy files are written.")
]


def _load(path: Path) -> NdapConfig:
    try:
        return load_config(path)
    except ConfigError as error:
        errors.print(error.render(), markup=False)
        errors.print("Nothing was written.", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _terraform_setup() -> TerraformSetup:
    try:
        return write_cli_config(WORK_DIR)
    except MirrorError as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


@app.command()
def validate(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Check a configuration: every problem at once, each with its field and fix."""
    loaded = _load(config)
    envs = ", ".join(e.value for e in loaded.enabled_environments())
    console.print(f"{config}: valid ({envs}; {len(loaded.ml_projects)} ML projects)", markup=False)


@app.command()
def synth(
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
    policies: PoliciesOption = DEFAULT_POLICIES,
) -> None:
    """Synthesize every stack (one process) and write the policies reviewers read."""
    from ndap_infra.build import synthesize, write_reviewer_files

    loaded = _load(config)
    start = time.monotonic()
    with console.status("Synthesizing stacks..."):
        synthesis = synthesize(loaded, out)
        files = write_reviewer_files(synthesis, policies)
    seconds = time.monotonic() - start
    console.print(
        f"Synthesized {len(synthesis.stacks)} stacks into {out}/stacks in {seconds:.1f}s: "
        + ", ".join(synthesis.stacks),
        markup=False,
    )
    console.print(f"Wrote {len(files)} reviewer files under {policies}/", markup=False)


@app.command("terraform-validate")
def terraform_validate(out: OutOption = DEFAULT_OUT) -> None:
    """Run real `terraform init` and `terraform validate` on every synthesized stack."""
    _validate_synthesized(out)


def _validate_synthesized(out: Path) -> None:
    from ndap_infra.build import NotSynthesized, load_synthesis
    from ndap_infra.terraform.runner import TerraformMissing, validate_stacks

    try:
        stacks = load_synthesis(out).stacks
    except NotSynthesized as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    setup = _terraform_setup()
    console.print(f"Terraform providers: {setup.mirror.reason}", markup=False)
    start = time.monotonic()
    try:
        with console.status(f"terraform init + validate on {len(stacks)} stacks..."):
            results = validate_stacks(stacks, setup)
    except TerraformMissing as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    for result in results:
        mark = "ok  " if result.ok else "FAIL"
        console.print(f"  {mark} {result.message} [{result.seconds:.1f}s]", markup=False)
    console.print(f"terraform validate: {time.monotonic() - start:.1f}s in total", markup=False)
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command()
def parity(config: ConfigOption = DEFAULT_CONFIG, out: OutOption = DEFAULT_OUT) -> None:
    """Prove every environment carries the same security controls (exit 1 if not)."""
    _check_parity(_load(config), out)


def _check_parity(loaded: NdapConfig, out: Path) -> None:
    from ndap_infra.build import NotSynthesized, load_synthesis
    from ndap_infra.checks.parity import check_platform_parity

    try:
        stacks = load_synthesis(out).stack_json()
    except NotSynthesized as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    accounts = {env.value: loaded.account_id(env) for env in loaded.enabled_environments()}
    missing = [env for env in accounts if f"env-{env}" not in stacks]
    if missing:
        errors.print(
            f"{out} has no stack for {', '.join(missing)}: it was synthesized from another "
            "configuration; run `ndap synth` with this one first.",
            markup=False,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    report = check_platform_parity(stacks, accounts)
    console.print(report.render(), markup=False)
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command()
def build(
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
    policies: PoliciesOption = DEFAULT_POLICIES,
) -> None:
    """The main job: validate the configuration, synthesize, write reviewer files, prove
    parity between environments, and run terraform validate on every stack, offline."""
    synth(config=config, out=out, policies=policies)
    _check_parity(_load(config), out)
    _validate_synthesized(out)


@app.command()
def schema(
    out: Annotated[Path, typer.Option(help="Where to write the JSON Schema.")] = SCHEMA_PATH,
    check: Annotated[bool, typer.Option(help="Exit 1 if the file is stale.")] = False,
) -> None:
    """Export the configuration's JSON Schema (for editors)."""
    text = config_json_schema()
    if check:
        current = out.read_text() if out.exists() else ""
        if current != text:
            errors.print(f"{out} is stale: run `ndap schema` and commit it.")
            raise typer.Exit(EXIT_CHECK_FAILED)
        console.print(f"{out} is up to date.")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    console.print(f"Wrote {out}")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def cdktf(ctx: typer.Context) -> None:
    """Run the pinned cdktf CLI (`npx cdktf ...`) with the project's offline-safe settings,
    e.g. `ndap cdktf synth`."""
    npx = shutil.which("npx")
    if npx is None:
        errors.print("npx was not found: install Node.js 20 or newer, then `npm ci`.")
        raise typer.Exit(EXIT_BAD_INPUT)
    setup = _terraform_setup()
    env = setup.environment()
    completed = subprocess.run([npx, "--no-install", "cdktf", *ctx.args], env=env, check=False)
    raise typer.Exit(completed.returncode)


@app.command("env")
def print_env() -> None:
    """Print shell exports that make a plain `npx cdktf ...` or `terraform` run use the
    project's Terraform CLI configuration: eval "$(ndap env)"."""
    setup = _terraform_setup()
    base: dict[str, str] = {}
    for key, value in sorted(setup.environment(base).items()):
        console.print(f"export {key}='{value}'", markup=False, soft_wrap=True)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
