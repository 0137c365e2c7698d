"""Shared fixtures (one synthesis of the reference platform per test session), and the
xdist groups that keep a module-scoped fixture on one worker."""

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
def per_account_stacks(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The reference platform with ``organization.security_accounts`` switched off (each
    account's baseline enables its own detection), synthesized once for the session."""
    from ndap_infra.config.load import validate_data
    from ndap_infra.stacks.synthesis import synthesize
    from tests.helpers import reference_data

    data = reference_data()
    data["organization"]["security_accounts"]["enabled"] = False
    config, issues = validate_data(data)
    assert config is not None, issues
    return synthesize(config, tmp_path_factory.mktemp("per-account") / "cdktf.out").stack_json()


@pytest.fixture(scope="session")
def reference_proof(reference_config, reference_synthesis):  # type: ignore[no-untyped-def]
    """The access proof of the reference platform, evaluated once."""
    from ndap_infra.proofs.suite import prove_access

    return prove_access(reference_config, reference_synthesis)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the tests sharing a module-scoped fixture on one xdist worker.

    Under ``-n 2`` each worker builds a module-scoped fixture its tests need: a synthesis
    of a variant, an emulator, a deployment. Split over both workers, it is built twice,
    and a chain meant to run in file order (deploy, probes, lock, drift, destroy) is not.
    So every test using a module-scoped fixture gets the xdist group of that fixture (the
    fixtures one test uses together share a group); with ``--dist loadgroup`` (both tiers)
    each group runs on one worker, in file order, beside the rest. docs/testing.md."""
    groups = fixture_groups(items)
    for item in items:
        group = groups.get(item)
        if group is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))


def module_fixtures(item: pytest.Item) -> list[str]:
    """The module-scoped fixtures ``item`` uses (directly or through other fixtures)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    return sorted(
        name
        for name in getattr(item, "fixturenames", ())
        if (defs := info.name2fixturedefs.get(name)) and defs[-1].scope == "module"
    )


def fixture_groups(items: list[pytest.Item]) -> dict[pytest.Item, str]:
    """Each item using module-scoped fixtures -> ``module::fixture``, where fixtures used
    together by one test are merged into one group (the alphabetically first names it)."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(key: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    used = {item: module_fixtures(item) for item in items}
    for item, names in used.items():
        module = item.nodeid.split("::")[0]
        roots = {root((module, name)) for name in names}
        for key in roots:
            parent[key] = min(roots)
    groups = {}
    for item, names in used.items():
        if names:
            module, name = root((item.nodeid.split("::")[0], names[0]))
            groups[item] = f"{module}::{name}"
    return groups
