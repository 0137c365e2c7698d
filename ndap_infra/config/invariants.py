"""The N-D-A-P model's hard invariants, as configuration rules.

Each rule is a small named function from the configuration to the issues it finds. A
rule declares which top-level sections it reads, so that it still runs when another
section of the same file has structural errors: one run reports everything.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ndap_infra.config.enums import (
    AcceptanceRetraining,
    Access,
    Environment,
    IdentitySource,
    Persona,
    ProductionData,
    ProductionRetraining,
    ProjectKind,
    RetrainingStrategy,
)
from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import DeployTarget, NdapConfig, PathRulesConfig
from ndap_infra.config.schedules import schedule_problem

INVARIANT_1 = "breaks invariant 1 (every environment gets the same security controls)"
INVARIANT_2 = (
    "breaks invariant 2 (a data scientist has no access at all to acceptance or production)"
)
INVARIANT_3 = "breaks invariant 3 (non-production can never reach production data)"
INVARIANT_5 = "breaks invariant 5 (only the pipeline deploys to acceptance and production)"

Rule = Callable[[NdapConfig], Iterator[ConfigIssue]]


@dataclass(frozen=True)
class RegisteredRule:
    name: str
    sections: frozenset[str]
    check: Rule


RULES: list[RegisteredRule] = []


def rule(*sections: str) -> Callable[[Rule], Rule]:
    def register(check: Rule) -> Rule:
        RULES.append(RegisteredRule(check.__name__, frozenset(sections), check))
        return check

    return register


def _cell(persona: Persona, env: Environment) -> tuple[str, ...]:
    return ("personas", persona.value, env.value)


def _levels(allowed: set[Access]) -> str:
    return ", ".join(sorted(f"'{a.value}'" for a in allowed))


@rule("personas")
def data_scientist_never_in_acc_or_prd(config: NdapConfig) -> Iterator[ConfigIssue]:
    for env in (Environment.ACC, Environment.PRD):
        access = config.access(Persona.DATA_SCIENTIST, env)
        if access is not Access.NONE:
            yield ConfigIssue(
                _cell(Persona.DATA_SCIENTIST, env),
                f"{INVARIANT_2}: set it to 'none'; production data reaches data scientists "
                "as a read-only replica in dev (data.sharing_mode)",
                access.value,
                True,
            )


@rule("personas")
def nonprod_is_for_engineers_only(config: NdapConfig) -> Iterator[ConfigIssue]:
    for persona in (Persona.DATA_SCIENTIST, Persona.BUSINESS_USER):
        access = config.access(persona, Environment.NONPROD)
        if access is not Access.NONE:
            yield ConfigIssue(
                _cell(persona, Environment.NONPROD),
                "nonprod is for ML, cloud and data engineers only (the model's environment "
                f"table): set it to 'none', or give {persona.value} access in dev",
                access.value,
                True,
            )


HUMAN_LEVELS_IN_PROTECTED = {Access.NONE, Access.READ_ONLY, Access.SECURITY_AUDIT, Access.UAT}
PERSONA_LEVELS: dict[Persona, set[Access]] = {
    Persona.DEPLOYER: {Access.NONE, Access.DEPLOY},
    Persona.BREAK_GLASS: {Access.NONE, Access.ADMIN},
    Persona.SECURITY_AUDITOR: {Access.NONE, Access.SECURITY_AUDIT, Access.READ_ONLY},
    Persona.BUSINESS_USER: {Access.NONE, Access.UAT, Access.READ_ONLY},
    Persona.DATA_SCIENTIST: {Access.NONE, Access.READ_ONLY, Access.FULL},
    Persona.ML_ENGINEER: {Access.NONE, Access.READ_ONLY, Access.FULL},
    Persona.PLATFORM_ENGINEER: {Access.NONE, Access.READ_ONLY, Access.FULL},
}


@rule("personas")
def persona_levels_fit_the_persona(config: NdapConfig) -> Iterator[ConfigIssue]:
    for persona, cells in config.persona_matrix().items():
        allowed = PERSONA_LEVELS[persona]
        for env, access in cells.items():
            if access not in allowed:
                yield ConfigIssue(
                    _cell(persona, env),
                    f"{persona.value} cannot have '{access.value}': use one of {_levels(allowed)}",
                    access.value,
                    True,
                )


@rule("personas")
def only_pipelines_change_acc_and_prd(config: NdapConfig) -> Iterator[ConfigIssue]:
    for persona, cells in config.persona_matrix().items():
        if persona in (Persona.DEPLOYER, Persona.BREAK_GLASS, Persona.DATA_SCIENTIST):
            continue  # pipelines and break-glass may; data scientists: see invariant 2
        for env in (Environment.ACC, Environment.PRD):
            access = cells[env]
            if access not in HUMAN_LEVELS_IN_PROTECTED and access in PERSONA_LEVELS[persona]:
                yield ConfigIssue(
                    _cell(persona, env),
                    f"{INVARIANT_5}: a person may have at most "
                    f"{_levels(HUMAN_LEVELS_IN_PROTECTED)} here",
                    access.value,
                    True,
                )


ALLOWED_PRODUCTION_DATA: dict[Environment, tuple[set[ProductionData], str]] = {
    Environment.NONPROD: ({ProductionData.NONE}, INVARIANT_3),
    Environment.DEV: (
        {ProductionData.NONE, ProductionData.READ_ONLY},
        "development may only read production data (the model's environment table)",
    ),
    Environment.ACC: (
        {ProductionData.COPY},
        "acceptance holds a copy of production data (the model's environment table)",
    ),
    Environment.PRD: (
        {ProductionData.SOURCE},
        "production is the source of production data (the model's environment table)",
    ),
}


@rule("environments")
def production_data_follows_the_model(config: NdapConfig) -> Iterator[ConfigIssue]:
    for env, (allowed, why) in ALLOWED_PRODUCTION_DATA.items():
        configured = config.environments.get(env).production_data
        if configured is not None and configured not in allowed:
            choices = ", ".join(sorted(f"'{a.value}'" for a in allowed))
            yield ConfigIssue(
                ("environments", env.value, "production_data"),
                f"{why}: use {choices} or leave it out",
                configured.value,
                True,
            )


@rule("environments")
def core_environments_exist(config: NdapConfig) -> Iterator[ConfigIssue]:
    for env in (Environment.DEV, Environment.ACC, Environment.PRD):
        if not config.environments.get(env).enabled:
            yield ConfigIssue(
                ("environments", env.value, "enabled"),
                "only nonprod can be switched off; dev, acc and prd always exist: remove "
                "'enabled: false'",
                False,
                True,
            )


@rule("environments")
def enabled_environments_have_accounts(config: NdapConfig) -> Iterator[ConfigIssue]:
    for env in Environment:
        settings = config.environments.get(env)
        if settings.enabled and settings.account_id is None and settings.email is None:
            yield ConfigIssue(
                ("environments", env.value, "account_id"),
                'an enabled environment needs an account: set account_id ("123456789012", '
                f"quoted) to adopt an existing one, or environments.{env.value}.email (a root "
                "e-mail no other AWS account uses) for the organization stack to create it"
                f"{'; or set enabled: false' if env is Environment.NONPROD else ''}",
            )


@rule("organization", "environments")
def account_emails_are_unique(config: NdapConfig) -> Iterator[ConfigIssue]:
    """AWS gives every account its own root e-mail: two accounts cannot share one."""
    owners: list[tuple[tuple[str, ...], str]] = []
    for env in Environment:
        settings = config.environments.get(env)
        if settings.enabled and settings.email is not None:
            owners.append((("environments", env.value, "email"), settings.email.lower()))
    if config.organization.tooling_email is not None:
        owners.append(
            (("organization", "tooling_email"), config.organization.tooling_email.lower())
        )
    counts = Counter(email for _, email in owners)
    for path, email in owners:
        if counts[email] > 1:
            others = [".".join(p) for p, e in owners if e == email and p != path]
            yield ConfigIssue(
                path,
                f"e-mail is also used by {', '.join(others)}: every AWS account needs its own "
                "root e-mail (an alias such as name+dev@domain works)",
                email,
                True,
            )


@rule("organization", "environments", "identity")
def account_ids_are_unique(config: NdapConfig) -> Iterator[ConfigIssue]:
    owners: list[tuple[tuple[str, ...], str]] = [
        (("organization", "management_account_id"), config.organization.management_account_id)
    ]
    for env in Environment:
        settings = config.environments.get(env)
        if settings.enabled and settings.account_id is not None:
            owners.append((("environments", env.value, "account_id"), settings.account_id))
    counts = Counter(account for _, account in owners)
    for path, account in owners:
        if counts[account] > 1:
            others = [".".join(p) for p, a in owners if a == account and p != path]
            yield ConfigIssue(
                path,
                f"account id is also used by {', '.join(others)}: every environment needs "
                "its own account, separate from the management account",
                account,
                True,
            )
    identity = config.identity.identity_account_id
    env_accounts = {a for p, a in owners if p[0] == "environments"}
    if identity is not None and identity in env_accounts:
        yield ConfigIssue(
            ("identity", "identity_account_id"),
            "the identity account must not be an environment account (a principal there "
            "could reach every environment): use the management or a dedicated identity "
            "account",
            identity,
            True,
        )


@rule("organization")
def home_region_is_allowed(config: NdapConfig) -> Iterator[ConfigIssue]:
    org = config.organization
    if org.home_region not in org.allowed_regions:
        yield ConfigIssue(
            ("organization", "home_region"),
            f"must be one of allowed_regions ({', '.join(dict.fromkeys(org.allowed_regions))}): "
            "add it there "
            "or pick one of them",
            org.home_region,
            True,
        )
    for region, count in Counter(org.allowed_regions).items():
        if count > 1:
            yield ConfigIssue(
                ("organization", "allowed_regions"),
                "lists a region twice: remove the copy",
                region,
                True,
            )


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


@rule("data")
def dataset_names_are_unique(config: NdapConfig) -> Iterator[ConfigIssue]:
    counts = Counter(d.name for d in config.data.datasets)
    for index, dataset in enumerate(config.data.datasets):
        if counts[dataset.name] > 1:
            yield ConfigIssue(
                ("data", "datasets", index, "name"),
                "dataset names must be unique: rename or remove the copy",
                dataset.name,
                True,
            )


@rule("data")
def integration_subset_is_valid(config: NdapConfig) -> Iterator[ConfigIssue]:
    """The sampling job's schedule parses as EventBridge reads it, and no dataset is named
    like the prefix the subset is written under (the job would sample its own output)."""
    from ndap_infra.names.pipelines import INTEGRATION_SUBSET

    subset = config.data.integration_subset
    if problem := schedule_problem(subset.schedule):
        yield ConfigIssue(
            ("data", "integration_subset", "schedule"),
            f"is not an EventBridge schedule: {problem}",
            subset.schedule,
            True,
        )
    for index, dataset in enumerate(config.data.datasets):
        if dataset.name == INTEGRATION_SUBSET:
            yield ConfigIssue(
                ("data", "datasets", index, "name"),
                f"'{INTEGRATION_SUBSET}' is where the sampling job writes the subset of the "
                "datasets: rename the dataset",
                dataset.name,
                True,
            )


@rule("environments")
def no_per_environment_security_controls(config: NdapConfig) -> Iterator[ConfigIssue]:
    for env in Environment:
        settings = config.environments.get(env)
        if settings.security_baseline is not None:
            yield ConfigIssue(
                ("environments", env.value, "security_baseline"),
                f"{INVARIANT_1}: remove it and set the control once in the top-level "
                "security_baseline, for every environment",
            )
        if settings.allowed_regions is not None:
            yield ConfigIssue(
                ("environments", env.value, "allowed_regions"),
                f"{INVARIANT_1}: a region set that differs between environments breaks "
                "parity: remove it and use organization.allowed_regions",
            )


@rule("identity", "personas")
def identity_center_is_configured(config: NdapConfig) -> Iterator[ConfigIssue]:
    identity = config.identity
    if identity.source is IdentitySource.IAM_ROLES:
        if identity.identity_center is not None:
            yield ConfigIssue(
                ("identity", "identity_center"),
                "is not used with source 'iam-roles': remove it or set source to "
                "'identity-center' or 'both'",
            )
        return
    if identity.identity_center is None:
        yield ConfigIssue(
            ("identity", "identity_center"),
            f"source '{identity.source.value}' needs the Identity Center instance_arn and a "
            "group per persona: add identity_center",
        )
        return
    for persona, cells in config.persona_matrix().items():
        needs_group = persona is not Persona.DEPLOYER and any(
            a not in (Access.NONE, Access.DEPLOY) for a in cells.values()
        )
        if needs_group and persona not in identity.identity_center.groups:
            yield ConfigIssue(
                ("identity", "identity_center", "groups", persona.value),
                f"{persona.value} has access in some environment: add its Identity Center group id",
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


@rule("organization", "environments", "identity")
def tooling_account_is_separate(config: NdapConfig) -> Iterator[ConfigIssue]:
    tooling = config.organization.tooling_account_id
    if tooling is None:
        return
    others: list[tuple[str, str]] = [
        ("organization.management_account_id", config.organization.management_account_id)
    ]
    for env in Environment:
        settings = config.environments.get(env)
        if settings.enabled and settings.account_id is not None:
            others.append((f"environments.{env.value}.account_id", settings.account_id))
    if config.identity.identity_account_id is not None:
        others.append(("identity.identity_account_id", config.identity.identity_account_id))
    clashes = [field for field, account in others if account == tooling]
    if clashes:
        yield ConfigIssue(
            ("organization", "tooling_account_id"),
            f"is also {', '.join(clashes)}: the delivery account must be an account of its own "
            "(its pipelines deploy to every environment, and data scientists must not be able "
            "to reach it): give it a dedicated 12-digit account id",
            tooling,
            True,
        )


GLOB_CHARACTERS = set("*?[]")
GIT_REF_FORBIDDEN = re.compile(r"(\.\.|@\{|[\s~^:\\]|^/|/$|\.lock$|^-|//|\.$)")


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
            if GLOB_CHARACTERS & set(branch):
                yield ConfigIssue(
                    (*base, field),
                    "is a branch name, not a pattern: remove '*', '?' and '[' (a pattern would "
                    "let other branches trigger the pipeline)",
                    branch,
                    True,
                )
            elif GIT_REF_FORBIDDEN.search(branch):
                yield ConfigIssue(
                    (*base, field),
                    "is not a valid git branch name (no spaces, '..', '~', '^', ':', '\\', "
                    "leading '-' or '/', trailing '/', '.' or '.lock'): use e.g. 'develop'",
                    branch,
                    True,
                )
        pattern = pipeline.release_tag_pattern
        if not set(pattern) - GLOB_CHARACTERS - {"/"}:
            yield ConfigIssue(
                (*base, "release_tag_pattern"),
                "matches every tag: any tag anyone pushes would release to acc and prd; use a "
                "prefix such as 'v*'",
                pattern,
                True,
            )
        elif GIT_REF_FORBIDDEN.search(pattern):
            yield ConfigIssue(
                (*base, "release_tag_pattern"),
                "cannot match a git tag name (no spaces, '..', '~', '^', ':', '\\', leading "
                "'-' or '/'): use e.g. 'v*'",
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


@rule("ml_projects")
def project_names_stay_clear_of_the_guardrails(config: NdapConfig) -> Iterator[ConfigIssue]:
    for index, project in enumerate(config.ml_projects):
        if Persona.DATA_SCIENTIST.value in project.name:
            yield ConfigIssue(
                ("ml_projects", index, "name"),
                f"contains '{Persona.DATA_SCIENTIST.value}': the project's pipeline roles "
                "would match the guardrails that refuse data-scientist principals in acc and "
                "prd; rename the project",
                project.name,
                True,
            )


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


FEATURE_ENVIRONMENTS = (Environment.DEV, Environment.ACC, Environment.PRD)


@rule("feature_groups")
def feature_groups_are_well_formed(config: NdapConfig) -> Iterator[ConfigIssue]:
    seen: dict[str, int] = {}
    for index, group in enumerate(config.feature_groups):
        base: tuple[str | int, ...] = ("feature_groups", index)
        if group.name in seen:
            yield ConfigIssue(
                (*base, "name"),
                f"is already used by feature_groups[{seen[group.name]}]: feature group names "
                "must be unique",
                group.name,
                True,
            )
        seen.setdefault(group.name, index)
        if group.record_identifier == group.event_time:
            yield ConfigIssue(
                (*base, "event_time"),
                "must differ from record_identifier: a feature group needs both",
                group.event_time,
                True,
            )
        versions: dict[int, int] = {}
        for v_index, version in enumerate(group.versions):
            v_base = (*base, "versions", v_index)
            if version.version in versions:
                yield ConfigIssue(
                    (*v_base, "version"),
                    f"is already declared by versions[{versions[version.version]}]: give each "
                    "version of the definitions its own number",
                    version.version,
                    True,
                )
            versions.setdefault(version.version, v_index)
            if version.promoted_to not in FEATURE_ENVIRONMENTS:
                yield ConfigIssue(
                    (*v_base, "promoted_to"),
                    "feature definitions are promoted dev > acc > prd: use dev, acc or prd",
                    version.promoted_to.value,
                    True,
                )
            for reserved in (group.record_identifier, group.event_time):
                if reserved in version.features:
                    yield ConfigIssue(
                        (*v_base, "features", reserved),
                        "is the group's record_identifier or event_time, which every version "
                        "has already: remove it from features",
                    )


@rule("feature_groups", "ml_projects")
def projects_use_declared_features(config: NdapConfig) -> Iterator[ConfigIssue]:
    groups = {g.name: g for g in config.feature_groups}
    for index, project in enumerate(config.ml_projects):
        used: set[tuple[str, int]] = set()
        for u_index, use in enumerate(project.uses_features):
            path = ("ml_projects", index, "uses_features", u_index)
            group = groups.get(use.group)
            if group is None:
                declared = ", ".join(sorted(groups)) or "none"
                yield ConfigIssue(
                    (*path, "group"),
                    f"is not a declared feature group (feature_groups: {declared}): declare it "
                    "under feature_groups or fix the name",
                    use.group,
                    True,
                )
                continue
            versions = sorted(v.version for v in group.versions)
            if use.version not in versions:
                yield ConfigIssue(
                    (*path, "version"),
                    f"feature group '{use.group}' has no version {use.version} (declared: "
                    f"{', '.join(map(str, versions))}): add it to the group's versions or use "
                    "a declared one",
                    use.version,
                    True,
                )
            if (use.group, use.version) in used:
                yield ConfigIssue(path, "is listed twice: remove the copy")
            used.add((use.group, use.version))


@rule("ml_projects")
def path_rules_are_unambiguous(config: NdapConfig) -> Iterator[ConfigIssue]:
    """The same glob under two kinds makes every path it matches count for both; that is
    never what was meant (the classifier would retrain on a docs edit, say), so it is
    refused. Patterns the classifier cannot match exactly as git does are refused too."""
    from ndap_infra.config.globs import GlobError, compile_glob

    kinds = tuple(PathRulesConfig.model_fields)
    for index, project in enumerate(config.ml_projects):
        owner: dict[str, str] = {}
        for kind in kinds:
            for p_index, pattern in enumerate(getattr(project.paths, kind)):
                path = ("ml_projects", index, "paths", kind, p_index)
                try:
                    compile_glob(pattern)
                except GlobError as error:
                    yield ConfigIssue(
                        path, f"cannot be matched as git does: {error}", pattern, True
                    )
                normalized = pattern.rstrip("/") if not set(pattern) & set("*?[") else pattern
                other = owner.get(normalized)
                if other is not None and other != kind:
                    yield ConfigIssue(
                        path,
                        f"is also a '{other}' path rule: a path matching it would count as both "
                        f"{other} and {kind}; keep it under one kind",
                        pattern,
                        True,
                    )
                owner.setdefault(normalized, kind)


@rule("drift_detection", "organization")
def drift_detection_needs_a_tooling_account(config: NdapConfig) -> Iterator[ConfigIssue]:
    drift = config.drift_detection
    org = config.organization
    tooling = org.tooling_account_id is not None or org.tooling_email is not None
    if drift is not None and drift.enabled and not tooling:
        yield ConfigIssue(
            ("drift_detection",),
            "scheduled drift detection runs in the tooling (delivery) account: set "
            "organization.tooling_account_id (or tooling_email, to create it), or set "
            "drift_detection.enabled: false",
        )


# -- the platform's own pipeline and its state ---------------------------------------------


@rule("platform_pipeline", "organization")
def platform_pipeline_needs_a_tooling_account(config: NdapConfig) -> Iterator[ConfigIssue]:
    org = config.organization
    tooling = org.tooling_account_id is not None or org.tooling_email is not None
    if config.platform_pipeline is not None and not tooling:
        yield ConfigIssue(
            ("platform_pipeline",),
            "the platform's own pipeline runs in the tooling (delivery) account: set "
            "organization.tooling_account_id (or tooling_email, to create it), or remove "
            "platform_pipeline",
        )


@rule("platform_pipeline", "deploy")
def platform_pipeline_needs_remote_state(config: NdapConfig) -> Iterator[ConfigIssue]:
    """On real AWS the pipeline's builds plan and apply against the stacks' remote state;
    on the local target the pipeline is generated (and proved) but runs nowhere."""
    deploy = config.deploy
    if (
        config.platform_pipeline is not None
        and deploy.target is DeployTarget.AWS
        and deploy.state is None
    ):
        yield ConfigIssue(
            ("deploy", "state"),
            "the platform pipeline's builds plan and apply against the stacks' remote "
            "state: set deploy.state.bucket (the S3 state bucket, created once by hand)",
        )


@rule("deploy")
def state_backend_is_for_aws(config: NdapConfig) -> Iterator[ConfigIssue]:
    if config.deploy.state is not None and config.deploy.target is DeployTarget.LOCAL:
        yield ConfigIssue(
            ("deploy", "state"),
            "deploy.target local keeps every stack's state on the emulator: remove "
            "deploy.state, or set deploy.target: aws",
        )


@rule("deploy", "drift_detection")
def drift_detection_reads_the_configured_state(config: NdapConfig) -> Iterator[ConfigIssue]:
    drift, state = config.drift_detection, config.deploy.state
    if drift is None or drift.state_bucket is None or state is None:
        return
    if drift.state_bucket != state.bucket:
        yield ConfigIssue(
            ("drift_detection", "state_bucket"),
            "the drift build would read another bucket than the stacks' state "
            f"(deploy.state.bucket: {state.bucket!r}): remove drift_detection.state_bucket "
            "(it defaults to deploy.state.bucket) or make them equal",
            drift.state_bucket,
            True,
        )


@rule("platform_pipeline", "ml_projects", "organization")
def platform_pipeline_artifacts_are_its_own(config: NdapConfig) -> Iterator[ConfigIssue]:
    """CodePipeline keeps a pipeline's artifacts under the first 20 characters of its
    name: a project pipeline with the same prefix would read and write the saved plans."""
    # Imported here, as in pipeline_artifacts_do_not_collide.
    from ndap_infra.names.pipelines import PIPELINE_ENVIRONMENTS, artifact_prefix, pipeline_name

    if config.platform_pipeline is None:
        return
    platform = artifact_prefix(f"{config.organization.name}-platform")
    for index, project in enumerate(config.ml_projects):
        for env in PIPELINE_ENVIRONMENTS:
            if artifact_prefix(pipeline_name(project.name, env)) == platform:
                yield ConfigIssue(
                    ("ml_projects", index, "name"),
                    f"its {env.value} pipeline would share the artifact prefix {platform!r} "
                    "with the platform's own pipeline (CodePipeline uses the first 20 "
                    "characters of a pipeline's name): rename the project",
                    project.name,
                    True,
                )
