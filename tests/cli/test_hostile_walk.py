"""Every command, hostile input (#15, items 2 and 5): a message and exit 2 (or 1 for a
check that fails), never a traceback, never an internal error. And when ndap does fail
inside, the user gets exit 3 and a line to report, not a stack dump."""

# ruff: noqa: RUF005 (argument lists are clearer split where the command line would be)

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ndap_infra import cli
from ndap_infra.bootstrap import files as bootstrap_files
from tests.config.test_hostile_input import ALIAS_BOMB
from tests.helpers import NDAP, REFERENCE, ROOT

ARABIC_DIGITS = "١٢٣٤٥٦٧٨٩٠١٢"


def hostile_files(root: Path) -> dict[str, Path]:
    """Configuration paths a user could pass by mistake, and a valid copy."""
    (root / "dir.yaml").mkdir()
    (root / "latin1.yaml").write_bytes("organization:\n  name: caf\xe9\n".encode("latin-1"))
    (root / "bomb.yaml").write_text(ALIAS_BOMB)
    (root / "list.yaml").write_text("- organization\n")
    (root / "empty.yaml").write_text("")
    (root / "invalid.yaml").write_text("organization: {name: X}\nenvironments: 3\n")
    (root / "a-file").write_text("not a directory\n")
    shutil.copy(REFERENCE, root / "platform.yaml")
    return {
        "missing": root / "missing.yaml",
        "directory": root / "dir.yaml",
        "latin-1": root / "latin1.yaml",
        "alias bomb": root / "bomb.yaml",
        "a list": root / "list.yaml",
        "empty": root / "empty.yaml",
        "invalid": root / "invalid.yaml",
        "under a file": root / "a-file" / "platform.yaml",
    }


CONFIG_COMMANDS = [
    ["validate"],
    ["synth"],
    ["build"],
    ["access"],
    ["parity"],
    ["probe"],
    ["state-bucket-policy"],
    ["deploy"],
    ["destroy", "--yes"],
    ["drift"],
    ["explain", "data-scientist", "prd", "s3:GetObject"],
    ["promotion", "--project", "churn-prediction", "--env", "prd"],
    ["add-project", "--name", "x-proj", "--team", "t-team", "--kind", "batch"]
    + ["--repository", "acme/x"],
    ["changes", "--base", "HEAD", "--repo", str(ROOT), "--project", "churn-prediction"],
    ["pipeline", "run", "churn-prediction", "--event", "push-develop", "--repo", str(ROOT)],
]

