"""Render the Python source of the typed classes from a trimmed provider schema.

The output is plain source text, not yet formatted; ``ndap_infra.codegen.generator`` runs
ruff's formatter over it so that the committed files are stable.
"""

from __future__ import annotations

import keyword
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ndap_infra.codegen.config import CodegenError, SchemaMismatchError, TypeList
from ndap_infra.terraform.provider import PROVIDER_SOURCE, PROVIDER_TYPE

LINE_LENGTH = 100
REGISTRY = "https://registry.terraform.io/providers"

# Names the generated code itself uses in class bodies and signatures; a schema name equal
# to one of these gets a trailing underscore in Python.
_RESERVED = frozenset(
    {"self", "scope", "id_", "TF_TYPE", "cdktf", "Construct", "Any", "ClassVar"}
    | {"Mapping", "Sequence", "dataclass", "str", "float", "bool", "list", "dict", "None"}
)
RESOURCE_META = ("depends_on", "provider", "count", "lifecycle", "for_each")


@dataclass(frozen=True)
class BaseClass:
    """What a generated top-level class derives from, and the members it must not shadow."""

    kind: str  # "resource", "data source" or "provider"
    base: str  # e.g. "cdktf.TerraformResource"
    members: frozenset[str]  # dir() of the cdktf base class


@dataclass
class Attr:
    tf_name: str
    py_name: str
    schema: Mapping[str, Any]

    @property
    def settable(self) -> bool:
        return bool(self.schema.get("required") or self.schema.get("optional"))

    @property
    def required(self) -> bool:
        return bool(self.schema.get("required"))


@dataclass
class BlockParam:
    tf_name: str
    py_name: str
    schema: Mapping[str, Any]  # the block_types entry: nesting_mode, min/max_items, block
    class_name: str = ""

    @property
    def required(self) -> bool:
        return int(self.schema.get("min_items", 0)) > 0


@dataclass
class BlockClass:
    """One nested-block dataclass."""

    class_name: str
    tf_path: tuple[str, ...]  # block names from the top-level type down to this block
    schema: Mapping[str, Any]  # the block_types entry
    attrs: list[Attr] = field(default_factory=list)
    blocks: list[BlockParam] = field(default_factory=list)


@dataclass
class TypeModule:
    """One generated module: a top-level class and its nested-block dataclasses."""

    kind: str  # "resource", "data source" or "provider"
    tf_type: str
    module: str
    class_name: str
    block: Mapping[str, Any]
    attrs: list[Attr] = field(default_factory=list)
    blocks: list[BlockParam] = field(default_factory=list)
    block_classes: list[BlockClass] = field(default_factory=list)


# --- naming -------------------------------------------------------------------------------


def camel(name: str) -> str:
    """``server_side_encryption`` -> ``ServerSideEncryption``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def short_name(tf_type: str) -> str:
    """``aws_s3_bucket`` -> ``s3_bucket``."""
    prefix = f"{PROVIDER_TYPE}_"
    return tf_type[len(prefix) :] if tf_type.startswith(prefix) else tf_type


def class_name_for(kind: str, tf_type: str) -> str:
    if kind == "provider":
        return f"{camel(PROVIDER_TYPE)}Provider"
    if kind == "data source":
        return f"Data{camel(tf_type)}"
    return camel(short_name(tf_type))


def module_name_for(kind: str, tf_type: str) -> str:
    if kind == "provider":
        name = "provider"
    elif kind == "data source":
        name = f"data_{short_name(tf_type)}"
    else:
        name = short_name(tf_type)
    return f"{name}_" if keyword.iskeyword(name) else name


def python_name(tf_name: str, taken: Iterable[str]) -> str:
    """A Python identifier for a schema name: a trailing underscore avoids keywords, the
    members of the cdktf base class and the generator's own names."""
    name = (
        tf_name if tf_name.isidentifier() else "".join(c if c.isalnum() else "_" for c in tf_name)
    )
    if name[:1].isdigit():
        name = f"_{name}"
    taken = set(taken)
    while keyword.iskeyword(name) or name in taken:
        name = f"{name}_"
    return name


# --- model -------------------------------------------------------------------------------


