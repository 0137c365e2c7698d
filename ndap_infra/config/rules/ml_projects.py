"""Rules on ``ml_projects``: names that stay apart (resources, artifacts, guardrails),
retraining and prediction schedules that fit the project, the git flow of its pipelines,
and path rules the change classifier can apply.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from ndap_infra.config.enums import (
    AcceptanceRetraining,
    ProductionRetraining,
    ProjectKind,
    RetrainingStrategy,
)
from ndap_infra.config.git_refs import ref_problem
from ndap_infra.config.globs import GlobError, compile_glob, equivalent, overlap
from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import PATH_KINDS, NdapConfig, PathRulesConfig
from ndap_infra.config.rules.registry import INVARIANT_5, rule
from ndap_infra.config.schedules import schedule_problem


@rule("ml_projects")
def project_names_are_unique(config: NdapConfig) -> Iterator[ConfigIssue]:
    seen: dict[str, int] = {}
    for index, project in enumerate(config.ml_projects):
        if project.name in seen:
            yield ConfigIssue(
                ("ml_projects", index, "name"),
                f"is already used by ml_projects[{seen[project.name]}]: project names must "
                "be unique (they name pipelines, roles and buckets)",
                project.name,
                True,
            )
        seen.setdefault(project.name, index)


@rule("ml_projects")
def retraining_settings_fit_the_strategy(config: NdapConfig) -> Iterator[ConfigIssue]:
    for index, project in enumerate(config.ml_projects):
        r = project.retraining
        base = ("ml_projects", index, "retraining")
        if r.strategy is RetrainingStrategy.PERIODIC:
            if r.schedule is None:
                yield ConfigIssue(
                    (*base, "schedule"),
                    "periodic retraining needs a schedule: e.g. 'cron(0 3 ? * MON *)' or "
                    "'rate(7 days)'",
                )
            elif problem := schedule_problem(r.schedule):
                yield ConfigIssue(
                    (*base, "schedule"),
                    f"is not an EventBridge schedule: {problem}",
                    r.schedule,
                    True,
                )
        if r.strategy is RetrainingStrategy.DRIFT:
            for field in ("metric", "threshold"):
                if getattr(r, field) is None:
                    yield ConfigIssue(
                        (*base, field), f"drift-triggered retraining needs a {field}: add it"
                    )
        if r.acceptance_schedule is not None:
            if r.acceptance is not AcceptanceRetraining.PERIODIC_FROM_SCRATCH:
                yield ConfigIssue(
                    (*base, "acceptance_schedule"),
                    f"is used only with acceptance: periodic-from-scratch (this project's is "
                    f"'{r.acceptance.value}'): remove it or change acceptance",
                    r.acceptance_schedule,
                    True,
                )
            elif problem := schedule_problem(r.acceptance_schedule):
                yield ConfigIssue(
                    (*base, "acceptance_schedule"),
                    f"is not an EventBridge schedule: {problem}",
                    r.acceptance_schedule,
                    True,
                )
        unused = {
            RetrainingStrategy.AD_HOC: ("schedule", "metric", "threshold"),
            RetrainingStrategy.PERIODIC: ("metric", "threshold"),
            RetrainingStrategy.DRIFT: ("schedule",),
        }[r.strategy]
        for field in unused:
            if getattr(r, field) is not None:
                yield ConfigIssue(
                    (*base, field),
                    f"is not used by the '{r.strategy.value}' strategy: remove it or change "
                    "the strategy",
                    getattr(r, field),
                    True,
                )


@rule("ml_projects")
def pipelines_follow_the_git_flow(config: NdapConfig) -> Iterator[ConfigIssue]:
    for index, project in enumerate(config.ml_projects):
        pipeline = project.pipeline
        base = ("ml_projects", index, "pipeline")
        if pipeline.develop_branch == pipeline.main_branch:
            yield ConfigIssue(
                (*base, "main_branch"),
                "must differ from develop_branch: develop deploys to dev, main to prd",
                pipeline.main_branch,
                True,
            )
        if not pipeline.prd_approval:
            yield ConfigIssue(
                (*base, "prd_approval"),
                f"{INVARIANT_5}: a deployment to prd always waits for a manual approval; "
                "remove 'prd_approval: false'",
                False,
                True,
            )
        if project.reuses_acc_artifacts and not pipeline.digest_check:
            yield ConfigIssue(
                (*base, "digest_check"),
                "reusing acc's artifacts in prd needs the digest check (prd must deploy "
                "exactly what acc verified): set digest_check: true or retraining.production: "
                "retrain",
                False,
                True,
            )
        for branch in (pipeline.develop_branch, pipeline.main_branch):
            if fnmatch.fnmatchcase(branch, pipeline.release_tag_pattern):
                yield ConfigIssue(
                    (*base, "release_tag_pattern"),
                    f"also matches the branch name {branch!r}: tag and branch triggers would "
                    "overlap; use a pattern such as 'v*'",
                    pipeline.release_tag_pattern,
                    True,
                )


GLOB_CHARACTERS = set("*?[]")


@rule("ml_projects")
def branch_and_tag_filters_are_usable(config: NdapConfig) -> Iterator[ConfigIssue]:
    """Branch names are exact (a glob character would make the dev or prd trigger a
    pattern); the release tag pattern must be a valid ref glob that does not match every
    tag."""
    for index, project in enumerate(config.ml_projects):
        pipeline = project.pipeline
        base = ("ml_projects", index, "pipeline")
        for field in ("develop_branch", "main_branch"):
            branch = getattr(pipeline, field)
            problem = ref_problem(branch, pattern=False)
            if problem:
                yield ConfigIssue((*base, field), f"{problem}: use e.g. 'develop'", branch, True)
        pattern = pipeline.release_tag_pattern
        if not set(pattern) - GLOB_CHARACTERS - {"/"}:
            yield ConfigIssue(
                (*base, "release_tag_pattern"),
                "matches every tag: any tag anyone pushes would release to acc and prd; use a "
                "prefix such as 'v*'",
                pattern,
                True,
            )
        else:
            problem = ref_problem(pattern, pattern=True)
            if problem:
                yield ConfigIssue(
                    (*base, "release_tag_pattern"),
                    f"{problem}; as a tag pattern: use e.g. 'v*'",
                    pattern,
                    True,
                )


@rule("ml_projects")
def project_names_do_not_nest(config: NdapConfig) -> Iterator[ConfigIssue]:
    """A project's resources are named ``<project>-...`` and its deployer role may touch
    ``<project>-*``: a project named like another's prefix would reach its resources."""
    names = {project.name for project in config.ml_projects}
    for index, project in enumerate(config.ml_projects):
        inner = sorted(n for n in names if n != project.name and project.name.startswith(f"{n}-"))
        if inner:
            yield ConfigIssue(
                ("ml_projects", index, "name"),
                f"starts with '{inner[0]}-', the name of another project followed by '-': "
                f"the deployer role of '{inner[0]}' may act on '{inner[0]}-*' resources and "
                "would reach this project's; rename one of them",
                project.name,
                True,
            )


