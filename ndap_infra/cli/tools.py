"""`ndap cdktf`, `env`, `promotion` and `state-bucket-policy`: helpers around the main job."""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING, Annotated

import typer

from ndap_infra.cli.common import (
    DEFAULT_CONFIG,
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    ConfigOption,
    console,
    errors,
    load,
    terraform_setup,
)

if TYPE_CHECKING:
    pass

_commands = typer.Typer()
"""This module's commands; ``register`` adds them to the ``ndap`` application."""


@_commands.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def cdktf(ctx: typer.Context) -> None:
    """Run the pinned cdktf CLI (`npx cdktf ...`) with the project's offline-safe settings,
    e.g. `ndap cdktf synth`."""
    npx = shutil.which("npx")
    if npx is None:
        errors.print("npx was not found: install Node.js 20 or newer, then `npm ci`.")
        raise typer.Exit(EXIT_BAD_INPUT)
    setup = terraform_setup()
    env = setup.environment()
    completed = subprocess.run([npx, "--no-install", "cdktf", *ctx.args], env=env, check=False)
    raise typer.Exit(completed.returncode)


@_commands.command("env")
def print_env() -> None:
    """Print shell exports that make a plain `npx cdktf ...` or `terraform` run use the
    project's Terraform CLI configuration: eval "$(ndap env)"."""
    setup = terraform_setup()
    base: dict[str, str] = {}
    for key, value in sorted(setup.environment(base).items()):
        console.print(f"export {key}='{value}'", markup=False, soft_wrap=True)


@_commands.command()
def promotion(
    project: Annotated[str, typer.Option("--project", help="An ml_projects name.")],
    env: Annotated[
        str, typer.Option("--env", help="The environment to promote to: dev, acc or prd.")
    ],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Would promoting PROJECT's model to ENV be refused for a missing feature version?
    Reads the configuration (what has been promoted where); the pipelines' deploy steps
    check the environment itself. Exit 1 when refused."""
    from ndap_infra.config.enums import Environment
    from ndap_infra.pipelines.features import (
        PROMOTION_ORDER,
        available_versions,
        promotion_refusal,
    )

    loaded = load(config)
    found = [p for p in loaded.ml_projects if p.name == project]
    if not found:
        known = ", ".join(p.name for p in loaded.ml_projects) or "none"
        errors.print(f"unknown project {project!r} (ml_projects: {known})", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    targets = {e.value: e for e in PROMOTION_ORDER}
    if env not in targets:
        errors.print(f"--env must be one of {', '.join(targets)}, not {env!r}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    target: Environment = targets[env]
    refusal = promotion_refusal(
        project, target, found[0].uses_features, available_versions(loaded, target)
    )
    if refusal is not None:
        errors.print(refusal, markup=False)
        raise typer.Exit(EXIT_CHECK_FAILED)
    needs = ", ".join(f"{u.group}-v{u.version}" for u in found[0].uses_features) or "none"
    console.print(f"{project} may be promoted to {env} (feature versions it needs: {needs})")


@_commands.command("state-bucket-policy")
def state_bucket_policy(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Print the bucket policy to put on the stacks' state bucket (deploy.state.bucket)
    when creating it by hand: the platform pipeline's plan build reads the state, its
    apply build reads and writes it, its planners and deployers never touch it."""
    from ndap_infra.pipelines.platform import platform_pipeline_spec

    loaded = load(config)
    spec = platform_pipeline_spec(loaded)
    policy = spec.state_bucket_policy() if spec is not None else None
    if policy is None:
        errors.print(
            f"{config}: no platform_pipeline with deploy.state: the state bucket's policy "
            "comes from the platform pipeline's build roles; set both first",
            markup=False,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    console.print(policy.to_pretty_json(), markup=False, end="")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``ndap`` application."""
    for command in _commands.registered_commands:
        app.registered_commands.append(command)
