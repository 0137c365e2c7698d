"""Generate the typed classes, compare them with the committed ones, write them."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ndap_infra.codegen import render
from ndap_infra.codegen.config import OUTPUT_DIR, CodegenError, TypeList

RUNTIME_SOURCE = Path(__file__).resolve().with_name("runtime_support.py")
RUNTIME_MODULE = "_runtime.py"


def base_classes() -> dict[str, render.BaseClass]:
    """The cdktf base classes, with the member names generated names must not shadow."""
    import cdktf  # deferred: importing cdktf starts a Node.js process

    def members(cls: type) -> frozenset[str]:
        return frozenset(name for name in dir(cls) if not name.startswith("__"))

    return {
        "resource": render.BaseClass(
            "resource", "cdktf.TerraformResource", members(cdktf.TerraformResource)
        ),
        "data source": render.BaseClass(
            "data source", "cdktf.TerraformDataSource", members(cdktf.TerraformDataSource)
        ),
        "provider": render.BaseClass(
            "provider", "cdktf.TerraformProvider", members(cdktf.TerraformProvider)
        ),
    }


def generate(
    schema: Mapping[str, Any],
    types: TypeList,
    bases: Mapping[str, render.BaseClass] | None = None,
) -> dict[str, str]:
    """The generated package in memory: file name (relative to the output directory) ->
    ruff-formatted source text."""
    version = str(schema["provider_version"])
    bases = base_classes() if bases is None else bases
    modules = render.build_modules(schema, types, bases)
    files = {f"{m.module}.py": render.render_module(m, bases[m.kind], version) for m in modules}
    files["__init__.py"] = render.render_init(modules, version)
    runtime = RUNTIME_SOURCE.read_text(encoding="utf-8")
    files[RUNTIME_MODULE] = "\n".join(render.header(version)) + "\n" + runtime
    return ruff_format(files)


def ruff_format(files: Mapping[str, str]) -> dict[str, str]:
    """Format sources with ruff (the project's line length), independent of any config file."""
    with tempfile.TemporaryDirectory(prefix="ndap-codegen-") as tmp:
        root = Path(tmp)
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        options = [
            "--isolated",
            "--quiet",
            f"--line-length={render.LINE_LENGTH}",
            "--target-version=py311",
        ]
        # Sort imports first (the only lint fix wanted), then format.
        _ruff(["check", *options, "--select=I", "--fix", "--exit-zero", str(root)])
        _ruff(["format", *options, str(root)])
        return {name: (root / name).read_text(encoding="utf-8") for name in sorted(files)}


def _ruff(arguments: list[str]) -> None:
    command = [sys.executable, "-m", "ruff", *arguments]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as err:
        raise CodegenError(f"cannot run ruff: {err}") from err
    if result.returncode != 0:
        raise CodegenError(f"ruff {arguments[0]} failed:\n{result.stderr or result.stdout}")


@dataclass(frozen=True)
class Difference:
    path: Path
    problem: str  # "changed", "missing" or "unexpected"

    def __str__(self) -> str:
        return f"{self.path} ({self.problem})"


def committed_files(output_dir: Path = OUTPUT_DIR) -> dict[str, str]:
    """The generated Python files currently in the output directory."""
    if not output_dir.is_dir():
        return {}
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(output_dir.glob("*.py"))}


def differences(files: Mapping[str, str], output_dir: Path = OUTPUT_DIR) -> list[Difference]:
    """How the output directory differs from the freshly generated files."""
    current = committed_files(output_dir)
    result: list[Difference] = []
    for name in sorted(set(files) | set(current)):
        if name not in current:
            result.append(Difference(output_dir / name, "missing"))
        elif name not in files:
            result.append(Difference(output_dir / name, "unexpected"))
        elif current[name] != files[name]:
            result.append(Difference(output_dir / name, "changed"))
    return result


def write_files(files: Mapping[str, str], output_dir: Path = OUTPUT_DIR) -> list[Difference]:
    """Make the output directory hold exactly ``files``; returns what changed."""
    changes = differences(files, output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for change in changes:
        if change.problem == "unexpected":
            change.path.unlink()
        else:
            change.path.write_text(files[change.path.name], encoding="utf-8")
    return changes
