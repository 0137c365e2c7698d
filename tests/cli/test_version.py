"""`ndap --version` names the installed version (what a platform repository pins)."""

from __future__ import annotations

from importlib import metadata

from typer.testing import CliRunner

from ndap_infra import cli


def test_version_is_the_installed_packages() -> None:
    result = CliRunner().invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"ndap {metadata.version('ndap-infra')}\n"


def test_commands_still_run_with_the_global_option_present() -> None:
    result = CliRunner().invoke(cli.app, ["schema", "--check"])
    assert result.exit_code == 0, result.output
