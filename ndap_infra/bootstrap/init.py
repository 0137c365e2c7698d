"""``ndap init``: a new organization's configuration, from a few answers.

The answers become a commented YAML file that the ordinary loader validates before
anything is written; a problem is reported against the flag that gave the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ndap_infra.config.enums import LOG_ARCHIVE, SECURITY_TOOLING, Environment
from ndap_infra.config.issues import ConfigIssue, format_path
from ndap_infra.config.load import plain_data, validate_data
from ndap_infra.config.model import DeployTarget

REQUIRED_FLAGS: dict[str, str] = {
    "org_name": "--org-name",
    "management_account_id": "--management-account-id",
    "home_region": "--home-region",
    "dev_account_id": "--dev-account-id",
    "acc_account_id": "--acc-account-id",
    "prd_account_id": "--prd-account-id",
}
"""Answers without a default, and the flag that gives each."""

FLAG_OF_FIELD: dict[str, str] = {
    "organization.name": "--org-name",
    "organization.management_account_id": "--management-account-id",
    "organization.home_region": "--home-region",
    "organization.allowed_regions": "--allowed-regions",
    "organization.tooling_account_id": "--tooling-account-id",
    "organization.create_organization": "--create-organization",
    "identity.identity_account_id": "--identity-account-id",
    "deploy.target": "--deploy-target",
    **{f"environments.{e.value}.account_id": f"--{e.value}-account-id" for e in Environment},
    **{f"environments.{e.value}.email": f"--account-email {e.value}=ADDRESS" for e in Environment},
    "organization.tooling_email": "--account-email tooling=ADDRESS",
    "organization.security_accounts.log_archive.account_id": "--log-archive-account-id",
    "organization.security_accounts.log_archive.email": "--account-email log-archive=ADDRESS",
    "organization.security_accounts.security_tooling.account_id": "--security-tooling-account-id",
    "organization.security_accounts.security_tooling.email": (
        "--account-email security-tooling=ADDRESS"
    ),
}

SECURITY_ACCOUNTS = {LOG_ARCHIVE: "log_archive", SECURITY_TOOLING: "security_tooling"}
"""The two security accounts' keys (``--account-email KEY=...``) and configuration fields."""


@dataclass(frozen=True)
class InitAnswers:
    """What ``ndap init`` asks. An account given by id is adopted; one given only by its
    e-mail is created by the organization stack. ``nonprod`` with neither: no nonprod
    environment."""

    org_name: str
    management_account_id: str
    home_region: str
    dev_account_id: str | None
    acc_account_id: str | None
    prd_account_id: str | None
    """None (with an e-mail in ``emails``): the organization stack creates the account."""
    allowed_regions: tuple[str, ...] = ()
    """Default: the home region only."""
    nonprod_account_id: str | None = None
    tooling_account_id: str | None = None
    identity_account_id: str | None = None
    deploy_target: str = DeployTarget.AWS.value
    create_organization: bool | None = None
    """Default: false, adopt the organization that exists (on the local target, ndap deploy
    builds it on the emulator first)."""
    emails: tuple[tuple[str, str], ...] = ()
    """(environment, root e-mail) pairs."""
    tooling_email: str | None = None
    security_accounts: tuple[tuple[str, str | None, str | None], ...] = ()
    """(log-archive or security-tooling, id or None, e-mail or None): with any, the
    configuration switches the security accounts on; without, the per-account model."""


def _quoted(account_id: str) -> DoubleQuotedScalarString:
    quoted: DoubleQuotedScalarString = DoubleQuotedScalarString(account_id)
    return quoted


