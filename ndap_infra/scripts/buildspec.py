"""Build scripts and buildspec YAML, rendered the same way for every CodeBuild job: each
command a bash subshell that stops at the first failure with its message."""

from __future__ import annotations

from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

INLINE_BUILDSPEC_LIMIT = 25_600
"""CodeBuild's limit on a buildspec given inline in the project's source (characters)."""


class BuildspecTooLarge(ValueError):
    """An inline buildspec is over CodeBuild's limit: the message names the project."""


FAIL = 'ndap_fail() { echo "ndap: $*" >&2; exit 1; }'


def literal(text: str) -> LiteralScalarString:
    literal: LiteralScalarString = LiteralScalarString(text if text.endswith("\n") else text + "\n")
    return literal


def script(*snippets: str) -> str:
    """One build command: the snippets in a bash subshell with ``set -euo pipefail`` and
    ``ndap_fail``, so the first failure ends the step with its message, and nothing leaks
    into (or depends on) the state of CodeBuild's own shell."""
    body = "".join(s if s.endswith("\n") else s + "\n" for s in snippets)
    return f"(\nset -euo pipefail\n{FAIL}\n{body})\n"


def render(document: dict[str, Any]) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    out = StringIO()
    yaml.dump(document, out)
    return out.getvalue()
