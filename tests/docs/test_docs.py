"""The docs: the generated configuration reference is current and complete, links resolve.

GIVEN the committed JSON Schema and the docs, WHEN the reference is rendered and the
Markdown links are read, THEN docs/configuration.md equals the rendering, every key path of
the schema appears in it, and every relative link points at a file in the repository.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.config.reference import main, render_reference
from tests.helpers import ROOT

SCHEMA = ROOT / "schema" / "ndap-config.schema.json"
REFERENCE = ROOT / "docs" / "configuration.md"


def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return loaded


# --- (a) the committed reference is the rendering of the committed schema -----------------


def test_configuration_reference_is_current() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render_reference(_schema()), (
        "docs/configuration.md is stale: run `make schema` "
        "(or `python -m ndap_infra.config.reference`)"
    )


def test_check_mode_fails_on_a_stale_file_and_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "configuration.md"
    out.write_text(render_reference(_schema()) + "an edit by hand\n", encoding="utf-8")
    assert main(["--check", "--schema", str(SCHEMA), "--output", str(out)]) == 1
    assert "make schema" in capsys.readouterr().out
    assert main(["--schema", str(SCHEMA), "--output", str(out)]) == 0
    assert main(["--check", "--schema", str(SCHEMA), "--output", str(out)]) == 0
    out.unlink()
    assert main(["--check", "--schema", str(SCHEMA), "--output", str(out)]) == 1


def test_rendering_is_deterministic() -> None:
    assert render_reference(_schema()) == render_reference(copy.deepcopy(_schema()))


# --- (b) negative control: the rendering follows the schema's text -----------------------


def test_a_changed_description_renders_differently() -> None:
    schema = _schema()
    changed = copy.deepcopy(schema)
    node = changed["$defs"]["OrganizationConfig"]["properties"]["home_region"]
    node["description"] = "A description nobody wrote."
    before, after = render_reference(schema), render_reference(changed)
    assert before != after
    assert "A description nobody wrote." in after
    assert "A description nobody wrote." not in before


def test_a_changed_default_renders_differently() -> None:
    changed = _schema()
    changed["$defs"]["IntegrationSubsetConfig"]["properties"]["max_objects"]["default"] = 4321
    assert "`4321`" in render_reference(changed)
    assert "`4321`" not in render_reference(_schema())


# --- (c) every key path of the schema is in the reference --------------------------------


def _resolve(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """The node without a null alternative and with its $ref followed."""
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        node = options[0]
    ref = node.get("$ref")
    if ref is not None:
        return _resolve(schema, schema["$defs"][str(ref).rsplit("/", 1)[-1]])
    return node


def _key_paths(schema: Mapping[str, Any], node: Mapping[str, Any], prefix: str) -> Iterator[str]:
    """Every key path, independently of the renderer: ``a.b``, ``a[].b``, ``a.*`` for a map."""
    node = _resolve(schema, node)
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        yield path
        yield from _key_paths(schema, child, path)
    if node.get("type") == "array" and "items" in node:
        yield from _key_paths(schema, node["items"], prefix + "[]")
    values = node.get("additionalProperties")
    if not isinstance(values, Mapping):
        values = next(iter(node.get("patternProperties", {}).values()), None)
    if isinstance(values, Mapping) and not node.get("properties"):
        yield prefix + ".*"
        yield from _key_paths(schema, values, prefix + ".*")


def _rendered_keys(text: str) -> list[re.Pattern[str]]:
    """The documented key paths as patterns: ``<a|b>`` stands for a or b, ``<name>`` for ``*``."""
    patterns = []
    for token in re.findall(r"`([^`\n]+)`", text.replace("\\|", "|")):
        regex = ""
        for part in re.split(r"(<[^<>]+>)", token):
            if part.startswith("<") and "|" in part:
                regex += "(?:" + "|".join(re.escape(p) for p in part[1:-1].split("|")) + ")"
            elif part.startswith("<"):
                regex += re.escape("*")
            else:
                regex += re.escape(part)
        patterns.append(re.compile(regex))
    return patterns


def _missing(schema: Mapping[str, Any], text: str) -> list[str]:
    patterns = _rendered_keys(text)
    paths = sorted(set(_key_paths(schema, schema, "")))
    return [p for p in paths if not any(r.fullmatch(p) for r in patterns)]


def test_every_key_path_is_in_the_reference() -> None:
    schema = _schema()
    paths = set(_key_paths(schema, schema, ""))
    # the walk itself reaches the deep and the grouped keys
    assert {
        "environments.nonprod.account_id",
        "ml_projects[].retraining.acceptance_schedule",
        "feature_groups[].versions[].features.*",
        "personas.*.*",
        "security_baseline.password_policy.minimum_length",
    } <= paths
    assert _missing(schema, render_reference(schema)) == []


def test_a_key_left_out_of_the_reference_is_found_missing() -> None:
    schema = _schema()
    text = render_reference(schema)
    row = "`ml_projects[].retraining.threshold`"
    assert row in text
    assert _missing(schema, text.replace(row, "")) == ["ml_projects[].retraining.threshold"]
    grouped = "environments.<acc\\|dev\\|nonprod\\|prd>.email"
    assert grouped in text
    assert "environments.dev.email" in _missing(
        schema, text.replace(grouped, "environments.<acc\\|nonprod\\|prd>.email")
    )


# --- (c2) every key has a description and a concrete value to copy -----------------------

REFUSED_KEYS = {
    # keys that exist only to be refused with a message (invariant 1): no example fits them
    "environments.<acc|dev|nonprod|prd>.allowed_regions",
    "environments.<acc|dev|nonprod|prd>.security_baseline",
}


def _rows(text: str) -> list[list[str]]:
    """The reference's table rows: key, type, default, allowed values, description."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| `"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            cells[0] = cells[0].strip("`")
            rows.append(cells)
    return rows