def build_modules(
    schema: Mapping[str, Any], types: TypeList, bases: Mapping[str, BaseClass]
) -> list[TypeModule]:
    """The generated modules, in module-name order, with globally unique class names."""
    missing = [t for t in types.resources if t not in schema["resource_schemas"]] + [
        t for t in types.data_sources if t not in schema["data_source_schemas"]
    ]
    extra = sorted(set(schema["resource_schemas"]) - set(types.resources)) + sorted(
        set(schema["data_source_schemas"]) - set(types.data_sources)
    )
    if missing or extra:
        raise SchemaMismatchError(
            "the committed schema does not match ndap_infra/codegen/types.toml "
            f"(missing: {missing}, not listed: {extra}); "
            "run `python -m ndap_infra.codegen --refresh-schema`"
        )
    entries: list[tuple[str, str, Mapping[str, Any]]] = [
        ("provider", PROVIDER_TYPE, schema["provider"]["block"])
    ]
    entries += [("resource", t, schema["resource_schemas"][t]["block"]) for t in types.resources]
    entries += [
        ("data source", t, schema["data_source_schemas"][t]["block"]) for t in types.data_sources
    ]
    modules = [
        TypeModule(
            kind=kind,
            tf_type=tf_type,
            module=module_name_for(kind, tf_type),
            class_name=class_name_for(kind, tf_type),
            block=block,
        )
        for kind, tf_type, block in entries
    ]
    modules.sort(key=lambda m: m.module)
    taken: dict[str, str] = {}
    seen_modules: dict[str, str] = {}
    for module in modules:
        if module.class_name in taken:
            raise CodegenError(
                f"{module.tf_type} and {taken[module.class_name]} both map to {module.class_name}"
            )
        if module.module in seen_modules:
            raise CodegenError(
                f"{module.tf_type} and {seen_modules[module.module]} both map to {module.module}.py"
            )
        taken[module.class_name] = module.tf_type
        seen_modules[module.module] = module.tf_type
    for module in modules:
        members = bases[module.kind].members
        module.attrs, module.blocks = _members(module.block, members, top_level=True)
        if module.kind == "provider":
            module.attrs = [a for a in module.attrs if a.tf_name != "alias"]
        _collect_blocks(module, module.blocks, ())
    _assign_block_names(modules, taken)
    return modules


def _members(
    block: Mapping[str, Any], base_members: Iterable[str], *, top_level: bool
) -> tuple[list[Attr], list[BlockParam]]:
    """The attributes and nested blocks of a block, with their Python names."""
    taken = set(_RESERVED) | set(base_members)
    if top_level:
        taken |= set(RESOURCE_META) | {"alias"}
    else:
        taken |= {"to_terraform", "_TF_NAMES"}
    attrs = [
        Attr(name, python_name(name, taken), spec)
        for name, spec in sorted(block.get("attributes", {}).items())
    ]
    blocks = [
        BlockParam(name, python_name(name, taken), spec)
        for name, spec in sorted(block.get("block_types", {}).items())
    ]
    return attrs, blocks


def _collect_blocks(module: TypeModule, params: list[BlockParam], path: tuple[str, ...]) -> None:
    """The nested-block classes of a module, in pre-order, with their natural names."""
    for param in params:
        tf_path = (*path, param.tf_name)
        attrs, blocks = _members(param.schema["block"], (), top_level=False)
        natural = module.class_name + "".join(camel(p) for p in tf_path)
        module.block_classes.append(BlockClass(natural, tf_path, param.schema, attrs, blocks))
        param.class_name = natural
        _collect_blocks(module, blocks, tf_path)


def _assign_block_names(modules: list[TypeModule], taken: dict[str, str]) -> None:
    """Make block class names unique across the package (``__init__`` re-exports them all).

    A block's natural name is its owner's class name plus its path. Top-level classes keep
    their names; among blocks, the one with the shorter path wins (so the block ``rule`` of
    ``aws_s3_bucket_server_side_encryption_configuration`` is
    ``S3BucketServerSideEncryptionConfigurationRule``, and the deprecated inline block
    ``server_side_encryption_configuration.rule`` of ``aws_s3_bucket`` gets a ``Block``
    suffix). Losers get ``Block`` (then ``Block2``, ...) appended.
    """
    owners: dict[int, tuple[TypeModule, BlockClass]] = {}
    for module in modules:
        for block_class in module.block_classes:
            owners[id(block_class)] = (module, block_class)
    renames: dict[tuple[str, tuple[str, ...]], str] = {}
    ordered = sorted(owners.values(), key=lambda o: (len(o[1].tf_path), o[0].module, o[1].tf_path))
    for module, block_class in ordered:
        natural = block_class.class_name
        name, suffix = natural, 1
        while name in taken:
            name = f"{natural}Block" if suffix == 1 else f"{natural}Block{suffix}"
            suffix += 1
        taken[name] = f"{module.tf_type} block {'.'.join(block_class.tf_path)}"
        block_class.class_name = name
        renames[(module.module, block_class.tf_path)] = name
    for module in modules:
        _rename_params(module.module, module.blocks, (), renames)
        for block_class in module.block_classes:
            _rename_params(module.module, block_class.blocks, block_class.tf_path, renames)


