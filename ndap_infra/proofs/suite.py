"""Every evaluator proof on one synthesis: access, the delivery pipelines with the git
flow, the platform's own pipeline, and the jobs of every machine identity."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ndap_infra.config.model import NdapConfig
from ndap_infra.names.platform import ORGANIZATION_STACK
from ndap_infra.proofs.access import Cell, ControlResult, negative_controls, prove
from ndap_infra.proofs.access_model import PlatformModel, build_model
from ndap_infra.proofs.evidence import EvidenceReport, prove_evidence
from ndap_infra.proofs.feature_pipelines import with_feature_pipelines
from ndap_infra.proofs.git_flow import prove_git_flow
from ndap_infra.proofs.git_flow.replay import read_repositories
from ndap_infra.proofs.jobs import (
    JobControlResult,
    JobResult,
    check_controls,
    job_controls,
    prove_jobs,
)
from ndap_infra.proofs.people import PersonRow, prove_people
from ndap_infra.proofs.pipelines import PipelineProof, pipeline_attacks, prove_pipelines
from ndap_infra.proofs.platform_pipeline import PlatformProof, prove_platform_pipeline
from ndap_infra.proofs.provenance import ProvenanceRow, prove_provenance
from ndap_infra.proofs.trusts import projects
from ndap_infra.stacks.synthesis import Synthesis


@dataclass(frozen=True)
class AccessProof:
    model: PlatformModel
    cells: list[Cell]
    controls: list[ControlResult]
    pipelines: PipelineProof | None = None
    """The delivery pipelines' part (with a tooling account)."""
    platform: PlatformProof | None = None
    """The platform's own pipeline (with ``platform_pipeline``)."""
    jobs: tuple[JobResult, ...] = ()
    """Every machine identity's required operations (the jobs table), evaluated."""
    job_controls: tuple[JobControlResult, ...] = ()
    provenance: tuple[ProvenanceRow, ...] = ()
    """What acc/prd identities run and who can change it: a row others control fails
    ``ok`` once its finding's fix has landed (``ProvenanceRow.enforced``); until then it
    is an open finding, reported only."""
    evidence: EvidenceReport | None = None
    """With the security accounts: the log archive's readers and deleters, the workload
    guardrails over the central evidence, the delegated administrators."""
    people: tuple[PersonRow, ...] = ()
    """People onboarded into Identity Center: the accounts and permission sets each
    reaches, as their personas allow."""

    @property
    def ok(self) -> bool:
        return (
            all(c.ok for c in self.cells)
            and all(r.denied_with_all_layers for r in self.controls)
            and (self.pipelines is None or self.pipelines.ok)
            and (self.platform is None or self.platform.ok)
            and all(r.ok for r in self.jobs)
            and all(c.ok for c in self.job_controls)
            and not any(r.fails for r in self.provenance)
            and (self.evidence is None or self.evidence.ok)
            and all(r.ok for r in self.people)
        )


def prove_access(config: NdapConfig, synthesis: Synthesis) -> AccessProof:
    stacks = synthesis.stack_json()
    model = build_model(config, stacks)
    pipelines = None
    if projects(model):
        flow = prove_git_flow(model, stacks, read_repositories(synthesis.out_dir))
        pipelines = replace(with_feature_pipelines(prove_pipelines(model), model), flow=flow)
    controls = negative_controls(model, pipeline_attacks(model))
    return AccessProof(
        model,
        prove(model),
        controls,
        pipelines,
        prove_platform_pipeline(model),
        tuple(prove_jobs(model)),
        tuple(check_controls(model, job_controls(model))),
        tuple(prove_provenance(model, stacks)),
        prove_evidence(model, stacks) if config.security_accounts is not None else None,
        tuple(prove_people(config, stacks.get(ORGANIZATION_STACK, {}))),
    )