def _flow(items: tuple[str, ...]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def config_document(answers: InitAnswers) -> CommentedMap:
    """The configuration as a commented round-trip document."""
    create = bool(answers.create_organization)
    regions = answers.allowed_regions or (answers.home_region,)

    org = CommentedMap()
    org["name"] = answers.org_name
    org["management_account_id"] = _quoted(answers.management_account_id)
    org["home_region"] = answers.home_region
    org["allowed_regions"] = _flow(regions)
    org.yaml_set_comment_before_after_key(
        "allowed_regions",
        before="Workloads may use only these regions, the same in every environment.",
        indent=2,
    )
    org["create_organization"] = create
    org.yaml_set_comment_before_after_key(
        "create_organization",
        before="true: the organization stack creates the AWS organization; false: it "
        "adopts the existing one.\nEither way it places every account that has an e-mail "
        "below in its unit, and creates\nthose with an e-mail and no id (`ndap deploy` then "
        "records their ids here).",
        indent=2,
    )
    tooling_comment = (
        "The delivery account: every ML project's pipelines, artifact store and model "
        "registry.\nData scientists have no access to it."
    )
    if answers.tooling_account_id is not None:
        org["tooling_account_id"] = _quoted(answers.tooling_account_id)
        org.yaml_set_comment_before_after_key(
            "tooling_account_id", before=tooling_comment, indent=2
        )
        if answers.tooling_email is not None:
            org["tooling_email"] = answers.tooling_email
    elif answers.tooling_email is not None:
        org["tooling_email"] = answers.tooling_email
        org.yaml_set_comment_before_after_key(
            "tooling_email", before=tooling_comment + "\n" + CREATED_COMMENT, indent=2
        )

    if answers.security_accounts:
        security = CommentedMap()
        security["enabled"] = True
        for key, given_id, email in answers.security_accounts:
            entry = CommentedMap()
            if given_id is not None:
                entry["account_id"] = _quoted(given_id)
            if email is not None:
                entry["email"] = email
            security[SECURITY_ACCOUNTS[key]] = entry
            if given_id is None:
                security.yaml_set_comment_before_after_key(
                    SECURITY_ACCOUNTS[key], before=CREATED_COMMENT, indent=4
                )
        org["security_accounts"] = security
        org.yaml_set_comment_before_after_key(
            "security_accounts",
            before="Central evidence: the organization trail and Config into an immutable "
            "archive (log-archive),\nfindings of every account in one place (security-tooling, "
            "delegated administrator).",
            indent=2,
        )

    emails = dict(answers.emails)
    envs = CommentedMap()
    accounts = {
        Environment.NONPROD: answers.nonprod_account_id,
        Environment.DEV: answers.dev_account_id,
        Environment.ACC: answers.acc_account_id,
        Environment.PRD: answers.prd_account_id,
    }
    why = {
        Environment.NONPROD: "Engineers only; never any production data.",
        Environment.DEV: "Data scientists work here, on a read-only replica of production data.",
        Environment.ACC: "Business users test here, on a copy of production data; only the "
        "pipeline deploys.",
        Environment.PRD: "Only the pipeline deploys, after an approval.",
    }
    for env, account in accounts.items():
        settings = CommentedMap()
        comment = why[env]
        if account is None and env.value not in emails:
            settings["enabled"] = False
        else:
            if env is Environment.NONPROD:
                settings["enabled"] = True
            if account is not None:
                settings["account_id"] = _quoted(account)
            else:
                comment += "\n" + CREATED_COMMENT
            if env.value in emails:
                settings["email"] = emails[env.value]
        envs[env.value] = settings
        envs.yaml_set_comment_before_after_key(env.value, before=comment, indent=2)

    identity = CommentedMap()
    identity["source"] = "iam-roles"
    if answers.identity_account_id is not None:
        identity["identity_account_id"] = _quoted(answers.identity_account_id)
    identity["require_mfa"] = True

    deploy = CommentedMap()
    deploy["target"] = answers.deploy_target

    doc = CommentedMap()
    doc["organization"] = org
    doc["environments"] = envs
    doc["identity"] = identity
    doc["deploy"] = deploy
    doc.yaml_set_start_comment(
        "N-D-A-P platform configuration, written by `ndap init`.\n"
        "Check it with `ndap validate -c FILE`; add ML projects with `ndap add-project`.\n"
        "Every key is described in the README's Configuration section and in\n"
        "schema/ndap-config.schema.json of ndap-infra."
    )
    doc.yaml_set_comment_before_after_key(
        "identity",
        before="\nPeople sign in to the identity account (default: the management account)\n"
        "and assume persona roles; the persona x environment matrix of the design applies.",
    )
    doc.yaml_set_comment_before_after_key(
        "deploy",
        before="\nlocal: a moto emulator that `ndap deploy` starts; aws: real accounts.",
    )
    doc.yaml_set_comment_before_after_key("environments", before="\n")
    return doc


CREATED_COMMENT = "Created by the organization stack: `ndap deploy` records its account id here."


def yaml_writer() -> YAML:
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def render_config(answers: InitAnswers) -> str:
    out = StringIO()
    yaml_writer().dump(config_document(answers), out)
    return out.getvalue()


def problems(text: str) -> list[str]:
    """Every problem the loader finds in ``text``, each named by the flag that set it."""

    data: Any = plain_data(YAML(typ="rt").load(text))
    _, issues = validate_data(data)
    return [_render(issue) for issue in issues]


def _render(issue: ConfigIssue) -> str:
    field = format_path(issue.path)
    flag = FLAG_OF_FIELD.get(field)
    where = f"{flag} ({field})" if flag else field or "(top level)"
    shown = f" (got {issue.value!r})" if issue.has_value else ""
    return f"{where}: {issue.message}{shown}"
