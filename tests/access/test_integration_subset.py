"""Issue 6, the integration subset: how it is produced. A sampling job in prd (CodeBuild
project + schedule, with their roles) writes ``integration-subset/<dataset>/`` in the prd
datasets bucket, which replication carries to dev's replica. The synthesized job, its
roles evaluated with the guardrails, bad input, and the sampling program run for real
against a stand-in aws CLI."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.access.data import dataset_store
from ndap_infra.access.sampling import SAMPLE, START_BUILD_TARGET
from ndap_infra.config import Environment, Persona
from ndap_infra.config.load import validate_data
from ndap_infra.evaluator import Request, Resource, evaluate, principal_for
from ndap_infra.pipelines import buildspecs
from ndap_infra.proofs.principals import reachable_principals
from tests.helpers import bash, issues_of, reference_data, resources

ORG = "acme-ml"
REGION = "eu-west-1"
PRD = "500000000005"
DEV = "300000000003"
BUCKET = f"{ORG}-prd-datasets-{PRD}"
REPLICA = f"{ORG}-dev-datasets-replica-{DEV}"
PROJECT = f"{ORG}-integration-subset"
SAMPLER_ROLE = f"arn:aws:iam::{PRD}:role/ndap/data/{ORG}-integration-sampler"
SCHEDULE_ROLE = f"arn:aws:iam::{PRD}:role/ndap/data/{ORG}-integration-sampler-schedule"
JOB = "data-access/integration-subset"


# ---- the synthesized job --------------------------------------------------------------------


def test_prd_runs_a_scheduled_sampling_job_and_no_other_environment_does(
    reference_stacks: Any,
) -> None:
    prd = reference_stacks["env-prd"]
    (project,) = resources(prd, "aws_codebuild_project").values()
    assert project["name"] == PROJECT
    assert project["//"]["metadata"]["path"] == f"env-prd/{JOB}/project"
    (source,) = project["source"]
    assert source["type"] == "NO_SOURCE"
    spec = source["buildspec"]
    assert "DATASETS_BUCKET: " + BUCKET in spec and "DATASETS: transactions customers" in spec
    assert "SUBSET_PREFIX: integration-subset" in spec and "FRACTION: '0.01'" in spec
    assert project["artifacts"] == [{"type": "NO_ARTIFACTS"}]
    assert project["environment"][0]["image"] == buildspecs.BUILD_IMAGE
    assert project["environment"][0]["privileged_mode"] is False
    assert "${aws_iam_role." in project["service_role"]

    schedule = resources(prd, "aws_scheduler_schedule")[f"{JOB}/schedule"]
    assert schedule["schedule_expression"] == "rate(1 day)"
    (target,) = schedule["target"]
    assert target["arn"] == START_BUILD_TARGET
    assert json.loads(target["input"]) == {"ProjectName": PROJECT}
    assert target["role_arn"].startswith("${aws_iam_role.")
    assert schedule["kms_key_arn"].startswith("${aws_kms_key.")
    logs = resources(prd, "aws_cloudwatch_log_group")[f"{JOB}/logs"]
    assert logs["name"] == f"/aws/codebuild/{PROJECT}" and logs["kms_key_id"]

    for env in ("dev", "acc"):
        stack = reference_stacks[f"env-{env}"]
        assert not resources(stack, "aws_codebuild_project"), env
        assert not any(
            "integration-subset" in body["//"]["metadata"]["path"]
            for rtype in stack["resource"].values()
            for body in rtype.values()
        ), env


def test_the_job_roles_live_under_the_protected_platform_path(reference_stacks: Any) -> None:
    roles = resources(reference_stacks["env-prd"], "aws_iam_role")
    for node, name in (
        ("sampler-role", "integration-sampler"),
        ("schedule-role", "integration-sampler-schedule"),
    ):
        role = roles[f"{JOB}/{node}"]
        assert role["name"] == f"{ORG}-{name}" and role["path"] == "/ndap/data/"
    trust = json.loads(roles[f"{JOB}/sampler-role"]["assume_role_policy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == (
        f"arn:aws:codebuild:{REGION}:{PRD}:project/{PROJECT}"
    )


def test_the_datasets_key_lets_logs_encrypt_only_the_jobs_log_group(reference_config: Any) -> None:
    store = dataset_store(reference_config, Environment.PRD)
    assert store is not None and store.sampler is not None
    (statement,) = [
        s for s in store.key_policy.to_dict()["Statement"] if s["Sid"].startswith("CloudWatchLogs")
    ]
    assert statement["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert statement["Condition"] == {
        "ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": (
                f"arn:aws:logs:{REGION}:{PRD}:log-group:/aws/codebuild/{PROJECT}"
            )
        }
    }
    for env in (Environment.DEV, Environment.ACC):
        other = dataset_store(reference_config, env)
        assert other is not None and other.sampler is None


# ---- the roles, evaluated with the guardrails --------------------------------------------------


def _allowed(model: Any, role_arn: str, action: str, resource: Resource, **context: str) -> bool:
    principal = principal_for(model.roles[role_arn])
    request = Request(principal, action, resource, {"aws:RequestedRegion": REGION, **context})
    return bool(evaluate(request, model.organization).allowed)


def _bucket(model: Any, bucket: str) -> Resource:
    account, policy = model.buckets[bucket]
    return Resource(f"arn:aws:s3:::{bucket}", account, "s3", policy)


def _datasets_key(model: Any) -> Resource:
    (path,) = [
        p for (stack, p) in model.keys if stack == "env-prd" and p.startswith("data-access/")
    ]
    return model.key(Environment.PRD, path)


def test_the_sampler_reads_the_datasets_and_writes_only_the_subset(reference_proof: Any) -> None:
    model = reference_proof.model

    def can(action: str, key: str, bucket: str = BUCKET) -> bool:
        return _allowed(model, SAMPLER_ROLE, action, model.bucket_object(bucket, key))

    assert can("s3:GetObject", "transactions/2024/part-0.parquet")
    assert can("s3:GetObject", "customers/part-0")
    assert can("s3:PutObject", "integration-subset/transactions/2024/part-0.parquet")
    assert can("s3:DeleteObject", "integration-subset/customers/part-0")
    # Nothing outside the datasets, no write outside the subset.
    assert not can("s3:GetObject", "projects/churn-prediction/input/x")
    assert not can("s3:GetObject", "other/x")
    assert not can("s3:GetObject", "integration-subset/transactions/x")
    for key in ("transactions/part-0", "customers/part-0", "other/x", "integration-subsetx/y"):
        assert not can("s3:PutObject", key), key
        assert not can("s3:DeleteObject", key), key
    assert not can("s3:DeleteObjectVersion", "integration-subset/transactions/x")
    assert not can("s3:PutBucketPolicy", "x")
    # Not the replica in dev, nor any other bucket.
    assert not can("s3:PutObject", "integration-subset/transactions/x", REPLICA)
    assert not can("s3:GetObject", "transactions/x", REPLICA)

    bucket = _bucket(model, BUCKET)
    for prefix in ("transactions/", "customers/", "integration-subset/transactions/"):
        assert _allowed(model, SAMPLER_ROLE, "s3:ListBucket", bucket, **{"s3:prefix": prefix})
    for prefix in ("", "projects/", "other/"):
        assert not _allowed(model, SAMPLER_ROLE, "s3:ListBucket", bucket, **{"s3:prefix": prefix})

    key = _datasets_key(model)
    via_s3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert _allowed(model, SAMPLER_ROLE, "kms:Decrypt", key, **via_s3)
    assert _allowed(model, SAMPLER_ROLE, "kms:GenerateDataKey", key, **via_s3)
    assert not _allowed(model, SAMPLER_ROLE, "kms:Decrypt", key)  # not directly
    assert not _allowed(model, SAMPLER_ROLE, "kms:ScheduleKeyDeletion", key, **via_s3)


def test_the_schedule_role_starts_the_job_and_nothing_else(reference_proof: Any) -> None:
    model = reference_proof.model

    def codebuild(name: str) -> Resource:
        return Resource(f"arn:aws:codebuild:{REGION}:{PRD}:project/{name}", PRD)

    assert _allowed(model, SCHEDULE_ROLE, "codebuild:StartBuild", codebuild(PROJECT))
    assert not _allowed(model, SCHEDULE_ROLE, "codebuild:UpdateProject", codebuild(PROJECT))
    assert not _allowed(model, SCHEDULE_ROLE, "codebuild:StartBuild", codebuild("other"))
    assert not _allowed(
        model, SCHEDULE_ROLE, "s3:GetObject", model.bucket_object(BUCKET, "transactions/x")
    )


def test_no_person_reaches_the_sampling_roles(reference_proof: Any) -> None:
    """No persona (data scientists included) can assume the job's roles, directly or by a
    chain; the guardrails keep /ndap/ roles for the platform's deployment role."""
    model = reference_proof.model
    job_roles = {SAMPLER_ROLE, SCHEDULE_ROLE}
    assert job_roles <= set(model.roles)
    for persona in Persona:
        reached = {principal.arn for _, principal in reachable_principals(model, persona)}
        assert not reached & job_roles, persona


