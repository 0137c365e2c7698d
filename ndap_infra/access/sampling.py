# ruff: noqa: E501  (the sampling program below keeps its lines as they run)
"""The job that produces the integration subset: plain data (no cdktf).

Why and how: docs/design-notes.md, section ndap_infra/access/sampling.py."""

from __future__ import annotations

from dataclasses import dataclass

from ndap_infra.config.model import NdapConfig
from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement
from ndap_infra.iam.resource_policies import bucket_arn
from ndap_infra.iam.trust import SCHEDULER_SERVICE, service_trust
from ndap_infra.names.access import (
    sampler_project_name,
    sampler_role_name,
    sampler_schedule_role_name,
)
from ndap_infra.names.pipelines import INTEGRATION_SUBSET
from ndap_infra.scripts.buildspec import literal, render, script

DATA_ROLE_PATH = "/ndap/data/"
"""Platform roles of the data layer (under ``/ndap/``, which the guardrails protect)."""
CODEBUILD_SERVICE = "codebuild.amazonaws.com"
START_BUILD_TARGET = "arn:aws:scheduler:::aws-sdk:codebuild:startBuild"
"""EventBridge Scheduler's universal target for CodeBuild's StartBuild."""


SAMPLE = """\
python3 - <<'NDAP_SAMPLER'
import hashlib, json, os, subprocess, sys

bucket = os.environ["DATASETS_BUCKET"]
subset = os.environ["SUBSET_PREFIX"]
datasets = os.environ["DATASETS"].split()
fraction = float(os.environ["FRACTION"])
max_objects = int(os.environ["MAX_OBJECTS"])
max_bytes = int(os.environ["MAX_BYTES"])


def aws(*args):
    run = subprocess.run(["aws", *args], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"ndap: aws {' '.join(args)} failed: {run.stderr.strip()}")
    return run.stdout


def listing(prefix):
    out = aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix, "--output", "json")
    contents = (json.loads(out) if out.strip() else {}).get("Contents") or []
    return {o["Key"]: (int(o["Size"]), o["LastModified"]) for o in contents if not o["Key"].endswith("/")}


def score(key):
    return int(hashlib.sha256(key.encode()).hexdigest()[:15], 16) / 16**15


for dataset in datasets:
    source = listing(f"{dataset}/")
    ranked = sorted((score(key), key) for key in source)
    under = [key for s, key in ranked if s < fraction]
    note = ""
    if not under and ranked:
        under = [ranked[0][1]]
        note = " (none under the fraction: took the lowest-scoring object)"
    chosen, total = [], 0
    for key in under:
        if len(chosen) >= max_objects:
            break
        size = source[key][0]
        if total + size > max_bytes:
            continue
        chosen.append(key)
        total += size
    existing = listing(f"{subset}/{dataset}/")
    wanted = {f"{subset}/{key}": key for key in chosen}
    copied = kept = 0
    for target, key in sorted(wanted.items()):
        size, modified = source[key]
        have = existing.get(target)
        if have is not None and have[0] == size and have[1] >= modified:
            kept += 1
            continue
        aws("s3", "cp", f"s3://{bucket}/{key}", f"s3://{bucket}/{target}", "--copy-props", "metadata-directive", "--only-show-errors")
        copied += 1
    stale = sorted(set(existing) - set(wanted))
    for target in stale:
        aws("s3api", "delete-object", "--bucket", bucket, "--key", target)
    print(
        f"ndap: {dataset}: {len(source)} objects, {len(under)} sampled at fraction {fraction:g}{note}, "
        f"{len(chosen)} kept within the caps ({total} bytes; at most {max_objects} objects, {max_bytes} bytes) "
        f"-> s3://{bucket}/{subset}/{dataset}/: {copied} copied, {kept} unchanged, {len(stale)} stale deleted"
    )
NDAP_SAMPLER
"""
"""The sampling program (Python 3 with only the standard library, driving the aws CLI)."""


@dataclass(frozen=True)
class IntegrationSampler:
    """The sampling job of one datasets store, as names, documents and a buildspec."""

    project: str
    project_arn: str
    log_group: str
    log_group_arn: str
    schedule_name: str
    schedule_arn: str
    schedule: str
    role_name: str
    role_trust: PolicyDocument
    schedule_role_name: str
    schedule_role_trust: PolicyDocument
    variables: tuple[tuple[str, str], ...]
    datasets: tuple[str, ...]
    bucket: str
    region: str
    log_retention_days: int

    @property
    def buildspec(self) -> str:
        return sampler_buildspec(dict(self.variables))

    @property
    def start_build_input(self) -> str:
        return f'{{"ProjectName":"{self.project}"}}'

    def role_policy(self, key_arn: str) -> PolicyDocument:
        return sampler_role_policy(
            self.bucket, self.datasets, key_arn, self.region, self.log_group_arn
        )

    def schedule_role_policy(self, key_arn: str) -> PolicyDocument:
        return schedule_role_policy(self.project_arn, key_arn)


