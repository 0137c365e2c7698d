"""Provenance (#21, second bullet, what can be evaluated today): the open findings are
reported, and each flips when its cause is removed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ndap_infra.config import Environment
from ndap_infra.evaluator import NamedPolicy
from ndap_infra.proofs.provenance import prove_provenance
from ndap_infra.review.jobs_report import render_jobs_report


def _rows(proof: Any, finding: str) -> list[Any]:
    return [r for r in proof.provenance if finding in r.finding]


def test_the_three_findings_are_open_and_do_not_fail_the_build(reference_proof: Any) -> None:
    config = reference_proof.model.config
    projects = len(config.ml_projects)
    images, packages, releases = (
        _rows(reference_proof, "finding 1"),
        _rows(reference_proof, "finding 2"),
        _rows(reference_proof, "finding 3"),
    )
    assert len(images) == len(packages) == 2 * projects  # acc and prd
    assert len(releases) == projects
    assert all(r.controlled_by_others for r in (*images, *packages, *releases))
    assert reference_proof.ok  # reported as open findings, not failing
    text = render_jobs_report(
        reference_proof.jobs, reference_proof.job_controls, reference_proof.provenance
    )
    assert f"{len(reference_proof.provenance)} open findings" in text
    assert "open finding (#21, finding 1" in text


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


def test_an_acc_build_without_release_powers_closes_finding_3(
    reference_proof: Any, reference_stacks: Any
) -> None:
    model = reference_proof.model
    roles = {}
    for arn, role in model.roles.items():
        if arn.endswith(f"-build-{Environment.ACC.value}"):
            policies = tuple(
                NamedPolicy(
                    p.name,
                    {
                        **p.document,
                        "Statement": [
                            s
                            for s in p.document["Statement"]
                            if "sagemaker:UpdateModelPackage" not in str(s.get("Action"))
                        ],
                    },
                )
                for p in role.identity_policies
            )
            roles[arn] = replace(role, identity_policies=policies)
    rows = [
        r
        for r in prove_provenance(model.with_roles(roles), reference_stacks)
        if "finding 3" in r.finding
    ]
    assert rows and not any(r.controlled_by_others for r in rows)