def test_data_scientists_cannot_start_change_or_read_the_job(reference_proof: Any) -> None:
    model = reference_proof.model
    scientist = [
        r
        for arn, r in model.roles.items()
        if arn.startswith(f"arn:aws:iam::{DEV}:role/ndap/personas/") and "data-scientist" in arn
    ]
    assert scientist
    principal = principal_for(scientist[0])
    project = Resource(f"arn:aws:codebuild:{REGION}:{PRD}:project/{PROJECT}", PRD)
    role = Resource(SAMPLER_ROLE, PRD)
    context = {"aws:RequestedRegion": REGION}
    for action, resource in (
        ("codebuild:StartBuild", project),
        ("codebuild:UpdateProject", project),
        ("codebuild:BatchGetProjects", project),
        ("iam:GetRole", role),
        ("iam:PutRolePolicy", role),
        ("iam:PassRole", role),
    ):
        request = Request(principal, action, resource, context)
        assert not evaluate(request, model.organization).allowed, action


# ---- configuration ----------------------------------------------------------------------


def with_subset(**subset: Any) -> dict[str, Any]:
    data = reference_data()
    data["data"]["integration_subset"] = subset
    return data


@pytest.mark.parametrize(
    ("subset", "path", "words"),
    [
        ({"fraction": 0}, "data.integration_subset.fraction", "greater than 0"),
        ({"fraction": 1.5}, "data.integration_subset.fraction", "less than or equal to 1"),
        (
            {"schedule": "every day"},
            "data.integration_subset.schedule",
            "not an EventBridge schedule",
        ),
        ({"schedule": "rate(1 days)"}, "data.integration_subset.schedule", "rate(1 day)"),
        ({"max_objects": 0}, "data.integration_subset.max_objects", "greater than or equal to 1"),
        ({"fraction": 0.1, "extra": 1}, "data.integration_subset.extra", "xtra"),
    ],
)
def test_bad_subset_settings_are_rejected(subset: dict[str, Any], path: str, words: str) -> None:
    found = issues_of(with_subset(**subset))
    assert path in found, found
    assert words in found[path], found[path]


