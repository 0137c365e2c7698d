"""The main job, step by step: synthesize, write reviewer output, validate with Terraform."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ndap_infra.accounts import PhaseOne, pending_accounts, phase_one_config
from ndap_infra.config.model import NdapConfig
from ndap_infra.iam.limits import PolicyTooLarge
from ndap_infra.output import replace_directory, write_files
from ndap_infra.review.policy_files import extract_policies, policy_files

if TYPE_CHECKING:
    from ndap_infra.checks.access_model import PlatformModel
    from ndap_infra.checks.access_proof import Cell, ControlResult
    from ndap_infra.checks.pipeline_proof import PipelineProof
    from ndap_infra.checks.platform_pipeline_proof import PlatformProof

STACK_ORDER_FILE = "ndap-stacks.json"
PHASE_ONE_FILE = "ndap-phase-one.json"
"""Present when the synthesis is phase 1 (created accounts' ids pending): what waits."""
REPOSITORIES_DIR = "repositories"
"""Files for each ML project's repository (``<out>/repositories/<project>/...``)."""
KEPT_REVIEWER_FILES = ("LINT.md",)
DIAGRAM_SVG = "platform.svg"
DIAGRAM_PNG = "platform.png"  # rendered from the SVG; checked by rendering, not bytes


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


def synthesize(config: NdapConfig, out_dir: Path) -> Synthesis:
    """Synthesize every stack in one process into ``out_dir``, all or nothing."""
    from stacks.app import synthesize_platform  # the cdktf layer, imported when needed

    def build(staging: Path) -> None:
        names = synthesize_platform(config, staging)
        (staging / STACK_ORDER_FILE).write_text(json.dumps(names, indent=2) + "\n")
        if phase_one is not None:
            _check_no_stand_in(staging, phase_one_config(config)[1])
            (staging / PHASE_ONE_FILE).write_text(json.dumps(phase_one.to_json(), indent=2) + "\n")
        else:
            write_files(staging / REPOSITORIES_DIR, repository_files(config))
        check_policy_sizes(Synthesis(staging, {n: staging / "stacks" / n for n in names}))

    phase_one = plan_phase_one(config)
    replace_directory(out_dir, build)
    return load_synthesis(out_dir)


def plan_phase_one(config: NdapConfig) -> PhaseOne | None:
    """While created accounts' ids are pending: which accounts, what the organization
    stack leaves out and which stacks wait for which id (the platform is built in memory
    with stand-in ids to find out). None when every id is known."""
    pending = pending_accounts(config)
    if not pending:
        return None
    from cdktf import App

    from stacks.organization import OrganizationStack
    from stacks.platform import waiting_stacks

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
    from ndap_infra.pipelines.workflows import repository_files as files_of

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


@dataclass(frozen=True)
class AccessProof:
    model: PlatformModel
    cells: list[Cell]
    controls: list[ControlResult]
    pipelines: PipelineProof | None = None
    """The delivery pipelines' part (with a tooling account)."""
    platform: PlatformProof | None = None
    """The platform's own pipeline (with ``platform_pipeline``)."""

    @property
    def ok(self) -> bool:
        return (
            all(c.ok for c in self.cells)
            and all(r.denied_with_all_layers for r in self.controls)
            and (self.pipelines is None or self.pipelines.ok)
            and (self.platform is None or self.platform.ok)
        )


def prove_access(config: NdapConfig, synthesis: Synthesis) -> AccessProof:
    from ndap_infra.checks.access_model import build_model
    from ndap_infra.checks.access_proof import negative_controls, prove
    from ndap_infra.checks.git_flow import prove_git_flow, read_repositories
    from ndap_infra.checks.pipeline_proof import projects, prove_pipelines
    from ndap_infra.checks.platform_pipeline_proof import prove_platform_pipeline

    stacks = synthesis.stack_json()
    model = build_model(config, stacks)
    pipelines = None
    if projects(model):
        flow = prove_git_flow(model, stacks, read_repositories(synthesis.out_dir))
        pipelines = replace(prove_pipelines(model), flow=flow)
    return AccessProof(
        model, prove(model), negative_controls(model), pipelines, prove_platform_pipeline(model)
    )


def reviewer_files(synthesis: Synthesis, proof: AccessProof) -> dict[str, str]:
    from ndap_infra.checks.parity import TOOLING, guardrail_attachments
    from ndap_infra.review.access_report import render_access_report
    from ndap_infra.review.baseline_report import render_baseline_report
    from ndap_infra.review.diagram import render_svg

    stacks = synthesis.stack_json()
    files = policy_files(stacks)
    envs = [e.value for e in proof.model.config.enabled_environments()]
    columns = {env: stacks[f"env-{env}"] for env in envs}
    if TOOLING in stacks:
        columns[TOOLING] = stacks[TOOLING]  # the delivery account carries the same baseline
    files["BASELINE.md"] = render_baseline_report(
        list(columns),
        columns,
        {
            env: sorted(names)
            for env, names in guardrail_attachments(stacks["organization"]).items()
        },
    )
    files[DIAGRAM_SVG] = render_svg(proof.model.config)
    files["ACCESS.md"] = render_access_report(
        proof.model,
        proof.cells,
        proof.controls,
        list(extract_policies(stacks)),
        proof.pipelines,
        proof.platform,
    )
    return files


def write_reviewer_files(
    synthesis: Synthesis, proof: AccessProof, policies_dir: Path
) -> dict[str, str]:
    """Replace the reviewer files; the lint report (written by ``ndap lint``) is kept."""
    files = reviewer_files(synthesis, proof)
    kept = {
        name: (policies_dir / name).read_text()
        for name in KEPT_REVIEWER_FILES
        if (policies_dir / name).is_file()
    }
    from ndap_infra.review.diagram import render_png

    png = render_png(files[DIAGRAM_SVG])

    def build(staging: Path) -> None:
        write_files(staging, {**files, **kept})
        (staging / DIAGRAM_PNG).write_bytes(png)

    replace_directory(policies_dir, build)
    return files
