"""Inline buildspecs within CodeBuild's limit (issue #16, item 7): GIVEN a synthesis,
WHEN a project's inline buildspec is over 25,600 characters, THEN synthesis refuses it,
naming the stack, the project and the size."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.scripts.buildspec import INLINE_BUILDSPEC_LIMIT, BuildspecTooLarge
from ndap_infra.stacks.synthesis import check_buildspec_sizes, load_synthesis


def _buildspecs(stacks: dict[str, Any]) -> dict[str, int]:
    return {
        body["name"]: len(source["buildspec"])
        for stack in stacks.values()
        for body in stack.get("resource", {}).get("aws_codebuild_project", {}).values()
        for source in body.get("source", [])
        if source.get("buildspec")
    }


def test_the_reference_buildspecs_fit(reference_synthesis: Any) -> None:
    sizes = _buildspecs(reference_synthesis.stack_json())
    assert sizes, "the reference has inline buildspecs"
    assert max(sizes.values()) <= INLINE_BUILDSPEC_LIMIT
    check_buildspec_sizes(reference_synthesis)


def test_an_oversized_buildspec_is_refused_naming_the_project(
    reference_synthesis: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(reference_synthesis.out_dir, out)
    path = out / "stacks" / "tooling" / "cdk.tf.json"
    stack = json.loads(path.read_text())
    body = next(
        b
        for b in stack["resource"]["aws_codebuild_project"].values()
        if b["source"][0].get("buildspec")
    )
    # at the limit it passes (counted as CodeBuild receives it: $${ is one ${)
    padding = INLINE_BUILDSPEC_LIMIT - len(body["source"][0]["buildspec"].replace("$${", "${"))
    body["source"][0]["buildspec"] += "#" * padding
    path.write_text(json.dumps(stack))
    check_buildspec_sizes(load_synthesis(out))
    body["source"][0]["buildspec"] += "#"
    path.write_text(json.dumps(stack))
    with pytest.raises(BuildspecTooLarge) as raised:
        check_buildspec_sizes(load_synthesis(out))
    assert f"tooling: {body['name']}: {INLINE_BUILDSPEC_LIMIT + 1} characters" in str(raised.value)
