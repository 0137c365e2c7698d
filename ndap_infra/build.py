"""The main job, step by step: synthesize, write reviewer output, validate with Terraform."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ndap_infra.config.model import NdapConfig
from ndap_infra.output import replace_directory, write_files
from ndap_infra.review.policy_files import policy_files

STACK_ORDER_FILE = "ndap-stacks.json"


@dataclass(frozen=True)
class Synthesis:
    """Where the stacks were written, in dependency order."""

    out_dir: Path
    stacks: dict[str, Path]

    def stack_json(self) -> dict[str, dict[str, Any]]:
        return {
            name: json.loads((path / "cdk.tf.json").read_text())
            for name, path in self.stacks.items()
        }


def synthesize(config: NdapConfig, out_dir: Path) -> Synthesis:
    """Synthesize every stack in one process into ``out_dir``, all or nothing."""
    from stacks.app import synthesize_platform  # the cdktf layer, imported when needed

    def build(staging: Path) -> None:
        names = synthesize_platform(config, staging)
        (staging / STACK_ORDER_FILE).write_text(json.dumps(names, indent=2) + "\n")

    replace_directory(out_dir, build)
    return load_synthesis(out_dir)


class NotSynthesized(RuntimeError):
    pass


def load_synthesis(out_dir: Path) -> Synthesis:
    """A synthesis written earlier by ``synthesize``, stacks in dependency order."""
    order_file = out_dir / STACK_ORDER_FILE
    if not order_file.is_file():
        raise NotSynthesized(f"no synthesized platform in {out_dir}: run `ndap synth` first")
    names = json.loads(order_file.read_text())
    return Synthesis(out_dir, {name: out_dir / "stacks" / name for name in names})


def reviewer_files(synthesis: Synthesis) -> dict[str, str]:
    return policy_files(synthesis.stack_json())


def write_reviewer_files(synthesis: Synthesis, policies_dir: Path) -> dict[str, str]:
    files = reviewer_files(synthesis)
    replace_directory(policies_dir, lambda staging: write_files(staging, files))
    return files
