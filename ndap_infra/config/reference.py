"""The configuration reference, docs/configuration.md, rendered from the JSON Schema.

Pure and deterministic: standard library only, so the stale-check runs without cdktf.
``python -m ndap_infra.config.reference`` writes the file, ``--check`` exits 1 when it is
stale (``make schema`` regenerates it after ``ndap schema``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path("schema/ndap-config.schema.json")
REFERENCE_PATH = Path("docs/configuration.md")
REGENERATE = "make schema (or: python -m ndap_infra.config.reference)"

Node = Mapping[str, Any]

HEAD = """\
# Configuration reference

<!-- Generated from schema/ndap-config.schema.json by ndap_infra/config/reference.py:
     do not edit by hand; run `make schema`. -->

One YAML file is the whole input of ndap-infra. The reference example is
[`examples/reference.yaml`](../examples/reference.yaml); its JSON Schema is
[`schema/ndap-config.schema.json`](../schema/ndap-config.schema.json) (editors with the
YAML language server complete and check the file through its first-line comment). Start a
new file with `ndap init` and add projects with `ndap add-project` (see
[commands](commands.md)); check one with `ndap validate -c FILE`.

## How a configuration is validated

Validation reports **every** problem in one run, each with file, line, field path, the
bad value and the fix, and exits 2 without writing anything. Unknown keys are rejected.
The model's hard invariants are validation errors that name the invariant, for example:

```
1 problem in my.yaml:
  - my.yaml:9: personas.data-scientist.prd: breaks invariant 2 (a data scientist has no \
access at all to acceptance or production): set it to 'none'; production data reaches data \
scientists as a read-only replica in dev (data.sharing_mode) (got 'full')
```

Rejected by design: any data-scientist access in acc/prd; data scientists or business
users in nonprod; production data in nonprod; any person with more than read-only, UAT
or security-audit access in acc/prd (only pipelines deploy there; break-glass excepted);
dev, acc or prd switched off; shared or malformed account ids (unquoted ids too, since
YAML drops leading zeros); an identity account that is also an environment account; a
home region outside the allowed regions; duplicate project or dataset names; retraining
settings that do not fit their strategy (a drift strategy without metric or threshold, a
schedule EventBridge would not parse); a project using an undeclared feature group or
version; the same path rule under two kinds; a per-environment security baseline or
region list (invariant 1: the baseline is one setting for every environment).

What the schema alone does not say:

- Account ids are 12 digits, quoted in YAML (`"123456789012"`): YAML drops the leading
  zeros of a bare number.
- `environments.nonprod` is off unless given: leaving it out means `enabled: false`
  (every other key of an environment defaults as listed below).
- `identity.require_mfa: false` relaxes only the other personas: the platform-engineer
  and break-glass roles always require MFA.
- `organization.tags` are added to every resource next to the platform's own `ndap:*`
  tags.
- `personas` overrides cells of the default persona x environment matrix, which is the
  design document's (see [the security model](security-model.md#personas-and-access)).