def _rename_params(
    module: str,
    params: list[BlockParam],
    path: tuple[str, ...],
    renames: Mapping[tuple[str, tuple[str, ...]], str],
) -> None:
    for param in params:
        param.class_name = renames[(module, (*path, param.tf_name))]


# --- types -------------------------------------------------------------------------------


def describe_type(tf_type: Any) -> str:
    """A short human description of a Terraform type: ``list of string``."""
    if isinstance(tf_type, str):
        return tf_type
    if isinstance(tf_type, list) and tf_type:
        kind = str(tf_type[0])
        if kind in ("list", "set", "map") and len(tf_type) == 2:
            return f"{kind} of {describe_type(tf_type[1])}"
        return kind
    return "value"


def param_type(tf_type: Any, *, top: bool = True) -> str:
    """The Python annotation of an input of Terraform type ``tf_type``."""
    if tf_type == "string":
        return "str"
    if tf_type == "number":
        return "float"
    if tf_type == "bool":
        # cdktf's boolean references (get_boolean_attribute) are IResolvable.
        return "bool | cdktf.IResolvable" if top else "bool"
    if isinstance(tf_type, list) and len(tf_type) == 2:
        kind, inner = tf_type
        if kind in ("list", "set"):
            return f"Sequence[{param_type(inner, top=False)}]"
        if kind == "map":
            return f"Mapping[str, {param_type(inner, top=False)}]"
        if kind == "object":
            return "Mapping[str, Any]"
    return "Any"


def nested_type(spec: Mapping[str, Any]) -> str:
    """Attributes with a nested_type (protocol 6 providers) are passed as plain mappings."""
    mode = spec["nested_type"].get("nesting_mode", "single")
    if mode in ("list", "set"):
        return "Sequence[Mapping[str, Any]]"
    if mode == "map":
        return "Mapping[str, Mapping[str, Any]]"
    return "Mapping[str, Any]"


def attr_annotation(attr: Attr) -> str:
    if "nested_type" in attr.schema:
        return nested_type(attr.schema)
    return param_type(attr.schema.get("type"))


def block_annotation(param: BlockParam) -> str:
    if param.schema.get("nesting_mode") in ("single", "group"):
        return param.class_name
    return f"Sequence[{param.class_name}]"


def getter(attr: Attr) -> tuple[str, str]:
    """The cdktf getter used for an attribute reference, and its return annotation."""
    tf_type = attr.schema.get("type")
    simple = {
        "string": ("get_string_attribute", "str"),
        "number": ("get_number_attribute", "float"),
        "bool": ("get_boolean_attribute", "cdktf.IResolvable"),
    }
    if isinstance(tf_type, str) and tf_type in simple:
        return simple[tf_type]
    if isinstance(tf_type, list) and len(tf_type) == 2:
        kind, inner = tf_type
        if kind in ("list", "set") and inner == "string":
            return "get_list_attribute", "list[str]"
        if kind in ("list", "set") and inner == "number":
            return "get_number_list_attribute", "list[float]"
        maps = {
            "string": ("get_string_map_attribute", "Mapping[str, str]"),
            "number": ("get_number_map_attribute", "Mapping[str, float]"),
            "bool": ("get_boolean_map_attribute", "Mapping[str, bool]"),
        }
        if kind == "map" and isinstance(inner, str) and inner in maps:
            return maps[inner]
    return "interpolation_for_attribute", "Any"


# --- docs --------------------------------------------------------------------------------


def docs_url(kind: str, tf_type: str, version: str) -> str:
    base = f"{REGISTRY}/{PROVIDER_SOURCE}/{version}/docs"
    if kind == "provider":
        return base
    section = "data-sources" if kind == "data source" else "resources"
    return f"{base}/{section}/{short_name(tf_type)}"


