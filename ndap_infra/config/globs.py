"""Git-style path globs, as git matches them in a ``:(glob)`` pathspec.

A pattern is matched against a whole path relative to the repository root (patterns are
anchored: ``*.md`` matches ``README.md`` but not ``docs/a.md``; write ``**/*.md`` for
every depth). Case-sensitive.

- ``*`` matches any characters except ``/``; ``?`` one character except ``/``;
  ``[abc]``, ``[a-z]``, ``[!a]`` / ``[^a]`` one character of (not of) a set, never ``/``;
  ``\\x`` the character ``x`` itself.
- ``**`` followed by ``/`` or ending the pattern crosses directories: ``**/x`` matches
  ``x`` and ``a/b/x``; ``a/**/b`` matches ``a/b`` and ``a/x/y/b``; ``docs/**`` everything
  below ``docs``. A ``**`` followed by anything else is a plain ``*`` (``**.md`` does not
  cross directories), as in git.
- A pattern without any wildcard also matches everything below it as a directory:
  ``docs`` matches ``docs`` and ``docs/a/b.md``; ``docs/`` only what is below ``docs``.
  A pattern with a wildcard matches whole paths only (``src/tr*`` does not match
  ``src/training/a.py``), and one ending in ``/`` matches no file.

``tests/changes/test_changes.py`` checks these semantics against ``git ls-files ':(glob)...'``.
POSIX classes such as ``[[:alpha:]]`` are refused rather than matched differently from git.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

WILDCARDS = frozenset("*?[\\")


class GlobError(ValueError):
    """A pattern this matcher will not interpret (it would disagree with git)."""


@dataclass(frozen=True)
class Glob:
    """One compiled pattern; ``matches(path)`` takes a ``/``-separated repository path."""

    pattern: str
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None


def _class(pattern: str, start: int) -> tuple[str, int] | None:
    """Translate the set starting at ``pattern[start] == '['``; None if unterminated."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    if negate:
        i += 1
    items: list[str] = []
    first = True
    while i < len(pattern):
        char = pattern[i]
        if char == "]" and not first:
            body = "".join(items)
            if negate:
                return f"[^/{body}]", i + 1
            return (f"(?!/)[{body}]" if body else "(?!)"), i + 1
        if pattern.startswith("[:", i):
            raise GlobError(f"{pattern!r}: POSIX character classes ([:name:]) are not supported")
        if char == "\\" and i + 1 < len(pattern):
            char = pattern[i + 1]
            i += 2
        else:
            i += 1
        if i + 1 < len(pattern) and pattern[i] == "-" and pattern[i + 1] != "]":
            high = pattern[i + 1]
            if high == "\\" and i + 2 < len(pattern):
                high = pattern[i + 2]
                i += 1
            i += 2
            if char <= high:  # a reversed range matches nothing, as in git
                items.append(f"{re.escape(char)}-{re.escape(high)}")
        else:
            items.append(re.escape(char))
        first = False
    return None


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            j = i
            while j < len(pattern) and pattern[j] == "*":
                j += 1
            if j - i == 1:
                out.append("[^/]*")
            elif j == len(pattern):
                out.append(".*")
            elif pattern[j] == "/":
                at_boundary = i == 0 or pattern[i - 1] == "/"
                if at_boundary:
                    out.append("(?:.*/)?")  # zero or more whole directories
                    j += 1
                else:
                    out.append(".*")
            else:
                out.append("[^/]*")
            i = j
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            translated = _class(pattern, i)
            if translated is None:
                out.append(re.escape(char))
                i += 1
            else:
                out.append(translated[0])
                i = translated[1]
        elif char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


@cache
def compile_glob(pattern: str) -> Glob:
    """Compile one pattern. Raises GlobError for a pattern that cannot be matched as git
    does (an absolute path, a POSIX class)."""
    if pattern.startswith("/"):
        raise GlobError(f"{pattern!r}: patterns are relative to the repository root")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    if not pattern:
        raise GlobError("an empty pattern matches nothing")
    if not WILDCARDS.intersection(pattern):
        literal = re.escape(pattern.rstrip("/"))
        if pattern.endswith("/"):
            return Glob(pattern, re.compile(f"{literal}/.+", re.DOTALL))
        return Glob(pattern, re.compile(f"{literal}(?:/.+)?", re.DOTALL))
    return Glob(pattern, re.compile(_translate(pattern), re.DOTALL))
