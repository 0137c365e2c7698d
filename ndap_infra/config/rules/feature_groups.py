"""Rules on ``feature_groups``: well-formed groups and versions, and projects that use
only declared groups and versions.
"""

from __future__ import annotations

from collections.abc import Iterator

from ndap_infra.config.enums import Environment
from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules.registry import rule

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


@rule("feature_groups", "ml_projects", lookups=("feature_groups",))
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
