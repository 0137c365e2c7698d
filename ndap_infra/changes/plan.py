"""From changed paths and fingerprints to a plan: which pipeline stages run, and why.

Why and how: docs/design-notes.md, section ndap_infra/changes/plan.py."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ndap_infra.changes.classify import MODEL_KINDS, RUN_EVERYTHING, Kind, PathRules, sorted_kinds
from ndap_infra.changes.fingerprint import Fingerprint, Fingerprinter
from ndap_infra.changes.git import DiffEntry, Repository
from ndap_infra.config.model import PathRulesConfig


class Stage(StrEnum):
    UNIT_TESTS = "unit_tests"
    INTEGRATION_TESTS = "integration_tests"
    FEATURE_PIPELINE = "feature_pipeline"
    RETRAIN = "retrain"
    REGISTER_MODEL = "register_model"
    REDEPLOY_SERVING = "redeploy_serving"
    DEPLOY_ORCHESTRATION = "deploy_orchestration"


@dataclass(frozen=True)
class Change:
    """One changed path. A rename counts for its old and its new path (``kinds`` is the
    union); a copy counts for its new path only (its source is unchanged)."""

    path: str
    status: str
    kinds: tuple[Kind, ...]
    old_path: str | None = None
    score: int | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.old_path, self.path) if self.status == "R" and self.old_path else (self.path,)

    def label(self) -> str:
        if self.old_path is None:
            return self.path
        if self.status == "C":
            return f"{self.path} (copy of {self.old_path})"
        return f"{self.old_path} -> {self.path}"


@dataclass(frozen=True)
class Decision:
    run: bool
    reasons: tuple[str, ...]
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    repository: str
    base_revision: str
    head_revision: str
    base: str
    head: str
    merge_bases: tuple[str, ...]
    base_fingerprint: Fingerprint
    head_fingerprint: Fingerprint
    reused_model: str | None
    changes: tuple[Change, ...]
    stages: Mapping[Stage, Decision]
    summary: str
    serving: Mapping[str, Decision] = field(default_factory=dict)
    """``redeploy_serving`` told apart: ``new_model`` (a new model is rolled out) and
    ``serving_code`` (serving code changed)."""

    @property
    def fingerprint_changed(self) -> bool:
        return self.base_fingerprint.digest != self.head_fingerprint.digest


def classify_changes(entries: Iterable[DiffEntry], rules: PathRules) -> tuple[Change, ...]:
    """Each diff record with its kinds; duplicates (several merge bases) merged."""
    merged: dict[tuple[str, str, str | None], Change] = {}
    for entry in entries:
        kinds = rules.classify(entry.path)
        if entry.status == "R" and entry.old_path is not None:
            kinds |= rules.classify(entry.old_path)
        key = (entry.status, entry.path, entry.old_path)
        if key not in merged:
            merged[key] = Change(
                entry.path, entry.status, sorted_kinds(kinds), entry.old_path, entry.score
            )
    return tuple(sorted(merged.values(), key=lambda c: (c.path, c.status, c.old_path or "")))


def _short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def _by_kind(changes: Iterable[Change], kinds: Collection[Kind]) -> dict[Kind, list[str]]:
    grouped: dict[Kind, list[str]] = {}
    for change in changes:
        for kind in change.kinds:
            if kind in kinds:
                grouped.setdefault(kind, []).append(change.label())
    return {kind: grouped[kind] for kind in Kind if kind in grouped}


REASON_PATHS = 5
"""Paths named in one reason; the stage's ``paths`` lists them all."""


def _some(paths: list[str]) -> str:
    named = ", ".join(paths[:REASON_PATHS])
    rest = len(paths) - REASON_PATHS
    return f"{named} and {rest} more" if rest > 0 else named


def _path_reasons(grouped: Mapping[Kind, list[str]]) -> list[str]:
    reasons = []
    for kind, paths in grouped.items():
        if kind is Kind.UNCLASSIFIED:
            reasons.append(f"unclassified (no path rule matches: run everything): {_some(paths)}")
        elif kind is Kind.EVERYTHING:
            reasons.append(f"everything (a rule says it can change anything): {_some(paths)}")
        else:
            reasons.append(f"{kind} changed: {_some(paths)}")
    return reasons


def _paths(changes: Iterable[Change], kinds: Collection[Kind]) -> tuple[str, ...]:
    found = dict.fromkeys(
        path for c in changes if any(k in kinds for k in c.kinds) for path in c.paths
    )
    return tuple(found)


def _hyperparameter_changes(base: Fingerprint, head: Fingerprint) -> list[str]:
    keys = set(base.hyperparameters) | set(head.hyperparameters)
    return sorted(k for k in keys if base.hyperparameters.get(k) != head.hyperparameters.get(k))