def _clean(text: str) -> str:
    """Collapse whitespace and make text safe inside a triple-quoted docstring."""
    text = " ".join(text.split())
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def attr_doc(attr: Attr) -> str:
    spec = attr.schema
    kind = "Required" if attr.required else "Optional"
    text = f"{kind} {describe_type(spec.get('type', 'object'))} attribute `{attr.tf_name}`"
    if spec.get("computed") and not attr.required:
        text += "; computed by the provider when omitted"
    text += "."
    if spec.get("description"):
        text += f" {spec['description']}"
    text += _flags(spec)
    return text


def _flags(spec: Mapping[str, Any]) -> str:
    flags = [
        label
        for key, label in (
            ("deprecated", "Deprecated."),
            ("sensitive", "Sensitive."),
            ("write_only", "Write-only."),
        )
        if spec.get(key)
    ]
    return "".join(f" {flag}" for flag in flags)


def block_doc(param: BlockParam) -> str:
    spec = param.schema
    kind = "Required" if param.required else "Optional"
    mode = spec.get("nesting_mode", "list")
    limits = []
    if spec.get("min_items"):
        limits.append(f"at least {spec['min_items']}")
    if spec.get("max_items"):
        limits.append(f"at most {spec['max_items']}")
    shape = f"{mode} nesting" + (f", {' and '.join(limits)} item(s)" if limits else "")
    text = f"{kind} block `{param.tf_name}` ({shape}), see `{param.class_name}`."
    block = spec.get("block", {})
    if block.get("description"):
        text += f" {block['description']}"
    text += _flags(block)
    return text


def reference_doc(attr: Attr) -> str:
    spec = attr.schema
    notes = [describe_type(spec.get("type", "object"))]
    if spec.get("computed"):
        notes.append("computed")
    if spec.get("deprecated"):
        notes.append("deprecated")
    return f"Reference to the `{attr.tf_name}` attribute ({', '.join(notes)})."


def docstring(
    summary: str,
    paragraphs: Iterable[str],
    args: Iterable[tuple[str, str]],
    indent: int,
    section: str = "Args",
) -> list[str]:
    """A Google-style docstring, wrapped to the line length, as source lines."""
    pad = " " * indent
    # Leave room for the closing quotes: ruff joins them onto a lone summary line.
    lines = _wrap(_clean(summary), pad + '"""', pad, LINE_LENGTH - 3)
    body: list[str] = []
    for paragraph in paragraphs:
        body += ["", *_wrap(_clean(paragraph), pad, pad)]
    args = list(args)
    if args:
        body += ["", f"{pad}{section}:"]
        for name, text in args:
            body += _wrap(f"{name}: {_clean(text)}", pad + "    ", pad + "        ")
    if not body and len(lines) == 1 and len(lines[0]) + 3 <= LINE_LENGTH:
        return [lines[0] + '"""']
    return [*lines, *body, f'{pad}"""']


def _wrap(text: str, first: str, rest: str, width: int = LINE_LENGTH) -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]


# --- source ------------------------------------------------------------------------------


def header(version: str) -> list[str]:
    return [
        f"# Generated by ndap_infra.codegen from {PROVIDER_SOURCE} {version}; do not edit.",
        "# Regenerate with `python -m ndap_infra.codegen` (types: ndap_infra/codegen/types.toml).",
    ]


def render_module(module: TypeModule, base: BaseClass, version: str) -> str:
    body = list(_render_top_class(module, base, version))
    for block_class in module.block_classes:
        body += ["", ""]
        body += _render_block_class(module, block_class)
    text = "\n".join(body)
    imports = ["from __future__ import annotations", ""]
    abc = [name for name in ("Mapping", "Sequence") if f"{name}[" in text]
    if abc:
        imports.append(f"from collections.abc import {', '.join(abc)}")
    if module.block_classes:
        imports.append("from dataclasses import dataclass")
    typing_names = ["Any"] + (["ClassVar"] if "ClassVar[" in text else [])
    imports.append(f"from typing import {', '.join(typing_names)}")
    imports += [
        "",
        "import cdktf",
        "from constructs import Construct",
        "",
        "from . import _runtime",
    ]
    summary = f"Typed {module.kind} class for ``{module.tf_type}`` ({PROVIDER_SOURCE} {version})."
    if module.kind == "provider":
        summary = f"Typed provider class for ``{PROVIDER_SOURCE}`` {version}."
    doc = docstring(summary, (), (), 0)
    return "\n".join([*header(version), *doc, "", *imports, "", "", text]) + "\n"


