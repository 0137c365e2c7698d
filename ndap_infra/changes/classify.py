"""Which kinds of content a path holds, from a project's path rules.

Precedence, deliberately conservative: a path counts for **every** kind whose rules match
it (``src/training/README.md`` with ``docs: ["**/*.md"]`` is both ``training`` and
``docs``, so it still retrains). No rule can make a path count for less: a narrower rule
never shadows a broader one. A path no rule matches is ``unclassified`` and runs every
stage. Matching is :mod:`ndap_infra.config.globs` (git pathspec globs, anchored at the
repository root).
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
    TESTS = "tests"
    DOCS = "docs"
    UNCLASSIFIED = "unclassified"


RULE_KINDS = tuple(kind for kind in Kind if kind is not Kind.UNCLASSIFIED)

MODEL_KINDS = frozenset(
    {Kind.TRAINING, Kind.FEATURES, Kind.DATA_CONFIG, Kind.ORCHESTRATION, Kind.UNCLASSIFIED}
)
"""Kinds that can change the model. The model fingerprint covers every file of these
kinds (unclassified ones too: nothing says they cannot), so a skipped retrain can never
hide a change that a path rule says can affect the model."""


def sorted_kinds(kinds: frozenset[Kind]) -> tuple[Kind, ...]:
    """Kinds in their declaration order (stable output)."""
    return tuple(kind for kind in Kind if kind in kinds)


@dataclass(frozen=True)
class PathRules:
    """A project's path rules, compiled."""

    globs: tuple[tuple[Kind, tuple[Glob, ...]], ...]

    @classmethod
    def from_config(cls, config: PathRulesConfig) -> PathRules:
        """Compile every pattern; raises GlobError for a pattern git would read otherwise."""
        return cls(
            tuple(
                (kind, tuple(compile_glob(pattern) for pattern in getattr(config, kind.value)))
                for kind in RULE_KINDS
            )
        )

    def classify(self, path: str) -> frozenset[Kind]:
        """Every kind whose rules match ``path``, or ``{unclassified}``."""
        kinds = frozenset(
            kind for kind, globs in self.globs if any(glob.matches(path) for glob in globs)
        )
        return kinds or frozenset({Kind.UNCLASSIFIED})

    def matching_patterns(self, path: str) -> tuple[str, ...]:
        """The patterns that match ``path`` (for explanations)."""
        return tuple(
            glob.pattern for _, globs in self.globs for glob in globs if glob.matches(path)
        )
