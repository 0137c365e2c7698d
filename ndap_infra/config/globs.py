"""Git-style path globs, as git matches them in a ``:(glob)`` pathspec.

Why and how: docs/design-notes.md, section ndap_infra/config/globs.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import cast

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


ClassSet = tuple[bool, tuple[tuple[str, str], ...]]
"""A bracket expression: whether it is negated, and its ranges (``a-a`` for ``a``)."""

Token = tuple[str, object]
"""One piece of a pattern: ``("lit", char)``, ``("any", None)`` (one character but
``/``), ``("star", None)`` (``[^/]*``), ``("dirs", None)`` (zero or more whole
directories), ``("all", None)`` (anything, ``/`` too), ``("class", (negate, ranges))``."""


def _class(pattern: str, start: int) -> tuple[Token, int] | None:
    """The set starting at ``pattern[start] == '['``; None if unterminated."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    if negate:
        i += 1
    ranges: list[tuple[str, str]] = []
    first = True
    while i < len(pattern):
        char = pattern[i]
        if char == "]" and not first:
            return ("class", (negate, tuple(ranges))), i + 1
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
                ranges.append((char, high))
        else:
            ranges.append((char, char))
        first = False
    return None


def _tokens(pattern: str) -> list[Token]:
    """The pattern (with wildcards) as tokens, read as git reads it."""
    out: list[Token] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            j = i
            while j < len(pattern) and pattern[j] == "*":
                j += 1
            if j - i == 1:
                out.append(("star", None))
            elif j == len(pattern):
                out.append(("all", None))
            elif pattern[j] == "/":
                at_boundary = i == 0 or pattern[i - 1] == "/"
                if at_boundary:
                    out.append(("dirs", None))  # zero or more whole directories
                    j += 1
                else:
                    out.append(("all", None))
            else:
                out.append(("star", None))
            i = j
        elif char == "?":
            out.append(("any", None))
            i += 1
        elif char == "[":
            translated = _class(pattern, i)
            if translated is None:
                out.append(("lit", char))
                i += 1
            else:
                out.append(translated[0])
                i = translated[1]
        elif char == "\\" and i + 1 < len(pattern):
            out.append(("lit", pattern[i + 1]))
            i += 2
        else:
            out.append(("lit", char))
            i += 1
    return out


def _literal_tokens(pattern: str) -> list[Token]:
    """A pattern without wildcards: the path itself and, as a directory, what is below it
    (only what is below it when it ends in ``/``)."""
    tokens: list[Token] = [("lit", char) for char in pattern.rstrip("/")]
    tokens.append(("below", None) if pattern.endswith("/") else ("maybe_below", None))
    return tokens


def _regex(tokens: list[Token]) -> str:
    out: list[str] = []
    for kind, value in tokens:
        if kind == "lit":
            out.append(re.escape(str(value)))
        elif kind == "class":
            negate, ranges = cast(ClassSet, value)
            body = "".join(
                re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}"
                for lo, hi in ranges
            )
            if negate:
                out.append(f"[^/{body}]")
            else:
                out.append(f"(?!/)[{body}]" if body else "(?!)")
        else:
            out.append(_REGEX[kind])
    return "".join(out)


_REGEX = {
    "any": "[^/]",
    "star": "[^/]*",
    "dirs": "(?:.*/)?",
    "all": ".*",
    "below": "/.+",
    "maybe_below": "(?:/.+)?",
}


def _normalized(pattern: str) -> str:
    """Checks that hold for every pattern, and the leading ``./`` git ignores removed."""
    if pattern.startswith("/"):
        raise GlobError(f"{pattern!r}: patterns are relative to the repository root")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    if not pattern:
        raise GlobError("an empty pattern matches nothing")
    return pattern


def _pattern_tokens(pattern: str) -> list[Token]:
    pattern = _normalized(pattern)
    if not WILDCARDS.intersection(pattern):
        return _literal_tokens(pattern)
    return _tokens(pattern)


@cache
def compile_glob(pattern: str) -> Glob:
    """Compile one pattern. Raises GlobError for a pattern that cannot be matched as git
    does (an absolute path, a POSIX class)."""
    return Glob(pattern, re.compile(_regex(_pattern_tokens(pattern)), re.DOTALL))


# -- comparing patterns ------------------------------------------------------------------
# Two patterns are compared as automata over a small alphabet: one representative
# character for each stretch of characters that no pattern tells apart (the characters
# the patterns name, their class bounds and ``/`` split the alphabet). Written here rather
# than with an automata library: greenery (the one on PyPI that decides regex
# equivalence) needed seconds per pair over Unicode and its equivalence disagreed on
# separately parsed alphabets; a glob's automaton is a handful of states, and the
# product walk below is the textbook subset construction.

