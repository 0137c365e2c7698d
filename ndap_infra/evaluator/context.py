"""The request context: condition keys and their values, looked up case-insensitively."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

ContextInput = Mapping[str, "str | Sequence[str]"]


def _as_text(value: object, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(f"context key {key!r}: value {value!r} is not a string")


@dataclass(frozen=True)
class RequestContext:
    """Condition keys of one request. Key names are case-insensitive (as in AWS); a key given
    as a list is multi-valued (only ``ForAnyValue:``/``ForAllValues:`` and single-valued
    operators over each member read it, and it cannot be used as a policy variable)."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    multi_valued: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *layers: Mapping[str, object]) -> RequestContext:
        """Merge layers of keys; a later layer wins over an earlier one for the same key."""
        values: dict[str, tuple[str, ...]] = {}
        multi: set[str] = set()
        for layer in layers:
            for key, value in layer.items():
                lowered = key.lower()
                if isinstance(value, list | tuple | frozenset | set):
                    values[lowered] = tuple(_as_text(v, key) for v in value)
                    multi.add(lowered)
                else:
                    values[lowered] = (_as_text(value, key),)
                    multi.discard(lowered)
        return cls(values, frozenset(multi))

    def get(self, key: str) -> tuple[str, ...] | None:
        """All values of ``key``, or None when the key is absent from the request."""
        return self.values.get(key.lower())

    def single(self, key: str) -> str | None:
        """The value of a single-valued key (for policy variables); None if absent or
        multi-valued."""
        lowered = key.lower()
        if lowered in self.multi_valued:
            return None
        found = self.values.get(lowered)
        return found[0] if found else None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)
