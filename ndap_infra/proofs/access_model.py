"""The platform as the policy evaluator sees it, read from the synthesized stacks.

Every document comes from the synthesized Terraform JSON (what is deployed) and is named
by its reviewer file under ``policies/`` (``<stack>/<construct path>.json``), so a decision
cites a file a reviewer can open. Roles that exist before the platform (the account access
role AWS Organizations creates in every member account) are added with their documented
trust and permissions, and said so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ndap_infra.access.people import people_policy
from ndap_infra.config.accounts import SECURITY_ACCOUNT_KEYS, security_account_id
from ndap_infra.config.enums import TOOLING, AnyPersona, Environment
from ndap_infra.config.model import NdapConfig
from ndap_infra.evaluator import NamedPolicy, Organization, Principal, Resource, Role
from ndap_infra.iam.document import unescape_terraform
from ndap_infra.names.access import PERSONA_TAG, account_access_role_arn
from ndap_infra.names.platform import environment_stack

REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([^.}\[]+)(?:\[0\])?\.([a-z_]+)\}")
"""``${<type>.<logical id>.<attribute>}``; on the local emulator target a resource left
out (``count = 0``) is referred to as ``<logical id>[0]``."""
ADMINISTRATOR = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
ASSUME_ANY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AssumeAnyRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}
    ],
}
READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["*:BatchGet*", "*:Describe*", "*:Get*", "*:List*", "*:View*"],
            "Resource": "*",
        }
    ],
}
SECURITY_AUDIT_SUBSET = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["iam:Get*", "iam:List*", "kms:DescribeKey"],
            "Resource": "*",
        }
    ],
}
CONFIG_ORGANIZATIONS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "organizations:ListAccounts",
                "organizations:DescribeOrganization",
                "organizations:ListAWSServiceAccessForOrganization",
                "organizations:ListDelegatedAdministrators",
            ],
            "Resource": "*",
        }
    ],
}
MODELLED_MANAGED = {
    "arn:aws:iam::aws:policy/AdministratorAccess": ADMINISTRATOR,
    "arn:aws:iam::aws:policy/ReadOnlyAccess": READ_ONLY,
    "arn:aws:iam::aws:policy/SecurityAudit": SECURITY_AUDIT_SUBSET,
    "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations": CONFIG_ORGANIZATIONS,
}
"""AWS managed policies the model includes: AdministratorAccess exactly, ReadOnlyAccess
approximated by its verbs (every Get, List, Describe, BatchGet and View action): the
platform pipeline's deployer and planner carry them, and what they may do is part of
the proof. SecurityAudit (the drift readers') by a subset it grants (IAM's reads, and
KMS's DescribeKey, which the organization trail's plan needs of the archive key): the
jobs proof credits a reader only with that, never with more than AWS grants.
AWSConfigRoleForOrganizations (the security-tooling account's Config aggregator) exactly,
as AWS publishes its version 2: four read-only Organizations actions."""
ROOT_LEVEL = "r-root"
INHERITED_DIR = "inherited"
"""Where the evaluator's explanations name an inherited guardrail (not a file of ours)."""


def inherited_policy_file(name: str) -> str:
    return f"{INHERITED_DIR}/{name}.json"


def _path(body: Mapping[str, Any], logical_id: str) -> str:
    path = str(body.get("//", {}).get("metadata", {}).get("path", ""))
    return path.split("/", 1)[1] if "/" in path else logical_id


def _file(stack: str, body: Mapping[str, Any], logical_id: str) -> str:
    return f"{stack}/{_path(body, logical_id)}.json"


def reference(value: Any) -> tuple[str, str, str] | None:
    """(type, logical id, attribute) of a synthesized ``${type.id.attribute}`` reference."""
    match = REFERENCE.fullmatch(str(value))
    return (match.group(1), match.group(2), match.group(3)) if match else None


def _ref(value: Any) -> tuple[str, str] | None:
    found = reference(value)
    return found[:2] if found else None


def _document(text: str) -> Any:
    """A policy document from its synthesized (Terraform-escaped) string."""
    return json.loads(unescape_terraform(text))


def ou_level(unit: str) -> str:
    """The evaluator's level of an organizational unit: ``ou-<environment>`` or
    ``ou-tooling``."""
    return f"ou-{unit}"


@dataclass
class PlatformModel:
    """Organization, roles and resources of the platform, ready for the evaluator."""

    config: NdapConfig
    organization: Organization
    roles: dict[str, Role]
    buckets: dict[str, tuple[str, NamedPolicy | None]]  # bucket name -> (account, policy)
    keys: dict[
        tuple[str, str], tuple[str, str, NamedPolicy]
    ]  # (stack, path) -> (account, arn, policy)
    people_policy: NamedPolicy
    notes: list[str] = field(default_factory=list)
    registries: dict[str, tuple[str, NamedPolicy]] = field(default_factory=dict)
    """Model package group name -> (account, resource policy): the tooling account's."""
    boundaries_removed: bool = (
        False  # negative controls: roles a data scientist creates lose it too
    )
    image_repositories: dict[str, tuple[str, NamedPolicy | None]] = field(default_factory=dict)
    """ECR repository name -> (account, repository policy): the platform registry's."""
    key_tags: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """(stack, path) -> the key's tags as deployed (the provider's default tags and its
    own): what ``aws:ResourceTag/...`` holds for a request on it."""

    def bucket_object(self, bucket: str, key: str) -> Resource:
        account, policy = self.buckets[bucket]
        return Resource(f"arn:aws:s3:::{bucket}/{key}", account, "s3", policy)

    def key(self, env: Environment | str, construct_path: str) -> Resource:
        """A key of an environment stack, or of the tooling stack (``"tooling"``)."""
        stack = environment_stack(env) if isinstance(env, Environment) else env
        account, arn, policy = self.keys[(stack, construct_path)]
        return Resource(arn, account, "kms", policy, resource_policy_required=True)

    def with_roles(self, roles: Mapping[str, Role]) -> PlatformModel:
        return replace(self, roles={**self.roles, **roles})


def _organization(config: NdapConfig, org_stack: Mapping[str, Any]) -> Organization:
    resources = org_stack.get("resource", {})
    unit_env = {
        lid: _path(body, lid).rsplit("/", 1)[-1]
        for lid, body in resources.get("aws_organizations_organizational_unit", {}).items()
    }
    policies = {
        lid: (
            str(body["type"]),
            NamedPolicy(_file("organization", body, lid), _document(body["content"])),
        )
        for lid, body in resources.get("aws_organizations_policy", {}).items()
    }
    scps: dict[str, list[NamedPolicy]] = {}
    rcps: dict[str, list[NamedPolicy]] = {}
    for body in resources.get("aws_organizations_policy_attachment", {}).values():
        policy_ref, target_ref = _ref(body["policy_id"]), _ref(body["target_id"])
        if not policy_ref or not target_ref or target_ref[1] not in unit_env:
            continue
        kind, policy = policies[policy_ref[1]]
        level = ou_level(unit_env[target_ref[1]])
        (scps if kind == "SERVICE_CONTROL_POLICY" else rcps).setdefault(level, []).append(policy)
    full_access = NamedPolicy("aws-managed/FullAWSAccess.json", ADMINISTRATOR)
    placed = placement(org_stack)
    members = [config.account_id(env) for env in config.enabled_environments()]
    if config.tooling_account_id is not None:
        members.append(config.tooling_account_id)
    if config.security_accounts is not None:
        members += [security_account_id(config, key) for key in SECURITY_ACCOUNT_KEYS]
    # An account the synthesized stack does not place stays where it is (modelled at the
    # root, where no guardrail of ours is attached): its unit's guardrails are not credited.
    accounts = {
        account: (ROOT_LEVEL, ou_level(placed[account]), account)
        if account in placed
        else (ROOT_LEVEL, account)
        for account in members
    }
    levels = {level for path in accounts.values() for level in path}
    scps = {level: attached for level, attached in scps.items() if level in levels}
    # The landing zone's policies above the platform's units (organization.
    # inherited_guardrails): modelled at the root, above every unit of ours. The platform
    # attaches none of its own there.
    inherited = [
        NamedPolicy(inherited_policy_file(p.name), p.document).check("scp")
        for p in config.organization.inherited_guardrails
    ]
    if inherited:
        scps[ROOT_LEVEL] = [*scps.get(ROOT_LEVEL, []), *inherited]
    rcps = {level: attached for level, attached in rcps.items() if level in levels}
    return Organization(
        management_account_id=config.organization.management_account_id,
        accounts=accounts,
        scps={level: (full_access, *attached) for level, attached in scps.items()},
        rcps={level: tuple(attached) for level, attached in rcps.items()},
    )


IMPORTED_ACCOUNT = re.compile(r"aws_organizations_account\.([^.\[]+)(?:\[0\])?")


def placement(org_stack: Mapping[str, Any]) -> dict[str, str]:
    """Account id -> the unit (environment or ``tooling``) the synthesized organization
    stack places it in: an account resource whose id is known (its ``import`` block) and
    whose ``parent_id`` is one of the stack's units. Read from the synthesized JSON, never
    from the configuration's intent."""
    resources = org_stack.get("resource", {})
    unit_of = {
        lid: _path(body, lid).rsplit("/", 1)[-1]
        for lid, body in resources.get("aws_organizations_organizational_unit", {}).items()
    }
    ids: dict[str, str] = {}
    for entry in org_stack.get("import", []):
        match = IMPORTED_ACCOUNT.fullmatch(str(entry.get("to", "")))
        if match:
            ids[match.group(1)] = str(entry["id"])
    placed = {}
    for lid, body in resources.get("aws_organizations_account", {}).items():
        parent = _ref(body.get("parent_id", ""))
        if lid in ids and parent is not None and parent[1] in unit_of:
            placed[ids[lid]] = unit_of[parent[1]]
    return placed


def key_arn(region: str, account: str, construct_path: str) -> str:
    """The ARN the model gives a key (key ids exist only once created): its construct
    path stands in for the id."""
    return f"arn:aws:kms:{region}:{account}:key/{construct_path.replace('/', '-')}"


def _references(stack: Mapping[str, Any], region: str, account: str) -> dict[str, str]:
    """What the model resolves ``${<type>.<logical id>.arn}`` references to, in documents
    that name a resource of their own stack: keys (their model ARN) and git connections."""
    resources = stack.get("resource", {})
    resolved: dict[str, str] = {}
    for lid, body in resources.get("aws_kms_key", {}).items():
        for ref in (lid, f"{lid}[0]"):
            resolved[f"${{aws_kms_key.{ref}.arn}}"] = key_arn(region, account, _path(body, lid))
    for lid, body in resources.get("aws_codestarconnections_connection", {}).items():
        for ref in (lid, f"{lid}[0]"):
            resolved[f"${{aws_codestarconnections_connection.{ref}.arn}}"] = (
                f"arn:aws:codeconnections:{region}:{account}:connection/{body['name']}"
            )
    return resolved


def _resolved(text: str, references: Mapping[str, str]) -> Any:
    for reference, value in references.items():
        text = text.replace(reference, value)
    return _document(text)


def _attachment_note(
    stack_name: str, attachment: Mapping[str, Any], roles: Mapping[str, Any]
) -> str:
    """Why an attached AWS managed policy is left out, and what that leaves unproven."""
    role_ref = _ref(attachment["role"])
    role = roles.get(role_ref[1]) if role_ref else None
    statements = _document(role["assume_role_policy"]).get("Statement", []) if role else []
    principals = [
        f"{kind} {value}"
        for statement in statements
        for kind, values in (statement.get("Principal") or {}).items()
        for value in ([values] if isinstance(values, str) else values)
    ]
    policy = attachment["policy_arn"]
    if role is None or all(p.startswith("Service ") for p in principals):
        return (
            f"{stack_name}: managed policy {policy} attached to a service role is "
            "not modelled (AWS managed document); that role is trusted only by its service"
        )
    return (
        f"{stack_name}: managed policy {policy} attached to role {role['name']} (trusted by "
        f"{', '.join(principals)}) is not modelled (AWS managed document): the proof counts "
        "only that role's own policies"
    )


def _stack_roles(
    stack_name: str, account: str, stack: Mapping[str, Any], region: str = "us-east-1"
) -> tuple[dict[str, Role], list[str]]:
    resources = stack.get("resource", {})
    notes: list[str] = []
    references = _references(stack, region, account)
    managed = {
        lid: NamedPolicy(_file(stack_name, body, lid), _document(body["policy"]))
        for lid, body in resources.get("aws_iam_policy", {}).items()
    }
    inline: dict[str, list[NamedPolicy]] = {}
    for lid, body in resources.get("aws_iam_role_policy", {}).items():
        role_ref = _ref(body["role"])
        if role_ref:
            inline.setdefault(role_ref[1], []).append(
                NamedPolicy(_file(stack_name, body, lid), _resolved(body["policy"], references))
            )
    for body in resources.get("aws_iam_role_policy_attachment", {}).values():
        role_ref = _ref(body["role"])
        document = MODELLED_MANAGED.get(body["policy_arn"])
        if role_ref and document is not None:
            inline.setdefault(role_ref[1], []).append(
                NamedPolicy(f"aws-managed/{body['policy_arn'].rsplit('/', 1)[1]}.json", document)
            )
            continue
        notes.append(_attachment_note(stack_name, body, resources.get("aws_iam_role", {})))
    roles = {}
    for lid, body in resources.get("aws_iam_role", {}).items():
        path = body.get("path", "/")
        arn = f"arn:aws:iam::{account}:role{path}{body['name']}"
        boundary_ref = _ref(body.get("permissions_boundary", ""))
        roles[arn] = Role(
            arn=arn,
            account_id=account,
            trust_policy=NamedPolicy(
                _file(stack_name, body, lid), _document(body["assume_role_policy"])
            ),
            identity_policies=tuple(inline.get(lid, [])),
            permission_boundary=managed[boundary_ref[1]] if boundary_ref else None,
            tags=dict(body.get("tags", {})),
        )
    return roles, notes


def _identity_center_roles(
    config: NdapConfig, synthesized: Mapping[str, Mapping[str, Any]]
) -> dict[str, Role]:
    """The roles IAM Identity Center creates in each account for an assigned permission
    set: its inline policy and boundary, reachable by the assigned persona's people
    (modelled as a trust on the identity account with the persona tag)."""
    center = config.identity.identity_center
    if center is None:
        return {}
    persona_of_group = {group: persona for persona, group in center.groups.items()}
    resources = synthesized["organization"].get("resource", {})
    sets = {lid: body for lid, body in resources.get("aws_ssoadmin_permission_set", {}).items()}
    inline = {}
    for lid, body in resources.get("aws_ssoadmin_permission_set_inline_policy", {}).items():
        ref = _ref(body["permission_set_arn"])
        if ref:
            inline[ref[1]] = NamedPolicy(
                _file("organization", body, lid), _document(body["inline_policy"])
            )
    bounded = {}
    for body in resources.get("aws_ssoadmin_permissions_boundary_attachment", {}).values():
        ref = _ref(body["permission_set_arn"])
        if ref:
            reference = body["permissions_boundary"][0]["customer_managed_policy_reference"][0]
            bounded[ref[1]] = str(reference["name"])
    account_env = {config.account_id(e): e for e in config.enabled_environments()}
    roles = {}
    for body in resources.get("aws_ssoadmin_account_assignment", {}).values():
        ref = _ref(body["permission_set_arn"])
        persona = persona_of_group.get(body["principal_id"])
        account = str(body["target_id"])
        if not ref or persona is None or account not in account_env:
            continue
        name = sets[ref[1]]["name"]
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "IdentityCenterAssignment",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{config.identity_account_id}:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {f"aws:PrincipalTag/{PERSONA_TAG}": persona}},
                }
            ],
        }
        boundary = None
        if ref[1] in bounded:
            env_stack = synthesized[environment_stack(account_env[account])]
            for lid, policy in env_stack.get("resource", {}).get("aws_iam_policy", {}).items():
                if policy["name"] == bounded[ref[1]]:
                    boundary = NamedPolicy(
                        _file(environment_stack(account_env[account]), policy, lid),
                        _document(policy["policy"]),
                    )
        path = "/aws-reserved/sso.amazonaws.com/"
        arn = f"arn:aws:iam::{account}:role{path}AWSReservedSSO_{name}_0123456789abcdef"
        roles[arn] = Role(
            arn=arn,
            account_id=account,
            trust_policy=NamedPolicy(f"identity-center/{name}/assignment.json", trust),
            identity_policies=(inline[ref[1]],) if ref[1] in inline else (),
            permission_boundary=boundary,
        )
    return roles


