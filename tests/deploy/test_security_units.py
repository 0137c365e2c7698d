"""After a deploy, the organization check expects both security accounts (#18) in the
security unit, and without them nothing more than before."""

from __future__ import annotations

from ndap_infra.config import load_config
from ndap_infra.config.load import validate_data
from ndap_infra.deploy.organization import expected_units
from tests.helpers import REFERENCE, reference_data


def test_both_security_accounts_are_expected_in_the_security_unit() -> None:
    expected = expected_units(load_config(REFERENCE))
    assert expected[-2:] == [
        ("log-archive", "700000000007", "acme-ml-security"),
        ("security-tooling", "800000000008", "acme-ml-security"),
    ]


def test_without_them_the_check_is_todays() -> None:
    data = reference_data()
    data["organization"]["security_accounts"]["enabled"] = False
    config, issues = validate_data(data)
    assert issues == [] and config is not None
    assert [key for key, _, _ in expected_units(config)] == [
        "nonprod",
        "dev",
        "acc",
        "prd",
        "tooling",
    ]
