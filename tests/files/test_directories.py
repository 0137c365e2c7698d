"""Outputs never destroy what ndap did not write: refused places, foreign files, the
manifest, all or nothing across --out and --policies, and no staging left behind."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ndap_infra.files.directories import (
    BY_PRODUCTS,
    MANIFEST,
    UnsafeOutput,
    replace_directory,
    write_files,
)
from tests.helpers import NDAP, REFERENCE


def snapshot(root: Path) -> dict[str, str]:
    """Every file and directory under ``root``, with the sha256 of each file."""
    return {
        p.relative_to(root).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        )
        for p in sorted(root.rglob("*"))
    }


def ndap(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``ndap *args`` run in ``cwd``, as a user runs it in their repository."""
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    return subprocess.run([*NDAP, *args], cwd=cwd, env=env, capture_output=True, text=True)


def writer(files: dict[str, str]):  # type: ignore[no-untyped-def]
    return lambda staging: write_files(staging, files)


def test_an_absent_or_empty_target_gets_the_output_and_the_manifest(tmp_path: Path) -> None:
    for target in (tmp_path / "absent", tmp_path / "empty"):
        if target.name == "empty":
            target.mkdir()
        replace_directory(target, writer({"a.json": "1", "b/c.md": "2"}))
        assert (target / "b" / "c.md").read_text() == "2"
        manifest = json.loads((target / MANIFEST).read_text())
        assert manifest == {"written_by": "ndap-infra", "files": ["a.json", "b/c.md"]}


def test_ndaps_own_directory_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "out"
    replace_directory(target, writer({"old.json": "1", "kept.json": "1"}))
    replace_directory(target, writer({"kept.json": "2", "new.json": "3"}))
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "kept.json", "new.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "no staging or retired copy left"


def test_a_file_the_user_added_to_ndaps_directory_is_never_deleted(tmp_path: Path) -> None:
    target = tmp_path / "policies"
    replace_directory(target, writer({"ACCESS.md": "1"}))
    (target / "my-notes.md").write_text("mine")
    before = snapshot(tmp_path)
    with pytest.raises(UnsafeOutput, match=r"holds files ndap did not write \(my-notes.md\)"):
        replace_directory(target, writer({"ACCESS.md": "2"}))
    assert snapshot(tmp_path) == before, "nothing changed, no staging directory left"


def test_output_written_before_the_manifest_existed_is_replaced(tmp_path: Path) -> None:
    """policies/ of an earlier version has no manifest: replaced when everything in it is
    written again; refused as soon as one file would be lost."""
    target = tmp_path / "policies"
    write_files(target, {"ACCESS.md": "old", "env-dev/role.json": "old"})
    replace_directory(target, writer({"ACCESS.md": "new", "env-dev/role.json": "new"}))
    assert (target / "ACCESS.md").read_text() == "new"
    legacy = tmp_path / "legacy"
    write_files(legacy, {"ACCESS.md": "old", "gone.json": "old"})
    with pytest.raises(UnsafeOutput, match=r"gone\.json"):
        replace_directory(legacy, writer({"ACCESS.md": "new"}))
    assert (legacy / "gone.json").read_text() == "old"


def test_terraforms_working_files_in_a_stack_directory_are_replaceable(tmp_path: Path) -> None:
    target = tmp_path / "cdktf.out"
    replace_directory(target, writer({"stacks/dev/cdk.tf.json": "{}"}))
    write_files(target, {"stacks/dev/.terraform.lock.hcl": "x", "stacks/dev/.terraform/p": "x"})
    replace_directory(target, writer({"stacks/dev/cdk.tf.json": "{}"}))
    assert not (target / "stacks" / "dev" / ".terraform").exists()
    (target / "stacks" / "dev" / "terraform.tfstate").write_text("{}")
    with pytest.raises(UnsafeOutput, match=r"terraform\.tfstate"):
        replace_directory(target, writer({"stacks/dev/cdk.tf.json": "{}"}))


def test_the_temporary_files_of_ndaps_terraform_runs_are_by_products() -> None:
    from ndap_infra.deploy.drift import ROLE_OVERRIDE_FILE
    from ndap_infra.deploy.runner import OVERRIDE_FILE, PLAN_FILE

    assert {PLAN_FILE, OVERRIDE_FILE, ROLE_OVERRIDE_FILE} <= set(BY_PRODUCTS)