@rule("ml_projects", "organization")
def pipeline_artifacts_do_not_collide(config: NdapConfig) -> Iterator[ConfigIssue]:
    """CodePipeline keeps a pipeline's artifacts under the first 20 characters of its name:
    two pipelines sharing them would share artifacts (a dev build could rewrite what the
    acc or prd pipeline deploys)."""
    # Imported here: ndap_infra.config's package init loads this module, and the names
    # module imports ndap_infra.config.enums through that package.
    from ndap_infra.names.pipelines import PIPELINE_ENVIRONMENTS, artifact_prefix, pipeline_name

    if config.tooling_account_id is None and config.organization.tooling_email is None:
        return
    owner: dict[str, str] = {}
    for index, project in enumerate(config.ml_projects):
        for env in PIPELINE_ENVIRONMENTS:
            pipeline = pipeline_name(project.name, env)
            prefix = artifact_prefix(pipeline)
            if prefix in owner and owner[prefix] != pipeline:
                yield ConfigIssue(
                    ("ml_projects", index, "name"),
                    f"pipeline '{pipeline}' would share its artifact prefix '{prefix}' with "
                    f"'{owner[prefix]}' (CodePipeline keeps artifacts under the first 20 "
                    "characters of a pipeline's name): use a name of at most 16 characters, "
                    "or one that differs from the other project's in its first 16",
                    project.name,
                    True,
                )
                break
            owner.setdefault(prefix, pipeline)


@rule("ml_projects", "custom_personas")
def project_names_stay_clear_of_the_guardrails(config: NdapConfig) -> Iterator[ConfigIssue]:
    for index, project in enumerate(config.ml_projects):
        for scientist in config.data_scientist_like():
            if scientist.value in project.name:
                yield ConfigIssue(
                    ("ml_projects", index, "name"),
                    f"contains '{scientist.value}': the project's pipeline roles would match "
                    "the guardrails that refuse data-scientist principals in acc and prd; "
                    "rename the project",
                    project.name,
                    True,
                )
                break


