"""The creation-order check (issue #16, finding 1): every role a policy names exists when
AWS receives the policy, in the deploy order. GIVEN the synthesized reference, WHEN a
forward reference is put back, THEN the check fails naming the policy, the principal and
the fix; the reference itself passes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ndap_infra.cli import app
from ndap_infra.config.enums import Environment
from ndap_infra.config.load import validate_data
from ndap_infra.proofs.creation_order import KEY_READ, check_creation_order, stack_accounts
from ndap_infra.stacks.synthesis import synthesize
from tests.helpers import REFERENCE, one, reference_data

REPLICATOR = "arn:aws:iam::500000000005:role/acme-ml-data-replication"
DRIFT_BUILD = "arn:aws:iam::600000000006:role/acme-ml-drift-detection-build"
WAVES = {
    "organization": 0,
    "log-archive": 1,
    "security-tooling": 1,
    "tooling": 2,
    "organization-trail": 2,
    "env-nonprod": 3,
    "env-dev": 3,
    "env-acc": 3,
    "env-prd": 4,
}
"""The reference's apply waves: the log archive before every account delivering into it
(tooling, the environments, the organization trail), prd after dev and acc, whose buckets
it replicates into."""
SIDE_BY_SIDE = {**WAVES, "env-prd": 3}
"""The former order: every environment side by side."""


def _set_principal(stack: dict[str, Any], rtype: str, path: str, attr: str, arn: str) -> str:
    """Put ``arn`` back as the principal of every statement of one resource's policy that
    names an account root (the mistake: naming the role itself); returns the address."""
    for logical_id, body in stack["resource"][rtype].items():
        if body["//"]["metadata"]["path"].split("/", 1)[1] == path:
            document = json.loads(body[attr])
            for statement in document["Statement"]:
                principal = statement.get("Principal", {})
                if isinstance(principal, dict) and str(principal.get("AWS", "")).endswith(":root"):
                    principal["AWS"] = arn
            body[attr] = json.dumps(document)
            return f"{rtype}.{logical_id}"
    raise KeyError(path)


def test_the_reference_names_no_principal_before_it_exists(
    reference_config: Any, reference_stacks: dict[str, Any]
) -> None:
    report = check_creation_order(reference_stacks, stack_accounts(reference_config), WAVES)
    assert report.forward == (), report.render()
    # Roles are named (the deployers trust the tooling build roles, created a wave before).
    assert report.checked > 0
    assert "each created in an earlier wave" in report.render()


def test_replica_policies_trust_prd_by_account_and_principal_arn(
    reference_stacks: dict[str, Any],
) -> None:
    """Finding 1: dev's and acc's replica bucket and key name prd's account root, and
    aws:PrincipalArn the replication role (created by prd's stack, applied side by side)."""
    for env in ("env-dev", "env-acc"):
        stack = reference_stacks[env]
        bucket = json.loads(
            one(stack, "aws_s3_bucket_policy", "data-access/bucket/policy")["policy"]
        )
        key = json.loads(one(stack, "aws_kms_key", "data-access/key/key")["policy"])
        for document, sid in ((bucket, "ReplicationWrites"), (key, "ReplicationEncrypts")):
            (statement,) = [s for s in document["Statement"] if s["Sid"] == sid]
            assert statement["Principal"] == {"AWS": "arn:aws:iam::500000000005:root"}
            assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": REPLICATOR}}


def test_a_replica_policy_naming_the_replication_role_fails(
    reference_config: Any, reference_stacks: dict[str, Any]
) -> None:
    """The negative control: dev's bucket policy naming prd's replication role again."""
    stacks = copy.deepcopy(reference_stacks)
    address = _set_principal(
        stacks["env-dev"], "aws_s3_bucket_policy", "data-access/bucket/policy", "policy", REPLICATOR
    )
    report = check_creation_order(stacks, stack_accounts(reference_config), WAVES)
    assert not report.ok
    (wrong,) = report.forward
    assert (wrong.stack, wrong.policy, wrong.principal) == ("env-dev", address, REPLICATOR)
    assert wrong.created_in == "env-prd"
    text = report.render()
    assert f"env-dev: {address} names {REPLICATOR}" in text
    assert "Invalid principal in policy" in text
    assert "account root" in text and "aws:PrincipalArn" in text


def test_a_reader_in_the_organization_stack_naming_the_drift_build_fails(
    reference_config: Any, reference_stacks: dict[str, Any]
) -> None:
    """The organization stack applies before tooling creates the drift build role."""
    stacks = copy.deepcopy(reference_stacks)
    address = _set_principal(
        stacks["organization"],
        "aws_iam_role",
        "drift-reader/role",
        "assume_role_policy",
        DRIFT_BUILD,
    )
    (wrong,) = check_creation_order(stacks, stack_accounts(reference_config), WAVES).forward
    assert (wrong.stack, wrong.policy, wrong.created_in) == ("organization", address, "tooling")
    assert "wave 1" in wrong.describe({"organization": 0, "tooling": 1})


def test_inside_a_stack_a_dependency_makes_a_named_role_exist_first(
    reference_config: Any, reference_stacks: dict[str, Any]
) -> None:
    """In tooling, a reader naming the drift build role of the same stack fails with no
    dependency between them, and passes once it depends on the build role."""
    stacks = copy.deepcopy(reference_stacks)
    tooling = stacks["tooling"]
    address = _set_principal(
        tooling, "aws_iam_role", "drift-reader/role", "assume_role_policy", DRIFT_BUILD
    )
    (wrong,) = check_creation_order(stacks, stack_accounts(reference_config), WAVES).forward
    assert wrong.created_in == "tooling" and wrong.created_by.startswith("aws_iam_role.")
    assert f"add depends_on [{wrong.created_by}] to {address}" in wrong.describe({"tooling": 1})
    name = address.split(".", 1)[1]
    tooling["resource"]["aws_iam_role"][name]["depends_on"] = [wrong.created_by]
    assert check_creation_order(stacks, stack_accounts(reference_config), WAVES).ok


@pytest.fixture(scope="module")
def cross_account_stacks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Any]:
    data = reference_data()
    data["data"]["sharing_mode"] = "cross-account-read"
    config, issues = validate_data(data)
    assert config is not None, issues
    synthesis = synthesize(config, tmp_path_factory.mktemp("cross") / "out")
    return config, synthesis.stack_json(), synthesis.apply_waves()


