"""`ndap --version` names the installed version (what a platform repository pins);
`NDAP_CONFIG` names the configuration once for every command."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ndap_infra import cli


def test_version_is_the_installed_packages() -> None:
    result = CliRunner().invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"ndap {metadata.version('ndap-infra')}\n"


def test_commands_still_run_with_the_global_option_present() -> None:
    result = CliRunner().invoke(cli.app, ["schema", "--check"])
    assert result.exit_code == 0, result.output


def test_ndap_config_names_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NDAP_CONFIG instead of -c: a platform repository sets it once."""
    config = tmp_path / "platform.yaml"
    config.write_text("organization: {name: X}\n")
    monkeypatch.setenv("NDAP_CONFIG", str(config))
    result = CliRunner().invoke(cli.app, ["validate"])
    assert result.exit_code == 2 and str(config) in result.output
    flagged = CliRunner().invoke(cli.app, ["validate", "-c", "examples/reference.yaml"])
    assert flagged.exit_code == 0, flagged.output  # the flag wins


def test_the_version_lives_in_one_place_and_the_changelog_has_its_section() -> None:
    """pyproject reads the version from ndap_infra.__version__; CHANGELOG.md has a section
    for it with upgrade notes (a platform engineer reads them before moving the pin)."""
    import ndap_infra

    root = Path(__file__).resolve().parents[2]
    assert metadata.version("ndap-infra") == ndap_infra.__version__
    pyproject = (root / "pyproject.toml").read_text()
    project = pyproject.split("[project]", 1)[1].split("\n[", 1)[0]
    assert 'dynamic = ["version"]' in project and "\nversion = " not in project
    changelog = (root / "CHANGELOG.md").read_text()
    heading = f"\n## {ndap_infra.__version__} "
    assert heading in changelog, f"CHANGELOG.md has no section for {ndap_infra.__version__}"
    section = changelog.split(heading, 1)[1].split("\n## ", 1)[0]
    assert "### Upgrade notes" in section