# Arguments after the valid configuration (``{config}``) or a scratch path (``{tmp}``).
ARGUMENT_CASES: dict[str, list[str]] = {
    "explain: unknown persona": ["explain", "nobody", "prd", "s3:GetObject", "-c", "{config}"],
    "explain: environment as a path": ["explain", "data-scientist", "../..", "x", "-c", "{config}"],
    "explain: non-ASCII action": ["explain", "data-scientist", "dev", "s3:Gét", "-c", "{config}"],
    "promotion: unknown project": ["promotion", "--project", "../..", "--env", "prd"]
    + ["-c", "{config}"],
    "promotion: unknown environment": ["promotion", "--project", "churn-prediction"]
    + ["--env", "prod", "-c", "{config}"],
    "add-project: path as a name": ["add-project", "-c", "{config}", "--name", "../.."]
    + ["--team", "t-team", "--kind", "batch", "--repository", "acme/x"],
    "add-project: path as repository": ["add-project", "-c", "{config}", "--name", "x-proj"]
    + ["--team", "t-team", "--kind", "batch", "--repository", "../.."],
    "add-project: NaN threshold": ["add-project", "-c", "{config}", "--name", "x-proj"]
    + ["--team", "t-team", "--kind", "batch", "--repository", "acme/x"]
    + ["--retraining", "drift", "--metric", "m", "--threshold", "nan"],
    "add-project: superscript schedule": ["add-project", "-c", "{config}", "--name", "x-proj"]
    + ["--team", "t-team", "--kind", "batch", "--repository", "acme/x"]
    + ["--retraining", "periodic", "--schedule", "cron(\u00b2 3 ? * MON *)"],
    "add-project: scaffold into the working directory": ["add-project", "-c", "{config}"]
    + ["--name", "x-proj", "--team", "t-team", "--kind", "batch", "--repository", "acme/x"]
    + ["--scaffold", "."],
    "init: over a directory": ["init", "-c", "{tmp}", "--org-name", "acme-ml"],
    "init: Arabic-Indic account id": ["init", "-c", "{tmp}/new.yaml", "--org-name", "acme-ml"]
    + ["--management-account-id", ARABIC_DIGITS, "--home-region", "eu-west-1"]
    + ["--dev-account-id", "300000000003", "--acc-account-id", "400000000004"]
    + ["--prd-account-id", "500000000005", "--no-nonprod"],
    "init: region that does not exist": ["init", "-c", "{tmp}/new.yaml", "--org-name", "acme-ml"]
    + ["--management-account-id", "100000000001", "--home-region", "mars-east-1"]
    + ["--dev-account-id", "300000000003", "--acc-account-id", "400000000004"]
    + ["--prd-account-id", "500000000005", "--no-nonprod"],
    "init: e-mail without an environment": ["init", "-c", "{tmp}/new.yaml"]
    + ["--org-name", "acme-ml", "--account-email", "nobody"],
    "changes: not a repository": ["changes", "--base", "HEAD~1", "--repo", "{tmp}"],
    "changes: repository is a file": ["changes", "--base", "main", "--repo", "{tmp}/a-file"],
    "changes: hostile revision": ["changes", "--base", "--upload-pack=touch x", "--repo", "{tmp}"],
    "review: not a repository": ["review", "--base", "HEAD", "--repo", "{tmp}"],
    "review: out is a directory": ["review", "--base", "HEAD", "--out", "{tmp}"],
    "lint: no stacks there": ["lint", "--out", "{tmp}/nothing"],
    "terraform-validate: no stacks there": ["terraform-validate", "--out", "{tmp}/nothing"],
    "schema: out is a directory": ["schema", "--out", "{tmp}"],
    "synth: out is the working directory": ["synth", "-c", "{config}", "--out", "."],
    "synth: out is a file": ["synth", "-c", "{config}", "--out", "{tmp}/a-file"],
    "synth: out under a file": ["synth", "-c", "{config}", "--out", "{tmp}/a-file/out"],
    "synth: policies under a file": ["synth", "-c", "{config}", "--out", "{tmp}/out"]
    + ["--policies", "{tmp}/a-file/policies"],
    "deploy: zero workers": ["deploy", "-c", "{config}", "--workers", "0"],
    "pipeline run: unknown event": ["pipeline", "run", "churn-prediction", "--event"]
    + ["push-main", "--repo", str(ROOT), "-c", "{config}"],
    "pipeline run: not a repository": ["pipeline", "run", "churn-prediction", "--event"]
    + ["push-develop", "--repo", "{tmp}", "-c", "{config}"],
    "pipeline run: unknown project": ["pipeline", "run", "../..", "--event", "pull-request"]
    + ["--repo", str(ROOT), "-c", "{config}"],
    "pipeline run: hostile head": ["pipeline", "run", "churn-prediction", "--event"]
    + ["pull-request", "--head", "--upload-pack=touch x", "--repo", str(ROOT), "-c", "{config}"],
    "pipeline run: tag event without a tag": ["pipeline", "run", "churn-prediction"]
    + ["--event", "tag-develop", "--repo", str(ROOT), "-c", "{config}"],
}


