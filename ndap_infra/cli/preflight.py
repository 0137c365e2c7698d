"""`ndap preflight`: read-only checks of an existing organization before the first deploy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ndap_infra.cli.common import (
    DEFAULT_CONFIG,
    DEFAULT_OUT,
    EXIT_CHECK_FAILED,
    ConfigOption,
    OutOption,
    SynthOption,
    console,
    load,
    running_emulator,
    say,
    synthesize_or_exit,
)
from ndap_infra.config.model import DeployTarget, NdapConfig

IMPORTS_FILE = "imports.tf.json"


def preflight(
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
    synth: SynthOption = True,
    imports_out: Annotated[
        Path | None,
        typer.Option(
            "--imports-out",
            help="Write a Terraform import block for every existing singleton found, one "
            f"file per stack (<dir>/<stack>/{IMPORTS_FILE}), to review and copy into the "
            "stack's directory before the first deploy.",
        ),
    ] = None,
) -> None:
    """Check, read only, what the first deploy needs of the organization and its adopted
    accounts: all features, the policy types, each account a member with an assumable
    access role, no Config recorder, detector or hub already there in any allowed region
    (or the import blocks that adopt them), the git connections' status, and the quotas
    the synthesized stacks reach. Exit 1 with a table of what to do. On deploy.target:
    local, against the running emulator."""
    from ndap_infra.deploy.preflight import run_preflight

    loaded = load(config)
    synthesis = synthesize_or_exit(loaded, out, synth=synth)
    report = run_preflight(loaded, _clients(loaded), synthesis.stack_json())
    console.print(report.render(), markup=False)
    if imports_out is not None:
        for stack, blocks in report.import_blocks().items():
            path = imports_out / stack / IMPORTS_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"import": [b.to_json() for b in blocks]}, indent=2) + "\n")
            say(f"preflight: {len(blocks)} import block(s) for {stack} in {path}")
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _clients(config: NdapConfig) -> Any:
    region = config.organization.home_region
    if config.deploy.target is DeployTarget.LOCAL:
        from ndap_infra.emulator import lifecycle

        info = running_emulator()
        return lambda service, account, where=region: lifecycle.client(
            info, service, account_id=account, region=where
        )
    return _aws_clients(config, region)


def _aws_clients(config: NdapConfig, region: str) -> Any:
    """The management account's own session; a member account through its access role
    (assuming it is part of the check: failing to is the finding)."""
    import boto3  # type: ignore[import-untyped]

    management = config.organization.management_account_id
    role = config.organization.account_access_role
    session = boto3.session.Session(region_name=region)
    sessions: dict[str, Any] = {management: session}

    def clients(service: str, account: str, where: str = region) -> Any:
        if account not in sessions:
            credentials = session.client("sts").assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="ndap-preflight"
            )["Credentials"]
            sessions[account] = boto3.session.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=region,
            )
        return sessions[account].client(service, region_name=where)

    return clients


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``ndap`` application."""
    app.command("preflight")(preflight)
