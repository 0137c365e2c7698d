"""The feature-store pipeline's dev stage, run for real (issue #19, item 3): ``ndap pipeline
run growth-features --event push-develop`` executes the generated publish step with bash
and the real AWS CLI against the emulator, as the team's feature build role acting as its
dev publisher.

GIVEN a platform made with ``ndap init`` (a tooling account) whose growth team owns two
feature groups (``customer-spend``, no records in dev; ``customer-events``, records under
``feature-sources/`` of dev's data bucket) and has a feature pipeline, with the tooling and
dev stacks deployed onto the emulator, WHEN develop is pushed, THEN both versions are
created in the dev account, the empty one said to be so, and the backfill of the other
stops where moto has no Feature Store runtime: the build fails there and the transcript
lists that call as an emulator gap, answered by nothing; pushed again, both versions are
found in dev and nothing is created or backfilled twice."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.helpers import ROOT

NDAP = [sys.executable, "-m", "ndap_infra"]
TOOLING, DEV, ACC, PRD = "600000000006", "300000000003", "400000000004", "500000000005"
REGION = "eu-west-1"
DATA = f"newco-ml-dev-data-{DEV}"


@dataclass
class Platform:
    home: Path
    repo: Path
    env: dict[str, str]

    def ndap(self, *args: str, code: int | None = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*NDAP, *args], cwd=self.home, env=self.env, capture_output=True, text=True
        )
        if code is not None:
            assert done.returncode == code, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def git(self, *args: str) -> str:
        identity = ["-c", "user.email=team@newco.example", "-c", "user.name=team"]
        return subprocess.run(
            ["git", *identity, *args], cwd=self.repo, capture_output=True, text=True, check=True
        ).stdout.strip()

    def client(self, service: str, account: str) -> object:
        from ndap_infra.emulator import lifecycle

        info = lifecycle.require_running(self.home / ".ndap")
        return lifecycle.client(info, service, account_id=account, region=REGION)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    base = tmp_path_factory.mktemp("features")
    home = base / "platform"
    home.mkdir()
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        NDAP_WORK_DIR=str(home / ".ndap"),
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    made = Platform(home, base / "growth-features", env)
    try:
        made.ndap(
            *("init", "-c", "platform.yaml", "--org-name", "newco-ml"),
            *("--management-account-id", "100000000001", "--home-region", REGION),
            *("--dev-account-id", DEV, "--acc-account-id", ACC, "--prd-account-id", PRD),
            *("--tooling-account-id", TOOLING, "--no-nonprod", "--adopt-organization"),
            *("--deploy-target", "local", "--account-email"),
            "dev=d@newco.example,acc=a@newco.example,prd=p@newco.example,tooling=t@newco.example",
        )
        yaml = YAML()
        config_file = home / "platform.yaml"
        config = yaml.load(config_file.read_text())
        config["feature_groups"] = [
            {
                "name": name,
                "team": "growth",
                "record_identifier": "customer_id",
                "versions": [{"version": 1, "features": {"spend_30d": "Fractional"}}],
            }
            for name in ("customer-spend", "customer-events")
        ]
        config["feature_pipelines"] = [{"team": "growth", "repository": "newco/growth-features"}]
        with config_file.open("w") as out:
            yaml.dump(config, out)
        made.repo.mkdir()
        made.git("init", "-q", "-b", "main")
        (made.repo / "README.md").write_text("# growth features\n")
        made.git("add", "-A")
        made.git("commit", "-qm", "feature code")
        made.git("checkout", "-q", "-b", "develop")
        made.ndap(
            *("deploy", "-c", "platform.yaml", "--no-check-plan"),
            *("--stacks", "tooling", "--stacks", "env-dev"),
            "--ignore-missing-dependencies",
        )
        yield made
    finally:
        subprocess.run([*NDAP, "emulator", "stop"], cwd=home, env=env, capture_output=True)


def _push(platform: Platform, code: int) -> str:
    done = platform.ndap(
        *("pipeline", "run", "growth-features", "--event", "push-develop"),
        *("--repo", str(platform.repo), "-c", "platform.yaml"),
        code=code,
    )
    return done.stdout


@pytest.mark.deploy
def test_the_dev_stage_creates_the_versions_and_lists_the_backfill_gap(
    platform: Platform,
) -> None:
    s3 = platform.client("s3", DEV)
    s3.put_object(  # type: ignore[attr-defined]
        Bucket=DATA,
        Key="feature-sources/customer-events/v1/part-0.jsonl",
        Body=b'{"customer_id": "c1", "event_time": "2026-01-01T00:00:00Z", "spend_30d": 1.5}\n',
    )
    out = _push(platform, code=1)
    print(out)  # the transcript, shown with -s
    assert "triggers: growth-features-dev" in out
    assert "tools: not published" in out
    assert (
        f"as arn:aws:iam::{TOOLING}:role/ndap/pipelines/newco-ml-growth-features-build-dev" in out
    )
    assert "buildspec: as synthesized" in out
    assert "ndap: created feature group customer-spend-v1 in dev" in out
    assert "customer-spend-v1 is created empty" in out
    assert "ndap: created feature group customer-events-v1 in dev" in out
    assert "FAILED" in out
    # the gap is named with its reason; nothing answered in its place
    assert "sagemaker-featurestore-runtime put-record" in out
    assert "[known: moto 5.2.5 has no Feature Store runtime" in out
    sagemaker = platform.client("sagemaker", DEV)
    for name in ("customer-spend-v1", "customer-events-v1"):
        described = sagemaker.describe_feature_group(FeatureGroupName=name)  # type: ignore[attr-defined]
        assert described["FeatureGroupStatus"] == "Created"
        assert described["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"] == (
            f"s3://{DATA}/feature-store"
        )
        assert described["RoleArn"].endswith(":role/ndap/pipelines/newco-ml-feature-store")

    # pushed again: both are found, nothing is created or backfilled twice
    again = _push(platform, code=0)
    print(again)
    for name in ("customer-spend-v1", "customer-events-v1"):
        assert f"ndap: feature group {name} is in dev already (Created)" in again
    assert "created feature group" not in again
    assert "put-record" not in again