def sampler_buildspec(variables: dict[str, str]) -> str:
    return render(
        {
            "version": 0.2,
            "env": {"shell": "bash", "variables": variables},
            "phases": {"build": {"commands": [literal(script(SAMPLE))]}},
        }
    )


def sampler_role_policy(
    bucket: str, datasets: tuple[str, ...], key_arn: str, region: str, log_group_arn: str
) -> PolicyDocument:
    """List and read the datasets, write and delete only the subset, use the datasets key
    only through S3, write the job's logs. Nothing else of the bucket or the account."""
    arn = bucket_arn(bucket)
    return PolicyDocument(
        (
            Statement(
                "ListTheDatasetsAndTheSubset",
                "Allow",
                actions=("s3:ListBucket",),
                resources=(arn,),
                conditions=(
                    Condition.of(
                        "StringLike",
                        "s3:prefix",
                        *(f"{d}/*" for d in datasets),
                        f"{INTEGRATION_SUBSET}/*",
                    ),
                ),
            ),
            Statement(
                "ReadTheDatasets",
                "Allow",
                actions=("s3:GetObject",),
                resources=tuple(f"{arn}/{d}/*" for d in datasets),
            ),
            Statement(
                "WriteOnlyTheSubset",
                "Allow",
                actions=("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"),
                resources=(f"{arn}/{INTEGRATION_SUBSET}/*",),
            ),
            Statement(
                "UseTheDatasetsKeyThroughS3",
                "Allow",
                actions=("kms:Decrypt", "kms:GenerateDataKey"),
                resources=(key_arn,),
                conditions=(
                    Condition.of("StringEquals", "kms:ViaService", f"s3.{region}.amazonaws.com"),
                ),
            ),
            Statement(
                "WriteTheJobsLogs",
                "Allow",
                actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                resources=(f"{log_group_arn}:*",),
            ),
        )
    )


def schedule_role_policy(project_arn: str, key_arn: str) -> PolicyDocument:
    """Start the sampling build, and decrypt the schedule (encrypted with the datasets
    key): nothing else."""
    return PolicyDocument(
        (
            Statement(
                "StartTheSamplingJob",
                "Allow",
                actions=("codebuild:StartBuild",),
                resources=(project_arn,),
            ),
            Statement(
                "DecryptTheSchedule",
                "Allow",
                actions=("kms:Decrypt",),
                resources=(key_arn,),
            ),
        )
    )


def logs_key_statement(region: str, log_group_arn: str) -> Statement:
    """For the datasets key policy: CloudWatch Logs encrypts the job's log group (which
    names production objects) with the datasets key, under that log group's context only."""
    return Statement(
        "CloudWatchLogsEncryptsTheSamplingJobsLogs",
        "Allow",
        principals=(Principal.service(f"logs.{region}.amazonaws.com"),),
        actions=("kms:Decrypt*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"),
        resources=("*",),
        conditions=(
            Condition.of("ArnEquals", "kms:EncryptionContext:aws:logs:arn", log_group_arn),
        ),
    )


def integration_sampler(
    config: NdapConfig, bucket: str, account_id: str, datasets: tuple[str, ...]
) -> IntegrationSampler | None:
    """The job of a store whose ``integration-subset/`` is replicated (the caller knows),
    or None when it is switched off or there is no dataset to sample."""
    subset = config.data.integration_subset
    if not subset.enabled or not datasets:
        return None
    org = config.organization.name
    region = config.organization.home_region
    project = sampler_project_name(org)
    project_arn = f"arn:aws:codebuild:{region}:{account_id}:project/{project}"
    log_group = f"/aws/codebuild/{project}"
    schedule_arn = f"arn:aws:scheduler:{region}:{account_id}:schedule/default/{project}"
    return IntegrationSampler(
        project=project,
        project_arn=project_arn,
        log_group=log_group,
        log_group_arn=f"arn:aws:logs:{region}:{account_id}:log-group:{log_group}",
        schedule_name=project,
        schedule_arn=schedule_arn,
        schedule=subset.schedule,
        role_name=sampler_role_name(org),
        role_trust=service_trust(CODEBUILD_SERVICE, account_id, (project_arn,)),
        schedule_role_name=sampler_schedule_role_name(org),
        schedule_role_trust=service_trust(SCHEDULER_SERVICE, account_id, (schedule_arn,)),
        variables=(
            ("DATASETS_BUCKET", bucket),
            ("SUBSET_PREFIX", INTEGRATION_SUBSET),
            ("DATASETS", " ".join(datasets)),
            ("FRACTION", f"{subset.fraction:g}"),
            ("MAX_OBJECTS", str(subset.max_objects)),
            ("MAX_BYTES", str(subset.max_bytes)),
        ),
        datasets=datasets,
        bucket=bucket,
        region=region,
        log_retention_days=config.security_baseline.cloudwatch_log_retention_days,
    )
