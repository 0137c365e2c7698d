"""Which configuration a command reads (#20, item 7): ``-c``, then ``NDAP_CONFIG``, then
``platform.yaml`` in the current directory; never the bundled example unless named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ndap_infra import cli
from tests.helpers import REFERENCE


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory as the working directory, with no NDAP_CONFIG set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NDAP_CONFIG", raising=False)
    return tmp_path


def test_no_configuration_anywhere_is_a_message_not_the_example(elsewhere: Path) -> None:
    for command in (
        ["validate"],
        ["synth"],
        ["build"],
        ["changes", "--repo", ".", "--base", "HEAD", "--project", "x"],
    ):
        result = CliRunner().invoke(cli.app, command)
        assert result.exit_code == 2, (command, result.output)
        assert "no configuration: platform.yaml is not in" in result.output, command
        assert "-c FILE or NDAP_CONFIG=FILE" in result.output
    assert list(elsewhere.iterdir()) == [], "nothing is written"


def test_platform_yaml_in_the_working_directory_is_found(elsewhere: Path) -> None:
    shutil.copy(REFERENCE, elsewhere / "platform.yaml")
    result = CliRunner().invoke(cli.app, ["validate"])
    assert result.exit_code == 0, result.output
    # and it is the one read: break it, and the message names it
    (elsewhere / "platform.yaml").write_text("organization: {name: X}\n")
    result = CliRunner().invoke(cli.app, ["validate"])
    assert result.exit_code == 2 and "platform.yaml" in result.output


def test_ndap_config_beats_platform_yaml_and_the_flag_beats_both(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (elsewhere / "platform.yaml").write_text("organization: {name: X}\n")
    monkeypatch.setenv("NDAP_CONFIG", str(REFERENCE))
    assert CliRunner().invoke(cli.app, ["validate"]).exit_code == 0
    flagged = CliRunner().invoke(cli.app, ["validate", "-c", "platform.yaml"])
    assert flagged.exit_code == 2 and "platform.yaml" in flagged.output
