"""The rule registry: ``rule`` registers a named check and the configuration sections it
reads into ``RULES``, which ``config.load`` runs on every configuration. A rule runs only
when its sections are structurally valid, or, for a list section, on the items that are
(``config.load``), so one run reports everything. The invariant
names here are shared by the section modules' messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import NdapConfig

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
    lookups: frozenset[str] = frozenset()
    """Sections the rule looks names up in: it needs every item of them, so it does not
    run while one of their items is structurally invalid (it would report a name as
    undeclared that is declared, only broken)."""


RULES: list[RegisteredRule] = []


def rule(*sections: str, lookups: tuple[str, ...] = ()) -> Callable[[Rule], Rule]:
    def register(check: Rule) -> Rule:
        RULES.append(RegisteredRule(check.__name__, frozenset(sections), check, frozenset(lookups)))
        return check

    return register