- An enabled environment (and the tooling account, when there is one) is either adopted
  by `account_id` or created from `email`; neither is an error naming both fields (see
  [operations: accounts, adopted or created](operations.md#accounts-adopted-or-created)).
- `platform_pipeline` and `drift_detection` need `organization.tooling_account_id` (or
  `tooling_email`); see [operations](operations.md).

## How to read this reference

Every key is written as its full path: `a.b` is key `b` inside `a`, `a[]` is each item
of the list `a`, `<name>` stands for a key you choose (a map), and `<x|y>` for each of the
keys `x` and `y`, which share one description. "required" means the key must be given;
otherwise the default applies when it is left out (`null` means "not set": the
description says what happens then; `—` means leaving it out gives nothing of it, e.g. an
empty map for `organization.tags` and `personas`). Generated from the JSON Schema,
which is generated from the configuration model (`ndap schema`).
"""


@dataclass(frozen=True)
class Row:
    """One key of the reference: its path and its table cells."""

    path: str
    type: str
    default: str
    allowed: str
    description: str


@dataclass(frozen=True)
class Section:
    """One object of the configuration: its path, what it is, and its keys."""

    path: str
    description: str
    presence: str
    rows: tuple[Row, ...]


class _Schema:
    """Reference resolution over one JSON Schema document."""

    def __init__(self, schema: Node) -> None:
        self.defs: Node = schema.get("$defs", {})

    def resolve(self, node: Node) -> Node:
        """The node with a ``$ref`` replaced by its definition (siblings of ``$ref`` win)."""
        ref = node.get("$ref")
        if ref is None:
            return node
        name = str(ref).rsplit("/", 1)[-1]
        merged = dict(self.defs[name])
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        if "description" not in node and "description" in self.defs[name]:
            merged["description"] = self.defs[name]["description"]
        return merged

    def non_null(self, node: Node) -> tuple[Node, bool]:
        """The node without a ``null`` alternative, and whether it had one."""
        options = node.get("anyOf")
        if options is None:
            return self.resolve(node), False
        rest = [o for o in options if o.get("type") != "null"]
        nullable = len(rest) < len(options)
        if len(rest) == 1:
            inner = dict(self.resolve(rest[0]))
            inner.pop("title", None)
            inner.update({k: v for k, v in node.items() if k not in ("anyOf", "$ref")})
            if "description" not in node and "description" in rest[0]:
                inner["description"] = rest[0]["description"]
            return inner, nullable
        return node, nullable

    def is_section(self, node: Node) -> bool:
        """An object with named keys: rendered as a section of its own."""
        return bool(self.non_null(node)[0].get("properties"))

    def map_values(self, node: Node) -> Node | None:
        """The value schema of a map (an object whose keys the user chooses)."""
        if node.get("type") != "object" or node.get("properties"):
            return None
        values = node.get("additionalProperties")
        if isinstance(values, Mapping):
            return values
        patterns = node.get("patternProperties")
        if isinstance(patterns, Mapping) and len(patterns) == 1:
            only: Node = next(iter(patterns.values()))
            return only
        return None

    def key_placeholder(self, node: Node) -> str:
        """How a map's chosen key is written in a path: ``<persona>``, or ``<name>``."""
        names = node.get("propertyNames")
        if isinstance(names, Mapping) and "$ref" in names:
            return "<" + str(self.resolve(names).get("title", "name")).lower() + ">"
        return "<name>"


def _code(value: str) -> str:
    return "`" + value + "`" if "`" not in value else "``" + value + "``"


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return _code(value) if value else _code('""')
    return _code(json.dumps(value))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def _type_name(schema: _Schema, node: Node) -> str:
    """The key's type in words: string, integer, list of ..., map of ..."""
    inner, nullable = schema.non_null(node)
    kind = inner.get("type")
    if "enum" in inner:
        text = "string"
    elif kind == "array":
        items = schema.non_null(inner.get("items", {}))[0]
        text = "list of " + ("objects" if items.get("properties") else _type_name(schema, items))
    elif kind == "object" and inner.get("properties"):
        text = "object"
    elif kind == "object":
        values = schema.map_values(inner)
        text = "map" if values is None else "map of " + _type_name(schema, values)
    elif kind is None:
        text = "any"
    else:
        text = str(kind)
    return text + (" or null" if nullable else "")


def _constraints(schema: _Schema, node: Node) -> list[str]:
    """Allowed values and limits of one value schema."""
    inner = schema.non_null(node)[0]
    found: list[str] = []
    if "enum" in inner:
        found.append("one of " + ", ".join(_literal(v) for v in inner["enum"]))
    if "pattern" in inner:
        found.append("matches " + _code(str(inner["pattern"])))
    low, high = inner.get("minimum"), inner.get("maximum")
    exclusive_low = inner.get("exclusiveMinimum")
    if exclusive_low is not None and high is not None:
        found.append(f"in ({exclusive_low}, {high}]")
    elif low is not None and high is not None:
        found.append(f"{low} to {high}")
    elif exclusive_low is not None:
        found.append(f"more than {exclusive_low}")
    elif low is not None:
        found.append(f"at least {low}")
    elif high is not None:
        found.append(f"at most {high}")
    if "minLength" in inner or "maxLength" in inner:
        found.append(
            "length "
            + (f"{inner.get('minLength', 0)}" if "minLength" in inner else "0")
            + (f" to {inner['maxLength']}" if "maxLength" in inner else " or more")
        )
    if "minItems" in inner:
        found.append(f"at least {inner['minItems']} item(s)")
    if "minProperties" in inner:
        found.append(f"at least {inner['minProperties']} entry(ies)")
    if inner.get("type") == "array":
        items = schema.non_null(inner.get("items", {}))[0]
        if not items.get("properties"):
            found.extend("each " + c for c in _constraints(schema, items))
    if inner.get("type") == "object" and not inner.get("properties"):
        names = inner.get("propertyNames")
        if isinstance(names, Mapping):
            found.extend("keys " + c for c in _constraints(schema, names))
        values = schema.map_values(inner)
        if values is not None and schema.map_values(schema.non_null(values)[0]) is None:
            found.extend("values " + c for c in _constraints(schema, values))
    examples = inner.get("examples")
    if examples:
        found.append("e.g. " + ", ".join(_literal(v) for v in examples))
    return found


def _description(schema: _Schema, node: Node) -> str:
    inner = schema.non_null(node)[0]
    text = str(inner.get("description", ""))
    if not text and inner.get("type") == "array":
        text = str(schema.non_null(inner.get("items", {}))[0].get("description", ""))
    return _one_line(text)


def _default(node: Node, required: bool, section: bool) -> str:
    if required:
        return "required"
    if "default" in node:
        return _literal(node["default"])
    return "see its keys" if section else "—"


def _presence(default: str) -> str:
    """How a section's object comes to be, from its default cell."""
    if default == "`null`":
        return "optional; left out (`null`), nothing of it is generated"
    if default == "see its keys":
        return "optional; when left out, every key below takes its default"
    return default


def _siblings(properties: Node) -> list[tuple[str, list[str]]]:
    """Keys in schema order; keys whose schemas are the same object definition are grouped
    (``environments.<acc|dev|nonprod|prd>``)."""
    groups: dict[str, list[str]] = {}
    order: list[str] = []
    for name, node in properties.items():
        ref = node.get("$ref") if set(node) == {"$ref"} else None
        key = f"ref:{ref}" if ref is not None else f"key:{name}"
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(name)
    result: list[tuple[str, list[str]]] = []
    for key in order:
        names = groups[key]
        label = names[0] if len(names) == 1 else "<" + "|".join(names) + ">"
        result.append((label, names))
    return result


def _ordered(node: Node) -> list[tuple[str, list[str]]]:
    """Required keys first (in the schema's required order), then the rest in schema order."""
    required = list(node.get("required", []))
    properties: Node = node.get("properties", {})
    groups = _siblings(properties)
    rank = {name: i for i, name in enumerate(required)}

    def position(item: tuple[int, tuple[str, list[str]]]) -> tuple[int, int]:
        index, (_, names) = item
        firsts = [rank[n] for n in names if n in rank]
        return (0, min(firsts)) if firsts else (1, index)

    return [group for _, group in sorted(enumerate(groups), key=position)]


def _join(prefix: str, name: str) -> str:
    return name if not prefix else prefix + "." + name


def _sections(schema: _Schema, path: str, node: Node, presence: str) -> Iterator[Section]:
    """The section of this object, then the sections of the objects inside it."""
    rows: list[Row] = []
    nested: list[tuple[str, Node, str]] = []
    required = set(node.get("required", []))
    for label, names in _ordered(node):
        child: Node = node["properties"][names[0]]
        key = _join(path, label)
        is_required = all(n in required for n in names)
        section = schema.is_section(child)
        inner = schema.non_null(child)[0]
        default = _default(child, is_required, section)
        if len(names) > 1 and not is_required:
            needed = [n for n in names if n in required]
            default = ("required: " + ", ".join(needed)) if needed else default
        allowed = _constraints(schema, child)
        if section:
            allowed.append(f"keys below, under {_code(key)}")
            nested.append((key, child, _presence(default)))
        rows.append(
            Row(
                path=key,
                type=_type_name(schema, child),
                default=default,
                allowed="; ".join(allowed),
                description=_description(schema, child),
            )
        )
        if not section:
            rows.extend(_map_rows(schema, key, inner))
        items = inner.get("items") if inner.get("type") == "array" else None
        if items is not None and schema.is_section(items):
            nested.append((key + "[]", items, "each item of " + _code(key)))
    yield Section(path, _one_line(str(node.get("description", ""))), presence, tuple(rows))
    for key, child, child_presence in nested:
        yield from _sections(schema, key, schema.non_null(child)[0], child_presence)


def _map_rows(schema: _Schema, key: str, node: Node) -> list[Row]:
    """Rows for the chosen keys of a map, one per level (``personas.<persona>.<environment>``)."""
    values = schema.map_values(node)
    if values is None:
        return []
    inner = schema.non_null(values)[0]
    child = key + "." + schema.key_placeholder(node)
    names = node.get("propertyNames")
    description = str(names.get("description", "")) if isinstance(names, Mapping) else ""
    if not description:
        description = str(inner.get("description", ""))
    if not description:
        description = f"One entry of {_code(key)}, under a key you choose."
    row = Row(
        path=child,
        type=_type_name(schema, values),
        default="—",
        allowed="; ".join(_constraints(schema, values)),
        description=_one_line(description),
    )
    return [row, *_map_rows(schema, child, inner)]


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def _table(rows: Sequence[Row]) -> list[str]:
    lines = [
        "| key | type | default | allowed values | description |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        cells = (_code(row.path), row.type, row.default, row.allowed, row.description)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def render_reference(schema: Mapping[str, Any]) -> str:
    """The whole of docs/configuration.md for this JSON Schema (same schema, same text)."""
    sections = list(_sections(_Schema(schema), "", schema, "the file itself"))
    lines = [HEAD.rstrip("\n"), "", "## Contents", ""]
    for section in sections:
        title = section.path or "Top level"
        heading = _code(title) if section.path else title
        lines.append(f"- [{heading}](#{_anchor(heading)})")
    for section in sections:
        heading = _code(section.path) if section.path else "Top level"
        level = "##" if section.path.count(".") == 0 else "###"
        lines += ["", f"{level} {heading}", ""]
        if section.description:
            lines += [section.description, ""]
        lines += [f"Presence: {section.presence}.", ""]
        lines += _table(section.rows)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ndap_infra.config.reference",
        description="Write (or check) the configuration reference from the JSON Schema.",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    parser.add_argument("--schema", type=Path, default=SCHEMA_PATH)
    parser.add_argument("--output", type=Path, default=REFERENCE_PATH)
    args = parser.parse_args(argv)
    text = render_reference(json.loads(args.schema.read_text(encoding="utf-8")))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != text:
            print(f"{args.output} is stale against {args.schema}: run {REGENERATE}")
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
