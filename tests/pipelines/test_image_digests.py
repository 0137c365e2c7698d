"""Images by digest from the platform registry: the deploy build's check, run in bash on
the files a project's repository provides (the model metadata, orchestration definitions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.config.enums import Environment
from ndap_infra.names import pipelines as names
from ndap_infra.organization.catalog import (
    access_guardrails,
    check_attachment_quota,
    organization_guardrails,
)
from ndap_infra.pipelines import buildspecs
from ndap_infra.pipelines.spec import _context
from ndap_infra.scripts.buildspec import script
from tests.helpers import bash

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.fixture
def repository(reference_config: Any) -> str:
    project = reference_config.ml_projects[0]
    return _context(reference_config, project, Environment.PRD).image_repository


def _check(tmp_path: Path, repository: str, files: dict[str, Any]) -> Any:
    for name, document in files.items():
        (tmp_path / name).write_text(json.dumps(document))
    return bash(
        script(buildspecs.IMAGE_CHECK, "ndap_check_images " + " ".join(files)),
        tmp_path,
        {"IMAGE_REPOSITORY": repository},
    )


def test_the_repository_is_the_projects_in_the_tooling_account(
    reference_config: Any, repository: str
) -> None:
    tooling = reference_config.tooling_account_id
    region = reference_config.organization.home_region
    org, project = reference_config.organization.name, reference_config.ml_projects[0].name
    assert repository == f"{tooling}.dkr.ecr.{region}.amazonaws.com/{org}/{project}"
    assert repository.endswith(names.image_repository(org, project))


def test_images_by_digest_in_the_platform_registry_pass(tmp_path: Path, repository: str) -> None:
    definition = {
        "Steps": [
            {"Arguments": {"AlgorithmSpecification": {"TrainingImage": f"{repository}@{DIGEST}"}}},
            {"Arguments": {"AppSpecification": {"ImageUri": f"{repository}@{DIGEST}"}}},
        ]
    }
    done = _check(
        tmp_path,
        repository,
        {"meta.json": {"image": f"{repository}@{DIGEST}"}, "d.json": definition},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ndap: image by digest: ") == 3


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("{repository}:v1", "a tag"),
        ("{repository}:latest", "a tag"),
        ("{repository}", "no tag, no digest (latest)"),
        ("{repository}@sha256:abc", "a short digest"),
        ("111111111111.dkr.ecr.eu-west-1.amazonaws.com/helper@" + DIGEST, "another account"),
        ("{repository}-other@" + DIGEST, "another repository"),
        ("{lookalike}@" + DIGEST, "a look-alike registry (the dots are literal)"),
    ],
)
def test_a_tag_or_another_registry_is_refused_with_a_message(
    tmp_path: Path, repository: str, image: str, why: str
) -> None:
    ref = image.format(repository=repository, lookalike=repository.replace(".", "x", 1))
    definition = {"Steps": [{"Arguments": {"AppSpecification": {"ImageUri": ref}}}]}
    refused = _check(tmp_path, repository, {"definition.json": definition})
    assert refused.returncode == 1, why
    assert f"refusing to deploy: definition.json names image {ref}, not by digest" in (
        refused.stderr
    )
    assert f"name it {repository}@sha256:<digest>" in refused.stderr


def test_every_deploy_step_checks_before_it_deploys(reference_config: Any) -> None:
    for project in reference_config.ml_projects:
        for env in names.PIPELINE_ENVIRONMENTS:
            text = buildspecs.deploy_buildspec(_context(reference_config, project, env))
            assert "ndap_check_images dist/model-metadata.json" in text
            assert 'ndap_check_images "$DEFINITION"' in text
            check = text.index("ndap_check_images dist/model-metadata.json")
            assert check < text.index("sagemaker create-model")


def test_acc_and_prd_pull_images_only_from_the_platform_registry(reference_config: Any) -> None:
    guardrails = {g.name: g for g in access_guardrails(reference_config)}
    registry = guardrails["acme-ml-images-only-from-the-platform-registry"]
    assert registry.environments == (Environment.ACC, Environment.PRD)
    check_attachment_quota([*organization_guardrails(reference_config), *guardrails.values()])
    (statement,) = registry.document.to_dict()["Statement"]
    tooling = reference_config.tooling_account_id
    assert statement["Effect"] == "Deny"
    assert set(statement["Action"]) == {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
    assert statement["NotResource"] == f"arn:aws:ecr:*:{tooling}:repository/*"