def invoke(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("NDAP_WORK_DIR", str(cwd / ".ndap"))
    result = CliRunner().invoke(cli.app, args, catch_exceptions=True)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"ndap {' '.join(args)} raised {result.exception!r}"
    output = result.output
    assert "Traceback" not in output, output
    return result.exit_code, output


@pytest.mark.parametrize("kind", ["missing", "directory", "latin-1", "alias bomb", "a list"])
@pytest.mark.parametrize("command", CONFIG_COMMANDS, ids=lambda c: c[0])
def test_every_command_refuses_a_hostile_configuration(
    command: list[str], kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = hostile_files(tmp_path)
    code, output = invoke([*command, "-c", str(paths[kind])], tmp_path, monkeypatch)
    assert code == 2, output
    assert str(paths[kind]) in output or paths[kind].name in output


@pytest.mark.parametrize("kind", ["empty", "invalid", "under a file"])
def test_the_other_hostile_configurations_through_validate(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = hostile_files(tmp_path)
    code, output = invoke(["validate", "-c", str(paths[kind])], tmp_path, monkeypatch)
    assert code == 2, output


@pytest.mark.parametrize("case", sorted(ARGUMENT_CASES))
def test_every_command_refuses_hostile_arguments(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile_files(tmp_path)
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    config_text = (tmp_path / "platform.yaml").read_bytes()
    args = [
        a.replace("{config}", str(tmp_path / "platform.yaml")).replace("{tmp}", str(tmp_path))
        for a in ARGUMENT_CASES[case]
    ]
    code, output = invoke(args, tmp_path, monkeypatch)
    assert code in (1, 2), f"{case}: exit {code}\n{output}"
    after = sorted(
        p.relative_to(tmp_path).as_posix()
        for p in tmp_path.rglob("*")
        if not p.relative_to(tmp_path).as_posix().startswith(".ndap")
    )
    assert after == before, f"{case} wrote files: {set(after) - set(before)}"
    assert (tmp_path / "platform.yaml").read_bytes() == config_text


names = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=names, repository=names, team=names)
def test_add_project_never_crashes_and_writes_only_a_valid_result(
    name: str, repository: str, team: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "platform.yaml"
    shutil.copy(REFERENCE, config)
    args = ["add-project", "-c", str(config), "--name", name, "--team", team]
    code, output = invoke(
        [*args, "--kind", "batch", "--repository", repository], tmp_path, monkeypatch
    )
    assert code in (0, 2), output
    if code == 2:
        assert config.read_bytes() == REFERENCE.read_bytes()
    else:
        validated = CliRunner().invoke(cli.app, ["validate", "-c", str(config)])
        assert validated.exit_code == 0, validated.output


def test_add_project_on_a_file_it_cannot_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configuration's directory takes no new file (a read-only checkout, say): exit 2,
    the configuration and its directory unchanged, no scaffold left."""
    config = tmp_path / "platform.yaml"
    shutil.copy(REFERENCE, config)
    if os.geteuid() == 0:  # root writes anywhere: make the staging step fail as EROFS would

        def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
            raise OSError(errno.EROFS, "Read-only file system", str(tmp_path))

        monkeypatch.setattr(bootstrap_files.tempfile, "mkstemp", read_only)
    else:
        tmp_path.chmod(0o555)
    try:
        code, output = invoke(
            ["add-project", "-c", str(config), "--name", "x-proj", "--team", "t-team"]
            + ["--kind", "batch", "--repository", "acme/x", "--scaffold", "repo"],
            tmp_path,
            monkeypatch,
        )
    finally:
        tmp_path.chmod(0o755)
    assert code == 2, output
    assert "unchanged" in output and "Traceback" not in output
    assert config.read_bytes() == REFERENCE.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".ndap") == ["platform.yaml"]


def test_review_out_never_overwrites_a_users_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# My notes\n")
    code, output = invoke(
        ["review", "--base", "HEAD", "--repo", str(ROOT)]
        + ["--policies", str(ROOT / "policies"), "--out", str(notes)],
        tmp_path,
        monkeypatch,
    )
    assert code == 2 and "is not a review pack ndap wrote" in output
    assert notes.read_text() == "# My notes\n"
    pack = tmp_path / "pack.md"
    code, output = invoke(
        ["review", "--base", "HEAD", "--repo", str(ROOT)]
        + ["--policies", str(ROOT / "policies"), "--out", str(pack)],
        tmp_path,
        monkeypatch,
    )
    assert code == 0, output
    assert pack.read_text().startswith("# Security review pack: ")
    again, _ = invoke(  # its own earlier pack is replaced
        ["review", "--base", "HEAD", "--repo", str(ROOT)]
        + ["--policies", str(ROOT / "policies"), "--out", str(pack)],
        tmp_path,
        monkeypatch,
    )
    assert again == 0
    # the summary and its details beside it; nothing left of the refused attempt
    assert {p.name for p in tmp_path.iterdir()} - {".ndap"} == {
        "notes.md",
        "pack.md",
        "pack.details.md",
    }


def test_an_unexpected_failure_is_an_internal_error_with_exit_3(tmp_path: Path) -> None:
    """A bug inside a command: exit 3, one paragraph to report, no stack dump."""
    script = (
        "import sys, ndap_infra.cli as c, ndap_infra.cli.build as b\n"
        "def boom(*a, **k):\n    raise KeyError('stacks')\n"
        "b.load = boom\n"
        "sys.argv = ['ndap', 'validate', '-c', sys.argv[1]]\n"
        "c.main()\n"
    )
    result = subprocess.run(
        [NDAP[0], "-c", script, str(REFERENCE)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "ndap: internal error: KeyError: 'stacks'" in result.stderr
    assert "This is a bug in ndap" in result.stderr
    assert "Traceback" not in result.stderr
