"""``ndap add-project``: append an ML project to a configuration, in place.

The file is edited as a round-trip document (comments, key order, quoting and the file's
own indentation kept), the **whole** result is validated with the ordinary loader, and
only then is the file replaced (temporary file + rename). Options are plain strings and
numbers: the model decides what is valid, so its messages (and any field it gains later)
apply here unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ndap_infra.bootstrap.files import BootstrapError
from ndap_infra.config.issues import ConfigError, ConfigIssue, format_path, sort_issues
from ndap_infra.config.load import line_of, plain_data, read_yaml, validate_data
from ndap_infra.config.model import MlProjectConfig, NdapConfig

INDENT_STYLES: tuple[tuple[int, int, int], ...] = ((2, 4, 2), (2, 2, 0), (4, 4, 0), (4, 6, 2))
"""(mapping, sequence, offset) layouts tried, in order, to reproduce the file as it is."""


@dataclass(frozen=True)
class ProjectAnswers:
    """The options of ``ndap add-project``; None means "the model's default"."""

    name: str
    team: str
    kind: str
    repository: str
    git_host: str | None = None
    retraining: str | None = None
    schedule: str | None = None
    metric: str | None = None
    threshold: float | None = None

    def entry(self) -> CommentedMap:
        project = CommentedMap()
        project["name"] = self.name
        project["team"] = self.team
        project["kind"] = self.kind
        project["repository"] = self.repository
        if self.git_host is not None:
            project["git_host"] = self.git_host
        retraining = CommentedMap()
        retraining["strategy"] = self.retraining or "ad-hoc"
        for key in ("schedule", "metric", "threshold"):
            value = getattr(self, key)
            if value is not None:
                retraining[key] = value
        project["retraining"] = retraining
        return project


def _writer(text: str) -> tuple[YAML, bool]:
    """A round-trip YAML writer that reproduces ``text`` byte for byte, if one of the
    usual layouts does (True); otherwise the project's own layout (2, 4, 2) (False)."""
    for mapping, sequence, offset in INDENT_STYLES:
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        yaml.width = 4096
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        out = StringIO()
        yaml.dump(yaml.load(text), out)
        if out.getvalue() == text:
            return yaml, True
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml, False


@dataclass(frozen=True)
class Edit:
    """The configuration's new text, and the validated configuration it holds."""

    text: str
    config: NdapConfig
    project: MlProjectConfig
    layout_kept: bool = True
    """False: no usual layout reproduced the file, so its indentation was normalised to
    the project's (2, 4, 2); comments and key order are kept either way."""


def add_project(path: Path, answers: ProjectAnswers) -> Edit:
    """The configuration at ``path`` with the project appended, validated as a whole.

    Raises ConfigError (the file is missing or not YAML) or BootstrapError (a duplicate
    name; ProjectRejected: the loader's issues with the result); writes nothing."""
    before = read_yaml(path)  # ConfigError when missing or not YAML
    if not isinstance(before, CommentedMap):
        raise ConfigError(
            [ConfigIssue((), "the configuration must be a YAML mapping at top level")], str(path)
        )
    projects = before.get("ml_projects")
    if isinstance(projects, list):
        for index, existing in enumerate(projects):
            if isinstance(existing, dict) and existing.get("name") == answers.name:
                raise BootstrapError(
                    f"{path} already has a project named {answers.name!r} (ml_projects"
                    f"[{index}]): pick another --name, or edit that entry by hand"
                )
    original = path.read_text(encoding="utf-8")
    yaml, layout_kept = _writer(original)
    document = yaml.load(original)
    if not isinstance(document.get("ml_projects"), list) or not document["ml_projects"]:
        document["ml_projects"] = CommentedSeq()  # block style, unlike an empty `[]`
        document.yaml_set_comment_before_after_key(
            "ml_projects",
            before="\nOne entry per ML project: add them with `ndap add-project`.",
        )
    entries = document["ml_projects"]
    entry = answers.entry()
    trailing = _take_trailing_comment(entries)
    entries.append(entry)
    if trailing is not None:
        _put_trailing_comment(entries, trailing)
    out = StringIO()
    yaml.dump(document, out)
    edit = _validated(path, before, out.getvalue(), answers.name)
    return Edit(edit.text, edit.config, edit.project, layout_kept)


def _last_slot(node: Any) -> tuple[Any, Any] | None:
    """The (container, key or index) of the last scalar in ``node``, where ruamel keeps
    the comments and blank lines that follow it."""
    slot = None
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key = list(node.keys())[-1] if isinstance(node, CommentedMap) else len(node) - 1
        slot = (node, key)
        node = node[key]
    return slot


def _take_trailing_comment(entries: CommentedSeq) -> Any:
    """Detach what follows the last project (comments and blank lines that belong to the
    next top-level key), so the new project goes above it, not below it."""
    slot = _last_slot(entries)
    if slot is None:
        return None
    container, key = slot
    comments = container.ca.items.get(key)
    position = 2 if isinstance(container, CommentedMap) else 0
    if not comments or comments[position] is None:
        return None
    token = comments[position]
    comments[position] = None
    return token


def _put_trailing_comment(entries: CommentedSeq, token: Any) -> None:
    slot = _last_slot(entries)
    assert slot is not None
    container, key = slot
    position = 2 if isinstance(container, CommentedMap) else 0
    comments = container.ca.items.setdefault(key, [None, None, None, None])
    comments[position] = token


OPTION_OF_FIELD: dict[str, str] = {
    "name": "--name",
    "team": "--team",
    "kind": "--kind",
    "repository": "--repository",
    "git_host": "--git-host",
    "retraining": "--retraining",
    "retraining.strategy": "--retraining",
    "retraining.schedule": "--schedule",
    "retraining.metric": "--metric",
    "retraining.threshold": "--threshold",
}


class ProjectRejected(BootstrapError):
    """The configuration with the project added would not validate."""

    def __init__(self, path: Path, name: str, problems: list[str]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in {path} with project {name!r} "
            "added:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def _validated(path: Path, original: Any, text: str, name: str) -> Edit:
    """Validate the whole new configuration. A problem in the new entry is named by the
    option that set it; any other (already in the file) by its line in the file."""
    reparsed: Any = YAML(typ="rt").load(text)
    config, issues = validate_data(plain_data(reparsed))
    if issues or config is None:
        new_index = len(reparsed["ml_projects"]) - 1
        problems = []
        for issue in sort_issues(issues):
            if issue.path[:2] == ("ml_projects", new_index):
                field = format_path(issue.path[2:])
                option = OPTION_OF_FIELD.get(field, field)
                shown = f" (got {issue.value!r})" if issue.has_value else ""
                problems.append(f"{option} ({issue.dotted_path}): {issue.message}{shown}")
            else:
                line = line_of(original, issue.path)
                located = ConfigIssue(issue.path, issue.message, issue.value, issue.has_value, line)
                problems.append(located.render(str(path)))
        raise ProjectRejected(path, name, problems)
    project = next(p for p in config.ml_projects if p.name == name)
    return Edit(text, config, project)
