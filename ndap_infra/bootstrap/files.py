"""Writing a file without ever leaving half of it, or overwriting what exists."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class BootstrapError(Exception):
    """Bad input to a bootstrap command: the message says what to do. Nothing was written."""


def _staged(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def create_file(path: Path, text: str) -> None:
    """Write a new file atomically; refuse (BootstrapError) if ``path`` exists, even if it
    appears between the check and the write (the final step is a hard link, which never
    replaces)."""
    staged = _staged(path, text)
    try:
        os.link(staged, path)
    except FileExistsError:
        raise BootstrapError(f"{path} already exists: nothing was written") from None
    finally:
        staged.unlink(missing_ok=True)


def replace_file(path: Path, text: str) -> None:
    """Replace an existing file atomically (temporary file + rename), keeping its mode. A
    symbolic link is followed: its target is replaced, the link stays a link."""
    path = path.resolve() if path.is_symlink() else path
    staged = _staged(path, text)
    try:
        with contextlib.suppress(OSError):
            os.chmod(staged, path.stat().st_mode & 0o7777)
        staged.replace(path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
