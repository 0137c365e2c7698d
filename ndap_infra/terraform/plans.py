"""Reading Terraform plans: what a planned change does, in words."""

from __future__ import annotations

from collections.abc import Sequence


def fix_of(actions: Sequence[str]) -> str | None:
    """What Terraform would do, in words; None when it would do nothing."""
    key = tuple(actions)
    if key in ((), ("no-op",), ("read",)):
        return None
    words = {
        ("create",): "create",
        ("update",): "update in place",
        ("delete", "create"): "replace",
        ("create", "delete"): "replace (create first)",
        ("delete",): "destroy",
        ("forget",): "forget (remove from state)",
    }
    return words.get(key, "+".join(key))