def test_cross_account_read_names_the_dev_reader_by_principal_arn(
    cross_account_stacks: tuple[Any, Any, Any],
) -> None:
    """prd's datasets bucket names dev's data-scientist role, which dev's stack creates
    side by side with prd's: by dev's root and aws:PrincipalArn, so the check passes."""
    config, stacks, waves = cross_account_stacks
    assert check_creation_order(stacks, stack_accounts(config), waves).ok
    bucket = json.loads(
        one(stacks["env-prd"], "aws_s3_bucket_policy", "data-access/bucket/policy")["policy"]
    )
    (statement,) = [
        s for s in bucket["Statement"] if s["Sid"] == "DataScientistsReadSharedDatasets"
    ]
    dev = config.account_id(Environment.DEV)
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{dev}:root"}
    assert statement["Condition"]["ArnEquals"]["aws:PrincipalArn"].startswith(
        f"arn:aws:iam::{dev}:role/"
    )


def test_ndap_creation_order_exits_1_naming_the_policy(
    reference_synthesis: Any, tmp_path: Path
) -> None:
    """The command (part of ndap build) on a synthesis with a forward reference: exit 1."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(reference_synthesis.out_dir, out)
    path = out / "stacks" / "env-acc" / "cdk.tf.json"
    stack = json.loads(path.read_text())
    _set_principal(stack, "aws_kms_key", "data-access/key/key", "policy", REPLICATOR)
    path.write_text(json.dumps(stack))
    runner = CliRunner()
    bad = runner.invoke(app, ["creation-order", "-c", str(REFERENCE), "--out", str(out)])
    assert bad.exit_code == 1, bad.output
    assert "env-acc: aws_kms_key." in bad.output and REPLICATOR in bad.output
    good = runner.invoke(
        app, ["creation-order", "-c", str(REFERENCE), "--out", str(reference_synthesis.out_dir)]
    )
    assert good.exit_code == 0, good.output


def test_prd_applies_after_the_environments_it_replicates_into(reference_synthesis: Any) -> None:
    """The synthesis declares env-prd's dependency on env-dev and env-acc (cdktf's manifest,
    so `cdktf deploy` follows it too), and the deploy's waves put prd after them."""
    from ndap_infra.deploy.orchestrate import waves

    assert reference_synthesis.apply_waves() == WAVES
    stacks = list(reference_synthesis.stacks)
    assert waves(stacks, levels=WAVES) == [
        ["organization"],
        ["log-archive", "security-tooling"],
        ["tooling", "organization-trail"],
        ["env-nonprod", "env-dev", "env-acc"],
        ["env-prd"],
    ]
    assert waves(stacks, levels=WAVES, reverse=True)[0] == ["env-prd"]
    manifest = json.loads((reference_synthesis.out_dir / "manifest.json").read_text())
    assert set(manifest["stacks"]["env-prd"]["dependencies"]) >= {"env-dev", "env-acc"}
    assert not {"env-prd", "env-dev"} & set(manifest["stacks"]["env-acc"]["dependencies"])


