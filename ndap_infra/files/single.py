"""Write one generated file atomically, and never over a file the tool did not write.

The file is recognised as ndap's by its content (how it starts, or what it declares): an
earlier output is replaced, anything else (a user's notes, the configuration, a directory)
is refused before anything changes. The new text is staged under a unique temporary name
beside the target and renamed over it, so a reader sees the old file or the new one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ndap_infra.files.directories import UnsafeOutput

MAX_OWN_FILE = 16 * 1024 * 1024
"""Larger than anything ndap writes as one file: not read to decide whether it is ours."""


def starts_with(heading: str) -> Callable[[str], bool]:
    """Ownership by the first line ndap writes."""
    return lambda existing: existing.startswith(heading)


def _existing_text(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_OWN_FILE:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write_generated_file(path: Path, text: str, is_own: Callable[[str], bool], what: str) -> None:
    """Write ``text`` to ``path``. Raises UnsafeOutput when ``path`` is a directory, or a
    file for which ``is_own`` (given its text) is false; OSError when the place cannot be
    written (nothing is left behind). ``what`` names the output in messages."""
    if not is_own(text):
        raise ValueError(f"the generated {what} is not recognised as ndap's own")
    if path.is_dir():
        raise UnsafeOutput(f"{path} is a directory: name the file to write")
    if path.exists() or path.is_symlink():
        existing = _existing_text(path)
        if existing is None or not is_own(existing):
            raise UnsafeOutput(
                f"{path} exists and is not {what} ndap wrote: choose another path or move it away"
            )
    parent = path.parent
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    staged = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        with contextlib.suppress(OSError):
            os.chmod(staged, 0o644)
        staged.replace(path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
