"""`ndap build` stops on the access proof that synth reported, evaluated once."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ndap_infra.cli import app
from tests.helpers import REFERENCE


def test_a_failed_access_proof_stops_the_build_and_is_evaluated_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ndap_infra.proofs import suite

    real = suite.prove_access
    calls: list[int] = []

    def one_cell_wrong(*args: Any, **kwargs: Any) -> Any:
        """The real proof, with one decision expected the other way round."""
        calls.append(1)
        proof = real(*args, **kwargs)
        first = dataclasses.replace(proof.cells[0], expected=not proof.cells[0].expected)
        return dataclasses.replace(proof, cells=[first, *proof.cells[1:]])

    monkeypatch.setattr(suite, "prove_access", one_cell_wrong)
    out, policies = tmp_path / "out", tmp_path / "policies"
    result = CliRunner().invoke(
        app,
        ["build", "-c", str(REFERENCE), "--out", str(out), "--policies", str(policies)],
    )
    assert result.exit_code == 1, result.output
    assert "1 differ from the model" in result.stdout
    assert "terraform validate" not in result.stdout, "the build stops at the proof"
    assert calls == [1], "synth's proof is the build's: not evaluated a second time"