def account_access_role(config: NdapConfig, env: Environment | str) -> Role:
    """The role AWS Organizations creates in every member account (trusting the
    management account, with AdministratorAccess); the stacks deploy through it.
    ``env`` is an environment, or ``"tooling"`` for the delivery account."""
    account = _stack_account(config, env)
    stack = environment_stack(env) if isinstance(env, Environment) else env
    arn = account_access_role_arn(account, config.organization.account_access_role)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "AWS": f"arn:aws:iam::{config.organization.management_account_id}:root"
                },
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return Role(
        arn=arn,
        account_id=account,
        trust_policy=NamedPolicy(
            f"aws-organizations/{stack}/account-access-role-trust.json", trust
        ),
        identity_policies=(NamedPolicy("aws-managed/AdministratorAccess.json", ADMINISTRATOR),),
    )


def _stack_account(config: NdapConfig, env: Environment | str) -> str:
    if isinstance(env, Environment):
        return config.account_id(env)
    if env in SECURITY_ACCOUNT_KEYS:
        return security_account_id(config, env)
    assert env == TOOLING and config.tooling_account_id is not None
    return config.tooling_account_id


def build_model(config: NdapConfig, synthesized: Mapping[str, Mapping[str, Any]]) -> PlatformModel:
    organization = _organization(config, synthesized["organization"])
    roles: dict[str, Role] = {}
    buckets: dict[str, tuple[str, NamedPolicy | None]] = {}
    keys: dict[tuple[str, str], tuple[str, str, NamedPolicy]] = {}
    registries: dict[str, tuple[str, NamedPolicy]] = {}
    repositories: dict[str, tuple[str, NamedPolicy | None]] = {}
    key_tags: dict[tuple[str, str], dict[str, str]] = {}
    notes = [
        f"{config.organization.account_access_role} in each member account is modelled as "
        "AWS Organizations creates it: trusted by the management account, AdministratorAccess.",
        "AWS managed policies AdministratorAccess (exactly), ReadOnlyAccess (approximated "
        "by its verbs: every Get, List, Describe, BatchGet and View action), SecurityAudit "
        "(by a subset it grants: iam:Get*, iam:List*, kms:DescribeKey) and "
        "AWSConfigRoleForOrganizations "
        "(exactly: four Organizations reads) are modelled; other AWS managed policies are "
        "not (listed below).",
    ]
    inherited = config.organization.inherited_guardrails
    if inherited:
        notes.append(
            f"{len(inherited)} service control polic{'y' if len(inherited) == 1 else 'ies'} "
            "attached above the platform's units (organization.inherited_guardrails: "
            + ", ".join(p.name for p in inherited)
            + ") are evaluated at the root, above every unit, for every decision; `ndap "
            "preflight` checks that they are what the organization has attached there."
        )
    elif config.organization.parent_ou_id is not None:
        notes.append(
            f"No policy attached above the platform's units is declared "
            f"(organization.inherited_guardrails) though they sit under "
            f"{config.organization.parent_ou_id}: every decision assumes nothing there "
            "but FullAWSAccess; `ndap preflight` fails when that is not so."
        )
    for member, levels in organization.accounts.items():
        if len(levels) < 3:
            notes.append(
                f"account {member} is not placed in its unit by the synthesized organization "
                "stack (an adopted account without an e-mail): its unit's guardrails are not "
                "credited to it."
            )
    region = config.organization.home_region
    accounts: list[Environment | str] = list(config.enabled_environments())
    if config.tooling_account_id is not None and TOOLING in synthesized:
        accounts.append(TOOLING)
    if config.security_accounts is not None:
        accounts += [key for key in SECURITY_ACCOUNT_KEYS if key in synthesized]
    for env in accounts:
        name = environment_stack(env) if isinstance(env, Environment) else env
        stack = synthesized[name]
        account = _stack_account(config, env)
        stack_roles, stack_notes = _stack_roles(name, account, stack, region)
        roles.update(stack_roles)
        notes += stack_notes
        access_role = account_access_role(config, env)
        roles[access_role.arn] = access_role
        resources = stack.get("resource", {})
        policies = {}
        for lid, body in resources.get("aws_s3_bucket_policy", {}).items():
            bucket_ref = _ref(body["bucket"])
            if bucket_ref:
                policies[bucket_ref[1]] = NamedPolicy(
                    _file(name, body, lid), _document(body["policy"])
                )
        for lid, body in resources.get("aws_s3_bucket", {}).items():
            buckets[body["bucket"]] = (account, policies.get(lid))
        groups = {
            lid: str(body["model_package_group_name"])
            for lid, body in resources.get("aws_sagemaker_model_package_group", {}).items()
        }
        for lid, body in resources.get("aws_sagemaker_model_package_group_policy", {}).items():
            group_ref = _ref(body["model_package_group_name"])
            if group_ref and group_ref[1] in groups:
                registries[groups[group_ref[1]]] = (
                    account,
                    NamedPolicy(_file(name, body, lid), _document(body["resource_policy"])),
                )
        repository_names = {
            lid: str(body["name"]) for lid, body in resources.get("aws_ecr_repository", {}).items()
        }
        repository_policies: dict[str, NamedPolicy] = {}
        for lid, body in resources.get("aws_ecr_repository_policy", {}).items():
            repository_ref = _ref(body["repository"])
            if repository_ref:
                repository_policies[repository_ref[1]] = NamedPolicy(
                    _file(name, body, lid), _document(body["policy"])
                )
        for lid, repository in repository_names.items():
            repositories[repository] = (account, repository_policies.get(lid))
        for lid, body in resources.get("aws_kms_key", {}).items():
            path = _path(body, lid)
            arn = key_arn(region, account, path)
            key_tags[(name, path)] = {**_default_tags(stack), **dict(body.get("tags") or {})}
            keys[(name, path)] = (
                account,
                arn,
                NamedPolicy(_file(name, body, lid), _document(body["policy"])),
            )
    # The management account's own roles (the drift reader, the platform pipeline's
    # planner and deployer): no SCP applies there.
    management_roles, management_notes = _stack_roles(
        "organization",
        config.organization.management_account_id,
        synthesized["organization"],
        region,
    )
    roles.update(management_roles)
    notes += management_notes
    if TOOLING in accounts:
        notes.append(
            "Pipeline service roles (CodeBuild builds, CodePipeline, SageMaker execution, "
            "EventBridge Scheduler) are trusted only by their service; running code as one "
            "by passing it to a service is not followed as a chain: the "
            "organization-integrity SCP denies iam:PassRole of platform roles (path /ndap/) "
            "to everyone but the platform's deployment role and the pipeline roles, which "
            "may pass only pipeline roles."
        )
    roles.update(_identity_center_roles(config, synthesized))
    people = people_policy_of(config, synthesized)
    return PlatformModel(
        config,
        organization,
        roles,
        buckets,
        keys,
        people,
        sorted(set(notes)),
        registries,
        key_tags=key_tags,
        image_repositories=repositories,
    )


