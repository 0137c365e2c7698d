"""Linter output kept by the digest of its inputs, so an unchanged build does not run
checkov and parliament again.

What is kept is the tool's own output (stdout), never a verdict: the suppressions are
applied again on every run, so editing one takes effect at once. The digest covers the
tool's installation (every ``RECORD`` of its virtualenv: its version and its dependencies'),
its arguments and environment, and the bytes of every file it reads. A tool found outside
a virtualenv has no such identity and is always run. Why and how: docs/design-notes.md,
this module's section."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CACHE_SUBDIR = Path("cache") / "linters"
"""Below the work directory (``.ndap`` by default)."""
FORMAT = 1
"""Bumped when what a record holds changes: old records then miss."""
PLACEHOLDER = "@@ndap-linted-directory@@"
"""Stands, in a kept output, for the directory the tool read (a new one each run)."""


@cache
def tool_identity(executable: Path) -> str | None:
    """A digest of the virtualenv ``executable`` belongs to: every installed distribution's
    ``RECORD`` (names, versions and the hashes of their files). None when ``executable``
    is not in a virtualenv ndap can read, and then nothing is cached."""
    base = executable.absolute().parent.parent
    records = sorted(base.glob("lib/python*/site-packages/*.dist-info/RECORD"))
    if not records:
        return None
    digest = hashlib.sha256()
    for record in records:
        digest.update(record.relative_to(base).as_posix().encode() + b"\n")
        digest.update(record.read_bytes())
    return digest.hexdigest()


def inputs_digest(
    tool: str,
    argv: Sequence[str],
    directory: Path,
    env: Mapping[str, str],
    files: Iterable[tuple[str, Path]],
) -> str:
    """The digest of one linter run (``argv[0]`` the tool's executable, reading
    ``directory``): the tool's installation, its arguments with ``directory`` written as
    the placeholder, its environment, and each file read (name and bytes). "" when the
    installation is unknown: such a run is never kept."""
    identity = tool_identity(Path(argv[0]))
    if identity is None:
        return ""
    flags = [a.replace(str(directory), PLACEHOLDER) for a in argv[1:]]
    digest = hashlib.sha256()
    header = {"format": FORMAT, "tool": tool, "identity": identity, "argv": flags}
    digest.update(json.dumps({**header, "env": dict(sorted(env.items()))}).encode() + b"\n")
    for name, path in files:
        content = path.read_bytes()
        digest.update(f"{name}\n{len(content)}\n".encode())
        digest.update(content)
    return digest.hexdigest()


@dataclass(frozen=True)
class LintCache:
    """One record file per digest in ``directory``."""

    directory: Path

    @classmethod
    def in_work_dir(cls, work_dir: Path) -> LintCache:
        return cls(work_dir / CACHE_SUBDIR)

    def get(self, digest: str, directory: Path) -> dict[str, str] | None:
        """The kept record, with the placeholder read as ``directory``; None when absent
        or unreadable (the tool then runs)."""
        try:
            data = json.loads((self.directory / f"{digest}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return None
        return {key: value.replace(PLACEHOLDER, str(directory)) for key, value in data.items()}

    def put(self, digest: str, directory: Path, record: Mapping[str, str]) -> None:
        """Keep ``record`` with ``directory`` written as the placeholder, atomically."""
        text = json.dumps({k: v.replace(str(directory), PLACEHOLDER) for k, v in record.items()})
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text + "\n")
            Path(temporary).replace(self.directory / f"{digest}.json")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