Edge = tuple[frozenset[str] | None, int]  # None: an empty move


def _bounds(tokens: list[Token]) -> set[int]:
    bounds = {0, ord("/"), ord("/") + 1}
    for kind, value in tokens:
        if kind == "lit":
            bounds |= {ord(str(value)), ord(str(value)) + 1}
        elif kind == "class":
            for lo, hi in cast(ClassSet, value)[1]:
                bounds |= {ord(lo), ord(hi) + 1}
    return bounds


class _Automaton:
    """A nondeterministic automaton of one pattern over the representatives."""

    def __init__(self, tokens: list[Token], alphabet: frozenset[str]) -> None:
        self.edges: list[list[Edge]] = []
        every, not_slash, slash = alphabet, alphabet - {"/"}, frozenset("/")
        state = self._new()
        for kind, value in tokens:
            nxt = self._new()
            if kind == "lit":
                self._edge(state, frozenset(str(value)), nxt)
            elif kind == "class":
                negate, ranges = cast(ClassSet, value)
                inside = {c for c in not_slash for lo, hi in ranges if lo <= c <= hi}
                self._edge(state, not_slash - inside if negate else frozenset(inside), nxt)
            elif kind == "any":
                self._edge(state, not_slash, nxt)
            elif kind in ("star", "all"):
                self._edge(state, not_slash if kind == "star" else every, state)
                self._edge(state, None, nxt)
            elif kind == "dirs":  # (.*/)?
                inner = self._new()
                self._edge(state, None, nxt)
                self._edge(state, every, inner)
                self._edge(state, slash, nxt)
                self._edge(inner, every, inner)
                self._edge(inner, slash, nxt)
            else:  # "below" /.+ and "maybe_below" (/.+)?
                after_slash, rest = self._new(), self._new()
                self._edge(state, slash, after_slash)
                self._edge(after_slash, every, rest)
                self._edge(rest, every, rest)
                self._edge(rest, None, nxt)
                if kind == "maybe_below":
                    self._edge(state, None, nxt)
            state = nxt
        self.final = state

    def _new(self) -> int:
        self.edges.append([])
        return len(self.edges) - 1

    def _edge(self, source: int, chars: frozenset[str] | None, target: int) -> None:
        self.edges[source].append((chars, target))

    def closure(self, states: frozenset[int]) -> frozenset[int]:
        seen, todo = set(states), list(states)
        while todo:
            for chars, target in self.edges[todo.pop()]:
                if chars is None and target not in seen:
                    seen.add(target)
                    todo.append(target)
        return frozenset(seen)

    def step(self, states: frozenset[int], char: str) -> frozenset[int]:
        moved = {t for s in states for chars, t in self.edges[s] if chars and char in chars}
        return self.closure(frozenset(moved))


def _walk(first: list[Token], second: list[Token]) -> Iterator[tuple[bool, bool]]:
    """For every class of paths the two automata tell apart: whether each accepts it.
    Only what can be a file's path counts (not empty, not ending in ``/``)."""
    bounds = _bounds(first) | _bounds(second)
    alphabet = frozenset(chr(b) for b in bounds if b < 0x110000)
    a, b = _Automaton(first, alphabet), _Automaton(second, alphabet)
    start = (a.closure(frozenset({0})), b.closure(frozenset({0})), False)
    seen, todo = {start}, [start]
    while todo:
        here_a, here_b, a_file = todo.pop()
        if a_file:
            yield a.final in here_a, b.final in here_b
        for char in alphabet:
            state = (a.step(here_a, char), b.step(here_b, char), char != "/")
            if state not in seen and (state[0] or state[1]):
                seen.add(state)
                todo.append(state)


def _readings(pattern: str) -> list[list[Token]]:
    """The pattern, and for one without wildcards (a file or a directory) each reading
    alone: ``x/utils.py`` as the file, ``docs`` as the directory (``docs/**``)."""
    tokens = _pattern_tokens(pattern)
    if tokens[-1][0] != "maybe_below":
        return [tokens]
    return [tokens, tokens[:-1], [*tokens[:-1], ("below", None)]]


@cache
def equivalent(first: str, second: str) -> bool:
    """Whether two patterns are the same rule: they match the same paths, reading a
    pattern without wildcards as the file or the directory it names (``x/util[s].py``
    is ``x/utils.py``; ``docs`` is ``docs/**``)."""
    return any(
        all(in_a == in_b for in_a, in_b in _walk(a, b))
        for a in _readings(first)
        for b in _readings(second)
    )


@cache
def overlap(first: str, second: str) -> bool:
    """Whether some path matches both patterns."""
    tokens = (_pattern_tokens(first), _pattern_tokens(second))
    return any(in_a and in_b for in_a, in_b in _walk(*tokens))
