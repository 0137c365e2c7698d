"""Feature pipelines: a team's feature definitions along the git flow (optional)."""

from __future__ import annotations

from pydantic import Field

from ndap_infra.config.enums import GitHost
from ndap_infra.config.model.projects import PipelineConfig
from ndap_infra.config.model.types import RepositoryName, Slug, StrictModel


class FeaturePipelineConfig(StrictModel):
    """The pipelines that create and backfill one team's feature group versions in each
    environment they have been promoted to (dev on a push to develop, acc on a release tag,
    prd on a release tag main contains, after an approval). Without one, the environment
    stacks create the team's versions."""

    team: Slug = Field(
        description="The team whose feature_groups this pipeline creates (feature_groups[].team).",
        examples=["growth"],
    )
    repository: RepositoryName = Field(
        description="owner/name of the team's feature repository on the git host (feature "
        "code, its tests and the release tags; the definitions stay in feature_groups)."
    )
    git_host: GitHost = Field(
        default=GitHost.GITHUB,
        description="Where the repository lives (the tooling account's connection for it).",
    )
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)

    @property
    def name(self) -> str:
        """``<team>-features``: the pipelines' stem, and what ``ndap pipeline run`` takes."""
        return f"{self.team}-features"
