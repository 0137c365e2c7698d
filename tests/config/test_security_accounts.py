"""The security accounts' configuration (``organization.security_accounts``, issue #18).

GIVEN the reference (security accounts on), WHEN an account id or e-mail is shared, the
retention is out of range, or an account is given by e-mail alone, THEN validation names
the field and the fix, and phase 1 creates the account in the security unit; `ndap init`
asks for both accounts and records their ids in the section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ndap_infra.bootstrap.accounts import record_account_ids
from ndap_infra.cli import app
from ndap_infra.config import load_config
from ndap_infra.config.accounts import member_accounts, pending_accounts, phase_one_config
from ndap_infra.config.load import validate_data
from tests.helpers import REFERENCE, issues_of, reference_data

runner = CliRunner()


def _security(data: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = data["organization"]["security_accounts"]
    return section


def test_the_reference_has_both_security_accounts_in_the_security_unit() -> None:
    config = load_config(REFERENCE)
    accounts = {a.key: a for a in member_accounts(config)}
    assert accounts["log-archive"].account_id == "700000000007"
    assert accounts["security-tooling"].account_id == "800000000008"
    assert {accounts[k].unit for k in ("log-archive", "security-tooling")} == {"security"}
    assert accounts["dev"].unit == "dev"


def test_switched_off_the_security_accounts_are_not_members() -> None:
    data = reference_data()
    _security(data)["enabled"] = False
    config, issues = validate_data(data)
    assert issues == [] and config is not None
    assert config.security_accounts is None
    assert {a.key for a in member_accounts(config)} == {"nonprod", "dev", "acc", "prd", "tooling"}


def test_a_security_account_may_not_be_a_workload_account() -> None:
    data = reference_data()
    _security(data)["log_archive"]["account_id"] = "500000000005"
    found = issues_of(data)
    message = found["organization.security_accounts.log_archive.account_id"]
    assert "is also environments.prd.account_id" in message
    assert "must be an account of its own" in message


def test_the_two_security_accounts_are_two_accounts() -> None:
    data = reference_data()
    _security(data)["security_tooling"]["account_id"] = "700000000007"
    found = issues_of(data)
    assert (
        "organization.security_accounts.log_archive.account_id"
        in (found["organization.security_accounts.security_tooling.account_id"])
    )


def test_a_security_account_needs_its_own_root_email() -> None:
    data = reference_data()
    _security(data)["security_tooling"]["email"] = "aws-ml-dev@acme.example"
    found = issues_of(data)
    assert (
        "is also used by environments.dev.email"
        in (found["organization.security_accounts.security_tooling.email"])
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=-10, max_value=40_000))
def test_archive_retention_is_one_day_to_a_hundred_years(days: int) -> None:
    data = reference_data()
    _security(data)["archive_retention_days"] = days
    config, issues = validate_data(data)
    if 1 <= days <= 36_500:
        assert issues == [] and config is not None
        assert config.security_accounts is not None
        assert config.security_accounts.archive_retention_days == days
    else:
        assert config is None
        assert any(
            i.dotted_path == "organization.security_accounts.archive_retention_days" for i in issues
        )


def _created(tmp_path: Path) -> Path:
    path = tmp_path / "platform.yaml"
    text = REFERENCE.read_text()
    line = '      account_id: "700000000007"\n'
    assert line in text
    path.write_text(text.replace(line, ""))
    return path


def test_a_security_account_given_by_email_is_created_and_recorded(tmp_path: Path) -> None:
    path = _created(tmp_path)
    config = load_config(path)
    (pending,) = pending_accounts(config)
    assert pending.key == "log-archive" and pending.unit == "security"
    assert pending.id_field() == "organization.security_accounts.log_archive.account_id"
    filled, stand_ins = phase_one_config(config)
    assert list(stand_ins.values()) == ["log-archive"]
    assert filled.security_accounts is not None
    assert filled.security_accounts.log_archive.account_id in stand_ins
    recorded = record_account_ids(path, {"log-archive": "700000000007"})
    assert recorded.fields == (
        ("organization.security_accounts.log_archive.account_id", "700000000007"),
    )
    assert load_config(path) == load_config(REFERENCE)


INIT = [
    *("--org-name", "acme-ml", "--management-account-id", "100000000001"),
    *("--home-region", "eu-west-1", "--deploy-target", "local"),
    *("--dev-account-id", "300000000003", "--acc-account-id", "400000000004"),
    *("--prd-account-id", "500000000005", "--no-nonprod"),
    *("--account-email", "dev=d@acme.example,acc=a@acme.example,prd=p@acme.example"),
]


def test_init_asks_for_the_security_accounts_by_id_or_email(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    result = runner.invoke(
        app,
        [
            "init",
            "-c",
            str(config),
            *INIT,
            *("--log-archive-account-id", "700000000007"),
            *("--account-email", "log-archive=logs@acme.example"),
            *("--account-email", "security-tooling=security@acme.example"),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "Accounts the organization stack will create: security-tooling" in result.stdout
    loaded = load_config(config)
    assert loaded.security_accounts is not None
    assert loaded.security_accounts.log_archive.account_id == "700000000007"
    assert [a.key for a in pending_accounts(loaded)] == ["security-tooling"]


def test_init_without_security_accounts_keeps_the_per_account_model(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    result = runner.invoke(app, ["init", "-c", str(config), *INIT, "--no-security-accounts"])
    assert result.exit_code == 0, result.stderr
    assert load_config(config).security_accounts is None
    contradiction = runner.invoke(
        app,
        [
            "init",
            "-c",
            str(tmp_path / "other.yaml"),
            *INIT,
            "--no-security-accounts",
            *("--log-archive-account-id", "700000000007"),
        ],
    )
    assert contradiction.exit_code == 2
    assert "--no-security-accounts contradicts" in contradiction.stderr
    assert not (tmp_path / "other.yaml").exists()