def test_replication_into_a_bucket_of_the_same_wave_fails(
    reference_config: Any, reference_stacks: dict[str, Any]
) -> None:
    """The negative control: with the environments side by side (the former order), prd's
    replication configuration names dev's replica and acc's copy before they exist."""
    report = check_creation_order(reference_stacks, stack_accounts(reference_config), SIDE_BY_SIDE)
    assert not report.ok
    wrong = {(f.stack, f.kind, f.created_in, f.principal) for f in report.forward}
    assert wrong == {
        ("env-prd", "replication destination", env, f"arn:aws:s3:::{bucket}")
        for env, bucket in (
            ("env-dev", "acme-ml-dev-datasets-replica-300000000003"),
            ("env-acc", "acme-ml-acc-datasets-copy-400000000004"),
        )
    }
    text = report.render()
    assert "Destination bucket must exist" in text
    assert "declare env-prd's dependency on env-dev" in text
    good = check_creation_order(reference_stacks, stack_accounts(reference_config), WAVES)
    # 2 replication destinations, 11 log deliveries into the archive (each account's Config
    # in both allowed regions, and the organization trail).
    assert good.ok and good.destinations == 13


def test_a_destination_in_the_same_stack_needs_a_dependency(
    reference_config: Any, reference_stacks: dict[str, Any]
) -> None:
    """A replication configuration naming a bucket of its own stack fails with no
    dependency chain to it, and passes once it depends on the bucket."""
    stacks = copy.deepcopy(reference_stacks)
    prd = stacks["env-prd"]["resource"]
    (name,) = prd["aws_s3_bucket_replication_configuration"]
    replication = prd["aws_s3_bucket_replication_configuration"][name]
    extra = {"bucket": "acme-ml-extra-copy"}
    prd["aws_s3_bucket"]["extra_copy"] = extra
    replication["rule"][0]["destination"][0]["bucket"] = "arn:aws:s3:::acme-ml-extra-copy"
    (wrong,) = check_creation_order(stacks, stack_accounts(reference_config), WAVES).forward
    assert (wrong.stack, wrong.created_by) == ("env-prd", "aws_s3_bucket.extra_copy")
    assert "add depends_on [aws_s3_bucket.extra_copy]" in wrong.describe(WAVES)
    replication["depends_on"] = [*replication.get("depends_on", []), "aws_s3_bucket.extra_copy"]
    assert check_creation_order(stacks, stack_accounts(reference_config), WAVES).ok