def _snapshot_changes(base: Fingerprint, head: Fingerprint) -> list[str]:
    paths = sorted(set(base.snapshot_ids) | set(head.snapshot_ids))
    return [
        f"{p}: {base.snapshot_ids.get(p, 'none')} -> {head.snapshot_ids.get(p, 'none')}"
        for p in paths
        if base.snapshot_ids.get(p) != head.snapshot_ids.get(p)
    ]


def _differs(base: Fingerprint, head: Fingerprint, kind: Kind) -> bool:
    """Whether base's and head's files of a deployed kind differ (both digested)."""
    return kind in base.deployed and base.deployed.get(kind) != head.deployed.get(kind)


def serving_parts(
    changes: tuple[Change, ...],
    base: Fingerprint,
    head: Fingerprint,
    retrain: Decision,
    reused: str | None,
) -> dict[str, Decision]:
    """Why serving is redeployed, in two parts: a new model is rolled out, and serving
    code changed."""
    serving_kinds = {Kind.SERVING} | RUN_EVERYTHING
    code = _path_reasons(_by_kind(changes, serving_kinds))
    if _differs(base, head, Kind.SERVING) and not any(Kind.SERVING in c.kinds for c in changes):
        code.append("serving files differ from base's (base has changes head lacks)")
    model: list[str] = []
    if retrain.run:
        model.append("a new model is trained: serve it")
    elif reused is not None and reused != base.digest:
        model.append(f"serve the reused registered model {reused} (base serves another)")
    return {
        "new_model": Decision(bool(model), tuple(model or ["the model served is the same"])),
        "serving_code": Decision(
            bool(code),
            tuple(code or ["no serving path changed"]),
            _paths(changes, serving_kinds),
        ),
    }


def decide(
    changes: tuple[Change, ...],
    base: Fingerprint,
    head: Fingerprint,
    registered: Collection[str] = (),
    docs_run_tests: bool = False,
) -> tuple[dict[Stage, Decision], str | None]:
    """The decision for every stage, and the fingerprint of a reused model (if any).
    A change to docs alone runs no tests unless ``docs_run_tests``."""
    stages: dict[Stage, Decision] = {}
    every = frozenset(Kind)
    known = {f if f.startswith("sha256:") else f"sha256:{f}" for f in registered}

    # Features: paths, or feature definitions that differ from base's.
    feature_kinds = {Kind.FEATURES} | RUN_EVERYTHING
    grouped = _by_kind(changes, feature_kinds)
    reasons = _path_reasons(grouped)
    features_differ = base.components[Kind.FEATURES] != head.components[Kind.FEATURES]
    if features_differ and Kind.FEATURES not in grouped:
        reasons.append("feature definitions differ from base's (base has changes head lacks)")
    stages[Stage.FEATURE_PIPELINE] = Decision(
        bool(reasons),
        tuple(reasons or ["no features path changed"]),
        _paths(changes, feature_kinds),
    )

    # Retrain and register: path rules, then the fingerprint.
    grouped = _by_kind(changes, MODEL_KINDS)
    model_paths = _paths(changes, MODEL_KINDS)
    reused: str | None = None
    if head.digest == base.digest:
        if grouped:
            reused = head.digest
            retrain = Decision(
                False,
                (
                    f"model fingerprint unchanged: reuse registered model {head.digest}",
                    *_path_reasons(grouped),
                ),
                model_paths,
            )
        else:
            retrain = Decision(
                False,
                (
                    "no training, features, data_config, orchestration, everything or "
                    "unclassified path changed",
                ),
            )
    elif head.digest in known:
        reused = head.digest
        retrain = Decision(
            False,
            (
                f"model fingerprint {head.digest} is already registered: reuse registered model "
                f"{head.digest}",
                *_path_reasons(grouped),
            ),
            model_paths,
        )
    else:
        reasons = _path_reasons(grouped)
        if not grouped:
            reasons.append("model inputs differ from base's (base has changes head lacks)")
        reasons.append(f"model fingerprint changed: {_short(base.digest)} -> {_short(head.digest)}")
        snapshots = _snapshot_changes(base, head)
        if snapshots:
            reasons.append("data snapshot changed: " + "; ".join(snapshots))
        hyperparameters = _hyperparameter_changes(base, head)
        if hyperparameters:
            reasons.append("hyperparameters changed: " + ", ".join(hyperparameters))
        retrain = Decision(True, tuple(reasons), model_paths)
    stages[Stage.RETRAIN] = retrain
    register_reasons = (
        ("the retrained model is registered under its fingerprint " + head.digest,)
        if retrain.run
        else retrain.reasons
    )
    stages[Stage.REGISTER_MODEL] = Decision(retrain.run, register_reasons, retrain.paths)

    # Serving: its own paths, or a model other than the one base serves.
    parts = serving_parts(changes, base, head, retrain, reused)
    reasons = [r for part in parts.values() if part.run for r in part.reasons]
    stages[Stage.REDEPLOY_SERVING] = Decision(
        bool(reasons),
        tuple(reasons or ["no serving path changed and the model is the same"]),
        parts["serving_code"].paths,
    )

    # Orchestration: paths, or orchestration files that differ from base's.
    orchestration_kinds = {Kind.ORCHESTRATION, Kind.PREDICTION_ORCHESTRATION} | RUN_EVERYTHING
    grouped = _by_kind(changes, orchestration_kinds)
    reasons = _path_reasons(grouped)
    if (
        base.components[Kind.ORCHESTRATION] != head.components[Kind.ORCHESTRATION]
        and Kind.ORCHESTRATION not in grouped
    ):
        reasons.append("orchestration files differ from base's (base has changes head lacks)")
    if (
        _differs(base, head, Kind.PREDICTION_ORCHESTRATION)
        and Kind.PREDICTION_ORCHESTRATION not in grouped
    ):
        reasons.append(
            "prediction_orchestration files differ from base's (base has changes head lacks)"
        )
    stages[Stage.DEPLOY_ORCHESTRATION] = Decision(
        bool(reasons),
        tuple(reasons or ["no orchestration path changed"]),
        _paths(changes, orchestration_kinds),
    )

    # Tests: any change at all (docs alone only when asked), and before anything that
    # deploys.
    grouped = _by_kind(changes, every)
    reasons = _path_reasons(grouped)
    docs_only = bool(changes) and all(set(c.kinds) == {Kind.DOCS} for c in changes)
    if docs_only and not docs_run_tests:
        reasons = []
    if not reasons and any(d.run for d in stages.values()):
        reasons.append("something is deployed: test it first")
    quiet = (
        "docs changed alone: no test suite runs (paths.docs_run_tests: false)"
        if docs_only
        else "nothing changed"
    )
    tests = Decision(bool(reasons), tuple(reasons or [quiet]), _paths(changes, every))
    ordered = {Stage.UNIT_TESTS: tests, Stage.INTEGRATION_TESTS: tests}
    ordered.update((stage, stages[stage]) for stage in Stage if stage in stages)
    return ordered, reused


