"""CodePipeline writes a pipeline's artifacts under the first 20 characters of its name
(issue #16, finding 6): GIVEN a project and an organization whose pipeline names are
longer, WHEN synthesized, THEN every role reads and writes the real prefix, never the
full name (which would be AccessDenied on the first run)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ndap_infra.config.load import validate_data
from ndap_infra.stacks.synthesis import synthesize
from tests.helpers import reference_data

LONG_PROJECT = "customer-lifetime"
LONG_ORG = "acme-machinelearning"


@pytest.fixture(scope="module")
def tooling(tmp_path_factory: pytest.TempPathFactory) -> str:
    data = reference_data()
    data["organization"]["name"] = LONG_ORG
    data["ml_projects"][1]["name"] = LONG_PROJECT
    config, issues = validate_data(data)
    assert config is not None, issues
    stacks = synthesize(config, tmp_path_factory.mktemp("long") / "out").stack_json()
    text: str = __import__("json").dumps(stacks["tooling"])
    return text


def _artifact_objects(text: str) -> set[str]:
    return set(re.findall(r"arn:aws:s3:::[a-z0-9-]*-artifacts-\d{12}/([^/\"\\]+)/\*", text))


def test_project_pipeline_roles_scope_the_first_20_characters(tooling: Any) -> None:
    prefixes = _artifact_objects(tooling)
    for env in ("dev", "acc", "prd"):
        pipeline = f"{LONG_PROJECT}-{env}"
        assert pipeline not in prefixes, pipeline
        assert pipeline[:20] in prefixes, pipeline
    assert "customer-lifetime-pr" in prefixes
    # a name of 20 characters or less is its own prefix
    assert "churn-prediction-dev" in prefixes


def test_the_platform_pipeline_scopes_the_first_20_characters(tooling: Any) -> None:
    prefixes = _artifact_objects(tooling)
    assert f"{LONG_ORG}-platform" not in prefixes
    assert f"{LONG_ORG}-platform"[:20] in prefixes
