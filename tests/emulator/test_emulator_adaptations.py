"""What the emulator changes in moto so a generated build runs as it would on AWS (found by
``ndap pipeline run``): with authorization off, a bucket policy's conditioned deny no longer
refuses object requests (moto counted it as a denial); with authorization on (the probes)
moto's evaluation is back; CreateModelPackage takes the group's ARN, as AWS does, and an
unknown group is still refused; a CodeBuild build is not reported SUCCEEDED by being read,
only once its end is recorded, and StartBuild's commit is its resolved source version;
UpdateRole changes only what it names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from ndap_infra.deploy.probes import authorization
from ndap_infra.emulator import lifecycle
from ndap_infra.emulator.builds import end_build, start_build

REGION = "eu-west-1"
ACCOUNT = "600000000006"
TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::tls-only-bucket", "arn:aws:s3:::tls-only-bucket/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


@pytest.fixture(scope="module")
def info(tmp_path_factory: pytest.TempPathFactory) -> Iterator[lifecycle.EmulatorInfo]:
    work: Path = tmp_path_factory.mktemp("adaptations") / "work"
    started = lifecycle.start(work)
    try:
        yield started.info
    finally:
        lifecycle.stop(work)


def _client(info: lifecycle.EmulatorInfo, service: str) -> Any:
    return lifecycle.client(info, service, account_id=ACCOUNT, region=REGION)


def test_a_tls_only_bucket_takes_objects_while_authorization_is_off(
    info: lifecycle.EmulatorInfo,
) -> None:
    s3 = _client(info, "s3")
    s3.create_bucket(
        Bucket="tls-only-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    s3.put_bucket_policy(Bucket="tls-only-bucket", Policy=json.dumps(TLS_ONLY))
    s3.put_object(Bucket="tls-only-bucket", Key="model.tar.gz", Body=b"model")
    assert s3.get_object(Bucket="tls-only-bucket", Key="model.tar.gz")["Body"].read() == b"model"

    # with authorization on (as `ndap probe` switches it), moto's evaluation is back
    iam = _client(info, "iam")
    iam.create_user(UserName="prober")
    iam.put_user_policy(
        UserName="prober",
        PolicyName="all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="prober")["AccessKey"]
    prober = boto3.client(
        "s3",
        endpoint_url=info.endpoint,
        region_name=REGION,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    with authorization(info), pytest.raises(ClientError) as refused:
        prober.put_object(Bucket="tls-only-bucket", Key="other", Body=b"x")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    prober.put_object(Bucket="tls-only-bucket", Key="other", Body=b"x")


def test_a_model_package_is_registered_by_its_groups_arn(info: lifecycle.EmulatorInfo) -> None:
    sagemaker = _client(info, "sagemaker")
    arn = sagemaker.create_model_package_group(ModelPackageGroupName="churn")[
        "ModelPackageGroupArn"
    ]
    inference = {
        "Containers": [{"Image": "image:1", "ModelDataUrl": "s3://bucket/model.tar.gz"}],
        "SupportedContentTypes": ["application/json"],
        "SupportedResponseMIMETypes": ["application/json"],
    }
    package = sagemaker.create_model_package(
        ModelPackageGroupName=arn,
        InferenceSpecification=inference,
        CustomerMetadataProperties={"sha256": "abc", "git_tag": "v1.0.0"},
    )["ModelPackageArn"]
    # approving keeps the digests acc recorded (moto alone erased them)
    sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")
    described = sagemaker.describe_model_package(ModelPackageName=package)
    assert described["CustomerMetadataProperties"] == {"sha256": "abc", "git_tag": "v1.0.0"}
    listed = sagemaker.list_model_packages(ModelPackageGroupName=arn)["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in listed] == [package]

    # another account (the prd deployer) reads the registry by ARN, as on AWS
    other = lifecycle.client(info, "sagemaker", account_id="500000000005", region=REGION)
    seen = other.list_model_packages(ModelPackageGroupName=arn)["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in seen] == [package]
    assert other.describe_model_package(ModelPackageName=package)["ModelPackageArn"] == package
    assert other.list_model_packages(ModelPackageGroupName="churn")["ModelPackageSummaryList"] == []
    with pytest.raises(ClientError) as refused:
        sagemaker.create_model_package(
            ModelPackageGroupName=arn.replace("/churn", "/no-such-group"),
            InferenceSpecification=inference,
        )
    assert "does not exist" in refused.value.response["Error"]["Message"]


def _project(info: lifecycle.EmulatorInfo, name: str, role: str) -> Any:
    codebuild = _client(info, "codebuild")
    codebuild.create_project(
        name=name,
        source={
            "type": "CODECOMMIT",
            "location": "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/churn",
        },
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=role,
    )
    return codebuild


def test_a_build_is_not_succeeded_by_being_read(info: lifecycle.EmulatorInfo) -> None:
    """BatchGetBuilds answers what was recorded: in progress until the runner records the
    end, then that status; the commit given to StartBuild is the resolved source version.
    (moto completed every build it was asked about as SUCCEEDED, with no commit.)"""
    role = f"arn:aws:iam::{ACCOUNT}:role/ndap/churn-acc-build"
    codebuild = _project(info, "churn-deploy-acc", role)
    commit = "0123456789abcdef0123456789abcdef01234567"
    build = codebuild.start_build(projectName="churn-deploy-acc", sourceVersion=commit)["build"]
    assert build["serviceRole"] == role
    assert build["arn"] == f"arn:aws:codebuild:{REGION}:{ACCOUNT}:build/{build['id']}"

    (read,) = codebuild.batch_get_builds(ids=[build["id"]])["builds"]
    assert read["buildStatus"] == "IN_PROGRESS"  # not SUCCEEDED by being read
    assert read["resolvedSourceVersion"] == commit

    failing = codebuild.start_build(projectName="churn-deploy-acc", sourceVersion=commit)["build"]
    end_build(info.endpoint, ACCOUNT, REGION, build["id"], "SUCCEEDED")
    end_build(info.endpoint, ACCOUNT, REGION, failing["id"], "FAILED")
    answered = codebuild.batch_get_builds(ids=[build["id"], failing["id"]])["builds"]
    assert {b["id"]: b["buildStatus"] for b in answered} == {
        build["id"]: "SUCCEEDED",
        failing["id"]: "FAILED",
    }
    # an ended build stays ended; a build nobody started cannot be recorded
    with pytest.raises(HTTPError):
        end_build(info.endpoint, ACCOUNT, REGION, build["id"], "FAILED")
    with pytest.raises(HTTPError):
        end_build(info.endpoint, ACCOUNT, REGION, "churn-deploy-acc:nobody-started-it", "SUCCEEDED")
    assert not codebuild.batch_get_builds(ids=["churn-deploy-acc:nobody-started-it"])["builds"]


def test_a_branch_name_is_no_resolved_commit(info: lifecycle.EmulatorInfo) -> None:
    codebuild = _project(info, "churn-deploy-dev", f"arn:aws:iam::{ACCOUNT}:role/ndap/dev-build")
    build = codebuild.start_build(projectName="churn-deploy-dev", sourceVersion="develop")["build"]
    (read,) = codebuild.batch_get_builds(ids=[build["id"]])["builds"]
    assert "resolvedSourceVersion" not in read


def test_a_build_the_runner_runs_is_recorded_as_codebuild_records_it(
    info: lifecycle.EmulatorInfo,
) -> None:
    """The project's CodeBuild project is not on the emulator; the build the runner runs is
    recorded with its id, ARN, role and commit, and BatchGetBuilds answers it truthfully."""
    role = f"arn:aws:iam::{ACCOUNT}:role/ndap/churn-register-acc"
    commit = "89abcdef0123456789abcdef0123456789abcdef"
    build = start_build(
        info.endpoint, ACCOUNT, REGION, "churn-register-acc", commit, role, "codepipeline/churn-acc"
    )
    assert build["id"].startswith("churn-register-acc:")
    assert build["arn"] == f"arn:aws:codebuild:{REGION}:{ACCOUNT}:build/{build['id']}"
    codebuild = _client(info, "codebuild")
    (read,) = codebuild.batch_get_builds(ids=[build["id"]])["builds"]
    assert (read["projectName"], read["serviceRole"], read["resolvedSourceVersion"]) == (
        "churn-register-acc",
        role,
        commit,
    )
    assert (read["buildStatus"], read["initiator"]) == ("IN_PROGRESS", "codepipeline/churn-acc")
    end_build(info.endpoint, ACCOUNT, REGION, build["id"], "SUCCEEDED")
    (read,) = codebuild.batch_get_builds(ids=[build["id"]])["builds"]
    assert read["buildStatus"] == "SUCCEEDED"
    # a build needs the role it runs as; a status must be one CodeBuild reports
    with pytest.raises(HTTPError):
        start_build(info.endpoint, ACCOUNT, REGION, "churn-register-acc", commit, "", "x")
    other = start_build(info.endpoint, ACCOUNT, REGION, "churn-register-acc", commit, role, "x")
    with pytest.raises(HTTPError):
        end_build(info.endpoint, ACCOUNT, REGION, other["id"], "PASSED")


def test_update_role_changes_only_what_it_names(info: lifecycle.EmulatorInfo) -> None:
    """Terraform puts back a hand-raised maximum session with UpdateRole naming the session
    alone: the description stays (moto 5.2.5 erased it, and the plan after the apply showed
    it to set again); a request naming both still changes both."""
    iam = _client(info, "iam")
    trust = {"Version": "2012-10-17", "Statement": []}
    iam.create_role(
        RoleName="kept", AssumeRolePolicyDocument=json.dumps(trust),
        Description="data-scientist: full access", MaxSessionDuration=14400,
    )  # fmt: skip
    iam.update_role(RoleName="kept", MaxSessionDuration=43200)
    role = iam.get_role(RoleName="kept")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == (
        "data-scientist: full access",
        43200,
    )
    iam.update_role(RoleName="kept", Description="changed")
    role = iam.get_role(RoleName="kept")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("changed", 43200)
    iam.update_role(RoleName="kept", Description="both", MaxSessionDuration=3600)
    role = iam.get_role(RoleName="kept")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("both", 3600)
