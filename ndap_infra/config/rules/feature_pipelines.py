"""Rules on ``feature_pipelines``: one per team that owns feature groups, along the git
flow, with pipeline names that neither meet a project's nor share artifacts."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules.registry import INVARIANT_5, rule


@rule("feature_pipelines", "feature_groups", "ml_projects", lookups=("feature_groups",))
def feature_pipelines_are_well_formed(config: NdapConfig) -> Iterator[ConfigIssue]:
    # Imported here, as in ml_projects.py: the names module imports the config package.
    from ndap_infra.names.pipelines import PIPELINE_ENVIRONMENTS, artifact_prefix, pipeline_name

    teams = sorted({g.team for g in config.feature_groups})
    projects = {p.name for p in config.ml_projects}
    owner: dict[str, str] = {
        artifact_prefix(pipeline_name(p.name, env)): pipeline_name(p.name, env)
        for p in config.ml_projects
        for env in PIPELINE_ENVIRONMENTS
    }
    seen: dict[str, int] = {}
    for index, item in enumerate(config.feature_pipelines):
        base: tuple[str | int, ...] = ("feature_pipelines", index)
        if item.team in seen:
            yield ConfigIssue(
                (*base, "team"),
                f"already has feature_pipelines[{seen[item.team]}]: one pipeline per team",
                item.team,
                True,
            )
        seen.setdefault(item.team, index)
        if item.team not in teams:
            yield ConfigIssue(
                (*base, "team"),
                "owns no feature group (feature_groups[].team: "
                f"{', '.join(teams) or 'none'}): its pipeline would create nothing",
                item.team,
                True,
            )
        if item.name in projects:
            yield ConfigIssue(
                (*base, "team"),
                f"its pipelines would be named like ml_projects '{item.name}': rename one",
                item.team,
                True,
            )
        flow = item.pipeline
        if flow.develop_branch == flow.main_branch:
            yield ConfigIssue(
                (*base, "pipeline", "main_branch"),
                "must differ from develop_branch: develop publishes to dev, main to prd",
                flow.main_branch,
                True,
            )
        if not flow.prd_approval:
            yield ConfigIssue(
                (*base, "pipeline", "prd_approval"),
                f"{INVARIANT_5}: publishing to prd always waits for a manual approval; "
                "remove 'prd_approval: false'",
                False,
                True,
            )
        for branch in (flow.develop_branch, flow.main_branch):
            if fnmatch.fnmatchcase(branch, flow.release_tag_pattern):
                yield ConfigIssue(
                    (*base, "pipeline", "release_tag_pattern"),
                    f"matches the branch name '{branch}': a release tag pattern must not",
                    flow.release_tag_pattern,
                    True,
                )
        for env in PIPELINE_ENVIRONMENTS:
            pipeline = pipeline_name(item.name, env)
            prefix = artifact_prefix(pipeline)
            if prefix in owner and owner[prefix] != pipeline:
                yield ConfigIssue(
                    (*base, "team"),
                    f"pipeline '{pipeline}' would share its artifact prefix '{prefix}' with "
                    f"'{owner[prefix]}' (CodePipeline keeps artifacts under the first 20 "
                    "characters of a pipeline's name): use a team name of at most 9 characters",
                    item.team,
                    True,
                )
                break
            owner.setdefault(prefix, pipeline)