def _without_value(text: str) -> list[str]:
    """Keys whose row gives no value to copy: no example, no allowed values, no default.
    A list of objects is shown by its items' keys and a map's entries by the map's example."""
    missing = []
    for key, kind, default, allowed, _ in _rows(text):
        concrete = default.startswith("`") and default not in ("`null`", "`[]`", '`""`')
        shown = "e.g. " in allowed or "one of " in allowed or "keys below" in allowed
        grouped = kind.startswith("list of objects") or (key.endswith(">") and "." in key)
        if not (concrete or shown or grouped or key in REFUSED_KEYS):
            missing.append(key)
    return missing


def test_every_key_has_a_description_and_a_value_to_copy() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    rows = _rows(text)
    assert len(rows) > 100
    assert [row[0] for row in rows if not row[4]] == []
    assert _without_value(text) == []


def test_a_key_without_description_or_example_is_found() -> None:
    schema = _schema()
    changed = copy.deepcopy(schema)
    node = changed["$defs"]["StateBackendConfig"]["properties"]["bucket"]
    del node["examples"]
    del node["description"]
    text = render_reference(changed)
    assert [row[0] for row in _rows(text) if not row[4]] == ["deploy.state.bucket"]
    assert _without_value(text) == ["deploy.state.bucket"]
    assert _without_value(render_reference(schema)) == []


# --- (d) every relative link in README.md and docs/**/*.md resolves --------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _documents() -> list[Path]:
    """README.md and every page under docs/, the runbooks in docs/runbooks/ included."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _outside_fences(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _outside_code(text: str) -> str:
    """The text without fenced code blocks and inline code (links there are not links)."""
    return re.sub(r"`[^`\n]*`", "", _outside_fences(text))


def _anchors(document: Path) -> set[str]:
    """GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens."""
    text = _outside_fences(document.read_text(encoding="utf-8"))
    headings = re.findall(r"^#{1,6} (.+)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def _broken_links(documents: list[Path], root: Path = ROOT) -> list[str]:
    broken = []
    for document in documents:
        for target in LINK.findall(_outside_code(document.read_text(encoding="utf-8"))):
            if re.match(r"^[a-z]+:", target):
                continue  # http(s):, mailto: ... are not files of the repository
            path, _, anchor = target.partition("#")
            resolved = (document.parent / path).resolve() if path else document
            where = f"{document.relative_to(root)}: {target}"
            if not resolved.is_relative_to(root.resolve()) or not resolved.exists():
                broken.append(where + " (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(where + " (no such heading)")
    return broken


def test_every_relative_link_points_at_a_file_of_the_repository() -> None:
    documents = _documents()
    assert ROOT / "docs" / "configuration.md" in documents
    assert ROOT / "docs" / "runbooks" / "first-deploy-aws.md" in documents
    assert _broken_links(documents) == []


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("# x\n", encoding="utf-8")
    (tmp_path / "docs" / "operations.md").write_text("# Operations\n## Drift detection\n")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "[fine](../README.md) [gone](../examples/nothing.yaml) [out](../../elsewhere.md) "
        "[heading](operations.md#no-such-heading) [ok](operations.md#drift-detection) "
        "[web](https://example.com/x)\n`[in code](nowhere.md)`\n",
        encoding="utf-8",
    )
    assert _broken_links([page], tmp_path) == [
        "docs/page.md: ../examples/nothing.yaml (no such file)",
        "docs/page.md: ../../elsewhere.md (no such file)",
        "docs/page.md: operations.md#no-such-heading (no such heading)",
    ]


def test_the_readme_stays_short_and_points_into_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    for page in ("make all", "make test", "policies/platform.svg", "docs/README.md"):
        assert page in readme


def test_no_document_sends_the_reader_outside_the_repository() -> None:
    """The design notes the project was built from live outside the repository: the docs
    carry what a user needs (docs/model.md) instead of pointing there."""
    for document in _documents():
        text = document.read_text(encoding="utf-8")
        assert "shared/design" not in text, document.relative_to(ROOT)
        assert "/work/" not in text, document.relative_to(ROOT)