def _render_top_class(module: TypeModule, base: BaseClass, version: str) -> Iterator[str]:
    kind = module.kind
    settable = [a for a in module.attrs if a.settable and (a.tf_name != "id" or a.required)]
    required = [(a.py_name, attr_annotation(a), attr_doc(a)) for a in settable if a.required]
    required += [
        (b.py_name, block_annotation(b), block_doc(b)) for b in module.blocks if b.required
    ]
    optional = [(a.py_name, attr_annotation(a), attr_doc(a)) for a in settable if not a.required]
    optional += [
        (b.py_name, block_annotation(b), block_doc(b)) for b in module.blocks if not b.required
    ]
    required.sort()
    optional.sort()
    if kind == "provider":
        title = f"The ``{module.tf_type}`` provider ({PROVIDER_SOURCE} {version})."
        meta = [("alias", "str", "Provider alias, for configuring several instances.")]
    else:
        title = f"Terraform {kind} ``{module.tf_type}`` ({PROVIDER_SOURCE} {version})."
        meta = [
            ("depends_on", "Sequence[cdktf.ITerraformDependable]", "Terraform `depends_on`."),
            ("provider", "cdktf.TerraformProvider", "Provider instance (an aliased AwsProvider)."),
            ("count", "float | cdktf.TerraformCount", "Terraform `count`."),
            ("lifecycle", "cdktf.TerraformResourceLifecycle", "Terraform `lifecycle`."),
            ("for_each", "cdktf.ITerraformIterator", "Terraform `for_each`."),
        ]
    paragraphs = [f"Docs: {docs_url(kind, module.tf_type, version)}"]
    description = module.block.get("description")
    if description:
        paragraphs.insert(0, str(description))
    if module.block.get("deprecated"):
        paragraphs.insert(0, "Deprecated.")
    yield f"class {module.class_name}({base.base}):"
    yield from docstring(title, paragraphs, (), 4)
    yield ""
    yield f'    TF_TYPE: ClassVar[str] = "{module.tf_type}"'
    if kind == "provider":
        yield "    _ndap_alias: str | None = None"
    yield ""
    yield "    def __init__("
    yield "        self,"
    yield "        scope: Construct,"
    yield "        id_: str,"
    yield "        *,"
    for name, annotation, _ in required:
        yield f"        {name}: {annotation},"
    for name, annotation, _ in optional:
        yield f"        {name}: {annotation} | None = None,"
    for name, annotation, _ in meta:
        yield f"        {name}: {annotation} | None = None,"
    yield "    ) -> None:"
    args = [("scope", "The construct scope (usually the stack)."), ("id_", "The construct id.")]
    args += [(name, text) for name, _, text in (*required, *optional, *meta)]
    yield from docstring(f"Declare ``{module.tf_type}``.", (), args, 8)
    yield "        super().__init__("
    yield "            scope,"
    yield "            id_,"
    yield f'            terraform_resource_type="{module.tf_type}",'
    yield "            terraform_generator_metadata=_runtime.GENERATOR_METADATA,"
    if kind == "provider":
        yield "            terraform_provider_source=_runtime.PROVIDER_SOURCE,"
    else:
        for name in RESOURCE_META:
            yield f"            {name}={name},"
    yield "        )"
    entries = [(a.tf_name, a.py_name) for a in settable]
    entries += [(b.tf_name, b.py_name) for b in module.blocks]
    entries.sort()
    if entries:
        yield "        self._ndap_attributes: dict[str, Any] = {"
        for tf_name, py_name in entries:
            yield f'            "{tf_name}": {py_name},'
        yield "        }"
    else:
        yield "        self._ndap_attributes: dict[str, Any] = {}"
    if kind == "provider":
        yield "        self.alias = alias"
    yield ""
    yield "    def _synthesize_attributes(self) -> dict[str, Any]:"
    yield "        return _runtime.synthesize(self._ndap_attributes)"
    if kind == "provider":
        # cdktf's TerraformProvider.alias is a no-op getter/setter pair that generated
        # providers must override (jsii then calls this override for fqn / metaAttributes).
        yield ""
        yield "    @property"
        yield "    def alias(self) -> str | None:"
        yield '        """The provider alias (``aws.<alias>`` in references), or None."""'
        yield "        return self._ndap_alias"
        yield ""
        yield "    @alias.setter"
        yield "    def alias(self, value: str | None) -> None:"
        yield "        self._ndap_alias = value"
        return
    for attr in module.attrs:
        method, annotation = getter(attr)
        yield ""
        yield "    @property"
        yield f"    def {attr.py_name}(self) -> {annotation}:"
        yield from docstring(reference_doc(attr), (), (), 8)
        yield f'        return self.{method}("{attr.tf_name}")'