def test_a_dataset_cannot_be_named_like_the_subset_prefix() -> None:
    data = reference_data()
    data["data"]["datasets"].append({"name": "integration-subset"})
    found = issues_of(data)
    assert "rename the dataset" in found["data.datasets[2].name"]


def test_settings_reach_the_job_and_switching_it_off_removes_it() -> None:
    config, issues = validate_data(
        with_subset(schedule="cron(0 3 ? * MON *)", fraction=0.25, max_objects=50)
    )
    assert config is not None, issues
    store = dataset_store(config, Environment.PRD)
    assert store is not None and store.sampler is not None
    assert store.sampler.schedule == "cron(0 3 ? * MON *)"
    assert ("FRACTION", "0.25") in store.sampler.variables
    assert ("MAX_OBJECTS", "50") in store.sampler.variables
    off, issues = validate_data(with_subset(enabled=False))
    assert off is not None, issues
    store = dataset_store(off, Environment.PRD)
    assert store is not None and store.sampler is None
    # No dev replica (cross-account-read): no subset is replicated, so no job either.
    data = reference_data()
    data["data"]["sharing_mode"] = "cross-account-read"
    cross, issues = validate_data(data)
    assert cross is not None, issues
    store = dataset_store(cross, Environment.PRD)
    assert store is not None and store.sampler is None


