"""Read a configuration file and validate it, collecting every problem in one run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from ndap_infra.config.issues import (
    ConfigError,
    ConfigIssue,
    issues_from_pydantic,
    sort_issues,
)
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules import RULES


def read_yaml(path: Path) -> Any:
    """Parse YAML, keeping line numbers. Raises ConfigError on unreadable input."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [ConfigIssue((), "file not found: create it (e.g. 'ndap init') or pass --config")],
            source,
        ) from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text)
    except MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise ConfigError(
            [ConfigIssue((), f"not valid YAML: {error.problem}", line=line)], source
        ) from None


def plain_data(node: Any) -> Any:
    """ruamel's round-trip containers as plain dicts and lists."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, str) else k: plain_data(v) for k, v in node.items()}
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
    try:
        config: NdapConfig | None = NdapConfig.model_validate(data)
        valid_sections = set(NdapConfig.model_fields)
        subject = config
    except ValidationError as error:
        config = None
        issues.extend(issues_from_pydantic(error, NdapConfig))
        subject, valid_sections = _valid_sections(data)
    for registered in RULES:
        if subject is not None and registered.sections <= valid_sections:
            issues.extend(registered.check(subject))
    return (config if not issues else None), issues


def _valid_sections(data: dict[str, Any]) -> tuple[NdapConfig | None, set[str]]:
    """Validate each top-level section on its own, so rules on the good ones still run."""
    values: dict[str, Any] = {}
    for name, field in NdapConfig.model_fields.items():
        if name not in data:
            if field.is_required():
                continue
            values[name] = field.get_default(call_default_factory=True)
            continue
        try:
            values[name] = TypeAdapter(field.annotation).validate_python(data[name])
        except ValidationError:
            continue
    return NdapConfig.model_construct(**values), set(values)


def load_config(path: Path | str) -> NdapConfig:
    """Load and validate a configuration file. Raises ConfigError with every issue."""
    path = Path(path)
    document = read_yaml(path)
    config, issues = validate_data(plain_data(document))
    if issues:
        located = [
            ConfigIssue(i.path, i.message, i.value, i.has_value, line_of(document, i.path))
            for i in issues
        ]
        raise ConfigError(sort_issues(located), str(path))
    assert config is not None
    return config
