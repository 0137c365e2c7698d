"""Wildcard patterns (``*``, ``?``) with policy variables (``${aws:username}``).

A template is split once into literal text, wildcards and variable references; variables are
resolved against the request context for each evaluation. Text that a variable resolves to is
always literal (a ``*`` inside a tag value is not a wildcard), as are ``${*}``, ``${?}`` and
``${$}``. Policy variables are only recognised in documents with ``"Version": "2012-10-17"``;
in older documents the text is literal, as in AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from ndap_infra.evaluator.context import RequestContext
from ndap_infra.evaluator.errors import PolicyError

_VARIABLE_BODY = re.compile(r"\s*([^,\s'}]+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True)
class _Literal:
    text: str


@dataclass(frozen=True)
class _Wildcard:
    char: Literal["*", "?"]


@dataclass(frozen=True)
class _Variable:
    key: str
    default: str | None


_Token = _Literal | _Wildcard | _Variable


@lru_cache(maxsize=8192)
def tokenize(template: str, variables: bool) -> tuple[_Token, ...]:
    tokens: list[_Token] = []
    text: list[str] = []

    def flush() -> None:
        if text:
            tokens.append(_Literal("".join(text)))
            text.clear()

    i = 0
    while i < len(template):
        char = template[i]
        if variables and template.startswith("${", i):
            end = template.find("}", i + 2)
            if end < 0:
                raise PolicyError(f"unterminated policy variable in {template!r}")
            body = template[i + 2 : end]
            if body in _SPECIAL:
                text.append(_SPECIAL[body])
            else:
                match = _VARIABLE_BODY.fullmatch(body)
                if match is None:
                    raise PolicyError(f"malformed policy variable ${{{body}}} in {template!r}")
                flush()
                default = match.group(2)
                tokens.append(
                    _Variable(
                        match.group(1), None if default is None else default.replace("''", "'")
                    )
                )
            i = end + 1
            continue
        if char in "*?":
            flush()
            tokens.append(_Wildcard("*" if char == "*" else "?"))
        else:
            text.append(char)
        i += 1
    flush()
    return tuple(tokens)


def has_variables(template: str, variables: bool) -> bool:
    return any(isinstance(t, _Variable) for t in tokenize(template, variables))


def _resolve(token: _Variable, context: RequestContext) -> str | None:
    value = context.single(token.key)
    if value is None:
        return token.default
    return value


def substitute(template: str, context: RequestContext, variables: bool) -> str | None:
    """The template with variables replaced (wildcards kept as plain characters), or None when
    a variable has no value and no default: such a value matches nothing."""
    out: list[str] = []
    for token in tokenize(template, variables):
        if isinstance(token, _Literal):
            out.append(token.text)
        elif isinstance(token, _Wildcard):
            out.append(token.char)
        else:
            value = _resolve(token, context)
            if value is None:
                return None
            out.append(value)
    return "".join(out)


Mode = Literal["glob", "arn"]


def to_regex(
    template: str, context: RequestContext, variables: bool, mode: Mode = "glob"
) -> str | None:
    """A regular expression (for ``fullmatch``) equivalent to the wildcard template.

    ``glob``: ``*`` matches any run of characters, ``?`` any one character.
    ``arn``: as ArnLike: in the first five colon-separated ARN fields wildcards stay inside
    their field; in the sixth (resource) field they match anything.
    """
    out: list[str] = []
    colons = 0
    for token in tokenize(template, variables):
        if isinstance(token, _Literal | _Variable):
            value = token.text if isinstance(token, _Literal) else _resolve(token, context)
            if value is None:
                return None
            colons += value.count(":")
            out.append(re.escape(value))
        elif mode == "arn" and colons < 5:
            out.append("[^:]*" if token.char == "*" else "[^:]")
        else:
            out.append(".*" if token.char == "*" else ".")
    return "".join(out)


@lru_cache(maxsize=8192)
def _compiled(regex: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(
    template: str,
    value: str,
    context: RequestContext,
    variables: bool,
    *,
    ignore_case: bool = False,
    mode: Mode = "glob",
) -> bool:
    if template == "*" and mode == "glob":
        return True
    if not variables or "${" not in template:
        # No policy variable to resolve: the same pattern for every request.
        return _static(template, ignore_case, mode).fullmatch(value) is not None
    regex = to_regex(template, context, variables, mode)
    if regex is None:
        return False
    return _compiled(regex, ignore_case).fullmatch(value) is not None


@lru_cache(maxsize=65536)
def _static(template: str, ignore_case: bool, mode: Mode) -> re.Pattern[str]:
    regex = to_regex(template, RequestContext.of({}), False, mode)
    assert regex is not None  # only variables fail to resolve
    return _compiled(regex, ignore_case)
