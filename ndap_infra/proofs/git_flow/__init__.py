"""Git refs to cloud identities: which identities each kind of git event reaches, proved
by replaying the synthesized pipelines (``events``: the git side and what the model
allows; ``replay``: the pipelines replayed; ``controls``: the negative controls).

Why and how: docs/design-notes.md, section ndap_infra/proofs/git_flow/."""

from __future__ import annotations

from dataclasses import dataclass

from ndap_infra.proofs.access_model import PlatformModel
from ndap_infra.proofs.git_flow.controls import FlowControl, flow_controls
from ndap_infra.proofs.git_flow.replay import (
    BuildTrustCheck,
    FlowRow,
    Repositories,
    Stacks,
    check_build_trust,
    flow_rows,
)


@dataclass(frozen=True)
class GitFlowProof:
    rows: tuple[FlowRow, ...]
    build_trust: tuple[BuildTrustCheck, ...]
    controls: tuple[FlowControl, ...]

    @property
    def ok(self) -> bool:
        return (
            all(r.ok for r in self.rows)
            and all(c.ok for c in self.build_trust)
            and all(c.ok for c in self.controls)
        )


def prove_git_flow(
    model: PlatformModel, stacks: Stacks, repositories: Repositories, controls: bool = True
) -> GitFlowProof:
    return GitFlowProof(
        tuple(flow_rows(model, stacks, repositories)),
        tuple(check_build_trust(model, stacks)),
        tuple(flow_controls(model, stacks, repositories)) if controls else (),
    )
