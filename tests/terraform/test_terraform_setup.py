"""The project's own Terraform CLI configuration: mirror when present, registry otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndap_infra.terraform.cli_config import (
    MIRROR_ENV,
    MirrorError,
    discover_mirror,
    render_cli_config,
    terraform_platform,
    write_cli_config,
)
from ndap_infra.terraform.provider import PROVIDER_VERSION


def fake_mirror(root: Path) -> Path:
    (root / "registry.terraform.io/hashicorp/aws" / PROVIDER_VERSION / terraform_platform()).mkdir(
        parents=True
    )
    return root


def test_environment_variable_points_at_a_mirror(tmp_path: Path) -> None:
    mirror = fake_mirror(tmp_path / "mirror")
    choice = discover_mirror({MIRROR_ENV: str(mirror)})
    assert choice.path == mirror.resolve()


def test_off_means_registry() -> None:
    choice = discover_mirror({MIRROR_ENV: "off"})
    assert choice.path is None
    assert "registry" in choice.reason


def test_a_mirror_without_the_pinned_provider_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(
        MirrorError, match=rf"does not hold registry.terraform.io/hashicorp/aws {PROVIDER_VERSION}"
    ):
        discover_mirror({MIRROR_ENV: str(tmp_path)})


def test_registry_configuration_has_no_installation_override(tmp_path: Path) -> None:
    text = render_cli_config(None, tmp_path / "cache")
    assert "provider_installation" not in text
    assert f'plugin_cache_dir = "{tmp_path / "cache"}"' in text


def test_mirror_configuration_installs_aws_from_the_mirror_only(tmp_path: Path) -> None:
    text = render_cli_config(tmp_path / "m", tmp_path / "cache")
    assert f'path    = "{tmp_path / "m"}"' in text
    assert 'exclude = ["registry.terraform.io/hashicorp/aws"]' in text


def test_written_under_the_work_dir_never_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    mirror = fake_mirror(tmp_path / "mirror")
    setup = write_cli_config(tmp_path / "work", {MIRROR_ENV: str(mirror)})
    assert setup.cli_config_file == (tmp_path / "work" / "terraform.rc").resolve()
    env = setup.environment({"HOME": str(tmp_path / "home")})
    assert env["TF_CLI_CONFIG_FILE"] == str(setup.cli_config_file)
    assert env["CDKTF_DISABLE_PLUGIN_CACHE_ENV"] == "1"
    assert env["TF_CLI_ARGS_providers_lock"].startswith(f"-fs-mirror={mirror.resolve()}")
    assert not (tmp_path / "home").exists()


def test_terraform_collects_garbage_less_often_unless_the_user_says(tmp_path: Path) -> None:
    """Terraform and its providers get Go's GOGC=200 (the providers' start-up is most of a
    plan's CPU); a GOGC the user set is passed on unchanged."""
    setup = write_cli_config(tmp_path / "work", {MIRROR_ENV: "off"})
    assert setup.environment({})["GOGC"] == "200"
    assert setup.environment({"GOGC": "off"})["GOGC"] == "off"
