"""The main job, step by step: synthesize, write reviewer output, validate with Terraform."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ndap_infra.config.model import NdapConfig
from ndap_infra.output import replace_directory, write_files
from ndap_infra.review.policy_files import policy_files


@dataclass(frozen=True)
class Synthesis:
    """Where the stacks were written, in dependency order."""

    out_dir: Path
    stacks: dict[str, Path]

    def stack_json(self) -> dict[str, dict[str, Any]]:
        return {
            name: json.loads((path / "cdk.tf.json").read_text()) for name, path in self.stacks.items()
        }


def synthesize(config: NdapConfig, out_dir: Path) -> Synthesis:
    """Synthesize every stack in one process into ``out_dir``, all or nothing."""
    from stacks.app import synthesize_platform  # the cdktf layer, imported when needed

    names: list[str] = []

    def build(staging: Path) -> None:
        names.extend(synthesize_platform(config, staging))

    replace_directory(out_dir, build)
    return Synthesis(out_dir, {name: out_dir / "stacks" / name for name in names})


def reviewer_files(synthesis: Synthesis) -> dict[str, str]:
    return policy_files(synthesis.stack_json())


def write_reviewer_files(synthesis: Synthesis, policies_dir: Path) -> dict[str, str]:
    files = reviewer_files(synthesis)
    replace_directory(policies_dir, lambda staging: write_files(staging, files))
    return files
