"""Shared fixtures: one synthesis of the reference platform per test session."""

from __future__ import annotations

import os

import pytest

from tests.helpers import REFERENCE

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def reference_config():  # type: ignore[no-untyped-def]
    from ndap_infra.config import load_config

    return load_config(REFERENCE)


@pytest.fixture(scope="session")
def reference_synthesis(reference_config, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The reference platform, synthesized once for the whole session."""
    from ndap_infra.stacks.synthesis import synthesize

    return synthesize(reference_config, tmp_path_factory.mktemp("synth") / "cdktf.out")


@pytest.fixture(scope="session")
def reference_stacks(reference_synthesis):  # type: ignore[no-untyped-def]
    return reference_synthesis.stack_json()


@pytest.fixture(scope="session")
def reference_proof(reference_config, reference_synthesis):  # type: ignore[no-untyped-def]
    """The access proof of the reference platform, evaluated once."""
    from ndap_infra.proofs.suite import prove_access

    return prove_access(reference_config, reference_synthesis)