def _render_block_class(module: TypeModule, block_class: BlockClass) -> list[str]:
    required = [
        (a.py_name, attr_annotation(a), attr_doc(a))
        for a in block_class.attrs
        if a.settable and a.required
    ]
    required += [
        (b.py_name, block_annotation(b), block_doc(b)) for b in block_class.blocks if b.required
    ]
    optional = [
        (a.py_name, attr_annotation(a), attr_doc(a))
        for a in block_class.attrs
        if a.settable and not a.required
    ]
    optional += [
        (b.py_name, block_annotation(b), block_doc(b)) for b in block_class.blocks if not b.required
    ]
    required.sort()
    optional.sort()
    block = block_class.schema.get("block", {})
    path = ".".join(block_class.tf_path)
    paragraphs = []
    if block.get("deprecated"):
        paragraphs.append("Deprecated.")
    if block.get("description"):
        paragraphs.append(str(block["description"]))
    computed = [a.tf_name for a in block_class.attrs if not a.settable]
    if computed:
        paragraphs.append(
            "Computed-only attributes, not settable: " + ", ".join(f"`{n}`" for n in computed) + "."
        )
    lines = [
        "@dataclass(frozen=True, kw_only=True)",
        f"class {block_class.class_name}(_runtime.Block):",
    ]
    lines += docstring(
        f"Block ``{path}`` of ``{module.tf_type}``.",
        paragraphs,
        [(n, t) for n, _, t in (*required, *optional)],
        4,
        section="Attributes",
    )
    renamed = [
        (a.py_name, a.tf_name) for a in block_class.attrs if a.settable and a.py_name != a.tf_name
    ]
    renamed += [(b.py_name, b.tf_name) for b in block_class.blocks if b.py_name != b.tf_name]
    if renamed:
        lines.append("")
        items = ", ".join(f'"{py}": "{tf}"' for py, tf in sorted(renamed))
        lines.append(f"    _TF_NAMES: ClassVar[Mapping[str, str]] = {{{items}}}")
    if required or optional:
        lines.append("")
    for name, annotation, _ in required:
        lines.append(f"    {name}: {annotation}")
    for name, annotation, _ in optional:
        lines.append(f"    {name}: {annotation} | None = None")
    return lines


def render_init(modules: list[TypeModule], version: str) -> str:
    """The package ``__init__``: every class is re-exported, each module imported lazily on
    first use (PEP 562), so importing the package costs next to nothing."""
    lines = [
        *header(version),
        f'"""Typed classes for the {PROVIDER_SOURCE} {version} types listed in '
        "ndap_infra/codegen/types.toml.",
        "",
        "Resources are named after the type without the provider prefix (``aws_s3_bucket`` ->",
        "``S3Bucket``), data sources get a ``DataAws`` prefix (``DataAwsCallerIdentity``), the",
        "provider is ``AwsProvider``, and nested blocks are frozen dataclasses named after their",
        "owner and path (``S3BucketServerSideEncryptionConfigurationRule``).",
        "",
        "Every class is importable from this package; its module is only imported on first",
        "access, so a stack pays only for the types it uses.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import importlib",
        "from typing import TYPE_CHECKING, Any",
        "",
        "if TYPE_CHECKING:",
    ]
    exports: dict[str, list[str]] = {}
    for module in modules:
        names = sorted([module.class_name] + [b.class_name for b in module.block_classes])
        exports[module.module] = names
        lines.append(f"    from .{module.module} import {', '.join(names)}")
    lines += ["", "# module -> the classes it defines", "_EXPORTS: dict[str, tuple[str, ...]] = {"]
    for module_name, names in exports.items():
        lines.append(f'    "{module_name}": ({", ".join(repr(n) for n in names)},),')
    lines += [
        "}",
        "_MODULES = {name: module for module, names in _EXPORTS.items() for name in names}",
        "",
        "__all__ = [",
    ]
    lines += [f'    "{name}",' for name in sorted(n for names in exports.values() for n in names)]
    lines += [
        "]",
        "",
        "",
        "def __getattr__(name: str) -> Any:",
        "    module = _MODULES.get(name)",
        "    if module is None:",
        '        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")',
        '    value = getattr(importlib.import_module(f".{module}", __name__), name)',
        "    globals()[name] = value",
        "    return value",
        "",
        "",
        "def __dir__() -> list[str]:",
        "    return sorted({*globals(), *__all__})",
    ]
    return "\n".join(lines) + "\n"
