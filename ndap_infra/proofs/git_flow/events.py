"""The git side of the flow: the events a project's repository produces, CodePipeline's
trigger patterns, and which environments the model lets each event reach."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from ndap_infra.config.enums import Environment
from ndap_infra.config.model import FeaturePipelineConfig, MlProjectConfig

Flowing = MlProjectConfig | FeaturePipelineConfig
"""What runs along the git flow: an ML project's pipelines, or a team's feature pipelines
(both take their branches and release tag pattern from ``pipeline``)."""


class UnsupportedGlob(ValueError):
    pass


@cache
def codepipeline_glob(pattern: str) -> re.Pattern[str]:
    """A trigger filter pattern as CodePipeline documents it ("Working with glob patterns
    in syntax"): ``*`` any characters within a ``/``-separated component, ``**`` across
    components, ``?`` one character, ``[...]`` a set (``!`` negates), ``{a,b}``
    alternatives, ``\\`` escapes."""
    out: list[str] = []
    i = 0
    depth = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise UnsupportedGlob(f"unterminated [ in {pattern!r}")
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append(("[^" if negate else "[") + body.replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        elif char == "{":
            depth += 1
            out.append("(?:")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        elif char == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(char))
        i += 1
    if depth:
        raise UnsupportedGlob(f"unterminated {{ in {pattern!r}")
    return re.compile("".join(out))


def filter_matches(criteria: Sequence[Mapping[str, Any]] | None, ref: str) -> bool:
    """A branch or tag filter (``[{"includes": [...], "excludes": [...]}]``)."""
    if not criteria:
        return False
    (criterion,) = criteria
    if any(codepipeline_glob(p).fullmatch(ref) for p in criterion.get("excludes") or ()):
        return False
    return any(codepipeline_glob(p).fullmatch(ref) for p in criterion.get("includes") or ())


def shell_case_matches(pattern: str, value: str) -> bool:
    """``case "$value" in $pattern)``: ``*`` also matches ``/``."""
    return fnmatch.fnmatchcase(value, pattern)


EventKind = Literal["pull_request", "branch", "tag"]


@dataclass(frozen=True)
class GitEvent:
    key: str
    description: str
    kind: EventKind
    ref: str
    """The pushed branch or tag (for a pull request: its source branch)."""
    on_branches: tuple[str, ...]
    """The branches whose history contains the event's commit."""
    target: str = ""
    """A pull request's destination branch."""


FEATURE_BRANCH = "feature/better-model"


def example_tag(pattern: str, matching: bool) -> str:
    """A tag name that matches the release pattern (in the shell check and, when it can,
    the trigger's glob) or that matches neither."""
    candidates = (
        [pattern.replace("**", "1").replace("*", "1.4.0").replace("?", "1")] if matching else []
    )
    candidates += ["v1.4.0", "1.4.0", "release-1.4.0", "release/1.4.0", "nightly-20250101"]
    for tag in candidates:
        if shell_case_matches(pattern, tag) == matching and (
            codepipeline_glob(pattern).fullmatch(tag) is not None
        ) == (matching and "[" not in pattern):
            return tag
    for tag in candidates:
        if shell_case_matches(pattern, tag) == matching:
            return tag
    raise UnsupportedGlob(f"no example tag {'for' if matching else 'outside'} {pattern!r}")


def git_events(project: Flowing) -> tuple[GitEvent, ...]:
    flow = project.pipeline
    develop, main = flow.develop_branch, flow.main_branch
    release = example_tag(flow.release_tag_pattern, True)
    other = example_tag(flow.release_tag_pattern, False)
    return (
        GitEvent(
            "pull-request",
            f"a pull request from {FEATURE_BRANCH} into {develop}",
            "pull_request",
            FEATURE_BRANCH,
            (FEATURE_BRANCH,),
            develop,
        ),
        GitEvent("feature-push", "a push to a feature branch", "branch", FEATURE_BRANCH, ()),
        GitEvent("develop-merge", f"a merge into {develop}", "branch", develop, (develop,)),
        GitEvent("tag-on-develop", f"a release tag on {develop}", "tag", release, (develop,)),
        GitEvent("main-merge", f"a merge into {main}, no tag", "branch", main, (main,)),
        GitEvent("tag-on-main", f"a release tag on {main}", "tag", release, (main,)),
        GitEvent(
            "tag-on-merged",
            f"a release tag on a {develop} commit already merged into {main}",
            "tag",
            release,
            (develop, main),
        ),
        GitEvent(
            "other-tag",
            f"a tag not matching {flow.release_tag_pattern} on {develop}",
            "tag",
            other,
            (develop,),
        ),
        GitEvent(
            "tag-on-feature",
            "a release tag on a feature branch",
            "tag",
            release,
            (FEATURE_BRANCH,),
        ),
    )


Reach = tuple[Environment, bool]
"""A deployer reached: its environment, and whether only after a manual approval."""


def is_release_tag(project: Flowing, event: GitEvent) -> bool:
    return event.kind == "tag" and shell_case_matches(
        project.pipeline.release_tag_pattern, event.ref
    )


def expected_reach(project: Flowing, event: GitEvent) -> frozenset[Reach]:
    """The git flow of the model: develop > dev; a release tag cut from develop > acc; a
    release tag on main > prd behind an approval; nothing else deploys anywhere."""
    flow = project.pipeline
    reach: set[Reach] = set()
    if event.kind == "branch" and event.ref == flow.develop_branch:
        reach.add((Environment.DEV, False))
    if is_release_tag(project, event):
        if flow.develop_branch in event.on_branches:
            reach.add((Environment.ACC, False))
        if flow.main_branch in event.on_branches:
            reach.add((Environment.PRD, True))
    return frozenset(reach)


def expected_started(project: Flowing, event: GitEvent) -> frozenset[Environment]:
    """The pipelines the kind of ref may start: develop starts dev's; a release tag starts
    acc's and prd's (the build's ref check decides which one proceeds, by branch)."""
    if event.kind == "branch" and event.ref == project.pipeline.develop_branch:
        return frozenset({Environment.DEV})
    if is_release_tag(project, event):
        return frozenset({Environment.ACC, Environment.PRD})
    return frozenset()
