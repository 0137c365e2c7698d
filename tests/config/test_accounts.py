"""Created accounts: phase 1 while their ids are pending, and recording the ids.

GIVEN a configuration whose dev, prd and tooling accounts have an e-mail and no id,
WHEN it is synthesized, THEN only the organization stack is written, with the accounts
created in their units and every guardrail that names no pending id, and each command
that needs the other stacks says which stack waits for which account. WHEN the ids are
recorded, THEN the file keeps its comments and the next synthesis is the full platform,
with each created account at the same address.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ndap_infra.bootstrap.accounts import record_account_ids
from ndap_infra.bootstrap.files import BootstrapError
from ndap_infra.cli import app
from ndap_infra.config import ConfigError, load_config
from ndap_infra.config.accounts import (
    adopted_accounts,
    member_accounts,
    pending_accounts,
    phase_one_config,
)
from ndap_infra.config.enums import Environment
from ndap_infra.stacks.synthesis import synthesize
from tests.helpers import REFERENCE

runner = CliRunner()
CREATED_IDS = {"dev": "300000000003", "prd": "500000000005", "tooling": "600000000006"}


def created_text() -> str:
    """The reference with dev, prd and tooling to be created (e-mail, no id)."""
    text = REFERENCE.read_text()
    for line in (
        '    account_id: "300000000003"\n',
        '    account_id: "500000000005"\n',
        '  tooling_account_id: "600000000006"\n',
    ):
        assert line in text
        text = text.replace(line, "")
    return text


@pytest.fixture
def created_config(tmp_path: Path) -> Path:
    path = tmp_path / "platform.yaml"
    path.write_text(created_text())
    return path


@pytest.fixture(scope="module")
def phase_one(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("created") / "platform.yaml"
    path.write_text(created_text())
    return synthesize(load_config(path), path.parent / "cdktf.out")


def ndap(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


# ---- configuration ------------------------------------------------------------------------


def test_an_email_without_an_id_is_a_pending_created_account(created_config: Path) -> None:
    config = load_config(created_config)
    assert [a.key for a in pending_accounts(config)] == ["dev", "prd", "tooling"]
    assert [a.key for a in adopted_accounts(config)] == [
        "nonprod",
        "acc",
        "log-archive",
        "security-tooling",
    ]
    assert [a.name for a in member_accounts(config)][-3:] == [
        "acme-ml-tooling",
        "acme-ml-log-archive",
        "acme-ml-security-tooling",
    ]
    filled, stand_ins = phase_one_config(config)
    assert sorted(stand_ins.values()) == ["dev", "prd", "tooling"]
    assert filled.account_id(Environment.DEV) in stand_ins
    assert filled.account_id(Environment.ACC) == "400000000004", "known ids unchanged"
    assert not set(stand_ins) & {"100000000001", "200000000002", "400000000004"}


def test_an_environment_with_neither_id_nor_email_names_both_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "platform.yaml"
    text = created_text().replace(
        "    email: aws-ml-dev@acme.example\n", "    production_data: read-only\n"
    )
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    rendered = caught.value.render()
    assert "environments.dev.account_id: an enabled environment needs an account" in rendered
    assert "set account_id" in rendered and "environments.dev.email" in rendered
    assert "for the organization stack to create it" in rendered


def test_two_accounts_cannot_share_a_root_email(tmp_path: Path) -> None:
    path = tmp_path / "platform.yaml"
    path.write_text(created_text().replace("aws-ml-prd@acme.example", "aws-ml-dev@acme.example"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "environments.prd.email: e-mail is also used by environments.dev.email" in (
        caught.value.render()
    )


# ---- phase 1 ------------------------------------------------------------------------------


def test_phase_one_is_the_organization_stack_alone(phase_one: Any) -> None:
    assert list(phase_one.stacks) == ["organization"]
    assert not (phase_one.out_dir / "stacks" / "env-dev").exists()
    assert phase_one.phase_one.waiting == {
        # The archive's policies name every member account (their Config delivers there).
        "log-archive": ["dev", "prd", "tooling"],
        # Its drift reader, planner and deployer trust the tooling account's build roles.
        "security-tooling": ["tooling"],
        "organization-trail": [],
        "tooling": ["dev", "prd", "tooling"],
        "env-nonprod": ["tooling"],
        "env-dev": ["dev", "prd", "tooling"],
        "env-acc": ["dev", "prd", "tooling"],
        "env-prd": ["dev", "prd", "tooling"],
    }


def test_phase_one_creates_the_accounts_in_their_units(phase_one: Any) -> None:
    stack = phase_one.stack_json()["organization"]
    accounts = stack["resource"]["aws_organizations_account"]
    dev = next(body for name, body in accounts.items() if name.startswith("accounts_dev_"))
    assert dev["name"] == "acme-ml-dev" and dev["email"] == "aws-ml-dev@acme.example"
    assert dev["role_name"] == "OrganizationAccountAccessRole"
    assert dev["iam_user_access_to_billing"] == "DENY"
    assert dev["close_on_deletion"] is False
    assert dev["lifecycle"] == {
        "prevent_destroy": True,
        "ignore_changes": ["role_name", "iam_user_access_to_billing"],
    }
    assert "units_dev_" in dev["parent_id"]
    imported = {
        i["to"].split(".")[1].split("_")[1]: i["id"]
        for i in stack["import"]
        if i["to"].startswith("aws_organizations_account.")
    }
    assert imported == {
        "nonprod": "200000000002",
        "acc": "400000000004",
        "log-archive": "700000000007",
        "security-tooling": "800000000008",
    }, "only adopted ones"
    assert {"account-dev", "account-prd", "account-tooling"} <= set(stack["output"])


def test_phase_one_attaches_every_guardrail_that_names_no_pending_id(phase_one: Any) -> None:
    stack = phase_one.stack_json()["organization"]
    policies = {body["name"] for body in stack["resource"]["aws_organizations_policy"].values()}
    assert {"acme-ml-protect-baseline", "acme-ml-deny-data-scientists"} <= policies
    left_out = phase_one.phase_one.left_out
    assert left_out["acme-ml-dev-stays-out-of-acc-prd"] == ["prd", "tooling"]
    # it exempts exactly the drift build's role, in the tooling account: it waits for its id
    assert left_out["acme-ml-organization-integrity"] == ["tooling"]
    assert left_out["acme-ml-protect-acc-prd-resources"] == ["dev"]
    assert not policies & set(left_out)
    text = json.dumps(stack)
    assert not re.search(r"9999999999\d\d", text), "no stand-in id in the output"


def test_synth_writes_phase_one_and_says_what_waits(created_config: Path) -> None:
    out, policies = created_config.parent / "out", created_config.parent / "policies"
    code, stdout, stderr = ndap(
        "synth", "-c", str(created_config), "--out", str(out), "--policies", str(policies)
    )
    assert code == 0, stderr
    assert "Synthesized phase 1" in stdout
    assert "dev: acme-ml-dev <aws-ml-dev@acme.example>" in stdout
    assert "its id goes to organization.tooling_account_id" in stdout
    assert "not synthesized: env-dev (needs the id of dev, prd, tooling)" in stdout
    assert "waits: acme-ml-drift-reader (names the id of tooling)" in stdout
    assert f"`ndap deploy -c {created_config}`" in stdout
    assert not policies.exists(), "reviewer files need every stack"
    # what needs every stack refuses the phase-1 synthesis
    code, _, stderr = ndap("access", "-c", str(created_config), "--out", str(out))
    assert code == 2 and "some account ids are not known yet" in stderr
    code, _, stderr = ndap("parity", "-c", str(REFERENCE), "--out", str(out))
    assert code == 2 and "holds phase 1 only" in stderr


def test_build_and_validate_while_ids_are_pending(created_config: Path) -> None:
    out = created_config.parent / "out"
    code, stdout, stderr = ndap("validate", "-c", str(created_config))
    assert code == 0, stderr
    assert "3 account(s) to be created by the organization stack" in stdout
    code, _, stderr = ndap("build", "-c", str(created_config), "--out", str(out))
    assert code == 2
    assert "ndap build needs every stack" in stderr
    assert "not synthesized: env-prd (needs the id of dev, prd, tooling)" in stderr
    assert "Nothing was written." in stderr and not out.exists()


def test_deploy_refuses_a_selection_without_the_organization(created_config: Path) -> None:
    code, _, stderr = ndap("deploy", "-c", str(created_config), "--stacks", "env-dev")
    assert code == 2
    assert "the organization stack creates those accounts first" in stderr
    assert "--stacks organization" in stderr


# ---- recording the ids --------------------------------------------------------------------


def test_recording_ids_keeps_comments_and_layout(created_config: Path) -> None:
    before = created_config.read_text()
    recorded = record_account_ids(created_config, CREATED_IDS)
    after = created_config.read_text()
    assert recorded.fields == (
        ("environments.dev.account_id", "300000000003"),
        ("environments.prd.account_id", "500000000005"),
        ("organization.tooling_account_id", "600000000006"),
    )
    assert after == REFERENCE.read_text(), "each id quoted, just before its e-mail; nothing else"
    assert [line for line in before.splitlines() if line.lstrip().startswith("#")] == [
        line for line in after.splitlines() if line.lstrip().startswith("#")
    ]
    assert not pending_accounts(load_config(created_config))
    assert not list(created_config.parent.glob(".*tmp")), "no temporary file left"


def test_recording_is_idempotent_and_refuses_a_different_id(created_config: Path) -> None:
    record_account_ids(created_config, CREATED_IDS)
    text = created_config.read_text()
    assert record_account_ids(created_config, CREATED_IDS).fields == ()
    with pytest.raises(BootstrapError, match="is already '300000000003'"):
        record_account_ids(created_config, {"dev": "999000000001"})
    assert created_config.read_text() == text


def test_recording_refuses_an_id_that_would_not_validate(created_config: Path) -> None:
    text = created_config.read_text()
    with pytest.raises(BootstrapError, match="would not validate"):
        record_account_ids(created_config, {"dev": "400000000004"})  # acc's id
    assert created_config.read_text() == text


def test_after_recording_a_created_account_keeps_its_address(
    created_config: Path, phase_one: Any
) -> None:
    record_account_ids(created_config, CREATED_IDS)
    full = synthesize(load_config(created_config), created_config.parent / "full")
    assert full.phase_one is None
    assert "env-dev" in full.stacks
    before = phase_one.stack_json()["organization"]["resource"]["aws_organizations_account"]
    after = full.stack_json()["organization"]
    assert set(after["resource"]["aws_organizations_account"]) == set(before)
    dev_address = next(i["to"] for i in after["import"] if i["id"] == "300000000003")
    assert dev_address.split(".")[1] in before, "import into the address it was created at"


# ---- ndap init: created accounts ----------------------------------------------------------

INIT_CREATED = [
    *("--org-name", "acme-ml", "--management-account-id", "100000000001"),
    *("--home-region", "eu-west-1", "--create-organization", "--deploy-target", "local"),
    *("--account-email", "dev=aws-dev@acme.example,acc=aws-acc@acme.example"),
    *("--account-email", "prd=aws-prd@acme.example,tooling=aws-tooling@acme.example"),
]


def test_init_with_emails_alone_creates_the_accounts(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    code, stdout, stderr = ndap("init", "-c", str(config), *INIT_CREATED)
    assert code == 0, stderr
    assert "Accounts the organization stack will create: dev, acc, prd, tooling" in stdout
    loaded = load_config(config)
    assert loaded.organization.create_organization
    assert [a.key for a in pending_accounts(loaded)] == ["dev", "acc", "prd", "tooling"]
    assert Environment.NONPROD not in loaded.enabled_environments()
    text = config.read_text()
    assert "    account_id:" not in text and "tooling_account_id" not in text
    assert "# Created by the organization stack: `ndap deploy` records its account id" in text


def test_init_mixes_adopted_and_created_accounts(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    flags = [*INIT_CREATED, "--acc-account-id", "400000000004"]
    assert ndap("init", "-c", str(config), *flags)[0] == 0
    loaded = load_config(config)
    assert [a.key for a in adopted_accounts(loaded)] == ["acc"]
    assert [a.key for a in pending_accounts(loaded)] == ["dev", "prd", "tooling"]


def test_init_without_id_or_email_names_both_flags(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    flags = [
        *INIT_CREATED[:9],
        *("--account-email", "dev=aws-dev@acme.example,acc=aws-acc@acme.example"),
    ]
    code, _, stderr = ndap("init", "-c", str(config), *flags)
    assert code == 2
    assert "--prd-account-id (or --account-email prd=ADDRESS to create it)" in stderr
    assert "--dev-account-id" not in stderr
    assert not config.exists()


def test_init_help_explains_adopting_and_creating() -> None:
    code, stdout, _ = ndap("init", "--help")
    assert code == 0
    flat = " ".join(stdout.split())
    assert "Each account is either adopted or created" in flat
    assert "records the new id" in flat


def test_a_scaffold_before_the_ids_are_known_says_where_they_go(created_config: Path) -> None:
    scaffold = created_config.parent / "churn"
    code, _, stderr = ndap(
        "add-project", "-c", str(created_config), "--name", "upsell", "--team", "growth",
        "--kind", "batch", "--repository", "acme/upsell", "--scaffold", str(scaffold),
    )  # fmt: skip
    assert code == 0, stderr
    readme = (scaffold / "README.md").read_text()
    assert "s3://acme-ml-dev-data-ACCOUNT_ID/projects/upsell/` (ACCOUNT_ID: the dev" in readme
    assert "s3://acme-ml-acc-data-400000000004/projects/upsell/`" in readme


def test_probe_waits_for_the_ids(created_config: Path) -> None:
    code, _, stderr = ndap("probe", "-c", str(created_config))
    assert code == 2 and "`ndap deploy -c" in stderr and "dev, prd, tooling" in stderr


def test_deploy_refuses_no_synth_and_cdktf_while_ids_are_pending(created_config: Path) -> None:
    code, _, stderr = ndap("deploy", "-c", str(created_config), "--no-synth")
    assert code == 2 and "drop --no-synth" in stderr
    code, _, stderr = ndap("deploy", "-c", str(created_config), "--via", "cdktf")
    assert code == 2 and "--via terraform" in stderr


def test_created_ids_are_read_from_the_organization_stack_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from ndap_infra.deploy.accounts import AccountIdsMissing, created_account_ids
    from ndap_infra.deploy.runner import StackRun

    outputs = {
        "account-dev": {"value": "701847654604"},
        "account-prd": {"value": "542937855482"},
        "unit-dev": {"value": "ou-abcd-12345678"},
    }

    def terraform(self: StackRun, args: list[str], action: str, **_: Any) -> Any:
        assert args[:2] == ["output", "-json"]
        return subprocess.CompletedProcess(args, 0, json.dumps(outputs), "")

    monkeypatch.setattr(StackRun, "terraform", terraform)
    run = StackRun("organization", tmp_path, {}, tmp_path / "logs")
    assert created_account_ids(run, ["dev", "prd"]) == {
        "dev": "701847654604",
        "prd": "542937855482",
    }
    with pytest.raises(AccountIdsMissing, match="no account id for tooling"):
        created_account_ids(run, ["dev", "tooling"])
