"""Synthesis of the whole platform, phase 1 and 2, all or nothing: the stacks in dependency
order, each project's repository files, and the policy-size check."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ndap_infra.config.accounts import PhaseOne, pending_accounts, phase_one_config
from ndap_infra.config.model import NdapConfig
from ndap_infra.files.directories import UnsafeOutput, replace_directory, write_files
from ndap_infra.iam.limits import PolicyTooLarge
from ndap_infra.iam.synthesized import extract_policies
from ndap_infra.pipelines.workflows import repository_files as files_of
from ndap_infra.scripts.buildspec import INLINE_BUILDSPEC_LIMIT, BuildspecTooLarge
from ndap_infra.stacks.node import NodeUnusable, require_node

STACK_ORDER_FILE = "ndap-stacks.json"
MANIFEST_FILE = "manifest.json"
"""cdktf's manifest: each stack's declared dependencies."""
PHASE_ONE_FILE = "ndap-phase-one.json"
"""Present when the synthesis is phase 1 (created accounts' ids pending): what waits."""
REPOSITORIES_DIR = "repositories"
"""Files for each ML project's repository (``<out>/repositories/<project>/...``)."""


@dataclass(frozen=True)
class Synthesis:
    """Where the stacks were written, in dependency order."""

    out_dir: Path
    stacks: dict[str, Path]
    phase_one: PhaseOne | None = None
    """Set while created accounts' ids are pending: only the organization stack is here."""

    def stack_json(self) -> dict[str, dict[str, Any]]:
        return {
            name: json.loads((path / "cdk.tf.json").read_text())
            for name, path in self.stacks.items()
        }

    def dependencies(self) -> dict[str, list[str]]:
        """Each stack's declared dependencies (cdktf's manifest), among these stacks."""
        manifest = self.out_dir / MANIFEST_FILE
        declared = json.loads(manifest.read_text())["stacks"] if manifest.is_file() else {}
        return {
            name: [d for d in declared.get(name, {}).get("dependencies", []) if d in self.stacks]
            for name in self.stacks
        }

    def apply_waves(self) -> dict[str, int]:
        """The wave each stack applies in (``apply_waves``)."""
        return apply_waves(self.dependencies())


def apply_waves(dependencies: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """The wave each stack applies in: 0 for a stack depending on none, else one more
    than the latest wave among its dependencies. The stacks of one wave share nothing and
    apply side by side (organization 0, tooling 1, the environments 2, and prd 3 since it
    replicates into dev's and acc's buckets). A cycle is refused."""
    waves: dict[str, int] = {}

    def wave(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            raise ValueError("stack dependencies form a cycle: " + " -> ".join((*path, name)))
        if name not in waves:
            after = [wave(d, (*path, name)) for d in dependencies.get(name, ())]
            waves[name] = 1 + max(after) if after else 0
        return waves[name]

    for name in dependencies:
        wave(name, ())
    return waves


REFUSALS = (PolicyTooLarge, BuildspecTooLarge, UnsafeOutput, NodeUnusable)
"""What ``synthesize`` refuses with a message (exit 2 in the CLI), nothing written."""


def synthesize(
    config: NdapConfig,
    out_dir: Path,
    *,
    protected: Iterable[Path] = (),
    before_swap: Callable[[Synthesis], None] | None = None,
) -> Synthesis:
    """Synthesize every stack in one process into ``out_dir``, all or nothing.

    ``out_dir`` must be ndap's own (``files.directories``); ``protected`` paths (the
    configuration) may not be in it. ``before_swap`` runs on the staged synthesis before
    it replaces ``out_dir``: what it writes elsewhere (the reviewer files) succeeds or
    fails with the synthesis, so a refusal there leaves ``out_dir`` as it was."""

    def build(staging: Path) -> None:
        names = synthesize_platform(config, staging)
        (staging / STACK_ORDER_FILE).write_text(json.dumps(names, indent=2) + "\n")
        if phase_one is not None:
            _check_no_stand_in(staging, phase_one_config(config)[1])
            (staging / PHASE_ONE_FILE).write_text(json.dumps(phase_one.to_json(), indent=2) + "\n")
        else:
            write_files(staging / REPOSITORIES_DIR, repository_files(config))
        check_policy_sizes(staged(staging))
        check_buildspec_sizes(staged(staging))

    def staged(staging: Path) -> Synthesis:
        names = json.loads((staging / STACK_ORDER_FILE).read_text())
        return Synthesis(staging, {n: staging / "stacks" / n for n in names}, phase_one)

    require_node()
    phase_one = plan_phase_one(config)
    replace_directory(
        out_dir,
        build,
        protected=protected,
        before_swap=None if before_swap is None else lambda staging: before_swap(staged(staging)),
    )
    return load_synthesis(out_dir)


def plan_phase_one(config: NdapConfig) -> PhaseOne | None:
    """While created accounts' ids are pending: which accounts, what the organization
    stack leaves out and which stacks wait for which id (the platform is built in memory
    with stand-in ids to find out). None when every id is known."""
    pending = pending_accounts(config)
    if not pending:
        return None
    from cdktf import App

    from ndap_infra.stacks.organization import OrganizationStack
    from ndap_infra.stacks.platform import waiting_stacks

    filled, stand_ins = phase_one_config(config)
    organization = OrganizationStack(App(), "organization", filled, stand_ins)
    return PhaseOne(tuple(pending), organization.waiting, waiting_stacks(config))


def _check_no_stand_in(staging: Path, stand_ins: dict[str, str]) -> None:
    """A stand-in id in phase 1's output would deploy a policy naming an account that does
    not exist: never write one (a bug if it happens)."""
    for path in staging.rglob("*.json"):
        text = path.read_text()
        named = [key for stand_in, key in stand_ins.items() if stand_in in text]
        if named:
            raise RuntimeError(
                f"phase 1 output {path.name} names the stand-in id of {', '.join(named)}"
            )


def repository_files(config: NdapConfig) -> dict[str, str]:
    """The git-host side of each project's flow (with a tooling account: the pull-request
    workflow that runs without cloud credentials), by path below ``repositories/``."""

    if config.tooling_account_id is None:
        return {}
    return {
        f"{project.name}/{path}": text
        for project in config.ml_projects
        for path, text in files_of(project).items()
    }


class NotSynthesized(RuntimeError):
    pass


def load_synthesis(out_dir: Path) -> Synthesis:
    """A synthesis written earlier by ``synthesize``, stacks in dependency order."""
    order_file = out_dir / STACK_ORDER_FILE
    if not order_file.is_file():
        raise NotSynthesized(f"no synthesized platform in {out_dir}: run `ndap synth` first")
    names = json.loads(order_file.read_text())
    phase_file = out_dir / PHASE_ONE_FILE
    phase_one = (
        PhaseOne.from_json(json.loads(phase_file.read_text())) if phase_file.is_file() else None
    )
    return Synthesis(out_dir, {name: out_dir / "stacks" / name for name in names}, phase_one)


def check_policy_sizes(synthesis: Synthesis) -> None:
    """Every synthesized policy within its AWS limit, or an error naming each one over."""
    over = [p for p in extract_policies(synthesis.stack_json()) if p.size > p.limit]
    if over:
        raise PolicyTooLarge(
            "policies over their AWS size limit (split the configuration or shorten names):\n"
            + "\n".join(
                f"  - {p.file_name}: {p.kind} of {p.size} characters, limit {p.limit}" for p in over
            )
        )


def check_buildspec_sizes(synthesis: Synthesis) -> None:
    """Every inline buildspec within CodeBuild's limit (counted as CodeBuild receives it:
    Terraform's ``$${`` escapes undone), or an error naming each project over."""
    over = []
    for stack, document in synthesis.stack_json().items():
        projects = document.get("resource", {}).get("aws_codebuild_project", {})
        for address, body in projects.items():
            for source in body.get("source", []):
                text = str(source.get("buildspec", "")).replace("$${", "${").replace("%%{", "%{")
                if len(text) > INLINE_BUILDSPEC_LIMIT:
                    over.append(f"  - {stack}: {body.get('name', address)}: {len(text)} characters")
    if over:
        raise BuildspecTooLarge(
            f"inline buildspecs over CodeBuild's limit of {INLINE_BUILDSPEC_LIMIT} characters "
            "(fewer datasets or steps per project, or a buildspec file in the repository):\n"
            + "\n".join(over)
        )


def synthesize_platform(config: NdapConfig, outdir: Path) -> list[str]:
    """Synthesize every stack into ``outdir`` (cdktf's layout: stacks/<name>/cdk.tf.json).
    Returns the stack names in dependency order."""
    from cdktf import App  # deferred: the jsii runtime starts on import (about a second)

    from ndap_infra.stacks.platform import build_platform

    app = App(outdir=str(outdir), skip_validation=False)
    stacks = build_platform(app, config)
    app.synth()
    return list(stacks)
