"""Provenance (#21, second bullet of build 4): images and the platform's tooling come only
from the platform, by digest, and no build that runs project code holds release powers, so
no row a data scientist or a public index controls; each finding reintroduced flips its
rows and fails the proof."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ndap_infra.config import Environment
from ndap_infra.evaluator import NamedPolicy
from ndap_infra.proofs.jobs import prove_jobs
from ndap_infra.proofs.provenance import ProvenanceRow, prove_provenance
from ndap_infra.review.provenance_report import render_provenance_report

REGISTRY_SCP = "images-only-from-the-platform-registry"


def _rows(rows: Any, finding: str) -> list[ProvenanceRow]:
    return [r for r in rows if finding in r.finding]


def test_images_tooling_and_releases_come_from_the_platform(reference_proof: Any) -> None:
    config = reference_proof.model.config
    projects = len(config.ml_projects)
    rows = reference_proof.provenance
    images, packages, releases = (_rows(rows, f"finding {n}") for n in (1, 2, 3))
    assert len(images) == len(packages) == 2 * projects  # acc and prd
    assert len(releases) == 3 * projects  # every build that runs project code
    assert not any(r.controlled_by_others for r in (*images, *packages, *releases))
    tooling = config.tooling_account_id
    assert all(f"in the platform registry ({tooling}), by digest" in r.source for r in images)
    assert all(r.source == "pinned by hash" for r in packages)
    assert all(r.enforced for r in rows)
    assert reference_proof.ok
    text = render_provenance_report(rows)
    assert f"**{len(rows)} rows: 0 failing, 0 open findings reported only.**" in text
    assert "FAILS" not in text


def _with_buildspecs(stacks: Any, change: Callable[[str], str]) -> Any:
    tooling = stacks["tooling"]
    projects = {
        lid: {
            **body,
            "source": [
                {**body["source"][0], "buildspec": change(body["source"][0].get("buildspec", ""))}
            ],
        }
        for lid, body in tooling["resource"]["aws_codebuild_project"].items()
    }
    resources = {**tooling["resource"], "aws_codebuild_project": projects}
    return {**stacks, "tooling": {**tooling, "resource": resources}}


def _fails(reference_proof: Any, rows: list[ProvenanceRow], finding: str) -> None:
    """The finding's rows all flip, and the proof (``ndap build``) fails on them."""
    flipped = _rows(rows, finding)
    assert flipped and all(r.fails for r in flipped), [r.state for r in flipped]
    assert not replace(reference_proof, provenance=tuple(rows)).ok
    assert "FAILS (#21, " + finding in render_provenance_report(rows)


def test_pip_install_by_name_fails_the_build(reference_proof: Any, reference_stacks: Any) -> None:
    """Negative control: the classifier installed by name from an index, as before #21."""
    stacks = _with_buildspecs(
        reference_stacks,
        lambda b: b.replace(
            "elif ! ndap_install_tools; then", "elif ! pip install --quiet ndap-infra==0.1.0; then"
        ),
    )
    rows = prove_provenance(reference_proof.model, stacks)
    _fails(reference_proof, rows, "finding 2")
    by_name = "`pip install --quiet ndap-infra==0.1.0`"
    assert all(by_name in r.source for r in _rows(rows, "finding 2"))


def test_a_tag_instead_of_a_digest_fails_the_build(
    reference_proof: Any, reference_stacks: Any
) -> None:
    """Negative control: deploy builds that no longer refuse an image named by tag."""
    stacks = _with_buildspecs(
        reference_stacks, lambda b: b.replace("ndap_check_images dist/model-metadata.json", "")
    )
    rows = prove_provenance(reference_proof.model, stacks)
    _fails(reference_proof, rows, "finding 1")
    assert all("the deploy build accepts a mutable tag" in r.who_can_change for r in rows[:2])


def _any_registry(model: Any) -> Any:
    """The execution roles' image pulls as before #21: any account's repository."""
    roles = {}
    for arn, role in model.roles.items():
        if arn.endswith("-execution"):
            policies = []
            for p in role.identity_policies:
                statements = [
                    {**s, "Resource": "arn:aws:ecr:*:*:repository/*"}
                    if s.get("Sid") == "PullImagesFromThePlatformRegistry"
                    else s
                    for s in p.document["Statement"]
                ]
                policies.append(NamedPolicy(p.name, {**p.document, "Statement": statements}))
            roles[arn] = replace(role, identity_policies=tuple(policies))
    return model.with_roles(roles)


def _without_registry_guardrail(model: Any) -> Any:
    org = model.organization
    scps = {
        level: tuple(p for p in policies if REGISTRY_SCP not in p.name)
        for level, policies in org.scps.items()
    }
    assert scps != dict(org.scps), "the guardrail is attached somewhere"
    return replace(model, organization=replace(org, scps=scps))


def test_the_any_registry_grant_without_the_guardrail_fails_the_build(
    reference_proof: Any, reference_stacks: Any
) -> None:
    """Negative control: ``repository/*`` of any account and no acc/prd guardrail on image
    pulls: a dev repository a data scientist controls feeds prd again."""
    model = _without_registry_guardrail(_any_registry(reference_proof.model))
    rows = prove_provenance(model, reference_stacks)
    _fails(reference_proof, rows, "finding 1")
    assert all("a dev repository a data scientist creates" in r.who_can_change for r in rows[:2])


def test_each_layer_alone_keeps_foreign_images_out(
    reference_proof: Any, reference_stacks: Any
) -> None:
    """The identity scope and the guardrail each hold on their own (defence in depth)."""
    for model in (
        _any_registry(reference_proof.model),
        _without_registry_guardrail(reference_proof.model),
    ):
        rows = _rows(prove_provenance(model, reference_stacks), "finding 1")
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
    assert all("FAILS (#21, finding 3" in r.render() for r in reopened)
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
        if r.job.job.endswith("pipeline")
        and not r.job.job.endswith("feature pipeline")
        and not r.job.operation.startswith("logs:")
    ]
    assert len(releases) == 3 * 3 * projects
    assert all(not r.allowed for r in refused)
