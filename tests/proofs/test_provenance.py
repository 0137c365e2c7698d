"""Provenance (#21, second bullet, what can be evaluated today): the open findings are
reported, each flips when its cause is removed, and a fixed finding (3: release powers)
fails the build when it comes back."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ndap_infra.config import Environment
from ndap_infra.evaluator import NamedPolicy
from ndap_infra.proofs.jobs import prove_jobs
from ndap_infra.proofs.provenance import prove_provenance
from ndap_infra.review.jobs_report import render_jobs_report


def _rows(proof: Any, finding: str) -> list[Any]:
    return [r for r in proof.provenance if finding in r.finding]


def test_findings_1_and_2_are_open_and_3_is_closed(reference_proof: Any) -> None:
    config = reference_proof.model.config
    projects = len(config.ml_projects)
    images, packages, releases = (
        _rows(reference_proof, "finding 1"),
        _rows(reference_proof, "finding 2"),
        _rows(reference_proof, "finding 3"),
    )
    assert len(images) == len(packages) == 2 * projects  # acc and prd
    assert len(releases) == 3 * projects  # every build that runs project code
    assert all(r.controlled_by_others for r in (*images, *packages))
    assert not any(r.controlled_by_others for r in releases)
    assert all(r.enforced for r in releases)
    assert reference_proof.ok  # 1 and 2 reported as open findings, not failing
    text = render_jobs_report(
        reference_proof.jobs, reference_proof.job_controls, reference_proof.provenance
    )
    assert f"{len(images) + len(packages)} open findings" in text
    assert "open finding (#21, finding 1" in text
    assert "**FAILED** (#21" not in text


def test_images_only_from_the_organizations_registry_close_finding_1(
    reference_proof: Any, reference_stacks: Any
) -> None:
    """Negative control: execution roles whose image pulls are scoped to the tooling
    account's registry: the dev repository a data scientist controls is out of reach."""
    model = reference_proof.model
    tooling = model.config.tooling_account_id
    roles = {}
    for arn, role in model.roles.items():
        if arn.endswith("-execution"):
            policies = []
            for p in role.identity_policies:
                statements = [
                    {
                        **s,
                        "Resource": s["Resource"].replace(
                            ":*:repository", f":{tooling}:repository"
                        ),
                    }
                    if s.get("Sid") == "PullImages"
                    else s
                    for s in p.document["Statement"]
                ]
                policies.append(NamedPolicy(p.name, {**p.document, "Statement": statements}))
            roles[arn] = replace(role, identity_policies=tuple(policies))
    rows = [
        r
        for r in prove_provenance(model.with_roles(roles), reference_stacks)
        if "finding 1" in r.finding
    ]
    assert rows and not any(r.controlled_by_others for r in rows)


def test_a_hash_pinned_install_closes_finding_2(
    reference_proof: Any, reference_stacks: Any
) -> None:
    tooling = reference_stacks["tooling"]
    projects = {
        lid: {
            **body,
            "source": [
                {
                    **body["source"][0],
                    "buildspec": body["source"][0]
                    .get("buildspec", "")
                    .replace("pip install --quiet", "pip install --require-hashes --quiet"),
                }
            ],
        }
        for lid, body in tooling["resource"]["aws_codebuild_project"].items()
    }
    stacks = {
        **reference_stacks,
        "tooling": {
            **tooling,
            "resource": {**tooling["resource"], "aws_codebuild_project": projects},
        },
    }
    rows = [r for r in prove_provenance(reference_proof.model, stacks) if "finding 2" in r.finding]
    assert rows and not any(r.controlled_by_others for r in rows)


def _with_registry_powers(model: Any, suffix: str) -> Any:
    """The build roles whose ARN ends with ``suffix`` given the registry back, as the acc
    build held it before #21's fix."""
    region = model.config.organization.home_region
    tooling = model.config.tooling_account_id
    grant = {
        "Sid": "RegisterReleases",
        "Effect": "Allow",
        "Action": ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"],
        "Resource": [
            f"arn:aws:sagemaker:{region}:{tooling}:model-package-group/*",
            f"arn:aws:sagemaker:{region}:{tooling}:model-package/*",
        ],
    }
    roles = {}
    for arn, role in model.roles.items():
        if arn.endswith(suffix):
            first, *rest = role.identity_policies
            grown = NamedPolicy(
                first.name, {**first.document, "Statement": [*first.document["Statement"], grant]}
            )
            roles[arn] = replace(role, identity_policies=(grown, *rest))
    assert roles
    return model.with_roles(roles)


def test_an_acc_build_given_release_powers_back_fails_the_build(
    reference_proof: Any, reference_stacks: Any
) -> None:
    """Negative control for finding 3: the acc build (project code) given
    CreateModelPackage/UpdateModelPackage back: its provenance rows turn to failures (the
    proof is no longer ok), and its jobs-table denial rows turn wrong."""
    model = _with_registry_powers(reference_proof.model, f"-build-{Environment.ACC.value}")
    rows = [r for r in prove_provenance(model, reference_stacks) if "finding 3" in r.finding]
    reopened = [r for r in rows if r.controlled_by_others]
    assert len(reopened) == len(model.config.ml_projects)
    assert all(r.identity.endswith("-build-acc") for r in reopened)
    assert all("register, approve" in r.who_can_change for r in reopened)
    assert all("**FAILED**" in r.render() for r in reopened)
    proof = replace(reference_proof, provenance=tuple(rows))
    assert not proof.ok
    wrong = [r for r in prove_jobs(model) if not r.ok]
    assert wrong and all(
        r.job.identity.endswith("-build-acc") and r.job.operation.startswith("sagemaker:")
        for r in wrong
    )
    assert len(wrong) == 2 * len(model.config.ml_projects)


def test_the_register_role_alone_holds_release_powers(reference_proof: Any) -> None:
    """The jobs table: acc's register role registers, approves and writes the release
    (allowed), and every build role that runs project code is denied each of those."""
    jobs = reference_proof.jobs
    register = [r for r in jobs if "-register-acc" in r.job.identity]
    operations = {r.job.operation for r in register if r.job.expected}
    assert {
        "sagemaker:CreateModelPackage",
        "sagemaker:UpdateModelPackage",
        "s3:PutObject",
        "codebuild:BatchGetBuilds",
    } <= operations
    assert all(r.ok for r in register)
    refused = [r for r in jobs if not r.job.expected and "-build-" in r.job.identity]
    projects = len(reference_proof.model.config.ml_projects)
    # register, approve, write a release: for each project's dev, acc and prd build
    releases = [
        r
        for r in refused
        if r.job.job.endswith("pipeline") and not r.job.operation.startswith("logs:")
    ]
    assert len(releases) == 3 * 3 * projects
    assert all(not r.allowed for r in refused)