def summarize(
    changes: tuple[Change, ...], stages: Mapping[Stage, Decision], reused: str | None
) -> str:
    if not changes and not any(d.run for d in stages.values()):
        return "no changes: nothing to run"
    counts: dict[Kind, int] = {}
    for change in changes:
        for kind in change.kinds:
            counts[kind] = counts.get(kind, 0) + 1
    kinds = ", ".join(f"{kind} {counts[kind]}" for kind in Kind if kind in counts)
    run = [str(s) for s, d in stages.items() if d.run]
    skip = [str(s) for s, d in stages.items() if not d.run]
    text = f"{len(changes)} changed paths ({kinds or 'none'}); run: {', '.join(run) or 'nothing'}"
    if skip:
        text += f"; skip: {', '.join(skip)}"
    if reused is not None:
        text += f"; reuse registered model {reused}"
    return text


def plan_changes(
    repository: Path,
    base: str,
    head: str,
    rules: PathRulesConfig | None = None,
    registered: Collection[str] = (),
) -> Plan:
    """Classify what changed between two revisions of a project repository and decide
    every stage. ``rules`` defaults to ``PathRulesConfig()``; ``registered`` holds the
    fingerprints of models the registry already has. Raises ChangesError on bad input
    (not a repository, unknown revision, unrelated histories) and GlobError on a pattern
    that cannot be matched as git does."""
    compiled = PathRules.from_config(rules or PathRulesConfig())
    repo = Repository.open(repository)
    base_commit = repo.resolve(base, "base")
    head_commit = repo.resolve(head, "head")
    merge_bases = repo.merge_bases(base_commit, head_commit)
    entries = [entry for mb in merge_bases for entry in repo.diff(mb, head_commit)]
    changes = classify_changes(entries, compiled)
    fingerprints = Fingerprinter(repo, compiled)
    base_fp, head_fp = fingerprints.of(base_commit), fingerprints.of(head_commit)
    config = rules or PathRulesConfig()
    stages, reused = decide(changes, base_fp, head_fp, registered, config.docs_run_tests)
    return Plan(
        repository=str(repository),
        base_revision=base,
        head_revision=head,
        base=base_commit,
        head=head_commit,
        merge_bases=merge_bases,
        base_fingerprint=base_fp,
        head_fingerprint=head_fp,
        reused_model=reused,
        changes=changes,
        stages=stages,
        summary=summarize(changes, stages, reused),
        serving=serving_parts(changes, base_fp, head_fp, stages[Stage.RETRAIN], reused),
    )