@pytest.mark.parametrize("place", ["cwd", "parent-of-cwd", "git-repository", "file", "config"])
def test_places_that_are_never_replaced(
    place: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "project" / "work"
    work.mkdir(parents=True)
    config = tmp_path / "project" / "conf" / "platform.yaml"
    config.parent.mkdir()
    config.write_text("organization: {}\n")
    monkeypatch.chdir(work)
    target = {
        "cwd": work,
        "parent-of-cwd": tmp_path / "project",
        "git-repository": tmp_path / "repo",
        "file": tmp_path / "out",
        "config": config.parent,
    }[place]
    if place == "git-repository":
        (target / ".git").mkdir(parents=True)
    if place == "file":
        target.write_text("a file where the directory would go")
    before = snapshot(tmp_path)
    with pytest.raises(UnsafeOutput, match="refusing to write into"):
        replace_directory(target, writer({"a.json": "1"}), protected=(config,))
    assert snapshot(tmp_path) == before


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.dictionaries(st.sampled_from(["a", "b", "c/d", "e/f/g"]), st.text(max_size=3)),
    after=st.dictionaries(st.sampled_from(["a", "b", "c/d", "h"]), st.text(max_size=3)),
    owned=st.booleans(),
)
def test_either_refused_and_untouched_or_nothing_foreign_is_lost(
    tmp_path_factory: pytest.TempPathFactory,
    before: dict[str, str],
    after: dict[str, str],
    owned: bool,
) -> None:
    """Property: whatever stands in the target, ndap either refuses and changes nothing, or
    replaces it having written every file that was there (now or before, per manifest)."""
    root = tmp_path_factory.mktemp("prop")
    target = root / "out"
    if owned:
        replace_directory(target, writer(before))
    else:
        write_files(target, before)
    was = snapshot(root)
    try:
        replace_directory(target, writer(after))
    except UnsafeOutput:
        assert snapshot(root) == was
        assert not owned and not set(before) <= set(after), "refused although nothing is lost"
        return
    lost = set(before) - set(after)
    assert owned or not lost, f"files not written by ndap were deleted: {sorted(lost)}"
    assert {p.name for p in root.iterdir()} == {"out"}
    shutil.rmtree(root)


def test_synth_refuses_the_working_directory_and_changes_nothing(tmp_path: Path) -> None:
    """The user's case: `ndap synth --out .` in their repository."""
    config = tmp_path / "platform.yaml"
    shutil.copy(REFERENCE, config)
    (tmp_path / "notes.md").write_text("mine")
    before = snapshot(tmp_path)
    result = ndap("synth", "-c", "platform.yaml", "--out", ".", "--policies", "p", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "refusing to write into ." in result.stderr
    assert "it is the working directory" in result.stderr
    assert snapshot(tmp_path) == before


def test_synth_refuses_a_users_folder_for_policies_and_writes_neither_output(
    tmp_path: Path,
) -> None:
    """`--policies docs` over the user's docs/: refused after the proofs, before either
    output replaces anything (the stacks are not written either)."""
    config = tmp_path / "platform.yaml"
    shutil.copy(REFERENCE, config)
    write_files(tmp_path / "docs", {"guide.md": "mine", "img/a.svg": "<svg/>"})
    before = snapshot(tmp_path)
    result = ndap(
        "synth", "-c", "platform.yaml", "--out", "cdktf.out", "--policies", "docs", cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert "refusing to replace" in result.stderr and "guide.md" in result.stderr
    assert "Nothing was written." in result.stderr
    assert snapshot(tmp_path) == before, "no cdktf.out, docs/ untouched, no staging left"


def test_add_project_refuses_the_working_directory_as_scaffold(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    shutil.copy(REFERENCE, config)
    work = tmp_path / "empty"
    work.mkdir()
    before = snapshot(tmp_path)
    add = ("--name", "upsell", "--team", "growth", "--kind", "batch", "--repository", "a/b")
    result = ndap("add-project", "-c", str(config), *add, "--scaffold", ".", cwd=work)
    assert result.returncode == 2, result.stderr
    assert "it is the working directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before
