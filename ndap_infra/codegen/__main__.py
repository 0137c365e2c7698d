"""Command line: ``python -m ndap_infra.codegen [--check] [--refresh-schema]``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ndap_infra.codegen.config import (
    OUTPUT_DIR,
    REPO_ROOT,
    TYPES_FILE,
    WORK_DIR,
    CodegenError,
    SchemaMismatchError,
    load_types,
)
from ndap_infra.codegen.extract import dump_schema, extract_provider_schema, trim_schema
from ndap_infra.codegen.generator import differences, generate, write_files
from ndap_infra.resources.schema import SCHEMA_DIR, schema_path
from ndap_infra.terraform.provider import PROVIDER_SOURCE, PROVIDER_TYPE, PROVIDER_VERSION


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ndap_infra.codegen",
        description=(
            f"Generate typed cdktf classes for the {PROVIDER_SOURCE} {PROVIDER_VERSION} types "
            f"listed in {_rel(TYPES_FILE)} into {_rel(OUTPUT_DIR)}."
        ),
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and list the stale files if the committed output differs",
    )
    parser.add_argument(
        "--refresh-schema",
        action="store_true",
        help="re-extract the trimmed schema from the pinned provider with terraform first",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=WORK_DIR,
        help=f"Terraform CLI config / plugin cache directory (default: {_rel(WORK_DIR)})",
    )
    args = parser.parse_args(argv)
    try:
        return _run(check=args.check, refresh=args.refresh_schema, work_dir=args.work_dir)
    except CodegenError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _run(*, check: bool, refresh: bool, work_dir: Path) -> int:
    types = load_types()
    path = schema_path()
    stale: list[str] = []
    if refresh:
        print(f"extracting the {PROVIDER_SOURCE} {PROVIDER_VERSION} schema with terraform ...")
        schema_text = dump_schema(trim_schema(extract_provider_schema(work_dir), types))
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        others = [p for p in SCHEMA_DIR.glob(f"{PROVIDER_TYPE}-*.json") if p != path]
        if current != schema_text:
            stale.append(f"{_rel(path)} ({'changed' if current else 'missing'})")
        stale += [f"{_rel(p)} (unexpected)" for p in sorted(others)]
        if not check:
            SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
            if current != schema_text:
                path.write_text(schema_text, encoding="utf-8")
                print(f"wrote {_rel(path)}")
            for other in others:
                other.unlink()
                print(f"removed {_rel(other)}")
    elif not path.is_file():
        raise CodegenError(
            f"{_rel(path)} is missing: run `python -m ndap_infra.codegen --refresh-schema`"
        )
    else:
        schema_text = path.read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(schema_text)
    if schema.get("provider_version") != PROVIDER_VERSION:
        raise CodegenError(
            f"{_rel(path)} is for version {schema.get('provider_version')}, not "
            f"{PROVIDER_VERSION}: run `python -m ndap_infra.codegen --refresh-schema`"
        )
    try:
        files = generate(schema, types)
    except SchemaMismatchError as err:
        if not check:
            raise
        print(f"stale: {_rel(path)}: {err}")
        return 1
    if check:
        stale += [f"{_rel(d.path)} ({d.problem})" for d in differences(files)]
        if stale:
            print(
                "stale generated files (run `python -m ndap_infra.codegen"
                f"{' --refresh-schema' if refresh else ''}`):"
            )
            for line in stale:
                print(f"  {line}")
            return 1
        print(f"up to date: {len(files)} files in {_rel(OUTPUT_DIR)}")
        return 0
    changes = write_files(files)
    for change in changes:
        verb = "removed" if change.problem == "unexpected" else "wrote"
        print(f"{verb} {_rel(change.path)}")
    print(f"{len(files)} files in {_rel(OUTPUT_DIR)}, {len(changes)} changed")
    return 0


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