# ---- the sampling program, run for real ---------------------------------------------------------

FAKE_S3 = r"""#!/usr/bin/env python3
# A stand-in for the aws CLI over a directory: s3://<bucket>/<key> is $STORE/<bucket>/<key>.
import datetime, json, os, shutil, sys

store = os.environ["STORE"]
args = sys.argv[1:]
with open(os.environ["CALLS"], "a") as log:
    log.write(" ".join(args) + "\n")


def opt(name):
    return args[args.index(name) + 1]


def path(url):
    return os.path.join(store, url.removeprefix("s3://"))


if os.environ.get("FAIL_ON") and os.environ["FAIL_ON"] in " ".join(args):
    sys.exit("An error occurred (AccessDenied)")
if args[:2] == ["s3api", "list-objects-v2"]:
    root = os.path.join(store, opt("--bucket"))
    contents = []
    for folder, _, files in os.walk(root):
        for name in files:
            full = os.path.join(folder, name)
            key = os.path.relpath(full, root)
            if key.startswith(opt("--prefix")):
                stat = os.stat(full)
                when = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.timezone.utc)
                modified = when.isoformat()
                contents.append({"Key": key, "Size": stat.st_size, "LastModified": modified})
    print(json.dumps({"Contents": sorted(contents, key=lambda c: c["Key"])} if contents else {}))
elif args[:2] == ["s3", "cp"]:
    os.makedirs(os.path.dirname(path(args[3])), exist_ok=True)
    shutil.copyfile(path(args[2]), path(args[3]))
elif args[:2] == ["s3api", "delete-object"]:
    os.remove(os.path.join(store, opt("--bucket"), opt("--key")))
else:
    sys.exit("unexpected aws " + " ".join(args))
"""


