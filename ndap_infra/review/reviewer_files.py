"""The files reviewers read under ``policies/``: every policy document, BASELINE.md,
ACCESS.md, JOBS.md, PROVENANCE.md and the diagram, replaced all or nothing (LINT.md, written by
``ndap lint``, kept)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ndap_infra.config.enums import SECURITY_TOOLING, TOOLING
from ndap_infra.files.directories import replace_directory, write_files
from ndap_infra.iam.synthesized import extract_policies, policy_files
from ndap_infra.proofs.parity import guardrail_attachments
from ndap_infra.proofs.suite import AccessProof
from ndap_infra.review.access_report import render_access_report
from ndap_infra.review.baseline_report import render_baseline_report
from ndap_infra.review.diagram import render_png, render_svg
from ndap_infra.review.jobs_report import render_jobs_report
from ndap_infra.review.provenance_report import render_provenance_report
from ndap_infra.stacks.synthesis import Synthesis

KEPT_REVIEWER_FILES = ("LINT.md",)
DIAGRAM_SVG = "platform.svg"
DIAGRAM_PNG = "platform.png"  # rendered from the SVG; checked by rendering, not bytes


def reviewer_files(synthesis: Synthesis, proof: AccessProof) -> dict[str, str]:

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
        stacks.get(SECURITY_TOOLING),
    )
    files[DIAGRAM_SVG] = render_svg(proof.model.config)
    files["ACCESS.md"] = render_access_report(
        proof.model,
        proof.cells,
        proof.controls,
        list(extract_policies(stacks)),
        proof.pipelines,
        proof.platform,
        proof.people,
    )
    files["JOBS.md"] = render_jobs_report(proof.jobs, proof.job_controls)
    files["PROVENANCE.md"] = render_provenance_report(proof.provenance)
    if proof.evidence is not None:
        files["EVIDENCE.md"] = proof.evidence.render()
    return files


def write_reviewer_files(
    synthesis: Synthesis, proof: AccessProof, policies_dir: Path, protected: Iterable[Path] = ()
) -> dict[str, str]:
    """Replace the reviewer files; the lint report (written by ``ndap lint``) is kept."""
    files = reviewer_files(synthesis, proof)
    kept = {
        name: (policies_dir / name).read_text()
        for name in KEPT_REVIEWER_FILES
        if (policies_dir / name).is_file()
    }

    png = render_png(files[DIAGRAM_SVG])

    def build(staging: Path) -> None:
        write_files(staging, {**files, **kept})
        (staging / DIAGRAM_PNG).write_bytes(png)

    replace_directory(policies_dir, build, protected=protected)
    return files