def test_a_registry_policy_naming_a_deployer_of_a_later_wave_fails(
    reference_config: Any, reference_stacks: dict[str, Any]
) -> None:
    """The model registry's policy (tooling, wave 1) names acc's deployer by acc's root and
    aws:PrincipalArn; naming the role itself fails (acc creates it in wave 2). moto cannot
    witness this one: it does not implement PutModelPackageGroupPolicy at all."""
    stacks = copy.deepcopy(reference_stacks)
    deployer = "arn:aws:iam::400000000004:role/ndap/pipelines/acme-ml-churn-prediction-deployer"
    policies = stacks["tooling"]["resource"]["aws_sagemaker_model_package_group_policy"]
    name, body = next(
        (n, b) for n, b in policies.items() if "churn-prediction" in b["//"]["metadata"]["path"]
    )
    document = json.loads(body["resource_policy"])
    document["Statement"][0]["Principal"] = {"AWS": deployer}
    body["resource_policy"] = json.dumps(document)
    address = f"aws_sagemaker_model_package_group_policy.{name}"
    (wrong,) = check_creation_order(stacks, stack_accounts(reference_config), WAVES).forward
    assert (wrong.stack, wrong.policy, wrong.principal) == ("tooling", address, deployer)
    assert wrong.created_in == "env-acc"


# ---- keys read by alias (#18 follow-up 3: the organization trail's archive key) ----------

ARCHIVE_ALIAS = "700000000007:alias/acme-ml/log-archive"


def test_the_trail_reads_the_archive_key_after_the_log_archive_stack_created_it(
    reference_config: Any, reference_stacks: dict[str, Any]
) -> None:
    """The organization trail reads the archive key's ARN (a data source, read at plan
    time) in the log-archive account: log-archive applies first. Negative control: the
    trail in the log-archive stack's wave fails, naming the read, the key and the fix."""
    accounts = stack_accounts(reference_config)
    report = check_creation_order(reference_stacks, accounts, WAVES)
    assert report.ok and report.key_reads == 1
    assert "1 keys read by alias, each created in an earlier wave" in report.render()
    same_wave = check_creation_order(reference_stacks, accounts, {**WAVES, "organization-trail": 1})
    # the trail's delivery into the archive bucket fails too (a bucket of the same wave)
    (forward,) = [f for f in same_wave.forward if f.kind == KEY_READ]
    assert forward.stack == "organization-trail" and forward.principal == ARCHIVE_ALIAS
    assert forward.created_in == "log-archive"
    text = same_wave.render()
    assert f"reads the key {ARCHIVE_ALIAS}, created by log-archive (wave 1)" in text
    assert "declare organization-trail's dependency on log-archive" in text


@pytest.mark.parametrize(
    ("provider", "key_id"),
    [
        ({"alias": "log_archive", "profile": "ndap-log-archive"}, "alias/acme-ml/log-archive"),
        (
            {
                "alias": "log_archive",
                "assume_role": [{"role_arn": "arn:aws:iam::700000000007:role/r"}],
            },
            "alias/acme-ml/log-archive",
        ),
        ({"alias": "log_archive"}, "arn:aws:kms:eu-west-1:700000000007:alias/acme-ml/log-archive"),
    ],
    ids=["pipeline-profile", "assumed-role", "alias-arn"],
)
def test_a_key_read_is_placed_in_the_account_its_provider_reaches(
    reference_config: Any,
    reference_stacks: dict[str, Any],
    provider: dict[str, Any],
    key_id: str,
) -> None:
    """However the provider reaches the log-archive account (the pipeline's profile, an
    assumed role, or an alias ARN naming the account), the read is of log-archive's key;
    read through the trail stack's own provider (the management account) it is not."""
    stacks = copy.deepcopy(reference_stacks)
    trail = stacks["organization-trail"]
    trail["provider"]["aws"] = [trail["provider"]["aws"][0], provider]
    (body,) = trail["data"]["aws_kms_key"].values()
    body["key_id"] = key_id
    late = {**WAVES, "organization-trail": 1}
    accounts = stack_accounts(reference_config)

    def reads(stacks: dict[str, Any]) -> list[str]:
        report = check_creation_order(stacks, accounts, late)
        return [f.principal for f in report.forward if f.kind == KEY_READ]

    assert reads(stacks) == [ARCHIVE_ALIAS]
    if key_id.startswith("alias/"):
        body.pop("provider")
        assert reads(stacks) == []