def _default_tags(stack: Mapping[str, Any]) -> dict[str, str]:
    providers = stack.get("provider", {}).get("aws", [])
    provider = providers[0] if isinstance(providers, list) and providers else {}
    blocks = provider.get("default_tags", []) if isinstance(provider, dict) else []
    return {k: str(v) for block in blocks for k, v in (block.get("tags") or {}).items()}


def people_policy_of(
    config: NdapConfig, synthesized: Mapping[str, Mapping[str, Any]]
) -> NamedPolicy:
    """The people policy as deployed in the organization stack; when the identity account
    is another account (not deployed by us) the document we generate for it, assumed to be
    attached there."""
    stack = synthesized["organization"]
    for lid, body in stack.get("resource", {}).get("aws_iam_policy", {}).items():
        if _path(body, lid) == "people-policy":
            return NamedPolicy(_file("organization", body, lid), _document(body["policy"]))
    document = people_policy(config.organization.name, config.organization.account_access_role)
    return NamedPolicy("identity-account/people-assume-persona-roles.json", document.to_dict())


IDENTITY_CENTER_SIGN_IN = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "IdentityCenterSignIn",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*",
        }
    ],
}


def identity_user(model: PlatformModel, persona: AnyPersona) -> Principal:
    """A person of ``persona`` signed in to the identity account (and, with Identity
    Center, to its portal: modelled as the right to use the roles it provisions, which
    the assignments then restrict to the persona's group)."""
    account = model.config.identity_account_id
    policies = [model.people_policy]
    if model.config.identity.identity_center is not None:
        policies.append(NamedPolicy("identity-center/sign-in.json", IDENTITY_CENTER_SIGN_IN))
    return Principal(
        arn=f"arn:aws:iam::{account}:user/{persona.value}-person",
        account_id=account,
        kind="user",
        identity_policies=tuple(policies),
        tags={PERSONA_TAG: persona.value},
    )


def pipeline_principal(config: NdapConfig) -> Principal:
    """The platform's deployment identity in the management account (``cdktf deploy``)."""
    account = config.organization.management_account_id
    return Principal(
        arn=f"arn:aws:iam::{account}:role/ndap-platform-ci",
        account_id=account,
        kind="role",
        identity_policies=(NamedPolicy("management-account/platform-ci.json", ASSUME_ANY),),
    )
