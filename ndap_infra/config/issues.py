"""Configuration problems, as a person reads them: where, what, and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ndap_infra.config.credentials import credential_kind

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a configuration file."""

    path: Path
    message: str
    value: Any = None
    has_value: bool = False
    line: int | None = None

    @property
    def dotted_path(self) -> str:
        return format_path(self.path)

    def render(self, source: str | None = None) -> str:
        where = self.dotted_path or "(top level)"
        prefix = f"{source}:{self.line}: " if source and self.line else ""
        shown = f" (got {self.value!r})" if self.has_value else ""
        kind = credential_kind(self.value) if isinstance(self.value, str) else None
        if self.has_value and kind:
            shown = f" (the value looks like {kind}: not shown)"
        return f"{prefix}{where}: {self.message}{shown}"


class ConfigError(Exception):
    """A configuration that cannot be used. Carries every issue found."""

    def __init__(self, issues: Sequence[ConfigIssue], source: str | None = None) -> None:
        self.issues = tuple(issues)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.issues)
        head = f"{count} problem{'s' if count != 1 else ''} in {self.source or 'configuration'}:"
        return "\n".join([head, *(f"  - {i.render(self.source)}" for i in self.issues)])


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _model_at(root: type[BaseModel], path: Path) -> type[BaseModel] | None:
    """The pydantic model class that validates the mapping at ``path`` (best effort)."""
    from typing import get_args, get_origin

    current: Any = root
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = field.annotation
        # unwrap Optional / tuple[...] / Annotated
        for _ in range(3):
            origin = get_origin(current)
            if origin is None:
                break
            args = [a for a in get_args(current) if a is not type(None) and a is not Ellipsis]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            current = models[0] if models else (args[0] if args else None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _fix_hint(error: Any, root: type[BaseModel]) -> str:
    kind = error["type"]
    loc: Path = tuple(error["loc"])
    if kind == "missing":
        return f"add the key '{loc[-1]}'"
    if kind == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        if model is not None:
            allowed = ", ".join(sorted(model.model_fields))
            return f"remove it or fix its spelling; allowed keys here: {allowed}"
        return "remove it or fix its spelling"
    return ""


PATTERN_HELP = {
    r"^[0-9]{12}$": "must be a 12-digit AWS account id (ASCII digits), quoted: e.g. '123456789012'",
    r"^[a-z]{2}(-[a-z]+)+-[0-9]$": "must be an AWS region name, e.g. 'eu-west-1'",
    r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$": (
        "must be 3-24 lowercase letters, digits or hyphens, starting with a letter and not "
        "ending with a hyphen: e.g. 'acme-ml'"
    ),
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}/[A-Za-z0-9_.-]{1,100}$": (
        "must be 'owner/name' of a repository in ASCII letters, digits and '._-', with no "
        "further path segments: e.g. 'acme/churn'"
    ),
    r"^[A-Za-z0-9_+=,.@-]{1,64}$": (
        "must be an IAM role name (1-64 of ASCII letters, digits, +=,.@_-)"
    ),
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "must be an e-mail address",
}


def _message(item: Any) -> str:
    message = str(item["msg"])
    if item["type"] == "string_pattern_mismatch":
        return PATTERN_HELP.get(item.get("ctx", {}).get("pattern", ""), message)
    if message.startswith("Value error, "):
        return message[len("Value error, ") :]
    return message


def issues_from_pydantic(
    error: ValidationError, root: type[BaseModel], prefix: Path = ()
) -> list[ConfigIssue]:
    issues = []
    for item in error.errors(include_url=False):
        loc = tuple(
            p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        )
        message = _message(item)
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
            if item.get("input") is None:
                message = "a key with no name (empty or null): write the key's name"
            else:
                message = f"this key is not valid: {message}"
        hint = _fix_hint({**item, "loc": loc}, root)
        if hint:
            message = f"{message}: {hint}"
        # an unknown key's value is never echoed: it is where a pasted secret lands
        has_value = item["type"] not in ("missing", "extra_forbidden")
        value = item.get("input") if has_value else None
        if isinstance(value, dict | list):
            has_value = False
            value = None
        issues.append(ConfigIssue(prefix + loc, message, value, has_value))
    return issues


def sort_issues(issues: Iterable[ConfigIssue]) -> list[ConfigIssue]:
    return sorted(issues, key=lambda i: (i.line or 0, i.dotted_path, i.message))
