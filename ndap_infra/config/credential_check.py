"""Where a configuration holds something that looks like a credential (shapes in
``credentials``): one issue per place, naming the field, never the value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ndap_infra.config.credentials import credential_kind, secret_named
from ndap_infra.config.issues import ConfigIssue, Path


def _walk(node: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def credential_issues(data: Any) -> list[ConfigIssue]:
    """Where plain configuration data holds something that looks like a credential; the
    issues name the field and what it looks like, never the value."""
    issues: list[ConfigIssue] = []
    for path, value in _walk(data, ()):
        if isinstance(value, str):
            kind = credential_kind(value)
            if kind:
                issues.append(
                    ConfigIssue(
                        path,
                        f"looks like {kind}: keep credentials out of the configuration "
                        "(it is committed, and its values reach stacks, tags and logs); "
                        "use a secret store",
                    )
                )
                continue
        if path and path[-1] == "tags" and isinstance(value, dict):
            for key, tag in value.items():
                if isinstance(key, str) and isinstance(tag, str) and secret_named(key, tag):
                    issues.append(
                        ConfigIssue(
                            (*path, key),
                            "is a tag whose key names a secret: tags are written into the "
                            "default tags of every resource, readable by anyone who can "
                            "list them; remove it",
                        )
                    )
    return issues
