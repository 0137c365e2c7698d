"""`ndap preflight` on deploy.target aws without credentials: a message saying how to sign
in, exit 2, before anything is synthesized (it was an internal error, exit 3)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ndap_infra.cli import app
from tests.helpers import REFERENCE


def test_no_credentials_is_a_message_not_an_internal_error(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    on_aws = "deploy:\n  target: aws\n  state:\n    bucket: acme-ml-terraform-state\n"
    config.write_text(REFERENCE.read_text().replace("deploy:\n  target: local\n", on_aws))
    nowhere = str(tmp_path / "absent")
    env: dict[str, str | None] = {  # None: unset
        "NDAP_WORK_DIR": str(tmp_path / "work"),
        "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        "AWS_CONFIG_FILE": nowhere,
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
        "AWS_WEB_IDENTITY_TOKEN_FILE": None,
    }
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["preflight", "-c", str(config), "--out", str(out)], env=env)
    assert result.exit_code == 2, result.output
    assert "no AWS credentials found" in result.output
    assert "aws sso login" in result.output
    assert not out.exists()  # stopped before synthesizing
