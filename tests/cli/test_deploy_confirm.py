"""`ndap deploy`'s confirmation, before anything is planned: who may skip the question, and
the flags that do not go together. (Planning, declining, applying and saved plans for real:
tests/emulator/test_confirm.py; the summaries: tests/deploy/test_plans.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ndap_infra.cli import app
from tests.helpers import REFERENCE

RUNNER = CliRunner()


@pytest.fixture
def aws_config(tmp_path: Path) -> Path:
    text = REFERENCE.read_text()
    assert "deploy:\n  target: local\n" in text
    path = tmp_path / "platform.yaml"
    on_aws = "deploy:\n  target: aws\n  state:\n    bucket: acme-ml-terraform-state\n"
    path.write_text(text.replace("deploy:\n  target: local\n", on_aws))
    return path


def _deploy(*args: str, work: Path) -> tuple[int, str]:
    result = RUNNER.invoke(app, ["deploy", *args], env={"NDAP_WORK_DIR": str(work)})
    return result.exit_code, result.output


def test_on_aws_without_a_terminal_nothing_is_planned_or_applied(
    aws_config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, text = _deploy("-c", str(aws_config), "--out", str(out), work=tmp_path / "work")
    assert code == 2, text
    assert "not a terminal" in text and "--auto-approve" in text and "--plan-only" in text
    assert "nothing was applied" in text
    assert not out.exists(), "stopped before synthesizing"
    assert not (tmp_path / "work" / "plans").exists()


def test_on_the_emulator_the_question_is_asked_only_with_confirm(tmp_path: Path) -> None:
    """The same refusal flips on with --confirm (the local default applies directly)."""
    args = ["-c", str(REFERENCE), "--out", str(tmp_path / "out"), "--via", "nonsense"]
    code, text = _deploy(*args, "--confirm", work=tmp_path / "work")
    assert code == 2 and "--via must be terraform or cdktf" in text
    code, text = _deploy(
        "-c", str(REFERENCE), "--via", "cdktf", "--confirm", work=tmp_path / "work"
    )
    assert code == 2 and "--via terraform" in text, text


def test_plan_only_and_apply_plans_are_two_steps(tmp_path: Path) -> None:
    code, text = _deploy(
        "-c", str(REFERENCE), "--plan-only", "--apply-plans", str(tmp_path), work=tmp_path
    )
    assert code == 2 and "two steps" in text