@rule("ml_projects")
def prediction_schedule_fits_the_kind(config: NdapConfig) -> Iterator[ConfigIssue]:
    for index, project in enumerate(config.ml_projects):
        schedule = project.prediction_schedule
        if schedule is None:
            continue
        path = ("ml_projects", index, "prediction_schedule")
        if project.kind is not ProjectKind.BATCH:
            yield ConfigIssue(
                path,
                f"only batch projects run on a schedule ('{project.kind.value}' serves an "
                "endpoint): remove it or set kind: batch",
                schedule,
                True,
            )
        elif problem := schedule_problem(schedule):
            yield ConfigIssue(path, f"is not an EventBridge schedule: {problem}", schedule, True)


@rule("ml_projects")
def production_retraining_has_one_source(config: NdapConfig) -> Iterator[ConfigIssue]:
    """``retraining.production`` and the older ``pipeline.reuse_acc_artifacts`` say the
    same thing; both may be given only if they agree."""
    for index, project in enumerate(config.ml_projects):
        production = project.retraining.production
        reuse = project.pipeline.reuse_acc_artifacts
        if production is None or reuse is None:
            continue
        if (production is ProductionRetraining.REUSE_ACC_ARTIFACTS) != reuse:
            yield ConfigIssue(
                ("ml_projects", index, "pipeline", "reuse_acc_artifacts"),
                f"contradicts retraining.production: '{production.value}': remove "
                "pipeline.reuse_acc_artifacts (retraining.production is the one setting)",
                reuse,
                True,
            )


@rule("ml_projects")
def path_rules_are_unambiguous(config: NdapConfig) -> Iterator[ConfigIssue]:
    """The same rule under two kinds makes every path it matches count for both; that is
    never what was meant (the classifier would retrain on a docs edit, say), so it is
    refused, also when written differently (``x/util[s].py`` is ``x/utils.py``): a path
    that serves two roles goes under ``shared``, said so. An exclusion (``!pattern``) must
    carve something out of its kind's patterns. Patterns the classifier cannot match
    exactly as git does are refused too. Why: docs/pipelines.md#path-rules."""
    for index, project in enumerate(config.ml_projects):
        yield from _path_rule_issues(project.paths, ("ml_projects", index, "paths"))


def _path_rule_issues(rules: PathRulesConfig, at: tuple[str | int, ...]) -> Iterator[ConfigIssue]:
    includes: list[tuple[str, str, tuple[str | int, ...]]] = []
    for kind in PATH_KINDS:
        patterns = rules.patterns(kind)
        kind_includes: list[str] = []
        excludes: list[tuple[str, tuple[str | int, ...]]] = []
        for p_index, pattern in enumerate(patterns):
            path = (*at, kind, p_index)
            bare = pattern.removeprefix("!")
            try:
                compile_glob(bare)
            except GlobError as error:
                yield ConfigIssue(path, f"cannot be matched as git does: {error}", pattern, True)
                continue
            if pattern.startswith("!"):
                excludes.append((bare, path))
            else:
                kind_includes.append(bare)
                includes.append((bare, kind, path))
        for bare, path in excludes:
            if not any(overlap(bare, include) for include in kind_includes):
                yield ConfigIssue(
                    path,
                    f"excludes nothing: no other '{kind}' pattern matches a path it matches; "
                    "an exclusion carves paths out of its own kind's patterns",
                    f"!{bare}",
                    True,
                )
    seen: list[tuple[str, str, tuple[str | int, ...]]] = []
    for pattern, kind, path in includes:
        for other, other_kind, other_path in seen:
            if other_kind != kind and equivalent(pattern, other):
                same = "is also" if pattern == other else f"is the same rule as {other!r},"
                yield ConfigIssue(
                    path,
                    f"{same} a '{other_kind}' path rule ({_where(other_path)}): a path "
                    f"matching it would count as both {other_kind} and {kind}; keep it under "
                    "one kind, or list it under 'shared' with both kinds if it serves both",
                    pattern,
                    True,
                )
                break
        seen.append((pattern, kind, path))
    for s_index, shared in enumerate(rules.shared):
        path = (*at, "shared", s_index)
        try:
            compile_glob(shared.pattern)
        except GlobError as error:
            yield ConfigIssue(
                (*path, "pattern"), f"cannot be matched as git does: {error}", shared.pattern, True
            )
        if len(set(shared.kinds)) < len(shared.kinds):
            yield ConfigIssue((*path, "kinds"), "names a kind twice", list(shared.kinds), True)


def _where(path: tuple[str | int, ...]) -> str:
    return f"paths.{path[-2]}[{path[-1]}]"
