"""What in a GitLab CI or Bitbucket Pipelines pull-request job would hand its runs a cloud
identity or a secret, or run it for other than pull requests into develop (the GitHub
Actions workflow is read by ``replay.workflow_findings``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ruamel.yaml import YAML

AWS_VARIABLE = re.compile(r"\bAWS_[A-Z_]+\b")


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def _common(document: Any, text: str) -> list[str]:
    findings = [f"names {name}" for name in sorted(set(AWS_VARIABLE.findall(text)))]
    for path, node in _walk(document):
        if isinstance(node, dict) and "variables" in node:
            findings.append(f"{path or 'top level'} sets variables")
    return findings


def gitlab_findings(text: str, develop: str) -> list[str]:
    """GitLab: an OIDC ``id_tokens`` or ``secrets`` keyword, AWS variables, and a workflow
    that is not limited to merge requests into ``develop``."""
    document = YAML(typ="safe").load(text) or {}
    findings = _common(document, text)
    for path, node in _walk(document):
        if isinstance(node, dict):
            findings += [f"{path} requests {k}" for k in ("id_tokens", "secrets") if k in node]
    rules = (document.get("workflow") or {}).get("rules") or []
    wanted = f'$CI_MERGE_REQUEST_TARGET_BRANCH_NAME == "{develop}"'
    if not rules or not all(
        "merge_request_event" in str(r.get("if", "")) and wanted in str(r.get("if", ""))
        for r in rules
    ):
        findings.append(f"runs for more than merge requests into {develop}")
    return findings


def bitbucket_findings(text: str, develop: str) -> list[str]:
    """Bitbucket: a step with ``oidc``, AWS variables, pipelines other than
    ``pull-requests``, and a step that checks without first ending for other targets."""
    document = YAML(typ="safe").load(text) or {}
    findings = _common(document, text)
    for path, node in _walk(document):
        if isinstance(node, dict) and node.get("oidc"):
            findings.append(f"{path} requests an OIDC token")
    pipelines = document.get("pipelines") or {}
    findings += [f"runs on {kind} too" for kind in pipelines if kind != "pull-requests"]
    guard = f'"$BITBUCKET_PR_DESTINATION_BRANCH" != "{develop}"'
    for path, node in _walk(pipelines):
        if isinstance(node, dict) and "script" in node:
            script = node.get("script") or []
            if not script or guard not in str(script[0]):
                findings.append(f"{path} runs for more than pull requests into {develop}")
    return findings
