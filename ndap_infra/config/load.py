"""Read a configuration file and validate it, collecting every problem in one run."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import TypeAdapter, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

from ndap_infra.config.credential_check import credential_issues
from ndap_infra.config.issues import (
    ConfigError,
    ConfigIssue,
    issues_from_pydantic,
    sort_issues,
)
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules import RULES

MAX_BYTES = 2 * 1024 * 1024
"""A configuration is a few kilobytes (100 projects: about 30 KB)."""
MAX_DEPTH = 40
"""Nesting of mappings and lists; the model itself needs 6."""
MAX_NODES = 200_000
"""Values once every alias is expanded (an alias bomb of 571 bytes expands to billions)."""


def _unreadable(source: str, message: str, line: int | None = None) -> ConfigError:
    return ConfigError([ConfigIssue((), message, line=line)], source)


def _read_text(path: Path) -> str:
    """The file's text, or a ConfigError saying why it cannot be a configuration."""
    source = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _unreadable(
            source, "file not found: create it (e.g. 'ndap init') or pass --config"
        ) from None
    except IsADirectoryError:
        raise _unreadable(source, "is a directory: pass the configuration file itself") from None
    except NotADirectoryError:
        raise _unreadable(source, "a parent of this path is a file, not a directory") from None
    except PermissionError:
        raise _unreadable(source, "cannot be read (permission denied)") from None
    except OSError as error:
        raise _unreadable(source, f"cannot be read ({error.strerror or error})") from None
    if len(data) > MAX_BYTES:
        raise _unreadable(
            source, f"is {len(data):,} bytes; a configuration is at most {MAX_BYTES:,} bytes"
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _unreadable(
            source,
            f"holds a NUL byte at offset {nul}: not a text file (UTF-16? save it as UTF-8)",
            data[:nul].count(b"\n") + 1,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _unreadable(
            source,
            f"is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}): "
            "save it as UTF-8",
            line,
        ) from None


def _expanded_size(node: Any, seen: dict[int, int]) -> int:
    """How many values ``node`` holds with every alias expanded, counting each shared node
    once per reference without expanding it (memoized by identity)."""
    known = seen.get(id(node))
    if known is not None:
        return known
    seen[id(node)] = 1  # a node that refers to itself counts once
    children = (
        list(node.values()) if isinstance(node, dict) else node if isinstance(node, list) else []
    )
    total = 1
    for child in children:
        total += _expanded_size(child, seen)
        if total > MAX_NODES:
            break
    seen[id(node)] = total
    return total


def read_yaml(path: Path) -> Any:
    """Parse YAML, keeping line numbers. Raises ConfigError on input that cannot be a
    configuration: unreadable, not UTF-8 text, too large, nested too deeply, or aliases
    that expand beyond any real configuration."""
    source = str(path)
    text = _read_text(path)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        depth = 0
        for event in yaml.parse(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else None
                    raise _unreadable(source, f"nested more than {MAX_DEPTH} levels deep", line)
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
        document = yaml.load(text)
    except MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise ConfigError(
            [ConfigIssue((), f"not valid YAML: {error.problem}", line=line)], source
        ) from None
    except YAMLError as error:  # e.g. a control character the reader refuses
        message = str(error).splitlines()[0]
        raise _unreadable(source, f"not valid YAML: {message}") from None
    if _expanded_size(document, {}) > MAX_NODES:
        raise _unreadable(
            source,
            f"its aliases expand to more than {MAX_NODES:,} values (an alias bomb?): "
            "write the values out, or use fewer nested aliases",
        )
    return document


def plain_data(node: Any) -> Any:
    """ruamel's round-trip containers as plain dicts and lists."""
    if isinstance(node, dict):
        return {
            k if isinstance(k, str) or k is None else str(k): plain_data(v) for k, v in node.items()
        }
    if isinstance(node, list):
        return [plain_data(v) for v in node]
    return node


def line_of(document: Any, path: tuple[str | int, ...]) -> int | None:
    """1-based line of the deepest node on ``path`` that exists in the document."""
    node, line = document, None
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            position = node.lc.key(part)
            line = position[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            position = node.lc.item(part)
            line = position[0] + 1
            node = node[part]
        else:
            break
    return line


def validate_data(data: Any) -> tuple[NdapConfig | None, list[ConfigIssue]]:
    """Validate plain data. Returns the config (when valid) and every issue found."""
    if not isinstance(data, dict):
        return None, [ConfigIssue((), "the configuration must be a YAML mapping at top level")]
    issues: list[ConfigIssue] = []
    kept: dict[str, list[int]] = {}
    try:
        config: NdapConfig | None = NdapConfig.model_validate(data)
        valid_sections = set(NdapConfig.model_fields)
        subject = config
    except ValidationError as error:
        config = None
        issues.extend(issues_from_pydantic(error, NdapConfig))
        subject, valid_sections, kept = _valid_sections(data)
    for registered in RULES:
        if (
            subject is not None
            and registered.sections <= valid_sections
            and not registered.lookups & set(kept)
        ):
            issues.extend(_original_indices(i, kept) for i in registered.check(subject))
    return (config if not issues else None), issues


def _reindex(section: str, indices: list[int]) -> Callable[[re.Match[str]], str]:
    def original(match: re.Match[str]) -> str:
        index = int(match[1])
        return f"{section}[{indices[index]}]" if index < len(indices) else match[0]

    return original


def _original_indices(issue: ConfigIssue, kept: dict[str, list[int]]) -> ConfigIssue:
    """A rule ran on the valid items of a list section: its item indices (in the path and
    in the message, such as 'already used by ml_projects[1]') back to the file's."""
    path, message = issue.path, issue.message
    for section, indices in kept.items():
        message = re.sub(rf"\b{section}\[(\d+)\]", _reindex(section, indices), message)
    if len(path) >= 2 and isinstance(path[0], str) and path[0] in kept:
        index, indices = path[1], kept[path[0]]
        if isinstance(index, int) and index < len(indices):
            path = (path[0], indices[index], *path[2:])
    return replace(issue, path=path, message=message)


def _valid_sections(
    data: dict[str, Any],
) -> tuple[NdapConfig | None, set[str], dict[str, list[int]]]:
    """Validate each top-level section on its own, so rules on the good ones still run. A
    list section with a broken item keeps its valid items (``kept``: their indices in the
    file), so rules still check those: one unknown project ``kind`` does not hide a
    duplicate project name or a prd stage without approval elsewhere."""
    values: dict[str, Any] = {}
    kept: dict[str, list[int]] = {}
    for name, field in NdapConfig.model_fields.items():
        if name not in data:
            if field.is_required():
                continue
            values[name] = field.get_default(call_default_factory=True)
            continue
        adapter: TypeAdapter[Any] = TypeAdapter(field.annotation)
        try:
            values[name] = adapter.validate_python(data[name])
        except ValidationError:
            items = _valid_items(field.annotation, data[name])
            if items is not None:
                values[name] = tuple(item for _, item in items)
                kept[name] = [index for index, _ in items]
    return NdapConfig.model_construct(**values), set(values), kept


def _valid_items(annotation: Any, raw: Any) -> list[tuple[int, Any]] | None:
    """The items of a ``tuple[Model, ...]`` section that validate on their own."""
    args = get_args(annotation)
    if get_origin(annotation) is not tuple or len(args) != 2 or args[1] is not Ellipsis:
        return None
    if not isinstance(raw, list):
        return None
    item_adapter: TypeAdapter[Any] = TypeAdapter(args[0])
    valid: list[tuple[int, Any]] = []
    for index, item in enumerate(raw):
        try:
            valid.append((index, item_adapter.validate_python(item)))
        except ValidationError:
            continue
    return valid


def load_config(path: Path | str) -> NdapConfig:
    """Load and validate a configuration file. Raises ConfigError with every issue."""
    return load_config_checked(path)[0]


def load_config_checked(path: Path | str) -> tuple[NdapConfig, tuple[ConfigIssue, ...]]:
    """Load and validate a configuration file; also return its warnings (values that are
    valid but risky, such as a credential-looking value when
    ``validation.credential_like_values`` is ``warn``). Raises ConfigError with every
    issue, those warnings included when that setting is ``error``."""
    path = Path(path)
    document = read_yaml(path)
    data = plain_data(document)
    config, issues = validate_data(data)
    found = credential_issues(data)
    if config is not None and config.validation.credential_like_values == "error":
        issues = [*issues, *found]
        found = []

    def located(items: list[ConfigIssue]) -> list[ConfigIssue]:
        return sort_issues(
            ConfigIssue(i.path, i.message, i.value, i.has_value, line_of(document, i.path))
            for i in items
        )

    if issues:
        raise ConfigError(located(issues), str(path))
    assert config is not None
    return config, tuple(located(found))
