"""`ndap init` and `ndap add-project`: start an organization's configuration, add an ML
project to it and write the project's repository scaffold.

Exit codes as everywhere:
0 ok, 2 bad input (a missing or invalid answer, an existing file or directory, a project
that exists); on exit 2 nothing was written.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from ndap_infra.bootstrap.files import BootstrapError, create_file, replace_file
from ndap_infra.bootstrap.init import (
    REQUIRED_FLAGS,
    SECURITY_ACCOUNTS,
    InitAnswers,
    problems,
    render_config,
)
from ndap_infra.bootstrap.platform_repo import (
    CONFIG_FILE,
    PinnedWheel,
    read_wheel,
    repository_files,
    write_repository,
)
from ndap_infra.bootstrap.project import ProjectAnswers, add_project
from ndap_infra.bootstrap.scaffold import scaffold_files, write_scaffold
from ndap_infra.config import ConfigError
from ndap_infra.config.enums import LOG_ARCHIVE, SECURITY_TOOLING, TOOLING, Environment
from ndap_infra.config.model import DeployTarget

EXIT_BAD_INPUT = 2

PROMPTS: dict[str, str] = {
    "org_name": "Organization short name (3-24 of a-z, 0-9, -)",
    "management_account_id": "Management account id (12 digits)",
    "home_region": "Home region (e.g. eu-west-1)",
    "dev_account_id": "dev account id (empty: the organization stack creates it)",
    "acc_account_id": "acc account id (empty: the organization stack creates it)",
    "prd_account_id": "prd account id (empty: the organization stack creates it)",
}
ENVIRONMENT_OF = {
    "dev_account_id": "dev",
    "acc_account_id": "acc",
    "prd_account_id": "prd",
}


def _fail(command: str, message: str) -> typer.Exit:
    sys.stderr.write(f"ndap {command}: {message}\n")
    return typer.Exit(EXIT_BAD_INPUT)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())


def init(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="The file to create (with --repository: DIR/platform.yaml)."
        ),
    ] = None,
    repository: Annotated[
        Path | None,
        typer.Option(
            help="Write a whole platform repository into this new or empty directory: the "
            "configuration, cdktf.json, the wheel given by --wheel pinned by its sha256, "
            "the Makefile the platform pipeline runs, and CI.",
        ),
    ] = None,
    wheel: Annotated[
        Path | None,
        typer.Option(
            help="With --repository: the ndap-infra wheel to pin (`make wheel` builds it)."
        ),
    ] = None,
    org_name: Annotated[
        str | None, typer.Option(help="Organization short name, prefix of every resource.")
    ] = None,
    management_account_id: Annotated[
        str | None, typer.Option(help="The organization's management account (12 digits).")
    ] = None,
    home_region: Annotated[
        str | None, typer.Option(help="Region of the platform's own resources.")
    ] = None,
    allowed_regions: Annotated[
        list[str] | None,
        typer.Option(
            help="Regions workloads may use (repeat or comma-separate). Default: the home region."
        ),
    ] = None,
    dev_account_id: Annotated[
        str | None,
        typer.Option(help="The dev account to adopt (or --account-email dev=... to create it)."),
    ] = None,
    acc_account_id: Annotated[
        str | None,
        typer.Option(help="The acc account to adopt (or --account-email acc=... to create it)."),
    ] = None,
    prd_account_id: Annotated[
        str | None,
        typer.Option(help="The prd account to adopt (or --account-email prd=... to create it)."),
    ] = None,
    nonprod_account_id: Annotated[
        str | None,
        typer.Option(
            help="The nonprod account to adopt (optional environment; --account-email "
            "nonprod=... alone creates it)."
        ),
    ] = None,
    no_nonprod: Annotated[
        bool, typer.Option("--no-nonprod", help="No nonprod environment (do not ask).")
    ] = False,
    tooling_account_id: Annotated[
        str | None,
        typer.Option(
            help="The delivery account of the ML projects' pipelines to adopt (optional; "
            "--account-email tooling=... alone creates it)."
        ),
    ] = None,
    identity_account_id: Annotated[
        str | None,
        typer.Option(help="Where people sign in (default: the management account)."),
    ] = None,
    log_archive_account_id: Annotated[
        str | None,
        typer.Option(
            help="The log-archive account to adopt (--account-email log-archive=... alone "
            "creates it): the organization trail's and Config's immutable archive."
        ),
    ] = None,
    security_tooling_account_id: Annotated[
        str | None,
        typer.Option(
            help="The security-tooling account to adopt (--account-email security-tooling=... "
            "alone creates it): delegated administrator of GuardDuty, Security Hub, Access "
            "Analyzer and Config."
        ),
    ] = None,
    no_security_accounts: Annotated[
        bool,
        typer.Option(
            "--no-security-accounts",
            help="No log-archive and security-tooling accounts (do not ask): every account "
            "keeps its own logs and detectors.",
        ),
    ] = False,
    deploy_target: Annotated[
        DeployTarget, typer.Option(help="local (the moto emulator) or aws.")
    ] = DeployTarget.AWS,
    create_organization: Annotated[
        bool | None,
        typer.Option(
            "--create-organization/--adopt-organization",
            help="Create the AWS organization, or adopt the existing one (default; on the "
            "local target ndap deploy builds the organization being adopted).",
        ),
    ] = None,
    account_email: Annotated[
        list[str] | None,
        typer.Option(
            "--account-email",
            help="ENV=ADDRESS: an account's root e-mail (repeat or comma-separate for "
            "nonprod, dev, acc, prd, tooling, log-archive, security-tooling). With the "
            "account's id, the organization stack adopts the account and places it in its "
            "unit; without an id, it creates the account there, and `ndap deploy` records "
            "the new id in the file.",
        ),
    ] = None,
) -> None:
    """Create a new platform configuration from flags (asking for missing required values
    on a terminal). Refuses to overwrite an existing file.

    Each account is either adopted or created. Adopted: give its id (--dev-account-id
    ...), and its e-mail (--account-email dev=...) for the organization stack to place it
    in its unit. Created (an organization starting from nothing): give only its e-mail;
    the organization stack creates the account in its unit and `ndap deploy` records the
    new id in the file, before the account stacks are deployed. For example:

        ndap init -c platform.yaml --org-name acme-ml --management-account-id 100000000001
        --home-region eu-west-1 --create-organization --account-email
        dev=aws-dev@acme.example,acc=aws-acc@acme.example,prd=aws-prd@acme.example"""
    pinned: PinnedWheel | None = None
    if repository is not None:
        if config is not None:
            raise _fail(
                "init",
                "--config and --repository contradict: the repository's "
                f"configuration is {repository / CONFIG_FILE}; pass one",
            )
        if wheel is None:
            raise _fail(
                "init",
                "--repository needs --wheel: the ndap-infra wheel the "
                "repository pins (build it with `make wheel`); nothing was written",
            )
        try:
            pinned = read_wheel(wheel)
        except BootstrapError as error:
            raise _fail("init", str(error)) from None
        config = repository / CONFIG_FILE
    elif wheel is not None:
        raise _fail("init", "--wheel goes with --repository DIR; nothing was written")
    if config is None:
        raise _fail(
            "init",
            "name the file to create with -c FILE, or a new platform "
            "repository with --repository DIR --wheel WHEEL",
        )
    if repository is None and config.exists():
        raise _fail(
            "init",
            f"{config} already exists: nothing was written. Edit it, add projects with "
            "`ndap add-project`, or pass another --config.",
        )
    if nonprod_account_id is not None and no_nonprod:
        raise _fail("init", "--nonprod-account-id and --no-nonprod contradict: pass one")
    emails: dict[str, str] = {}
    for item in _split(account_email):
        key, sep, address = item.partition("=")
        if not sep or key not in (*(e.value for e in Environment), TOOLING, *SECURITY_ACCOUNTS):
            raise _fail(
                "init",
                f"--account-email {item!r}: use ENV=ADDRESS with ENV one of nonprod, dev, "
                "acc, prd, tooling, log-archive, security-tooling; nothing was written.",
            )
        emails[key] = address.strip()
    given: dict[str, str | None] = {
        "org_name": org_name,
        "management_account_id": management_account_id,
        "home_region": home_region,
        "dev_account_id": dev_account_id,
        "acc_account_id": acc_account_id,
        "prd_account_id": prd_account_id,
    }
    # An account given by its e-mail alone is created: its id is not missing.
    missing = [
        key
        for key, value in given.items()
        if not value and ENVIRONMENT_OF.get(key, "") not in emails
    ]
    if missing and not _interactive():
        flags = ", ".join(
            REQUIRED_FLAGS[key]
            + (
                f" (or --account-email {ENVIRONMENT_OF[key]}=ADDRESS to create it)"
                if key in ENVIRONMENT_OF
                else ""
            )
            for key in missing
        )
        raise _fail(
            "init",
            f"missing {flags}; stdin is not a terminal, so nothing is asked: pass them; "
            "nothing was written.",
        )
    for key in missing:
        if key not in ENVIRONMENT_OF:
            given[key] = typer.prompt(PROMPTS[key]).strip()
            continue
        given[key] = typer.prompt(PROMPTS[key], default="", show_default=False).strip() or None
        if given[key] is None:
            env = ENVIRONMENT_OF[key]
            emails[env] = typer.prompt(f"{env} account's root e-mail (to create it)").strip()
        elif ENVIRONMENT_OF[key] not in emails:
            env = ENVIRONMENT_OF[key]
            emails[env] = typer.prompt(
                f"{env} account's root e-mail (to move it into its unit)"
            ).strip()
    if nonprod_account_id is None and not no_nonprod and missing and "nonprod" not in emails:
        nonprod_account_id = (
            typer.prompt("nonprod account id (empty: no nonprod)", default="").strip() or None
        )
    if no_nonprod:
        emails.pop("nonprod", None)
    security_ids = {
        LOG_ARCHIVE: log_archive_account_id,
        SECURITY_TOOLING: security_tooling_account_id,
    }
    if no_security_accounts:
        if any(security_ids.values()) or any(key in emails for key in SECURITY_ACCOUNTS):
            raise _fail(
                "init",
                "--no-security-accounts contradicts a security account's id or e-mail: pass "
                "one; nothing was written.",
            )
    elif missing and _interactive():
        # Asked with the other accounts: an id adopts the account, an e-mail alone creates it.
        for key in SECURITY_ACCOUNTS:
            if security_ids[key] is None and key not in emails:
                security_ids[key] = (
                    typer.prompt(f"{key} account id (empty: create it)", default="").strip() or None
                )
            if key not in emails:
                emails[key] = typer.prompt(f"{key} account's root e-mail").strip()
    security_accounts = tuple(
        (key, security_ids[key], emails.get(key))
        for key in SECURITY_ACCOUNTS
        if security_ids[key] is not None or key in emails
    )
    answers = InitAnswers(
        org_name=str(given["org_name"]),
        management_account_id=str(given["management_account_id"]),
        home_region=str(given["home_region"]),
        dev_account_id=given["dev_account_id"],
        acc_account_id=given["acc_account_id"],
        prd_account_id=given["prd_account_id"],
        allowed_regions=_split(allowed_regions),
        nonprod_account_id=nonprod_account_id,
        tooling_account_id=tooling_account_id,
        identity_account_id=identity_account_id,
        deploy_target=deploy_target.value,
        create_organization=create_organization,
        emails=tuple(
            (k, v) for k, v in emails.items() if k != TOOLING and k not in SECURITY_ACCOUNTS
        ),
        tooling_email=emails.get(TOOLING),
        security_accounts=security_accounts,
    )
    text = render_config(answers)
    found = problems(text)
    if found:
        count = len(found)
        sys.stderr.write(
            f"{count} problem{'s' if count != 1 else ''} in the answers:\n"
            + "".join(f"  - {problem}\n" for problem in found)
            + "Nothing was written.\n"
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        if repository is not None and pinned is not None:
            files = repository_files(answers.org_name, text, pinned)
            write_repository(repository, files, pinned)
        else:
            create_file(config, text)
    except BootstrapError as error:
        raise _fail("init", str(error)) from None
    print(f"Wrote {config} (valid).")
    if repository is not None and pinned is not None:
        print(
            f"Wrote the platform repository {repository}: ndap-infra {pinned.version} pinned "
            f"by sha256 {pinned.sha256} ({len(files) + 1} files)."
        )
    created = [
        key
        for key in (*(e.value for e in Environment), TOOLING, *SECURITY_ACCOUNTS)
        if key in emails
    ]
    created = [
        key
        for key in created
        if {
            "nonprod": nonprod_account_id,
            "dev": given["dev_account_id"],
            "acc": given["acc_account_id"],
            "prd": given["prd_account_id"],
            TOOLING: tooling_account_id,
            **security_ids,
        }[key]
        is None
    ]
    if created:
        print(
            f"Accounts the organization stack will create: {', '.join(created)}; "
            f"`ndap deploy -c {config}` creates them and records their ids in {config}."
        )
    print("Next:")
    if repository is not None:
        print(f"  cd {repository} && git init && make setup && make build && git add -A")
    print(f"  ndap add-project -c {config} --name NAME --team TEAM --kind batch|realtime \\")
    print("      --repository OWNER/NAME --scaffold DIR")
    print(f"  ndap validate -c {config} && ndap synth -c {config}")


def add_project_command(
    config: Annotated[
        Path,
        typer.Option(
            "--config", "-c", envvar="NDAP_CONFIG", help="The platform configuration to edit."
        ),
    ],
    name: Annotated[str, typer.Option(help="Project name (3-24 of a-z, 0-9, -).")],
    team: Annotated[str, typer.Option(help="The owning team.")],
    kind: Annotated[str, typer.Option(help="batch (scheduled predictions) or realtime.")],
    repository: Annotated[str, typer.Option(help="owner/name on the git host.")],
    git_host: Annotated[
        str | None, typer.Option(help="github (default), gitlab or bitbucket.")
    ] = None,
    retraining: Annotated[
        str | None,
        typer.Option(help="ad-hoc (default), periodic (with --schedule) or drift."),
    ] = None,
    schedule: Annotated[str | None, typer.Option(help="periodic: cron(...) or rate(...).")] = None,
    metric: Annotated[str | None, typer.Option(help="drift: the monitored metric.")] = None,
    threshold: Annotated[float | None, typer.Option(help="drift: the alarm threshold.")] = None,
    scaffold: Annotated[
        Path | None,
        typer.Option(help="Write the project's repository scaffold into this new directory."),
    ] = None,
) -> None:
    """Add an ML project to a configuration (comments and layout kept; the whole result
    validated before the file is replaced) and, with --scaffold, write its repository."""
    answers = ProjectAnswers(
        name=name,
        team=team,
        kind=kind,
        repository=repository,
        git_host=git_host,
        retraining=retraining,
        schedule=schedule,
        metric=metric,
        threshold=threshold,
    )
    try:
        edit = add_project(config, answers)
    except ConfigError as error:
        sys.stderr.write(error.render() + "\nNothing was written.\n")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except BootstrapError as error:
        raise _fail(
            "add-project", f"{error}\n{config} is unchanged; nothing was written."
        ) from None
    created = False
    try:
        if scaffold is not None:
            created = not scaffold.exists()
            files = scaffold_files(edit.config, edit.project)
            write_scaffold(scaffold, files)
        replace_file(config, edit.text)
    except BootstrapError as error:
        raise _fail("add-project", str(error)) from None
    except OSError as error:
        if scaffold is not None and created:
            shutil.rmtree(scaffold, ignore_errors=True)
        where = error.filename or config
        raise _fail(
            "add-project",
            f"cannot write {where} ({error.strerror or error}): {config} is unchanged and "
            "no scaffold was left; check its permissions",
        ) from None
    except BaseException:
        if scaffold is not None and created:
            shutil.rmtree(scaffold, ignore_errors=True)
        raise
    print(f"Added {edit.project.kind.value} project {name!r} (team {team}) to {config}.")
    if not edit.layout_kept:
        print(
            f"note: {config}'s indentation was normalised (2-space mappings, sequences "
            "indented under their key); comments and key order are kept."
        )
    if scaffold is not None:
        print(f"Wrote its repository scaffold ({len(files)} files) to {scaffold}/:")
        print(
            f"  commit it to {edit.project.repository} on a branch of "
            f"{edit.project.pipeline.develop_branch!r}; README.md tells the team the rest."
        )


def register(app: typer.Typer) -> None:
    """Add these commands to the main `ndap` application."""
    app.command("init")(init)
    app.command("add-project")(add_project_command)