def score(key: str) -> float:
    """The same rule as the job, written again: sha256 of the key as a number in [0, 1)."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:15], 16) / 16**15


@pytest.fixture
def bucket(tmp_path: Path) -> dict[str, Any]:
    store, bin_dir = tmp_path / "store", tmp_path / "bin"
    root = store / BUCKET
    for i in range(300):
        (root / "transactions" / f"day={i % 7}").mkdir(parents=True, exist_ok=True)
        (root / "transactions" / f"day={i % 7}" / f"part-{i}.csv").write_text("x" * (10 + i))
    (root / "customers").mkdir()
    for i in range(3):
        (root / "customers" / f"c{i}.csv").write_text("c" * 5)
    (root / "projects" / "p").mkdir(parents=True)
    (root / "projects" / "p" / "secret").write_text("not a dataset")
    stale = root / "integration-subset" / "transactions" / "old.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("gone tomorrow")
    bin_dir.mkdir()
    (bin_dir / "aws").write_text(FAKE_S3)
    (bin_dir / "aws").chmod(0o755)
    env = {
        # The test's own python3 (a pyenv shim would put its own aws CLI first on PATH).
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "STORE": str(store),
        "CALLS": str(tmp_path / "calls.log"),
        "DATASETS_BUCKET": BUCKET,
        "SUBSET_PREFIX": "integration-subset",
        "DATASETS": "transactions customers",
        "FRACTION": "0.1",
        "MAX_OBJECTS": "12",
        "MAX_BYTES": "100000",
    }
    return {"root": root, "env": env, "tmp": tmp_path}


def subset_keys(root: Path, dataset: str) -> list[str]:
    base = root / "integration-subset"
    return sorted(str(p.relative_to(base)) for p in (base / dataset).rglob("*") if p.is_file())


def expected(root: Path, dataset: str, fraction: float, cap: int, max_bytes: int) -> list[str]:
    keys = sorted(str(p.relative_to(root)) for p in (root / dataset).rglob("*") if p.is_file())
    ranked = sorted(keys, key=score)
    under = [k for k in ranked if score(k) < fraction] or ranked[:1]
    chosen: list[str] = []
    total = 0
    for key in under:
        size = (root / key).stat().st_size
        if len(chosen) < cap and total + size <= max_bytes:
            chosen.append(key)
            total += size
    return sorted(chosen)


@pytest.mark.skipif(shutil.which("python3") is None, reason="needs python3")
def test_the_sampling_job_writes_a_deterministic_capped_subset(bucket: dict[str, Any]) -> None:
    root, env, tmp = bucket["root"], bucket["env"], bucket["tmp"]
    job = buildspecs.script(SAMPLE)

    first = bash(job, tmp, env)
    assert first.returncode == 0, first.stderr
    want = expected(root, "transactions", 0.1, 12, 100000)
    assert len(want) == 12  # ~30 objects fall under 0.1; the cap keeps 12
    assert subset_keys(root, "transactions") == want
    # Few objects, none under the fraction: the lowest-scoring one, so tests get data.
    assert subset_keys(root, "customers") == expected(root, "customers", 0.1, 12, 100000)
    assert len(subset_keys(root, "customers")) == 1
    assert not (root / "integration-subset" / "transactions" / "old.csv").exists()
    for key in want:
        assert (root / "integration-subset" / key).read_text() == (root / key).read_text()
    assert "ndap: transactions: 300 objects" in first.stdout
    assert "12 copied, 0 unchanged, 1 stale deleted" in first.stdout
    assert "took the lowest-scoring object" in first.stdout
    calls = (tmp / "calls.log").read_text()
    assert "projects/" not in calls  # never lists nor reads outside the datasets
    listed = {
        line.split("--prefix ")[1].split()[0] for line in calls.splitlines() if "--prefix" in line
    }
    assert listed == {
        "transactions/",
        "customers/",
        "integration-subset/transactions/",
        "integration-subset/customers/",
    }
    writes = [line.split()[3] for line in calls.splitlines() if line.startswith("s3 cp")]
    assert writes and all(w.startswith(f"s3://{BUCKET}/integration-subset/") for w in writes)

    # Rerun on unchanged data: the same subset, nothing copied or deleted.
    (tmp / "calls.log").write_text("")
    again = bash(job, tmp, env)
    assert again.returncode == 0, again.stderr
    assert subset_keys(root, "transactions") == want
    assert "0 copied, 12 unchanged, 0 stale deleted" in again.stdout
    assert "s3 cp" not in (tmp / "calls.log").read_text()

    # A source object rewritten since: copied again. A smaller fraction: fewer objects, the
    # rest deleted as stale; a byte cap skips what would exceed it.
    changed = root / want[0]
    changed.write_text("rewritten")
    later = changed.stat().st_mtime + 3600
    os.utime(changed, (later, later))
    third = bash(job, tmp, {**env, "FRACTION": "0.02", "MAX_BYTES": "400"})
    assert third.returncode == 0, third.stderr
    smaller = expected(root, "transactions", 0.02, 12, 400)
    assert subset_keys(root, "transactions") == smaller
    assert len(smaller) < 12


def test_a_failing_aws_call_fails_the_job_and_names_the_call(bucket: dict[str, Any]) -> None:
    env = {**bucket["env"], "FAIL_ON": "s3 cp"}
    run = bash(buildspecs.script(SAMPLE), bucket["tmp"], env)
    assert run.returncode != 0
    assert "ndap: aws s3 cp s3://" in run.stderr and "AccessDenied" in run.stderr
