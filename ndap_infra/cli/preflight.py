"""`ndap preflight`: read-only checks of an existing organization before the first deploy."""

from __future__ import annotations

from typing import Any

import typer

from ndap_infra.cli.common import (
    DEFAULT_CONFIG,
    EXIT_CHECK_FAILED,
    ConfigOption,
    console,
    load,
    running_emulator,
)
from ndap_infra.config.model import DeployTarget, NdapConfig


def preflight(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Check, read only, what the first deploy needs of the organization and its adopted
    accounts: all features, the policy types, each account a member with an assumable
    access role, no Config recorder, detector or hub already there. Exit 1 with a table
    of what to do. On deploy.target: local, against the running emulator."""
    from ndap_infra.deploy.preflight import run_preflight

    loaded = load(config)
    report = run_preflight(loaded, _clients(loaded))
    console.print(report.render(), markup=False)
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _clients(config: NdapConfig) -> Any:
    region = config.organization.home_region
    if config.deploy.target is DeployTarget.LOCAL:
        from ndap_infra.emulator import lifecycle

        info = running_emulator()
        return lambda service, account: lifecycle.client(
            info, service, account_id=account, region=region
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

    def clients(service: str, account: str) -> Any:
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
        return sessions[account].client(service)

    return clients


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``ndap`` application."""
    app.command("preflight")(preflight)
