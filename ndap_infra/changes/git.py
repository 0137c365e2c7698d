"""What this package asks of git: resolve revisions, merge bases, the name-status diff,
trees and blobs. Everything goes through the ``git`` executable (no reimplementation of
git's object format), with ``-z`` output so that any path survives parsing.

Only full commit ids reach a git command line after :meth:`Repository.resolve`, and a
revision is passed after ``--end-of-options``, so no revision can be read as an option.
Works in bare repositories and from any directory inside a work tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Variables that would point git elsewhere than --repo (set inside git hooks, for example).
_REPOSITORY_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
)


class ChangesError(Exception):
    """Bad input: not a repository, a revision that does not exist, no common history.
    The message says what was wrong and what to do."""


@dataclass(frozen=True)
class DiffEntry:
    """One record of ``git diff --name-status``: ``status`` is the letter (A, C, D, M, R,
    T, U, X, B), ``score`` the similarity of a rename or copy, ``old_path`` its source."""

    status: str
    path: str
    old_path: str | None = None
    score: int | None = None


@dataclass(frozen=True)
class TreeEntry:
    """One entry of ``git ls-tree -r``: a blob (file or symlink) or a commit (submodule)."""

    mode: str
    type: str
    object: str
    path: str


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    return env


@dataclass(frozen=True)
class Repository:
    """A git repository on disk (bare or not)."""

    path: Path
    git: str

    @classmethod
    def open(cls, path: Path) -> Repository:
        git = shutil.which("git")
        if git is None:
            raise ChangesError("git was not found on PATH: install git (2.28 or newer)")
        if not path.is_dir():
            raise ChangesError(f"{path}: no such directory (pass --repo a git repository)")
        repository = cls(path, git)
        result = repository._run("rev-parse", "--git-dir", check=False)
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip()
            raise ChangesError(f"{path} is not a git repository ({detail})")
        return repository

    def _run(self, *args: str, check: bool = True, stdin: bytes | None = None) -> _Completed:
        completed = subprocess.run(
            [self.git, "-C", str(self.path), "-c", "core.quotePath=false", *args],
            input=stdin,
            capture_output=True,
            env=_environment(),
            check=False,
        )
        result = _Completed(completed.returncode, completed.stdout, completed.stderr)
        if check and completed.returncode != 0:
            detail = completed.stderr.decode(errors="replace").strip()
            raise ChangesError(f"git {' '.join(args)} failed in {self.path}: {detail}")
        return result

    def is_shallow(self) -> bool:
        result = self._run("rev-parse", "--is-shallow-repository", check=False)
        return result.stdout.strip() == b"true"

    def resolve(self, revision: str, role: str) -> str:
        """The full id of the commit ``revision`` names; ChangesError if there is none."""
        if not revision.strip():
            raise ChangesError(f"--{role}: an empty revision names no commit")
        result = self._run(
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{revision}^{{commit}}",
            check=False,
        )
        if result.returncode != 0:
            hint = (
                " The repository is a shallow clone: fetch more history (e.g. "
                "`git fetch --unshallow`, or checkout with fetch-depth: 0)."
                if self.is_shallow()
                else ""
            )
            raise ChangesError(
                f"--{role} {revision!r}: no such commit in {self.path} (a branch, tag or commit "
                f"id that exists in this repository is needed).{hint}"
            )
        return result.stdout.decode().strip()

    def merge_bases(self, base: str, head: str) -> tuple[str, ...]:
        """Every best common ancestor of two commits (more than one after criss-cross
        merges); ChangesError if they share no history."""
        result = self._run("merge-base", "--all", base, head, check=False)
        bases = tuple(result.stdout.decode().split())
        if result.returncode not in (0, 1) or (result.returncode == 1 and result.stderr):
            detail = result.stderr.decode(errors="replace").strip()
            raise ChangesError(f"git merge-base failed in {self.path}: {detail}")
        if not bases:
            raise ChangesError(
                f"{base[:12]} and {head[:12]} share no history (no merge base): compare two "
                "revisions of the same line of development"
            )
        return bases

    def diff(self, old: str, new: str) -> tuple[DiffEntry, ...]:
        """``git diff --name-status -M -C old new`` (renames and copies detected)."""
        result = self._run(
            "diff",
            "--name-status",
            "-z",
            "-M",
            "-C",
            "--no-relative",
            "--no-ext-diff",
            "--no-textconv",
            "--ignore-submodules=none",
            old,
            new,
            "--",
        )
        return parse_name_status_z(result.stdout)

    def tree(self, commit: str) -> tuple[TreeEntry, ...]:
        """Every file (and submodule) of a commit, with full paths."""
        output = self._run("ls-tree", "-r", "-z", "--full-tree", commit).stdout
        entries = []
        for record in output.split(b"\0"):
            if not record:
                continue
            meta, _, path = record.partition(b"\t")
            mode, kind, object_id = meta.decode().split()
            entries.append(
                TreeEntry(mode, kind, object_id, path.decode("utf-8", "surrogateescape"))
            )
        return tuple(entries)

    def read_blobs(self, object_ids: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """The content of each blob, through one ``git cat-file --batch`` process (one
        request, one answer at a time: no pipe can fill up)."""
        process = subprocess.Popen(
            [self.git, "-C", str(self.path), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_environment(),
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            for object_id in object_ids:
                process.stdin.write(object_id.encode() + b"\n")
                process.stdin.flush()
                header = process.stdout.readline().split()
                if len(header) != 3:
                    raise ChangesError(f"{self.path}: object {object_id} is missing")
                size = int(header[2])
                content = process.stdout.read(size)
                process.stdout.read(1)  # the newline after each object
                yield object_id, content
        finally:
            process.stdin.close()
            process.stdout.close()
            process.wait()


@dataclass(frozen=True)
class _Completed:
    returncode: int
    stdout: bytes
    stderr: bytes


def parse_name_status_z(output: bytes) -> tuple[DiffEntry, ...]:
    """Parse ``git diff --name-status -z``: ``STATUS\\0PATH\\0`` records, and
    ``R<score>\\0OLD\\0NEW\\0`` / ``C<score>\\0OLD\\0NEW\\0`` for renames and copies."""
    fields = [f.decode("utf-8", "surrogateescape") for f in output.split(b"\0")]
    if fields and fields[-1] == "":
        fields.pop()
    entries: list[DiffEntry] = []
    i = 0
    while i < len(fields):
        raw = fields[i]
        letter, digits = raw[:1], raw[1:]
        score = int(digits) if digits.isdigit() else None
        if letter in ("R", "C"):
            entries.append(DiffEntry(letter, fields[i + 2], fields[i + 1], score))
            i += 3
        else:
            entries.append(DiffEntry(letter, fields[i + 1], None, score))
            i += 2
    return tuple(entries)
