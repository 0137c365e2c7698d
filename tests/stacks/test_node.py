"""Synthesis needs Node.js (cdktf's jsii runtime): a missing or too-old one is a message
and exit 2 before anything is written, not jsii's AttributeError as an internal error."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from ndap_infra.stacks.node import MINIMUM, NodeUnusable, require_node
from tests.helpers import NDAP, REFERENCE, ROOT


def fake_node(directory: Path, reported: str) -> Path:
    """A stand-in that answers only ``node --version`` (no older Node.js can be installed
    offline); the check must refuse it before jsii starts it."""
    path = directory / "node"
    path.write_text(f'#!/bin/sh\n[ "$1" = "--version" ] && echo {reported} && exit 0\nexit 9\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture(autouse=True)
def fresh_check() -> None:
    require_node.cache_clear()


def test_the_installed_node_is_new_enough() -> None:
    assert require_node()[0] >= MINIMUM


@pytest.mark.parametrize("reported", ["v18.19.0", "v16.20.2"])
def test_an_older_node_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reported: str
) -> None:
    monkeypatch.setenv("JSII_NODE", str(fake_node(tmp_path, reported)))
    with pytest.raises(NodeUnusable, match=f"Node.js {reported[1:]} at .* needs Node.js 20"):
        require_node()


def test_a_node_that_does_not_answer_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JSII_NODE", str(fake_node(tmp_path, "not-a-version")))
    with pytest.raises(NodeUnusable, match="did not report its version"):
        require_node()


def _synth(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NDAP, "synth", "-c", str(REFERENCE), "--out", str(tmp_path / "out"),
         "--policies", str(tmp_path / "policies")],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_synth_without_node_says_what_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    env.pop("JSII_NODE", None)
    result = _synth(tmp_path, env)
    assert result.returncode == 2, result.stderr
    assert "Node.js was not found ('node' is not on the PATH)" in result.stderr
    assert "install Node.js 20 or newer" in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "policies").exists()


def test_synth_with_an_old_node_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "JSII_NODE": str(fake_node(tmp_path, "v18.19.0"))}
    result = _synth(tmp_path, env)
    assert result.returncode == 2, result.stderr
    assert "Node.js 18.19.0" in result.stderr and "too old" in result.stderr
    assert not (tmp_path / "out").exists()
