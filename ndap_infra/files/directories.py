"""Write generated directories all at once, and never over what the tool did not write.

A directory ndap generates carries a manifest (``.ndap-output``: the files it wrote).
It is replaced only when everything in it is in that manifest or is about to be written
again; anything else (a user's file, a repository, the working directory) is refused with
the reason, before anything changes. Why: docs/design-notes.md, section
ndap_infra/files/directories.py."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

MANIFEST = ".ndap-output"
"""In every directory ndap owns: the relative paths of the files it wrote there (JSON; no
``.json`` suffix, so that nothing reading a directory's ``*.json``, such as parliament
over ``policies/`` or the review pack, takes it for a policy)."""
SHOWN = 5


class UnsafeOutput(Exception):
    """Writing there would destroy something ndap did not write, or cannot be done (the
    place cannot be created or written); nothing was changed."""


def _files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.name != MANIFEST
    )


def written_by_ndap(root: Path) -> frozenset[str]:
    """The files ndap's manifest in ``root`` says it wrote (none without a manifest)."""
    try:
        listed = json.loads((root / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()
    return frozenset(str(name) for name in listed)


def check_place(target: Path, protected: Iterable[Path] = ()) -> None:
    """Refuse a target that is, or contains, the working directory, a home or filesystem
    root, a git repository, or one of ``protected`` (the configuration file, say); and a
    file standing where the directory goes."""
    resolved = target.resolve()
    cwd = Path.cwd().resolve()
    why = ""
    if resolved == cwd or resolved in cwd.parents:
        why = "it is the working directory or contains it"
    elif resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        why = "it is a filesystem root or the home directory"
    elif (resolved / ".git").exists():
        why = "it is a git repository"
    else:
        for path in protected:
            kept = path.resolve()
            if resolved == kept or resolved in kept.parents:
                why = f"it holds {path}"
                break
    if not why and (resolved.exists() or resolved.is_symlink()) and not resolved.is_dir():
        why = "a file stands there"
    if why:
        raise UnsafeOutput(
            f"refusing to write into {target}: {why}; ndap replaces its output directories "
            "whole, so give one of their own (e.g. --out cdktf.out, --policies policies). "
            "Nothing was changed."
        )


BY_PRODUCTS = (
    ".terraform",
    ".terraform.lock.hcl",
    "ndap-drift.tfplan",
    "ndap_destroy_override.tf.json",
    "ndap_drift_role_override.tf.json",
)
"""What ndap's own Terraform runs leave in a stack's directory: provider links and the
lock file (regenerated on the next init), and the plan and override files of a drift
check or destroy that was interrupted before it removed them. Replacing them loses
nothing; a state file, say, is never among them."""


def _by_product(name: str) -> bool:
    return any(part in BY_PRODUCTS for part in name.split("/"))


def _check_owned(target: Path, staged: Path) -> None:
    if not target.is_dir():
        return
    ours = written_by_ndap(target) | set(_files(staged))
    foreign = [n for n in _files(target) if n not in ours and not _by_product(n)]
    if foreign:
        shown = ", ".join(foreign[:SHOWN]) + (
            f" and {len(foreign) - SHOWN} more" if len(foreign) > SHOWN else ""
        )
        raise UnsafeOutput(
            f"refusing to replace {target}: it holds files ndap did not write ({shown}); "
            "move them, or give an output directory of ndap's own. Nothing was changed."
        )


def replace_directory(
    target: Path,
    build: Callable[[Path], None],
    *,
    protected: Iterable[Path] = (),
    owned: bool = True,
    before_swap: Callable[[Path], None] | None = None,
) -> None:
    """Run ``build`` into a fresh sibling directory, then swap it in place of ``target``.

    ``target`` must be absent, empty, or hold only what ndap wrote there or is writing now
    (``UnsafeOutput`` otherwise, see ``check_place`` too). With ``owned`` the new directory
    carries the manifest. ``before_swap`` runs on the staged directory once the target is
    known to be replaceable (to write a second output with this one). If ``build`` or
    ``before_swap`` raises or the target is refused, nothing of the output remains and
    ``target`` is as it was.
    """
    protected = tuple(protected)
    check_place(target, protected)
    target = target.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    except OSError as error:
        raise _cannot_write(target, error) from None
    try:
        build(staging)
        _check_owned(target, staging)
        if before_swap is not None:
            before_swap(staging)
        if owned:
            manifest = {"written_by": "ndap-infra", "files": _files(staging)}
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise _cannot_write(target, error) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap(staging, target)


def _cannot_write(target: Path, error: OSError) -> UnsafeOutput:
    blocking = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        return UnsafeOutput(
            f"cannot write {target}: {blocking} is a file, not a directory; nothing was changed"
        )
    where = f" ({error.filename})" if error.filename else ""
    return UnsafeOutput(
        f"cannot write {target}: {error.strerror or error}{where}; nothing was changed"
    )


def _swap(staging: Path, target: Path) -> None:
    """Put ``staging`` where ``target`` is; on failure, ``target`` as it was."""
    retired = target.parent / f".{target.name}.old-{staging.name.rsplit('-', 1)[-1]}"
    moved = False
    try:
        if target.exists():
            target.rename(retired)
            moved = True
        staging.rename(target)
    except OSError as error:
        if moved:
            retired.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
        raise _cannot_write(target, error) from None
    shutil.rmtree(retired, ignore_errors=True)


def write_files(root: Path, files: Mapping[str, str]) -> None:
    """Write ``files`` (relative path -> text) under ``root``."""
    for relative, text in sorted(files.items()):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def read_tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` as relative path -> text (for staleness checks); the
    manifest and PNG files are left out."""
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix != ".png" and p.name != MANIFEST
    }
