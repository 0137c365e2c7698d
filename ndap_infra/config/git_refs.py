"""Git's reference-name grammar (``git check-ref-format``) for branch names and tag
patterns, plus ASCII only: a look-alike character (a Cyrillic U+0430 for the 'a' of
'main') makes a trigger that never fires, or one for another ref than the reviewer read."""

from __future__ import annotations

import re

GLOB_CHARACTERS = frozenset("*?[")
_FORBIDDEN = re.compile(r"(\.\.|@\{|[\x00-\x20\x7f~^:\\]|^/|/$|\.lock$|\.lock/|^-|//|\.$|/\.|^\.)")


def ref_problem(name: str, *, pattern: bool) -> str | None:
    """None when ``name`` is a usable branch name (``pattern`` False) or ref glob (True),
    else what is wrong with it."""
    if not name.isascii():
        odd = next(c for c in name if not c.isascii())
        return (
            f"holds the non-ASCII character {odd!r} (U+{ord(odd):04X}): git refs in "
            "triggers must be ASCII, so a look-alike letter cannot pass review"
        )
    if name == "@":
        return "'@' alone is not a git ref name"
    if not pattern and GLOB_CHARACTERS & set(name):
        return (
            "is a branch name, not a pattern: remove '*', '?' and '[' (a pattern would let "
            "other branches trigger the pipeline)"
        )
    if _FORBIDDEN.search(name):
        return (
            "is not a valid git ref name (no spaces or control characters, '..', '@{', "
            "'~', '^', ':', '\\', a leading '-', '.' or '/', a trailing '/', '.' or "
            "'.lock', a component starting with '.', '//')"
        )
    return None
