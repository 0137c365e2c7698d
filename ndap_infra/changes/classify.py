"""Which kinds of content a path holds, from a project's path rules.

Precedence, deliberately conservative: a path counts for **every** kind whose rules match
it (``src/training/README.md`` with ``docs: ["**/*.md"]`` is both ``training`` and
``docs``, so it still retrains). Within one kind, a ``!pattern`` carves paths out of that
kind's other patterns (tests under a training folder); a path carved out of every kind is
``unclassified`` and runs every stage, as is a path no rule matches. ``shared`` rules
give a path several kinds at once, said so. Matching is :mod:`ndap_infra.config.globs`
(git pathspec globs, anchored at the repository root).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ndap_infra.config.globs import Glob, compile_glob
from ndap_infra.config.model import PathRulesConfig


class Kind(StrEnum):
    """What a path holds: the rule names of ``PathRulesConfig``, plus ``unclassified``."""

    TRAINING = "training"
    FEATURES = "features"
    DATA_CONFIG = "data_config"
    SERVING = "serving"
    ORCHESTRATION = "orchestration"
    PREDICTION_ORCHESTRATION = "prediction_orchestration"
    TESTS = "tests"
    CI = "ci"
    DOCS = "docs"
    EVERYTHING = "everything"
    UNCLASSIFIED = "unclassified"


RULE_KINDS = tuple(kind for kind in Kind if kind is not Kind.UNCLASSIFIED)

MODEL_KINDS = frozenset(
    {
        Kind.TRAINING,
        Kind.FEATURES,
        Kind.DATA_CONFIG,
        Kind.ORCHESTRATION,
        Kind.EVERYTHING,
        Kind.UNCLASSIFIED,
    }
)
"""Kinds that can change the model. The model fingerprint covers every file of these
kinds (unclassified ones too: nothing says they cannot), so a skipped retrain can never
hide a change that a path rule says can affect the model."""

RUN_EVERYTHING = frozenset({Kind.EVERYTHING, Kind.UNCLASSIFIED})
"""Kinds that run every stage: said so by a rule, or matched by none."""


def sorted_kinds(kinds: frozenset[Kind]) -> tuple[Kind, ...]:
    """Kinds in their declaration order (stable output)."""
    return tuple(kind for kind in Kind if kind in kinds)


@dataclass(frozen=True)
class KindRule:
    """One kind's patterns: a path is of the kind when an include matches it and no
    exclude (``!pattern``) does."""

    kinds: frozenset[Kind]
    include: tuple[Glob, ...]
    exclude: tuple[Glob, ...] = ()

    def matches(self, path: str) -> bool:
        return any(g.matches(path) for g in self.include) and not any(
            g.matches(path) for g in self.exclude
        )


@dataclass(frozen=True)
class PathRules:
    """A project's path rules, compiled."""

    rules: tuple[KindRule, ...]

    @classmethod
    def from_config(cls, config: PathRulesConfig) -> PathRules:
        """Compile every pattern; raises GlobError for a pattern git would read otherwise."""
        rules = []
        for kind in RULE_KINDS:
            patterns = config.patterns(kind.value)
            rules.append(
                KindRule(
                    frozenset({kind}),
                    tuple(compile_glob(p) for p in patterns if not p.startswith("!")),
                    tuple(compile_glob(p[1:]) for p in patterns if p.startswith("!")),
                )
            )
        for shared in config.shared:
            rules.append(
                KindRule(frozenset(Kind(k) for k in shared.kinds), (compile_glob(shared.pattern),))
            )
        return cls(tuple(rules))

    def classify(self, path: str) -> frozenset[Kind]:
        """Every kind whose rules match ``path``, or ``{unclassified}``."""
        kinds = frozenset(kind for rule in self.rules if rule.matches(path) for kind in rule.kinds)
        return kinds or frozenset({Kind.UNCLASSIFIED})

    def matching_patterns(self, path: str) -> tuple[str, ...]:
        """The patterns that give ``path`` its kinds (for explanations)."""
        return tuple(
            glob.pattern
            for rule in self.rules
            if rule.matches(path)
            for glob in rule.include
            if glob.matches(path)
        )
