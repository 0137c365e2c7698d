"""The emulator tier's chains, kept together when the tier runs in parallel.

Tests sharing a module-scoped emulator fixture (``deployed``: one deployment of the
reference, then probes, lock, redeploy, drift, destroy, in file order; ``emulator_work``:
an emulator of its own) form one xdist group, so ``pytest -n 2 --dist loadgroup`` runs each
chain on one worker, in order, beside the other chains. A test using neither is a group
of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

CHAINS = ("deployed", "emulator_work", "pipeline_flow")
HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # a session-wide hook: every item of the session comes here, so keep to this folder's
    for item in items:
        if not item.path.is_relative_to(HERE):
            continue
        fixtures = getattr(item, "fixturenames", ())
        chain = next((name for name in CHAINS if name in fixtures), None)
        if chain is not None and item.get_closest_marker("xdist_group") is None:
            module = item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(f"{module}::{chain}"))
