"""The outcome of an evaluation and the statements that decided it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ndap_infra.evaluator.policy import Effect

Layer = Literal["scp", "rcp", "resource", "identity", "boundary", "session", "trust"]


@dataclass(frozen=True)
class StatementRef:
    """One statement of one named policy (``sid_or_index`` is the Sid, or the statement's
    0-based index when it has none). ``level`` names the organization level (root, OU or
    account) an SCP/RCP is attached to."""

    policy_name: str
    sid_or_index: str | int
    effect: Effect
    layer: Layer
    level: str | None = None

    @property
    def statement(self) -> str:
        if isinstance(self.sid_or_index, int):
            return f"statement {self.sid_or_index}"
        return self.sid_or_index

    def __str__(self) -> str:
        where = f"{self.layer} at {self.level}" if self.level else self.layer
        return f"{self.statement} in {self.policy_name} ({where})"


@dataclass(frozen=True)
class Decision:
    """``allowed`` and a readable ``reason``; ``deciding`` lists the statements behind it: the
    explicit Deny statements for an explicit deny, the Allow statements relied on for an
    allow, and (for an implicit deny) none, or the Allow statements that matched but were not
    enough."""

    allowed: bool
    reason: str
    deciding: tuple[StatementRef, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed

    def explain(self) -> str:
        """Multi-line text for a CLI: the verdict, then one line per deciding statement."""
        lines = [self.reason]
        lines.extend(f"  {ref.effect}: {ref}" for ref in self.deciding)
        return "\n".join(lines)
