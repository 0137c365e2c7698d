"""Images in a project's scaffold: the deploy step runs images only by digest from the
project's repository of the platform registry (``buildspecs.IMAGE_CHECK``). A fresh
scaffold cannot know the digests, so it ships a unit test that fails the pull request
until they are set, naming each one and where it goes."""

from __future__ import annotations

import json
import re

from ndap_infra.config.model import MlProjectConfig, NdapConfig
from ndap_infra.names.pipelines import image_repository, image_repository_uri

IMAGE_KEYS = re.compile(r"^(image|imageuri|trainingimage|appimageuri)$", re.IGNORECASE)
"""The keys whose values the deploy step checks as images (``buildspecs.IMAGE_CHECK``)."""
IMAGES_TEST = "tests/test_images.py"


def image_placeholders(files: dict[str, str]) -> list[tuple[str, str]]:
    """(file, JSON path) of every image a definition under ``pipelines/`` names."""
    found: list[tuple[str, str]] = []

    def walk(node: object, where: str, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if IMAGE_KEYS.match(key) and isinstance(value, str):
                    found.append((path, f"{where}.{key}"))
                walk(value, f"{where}.{key}", path)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]", path)

    for path in sorted(files):
        if path.startswith("pipelines/") and path.endswith(".json"):
            walk(json.loads(files[path]), "", path)
    return [(path, where.lstrip(".")) for path, where in found]


ANY_ACCOUNT = "<tooling account id>"


def image_example(config: NdapConfig, project: MlProjectConfig) -> str:
    """How an image of the project is named: ``<repository>@sha256:<digest>``, the
    repository of the project in the platform registry (the tooling account's ECR)."""
    org, region = config.organization.name, config.organization.home_region
    account = config.tooling_account_id or ANY_ACCOUNT
    return f"{image_repository_uri(region, account, org, project.name)}@sha256:<digest>"


def images_test(config: NdapConfig, project: MlProjectConfig) -> str:
    """The project's unit test that fails (naming what to set, where) while an image the
    deploy step would refuse is left: the placeholders of a fresh scaffold."""
    org, region = config.organization.name, config.organization.home_region
    account = config.tooling_account_id or ANY_ACCOUNT
    registry = image_repository_uri(region, account, org, project.name).split("/")[0]
    # short lines by construction (slugs are at most 24 characters), so the test passes
    # `ruff format --check` without a formatter at hand here
    return (
        IMAGES_TEST_PY.replace("@REGISTRY@", json.dumps(registry))
        .replace("@PATH@", json.dumps("/" + image_repository(org, project.name)))
        .replace("@ANY@", json.dumps(ANY_ACCOUNT))
    )


IMAGES_TEST_PY = '''\
"""Every image the pipelines deploy is named by digest in the platform registry.

The platform's deploy step refuses any other image (a tag can be moved; images run only
from the platform registry). This test fails first, in the pull request, naming each
image to set and where: a fresh scaffold holds placeholders (README, "First steps").
"""

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = @REGISTRY@
REPOSITORY = REGISTRY + @PATH@
EXAMPLE = REPOSITORY + "@sha256:<digest>"
ANY_ACCOUNT = re.escape(@ANY@)
IMAGE_KEYS = re.compile(r"^(image|imageuri|trainingimage|appimageuri)$", re.IGNORECASE)
BY_DIGEST = re.compile(
    re.escape(REPOSITORY).replace(ANY_ACCOUNT, "[0-9]{12}") + "@sha256:[0-9a-f]{64}"
)


def images(node: object, where: str = ""):
    """(JSON path, value) of every image a definition names."""
    if isinstance(node, dict):
        for key, value in node.items():
            if IMAGE_KEYS.match(key) and isinstance(value, str):
                yield f"{where}.{key}".lstrip("."), value
            yield from images(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from images(value, f"{where}[{index}]")


def named_images() -> list[tuple[str, str, str]]:
    """(file, where, image) of every image the deploy step checks."""
    params = yaml.safe_load((ROOT / "config" / "params.yaml").read_text())
    found = [("config/params.yaml", "inference_image", params.get("inference_image"))]
    for path in sorted((ROOT / "pipelines").rglob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        name = path.relative_to(ROOT).as_posix()
        found += [(name, where, value) for where, value in images(definition)]
    return found


def test_every_image_is_named_by_digest_in_the_platform_registry() -> None:
    wrong = [
        f"{path}: set {where} (now {value!r})"
        for path, where, value in named_images()
        if not BY_DIGEST.fullmatch(str(value or ""))
    ]
    assert not wrong, (
        f"name each image by digest in the platform registry, {EXAMPLE} "
        "(the deploy step refuses anything else): " + "; ".join(wrong)
    )
'''
