"""A newcomer's whole path, with the README's commands only (issue #9, "Done when"), in a
platform repository that pins a built ndap wheel by its sha256 (#20, item 1).

GIVEN nothing but an organization name, three e-mail addresses and the ndap wheel, WHEN a
newcomer follows the README (init a platform repository with created accounts on the local
target, install the pinned tool with the repository's own recipe, add a project with its
scaffold, validate, deploy the organization and dev, build, review, drift, a confirmed
deploy, destroy), THEN every command, run by the pinned wheel (not this checkout), exits
as documented and prints what the user looks for: the created accounts' ids recorded in
the configuration (comments kept), the policies and diagrams, a review pack, no drift,
then the drift they made by hand, named, and put back by a deploy they saw and confirmed.

One emulator deploy of the organization (two phases) and env-dev: minutes on two cores
(measured: 4.6 minutes on two quiet cores, 141 s of them in ndap deploy; about 10 minutes
under a load of 6-7; each step's time is printed at the end, with -s).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ndap_infra.deploy.build_image import build_wheel
from tests.helpers import ROOT, on_terminal

NDAP = [sys.executable, "-m", "ndap_infra"]
ROLE = "aws_iam_role.personas_data-scientist_role_09B258F6"
EMAILS = "dev=ml-dev@newco.example,acc=ml-acc@newco.example,prd=ml-prd@newco.example"


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.email=new@newco.example", "-c", "user.name=newcomer"]
    return subprocess.run(
        ["git", *identity, *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.deploy
def test_a_newcomer_goes_from_nothing_to_a_deployed_platform_and_back(tmp_path: Path) -> None:
    home = tmp_path / "platform"
    site = tmp_path / "site"  # where the repository's recipe installs the pinned wheel
    wheel = build_wheel(tmp_path / "dist", tmp_path / "wheel-source")
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),  # init only: this checkout's code; then the pinned wheel's
        NDAP_WORK_DIR=str(home / ".ndap"),  # the default (.ndap here), made explicit
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    times: dict[str, float] = {}

    def ndap(
        step: str, *args: str, code: int = 0, answers: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        start = time.monotonic()
        done = subprocess.run(
            [*NDAP, *args], cwd=home if home.is_dir() else tmp_path, env=env, input=answers,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        times[step] = time.monotonic() - start
        assert done.returncode == code, (
            f"ndap {step}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    try:
        # 1. init: a platform repository pinning the wheel; an organization from nothing,
        # its accounts created by the platform
        init = ndap(
            "init",
            *("init", "--repository", "platform", "--wheel", str(wheel)),
            *("--org-name", "newco-ml"),
            *("--management-account-id", "100000000001", "--home-region", "eu-west-1"),
            *("--create-organization", "--deploy-target", "local", "--account-email", EMAILS),
        )
        assert "Wrote platform/platform.yaml (valid)." in init.stdout
        assert "Accounts the organization stack will create: dev, acc, prd" in init.stdout
        config = home / "platform.yaml"

        # the repository's own recipe installs the pinned wheel (by sha256, no index); every
        # later command runs that wheel. The linters: the same pins as make setup installs.
        recipe = subprocess.run(
            ["make", "-C", str(home), "ndap-tool", f"NDAP_PYTHON={sys.executable}"],
            env={**env, "PIP_TARGET": str(site)}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert recipe.returncode == 0, recipe.stdout + recipe.stderr
        env["PYTHONPATH"] = str(site)
        (home / ".venv-tools").symlink_to(ROOT / ".venv-tools")
        where = subprocess.run(
            [sys.executable, "-c", "import ndap_infra; print(ndap_infra.__file__)"],
            cwd=home, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert where.stdout.startswith(str(site)), where.stdout

        # 2. add-project, with the project's repository scaffold
        added = ndap(
            "add-project",
            *("add-project", "-c", "platform.yaml", "--name", "churn", "--team", "growth"),
            *("--kind", "batch", "--repository", "newco/churn", "--scaffold", "../churn"),
        )
        assert "Added batch project 'churn'" in added.stdout
        assert (tmp_path / "churn" / "README.md").is_file()

        # 3. validate: valid, and it says which accounts the organization stack creates
        valid = ndap("validate", "validate", "-c", "platform.yaml")
        assert "platform.yaml: valid (dev, acc, prd; 1 ML projects)" in valid.stdout
        assert "3 account(s) to be created by the organization stack" in valid.stdout

        # the first configuration goes into git, as a team would keep it
        git(home, "init", "-q", "-b", "main")
        git(home, "add", "-A")
        git(home, "commit", "-qm", "platform: first configuration")
        assert ".venv-tools" not in git(home, "ls-files"), "the repository ignores its venvs"
        first = git(home, "rev-parse", "HEAD").strip()
        comments_before = [line for line in config.read_text().splitlines() if "#" in line]

        # 4. deploy the organization and dev: phase 1 creates the accounts, records their
        # ids, then the full organization stack and env-dev are deployed
        deployed = ndap(
            "deploy",
            *("deploy", "-c", "platform.yaml", "--stacks", "organization", "--stacks", "env-dev"),
        )
        out = deployed.stdout
        assert "phase 1: the organization stack creates 3 account(s)" in out
        assert "recorded the created accounts' ids in platform.yaml" in out
        assert "deploy: done" in out and "plan: no changes in any stack" in out
        recorded = dict(re.findall(r"environments\.(\w+)\.account_id: \"(\d{12})\"", out))
        assert set(recorded) == {"dev", "acc", "prd"}
        for key, account in recorded.items():
            assert re.search(rf"ok\s+{key}\s+account {account} in its unit", out), out

        # 5. the ids are in the configuration, quoted, and every comment is still there
        text = config.read_text()
        for key, account in recorded.items():
            assert f'  {key}:\n    account_id: "{account}"\n    email: ml-{key}@newco.example' in (
                text
            )
        assert [line for line in text.splitlines() if "#" in line] == comments_before
        assert git(home, "status", "--porcelain", "platform.yaml").startswith(" M")

        # 6. build: every stack now, the reviewer files written
        built = ndap("build", "build", "-c", "platform.yaml")
        assert "Synthesized 4 stacks" in built.stdout
        assert "access:" in built.stdout and "all as expected" in built.stdout
        policies = home / "policies"
        for name in ("ACCESS.md", "BASELINE.md", "LINT.md", "platform.svg", "platform.png"):
            assert (policies / name).is_file(), name
        assert recorded["dev"] in (policies / "BASELINE.md").read_text() or any(
            recorded["dev"] in p.read_text() for p in policies.rglob("*.json")
        )

        # 7. review: the security review pack of this change against the first commit
        review = ndap("review", "review", "--base", first)
        assert f"# Security review pack: this change against `{first}`" in review.stdout
        assert "## Access decisions" in review.stdout

        # 8. drift: none right after deploy
        clean = ndap("drift", "drift", "-c", "platform.yaml", "--stack", "env-dev")
        assert "env-dev: in sync" in clean.stdout

        # ... then someone raises the data scientists' maximum session by hand
        from ndap_infra.emulator import lifecycle

        info = lifecycle.require_running(home / ".ndap")
        iam = lifecycle.client(info, "iam", account_id=recorded["dev"])
        role = iam.get_role(RoleName="newco-ml-data-scientist")["Role"]
        iam.update_role(
            RoleName=role["RoleName"], MaxSessionDuration=43200, Description=role["Description"]
        )
        drifted = ndap("drift again", "drift", "-c", "platform.yaml", "--stack", "env-dev", code=1)
        assert "env-dev: DRIFT: 1 changed" in drifted.stdout
        assert f"{ROLE}: changed outside Terraform" in drifted.stdout
        assert "max_session_duration: was 14400, now 43200" in drifted.stdout

        # 9. a confirmed deploy puts it back: the plan shown, the question answered on a
        # terminal, exactly that plan applied (deploy.target: aws always asks)
        start = time.monotonic()
        confirmed = on_terminal(
            [*NDAP, "deploy", "-c", "platform.yaml", "--stacks", "env-dev", "--confirm"],
            answer="y\n", cwd=home, env=env,
        )  # fmt: skip
        times["confirmed deploy"] = time.monotonic() - start
        said = confirmed.stdout + confirmed.stderr
        assert confirmed.returncode == 0, said[-4000:]
        assert "  env-dev: 0 to add, 1 to change, 0 to destroy" in said, said[-4000:]
        assert said.count("Apply these 1 stacks? [y/N]") == 1
        assert re.search(r"ok\s+env-dev\s+apply", said) and "plan: no changes in any stack" in said
        back = ndap("drift after", "drift", "-c", "platform.yaml", "--stack", "env-dev")
        assert "env-dev: in sync" in back.stdout

        # 10. destroy: everything but the protected resources; the accounts stay
        destroyed = ndap("destroy", "destroy", "-c", "platform.yaml")
        assert "destroy: done" in destroyed.stdout
        assert "aws_organizations_account.accounts_dev_" in destroyed.stdout, "accounts kept"
    finally:
        stopped = subprocess.run(
            [*NDAP, "emulator", "stop"], cwd=home, env=env, capture_output=True, text=True
        )
        print(
            "newcomer path:",
            ", ".join(f"{step} {seconds:.0f}s" for step, seconds in times.items()),
            f"(total {sum(times.values()):.0f}s)",
        )
    assert stopped.returncode == 0, stopped.stderr
