"""The AWS provider of a stack: which account it deploys into, and how.

Why and how: docs/design-notes.md, section ndap_infra/constructs/provider.py."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jsii
from cdktf import (
    Aspects,
    DefaultTokenResolver,
    IAspect,
    S3Backend,
    StringConcat,
    TerraformResource,
    TerraformStack,
    TerraformVariable,
    Tokenization,
)
from constructs import Construct, IConstruct

from ndap_infra.config.model import DeployTarget, NdapConfig, StateBackendConfig
from ndap_infra.emulator.gaps import DRIFT_COMMENT_KEY, GAP_COMMENT_KEY, drift, gap_reason
from ndap_infra.emulator.settings import (
    DUMMY_CREDENTIAL,
    EMULATOR_ENDPOINT_VARIABLE,
    EMULATOR_STATE_BUCKET,
    EMULATOR_STATE_REGION,
    state_key,
)
from ndap_infra.names.access import account_access_role_arn
from ndap_infra.pipelines.platform import STACK_PROFILE_PREFIX
from ndap_infra.resources.aws import (
    AwsProvider,
    AwsProviderAssumeRole,
    AwsProviderDefaultTags,
    AwsProviderEndpoints,
)

EMULATOR_CREDENTIAL = DUMMY_CREDENTIAL
# Measured: moto answers what it does not implement (e.g. the update of
# aws_securityhub_account) with HTTP 500, and with the provider's default retries (25) an
# apply hangs for 10+ minutes before failing. A few retries remain: moto also answers 500
# to a request that races another (an SCP created while the organization is), and the
# retry then succeeds.
EMULATOR_MAX_RETRIES = 4

# Resource/data-source type prefix -> the provider's `endpoints` key of its service.
# Longest prefix wins. Every type of ndap_infra/codegen/types.toml must have an entry (a
# test checks it): a service without one would silently go to the real AWS endpoint.
SERVICE_ENDPOINTS: dict[str, str] = {
    "aws_accessanalyzer_": "accessanalyzer",
    "aws_caller_identity": "sts",
    "aws_cloudtrail": "cloudtrail",
    "aws_cloudwatch_event_": "events",
    "aws_cloudwatch_log_": "logs",
    "aws_cloudwatch_metric_alarm": "cloudwatch",
    "aws_codebuild_": "codebuild",
    "aws_codepipeline": "codepipeline",
    "aws_codestarconnections_": "codestarconnections",
    "aws_config_": "configservice",
    "aws_ebs_": "ec2",
    "aws_ecr_": "ecr",
    "aws_guardduty_": "guardduty",
    "aws_iam_": "iam",
    "aws_identitystore_": "identitystore",
    "aws_kms_": "kms",
    "aws_organizations_": "organizations",
    "aws_partition": "sts",
    "aws_region": "ec2",
    "aws_s3_account_public_access_block": "s3control",
    "aws_s3_bucket": "s3",
    "aws_sagemaker_": "sagemaker",
    "aws_scheduler_": "scheduler",
    "aws_securityhub_": "securityhub",
    "aws_sns_": "sns",
    "aws_ssoadmin_": "ssoadmin",
}
# Always pointed at the emulator: role assumption and the account id lookup.
ALWAYS_ENDPOINTS = ("iam", "sts")


class UnmappedService(ValueError):
    """A resource type whose service endpoint is not known for the local target."""


def service_endpoint(resource_type: str) -> str:
    """The provider ``endpoints`` key serving ``resource_type`` (e.g. ``aws_kms_key``: kms)."""
    matches = [prefix for prefix in SERVICE_ENDPOINTS if resource_type.startswith(prefix)]
    if not matches:
        raise UnmappedService(
            f"{resource_type}: no emulator endpoint is known for its service; add its "
            "prefix to SERVICE_ENDPOINTS in ndap_infra/constructs/provider.py"
        )
    return SERVICE_ENDPOINTS[max(matches, key=len)]


def emulator_services() -> tuple[str, ...]:
    """Every endpoint key the product's types need, plus the always-needed ones, sorted."""
    return tuple(sorted({*ALWAYS_ENDPOINTS, *SERVICE_ENDPOINTS.values()}))


@dataclass(frozen=True)
class EmulatorTarget:
    """Deploy into the local emulator (``deploy.target: local``)."""

    management_account_id: str
    access_role: str


STACK_CREDENTIALS_VARIABLE = "NDAP_STACK_CREDENTIALS"
"""``profiles``: each stack's provider names the AWS profile ``ndap-<stack>`` (module
docstring); the platform pipeline's builds set it."""


def stack_profile(stack: str) -> str:
    return f"{STACK_PROFILE_PREFIX}{stack}"


@dataclass(frozen=True)
class AwsTarget:
    """Deploy into real AWS (``deploy.target: aws``)."""

    region: str
    state: StateBackendConfig | None = None
    profiles: bool = False
    """The stack's identity comes from the profile ``ndap-<stack>`` (pipeline builds)."""


def provider_target(config: NdapConfig) -> EmulatorTarget | AwsTarget:
    """What the stacks pass to ``account_provider``."""
    org = config.organization
    if config.deploy.target is not DeployTarget.LOCAL:
        return AwsTarget(
            org.home_region,
            config.deploy.state,
            os.environ.get(STACK_CREDENTIALS_VARIABLE, "") == "profiles",
        )
    return EmulatorTarget(org.management_account_id, org.account_access_role)


def account_provider(
    scope: Construct,
    *,
    region: str,
    tags: dict[str, str],
    assume_role_arn: str | None = None,
    session_name: str = "ndap-infra",
    target: EmulatorTarget | AwsTarget | None = None,
    other_regions: Sequence[str] = (),
) -> dict[str, AwsProvider]:
    """A provider for one account: assumes ``assume_role_arn`` when given (member
    accounts), or uses the caller's credentials (the management account). With an
    emulator ``target``, the same provider wired to the local emulator (module docstring).
    Returns the providers by region: ``region`` (the default provider) and, for each of
    ``other_regions``, an aliased provider identical but for the region (the baseline's
    detection runs in every allowed region)."""
    stack = TerraformStack.of(scope)
    providers = {
        name: _provider(
            scope,
            "aws" if name == region else f"aws-{name}",
            name,
            None if name == region else region_alias(name),
            assume_role_arn,
            session_name,
            tags,
            target,
            stack.node.id,
        )
        for name in dict.fromkeys((region, *other_regions))
    }
    if isinstance(target, EmulatorTarget):
        S3Backend(
            stack,
            bucket=EMULATOR_STATE_BUCKET,
            key=state_key(stack.node.id),
            region=EMULATOR_STATE_REGION,
            access_key=EMULATOR_CREDENTIAL,
            secret_key=EMULATOR_CREDENTIAL,
            use_path_style=True,
            skip_credentials_validation=True,
            skip_requesting_account_id=True,
            skip_metadata_api_check=True,
            skip_region_validation=True,
        ).add_override("use_lockfile", True)
        Aspects.of(stack).add(EmulatorGaps())
    elif target is not None and target.state is not None:
        _remote_state(stack, target.state, target.region)
    return providers


def other_stack_provider(
    scope: Construct,
    *,
    alias: str,
    stack: str,
    region: str,
    assume_role_arn: str,
    session_name: str = "ndap-infra",
    target: EmulatorTarget | AwsTarget | None = None,
) -> AwsProvider:
    """An aliased provider (``aws.<alias>``, construct id ``aws-<alias>``) that reaches
    another stack's account exactly as that ``stack``'s own provider does: by
    ``assume_role_arn`` (the account access role), or, in the pipeline's builds, by that
    stack's profile ``ndap-<stack>`` (its planner, deployer); ``ndap drift`` replaces its
    role with the account's drift reader. It reads (data sources) and creates nothing: no
    default tags. Why: docs/design-notes.md, section ndap_infra/constructs/provider.py."""
    return _provider(
        scope,
        f"aws-{alias}",
        region,
        alias,
        assume_role_arn,
        session_name,
        {},
        target,
        stack,
    )


def region_alias(region: str) -> str:
    """The alias of the provider for ``region`` (``aws.eu_central_1``)."""
    return region.replace("-", "_")


def _provider(
    scope: Construct,
    id_: str,
    region: str,
    alias: str | None,
    assume_role_arn: str | None,
    session_name: str,
    tags: dict[str, str],
    target: EmulatorTarget | AwsTarget | None,
    profile_stack: str,
) -> AwsProvider:
    """One AWS provider: the default one (construct id ``aws``) or an aliased one; in the
    pipeline's builds it names the profile of ``profile_stack``."""
    stack = TerraformStack.of(scope)
    default_tags = [AwsProviderDefaultTags(tags=tags)] if tags else None
    if not isinstance(target, EmulatorTarget):
        profiles = target is not None and target.profiles
        return AwsProvider(
            scope,
            id_,
            alias=alias,
            region=region,
            profile=stack_profile(profile_stack) if profiles else None,
            assume_role=(
                [AwsProviderAssumeRole(role_arn=assume_role_arn, session_name=session_name)]
                if assume_role_arn and not profiles
                else None
            ),
            default_tags=default_tags,
        )
    endpoint = _endpoint_variable(stack)
    role = assume_role_arn or account_access_role_arn(
        target.management_account_id, target.access_role
    )
    return AwsProvider(
        scope,
        id_,
        alias=alias,
        endpoints=[AwsProviderEndpoints(**dict.fromkeys(emulator_services(), endpoint))],
        region=region,
        assume_role=[AwsProviderAssumeRole(role_arn=role, session_name=session_name)],
        default_tags=default_tags,
        access_key=EMULATOR_CREDENTIAL,
        secret_key=EMULATOR_CREDENTIAL,
        skip_credentials_validation=True,
        skip_metadata_api_check="true",
        skip_region_validation=True,
        s3_use_path_style=True,
        max_retries=EMULATOR_MAX_RETRIES,
        http_proxy=endpoint,
        https_proxy="",
    )


def _endpoint_variable(stack: TerraformStack) -> str:
    """The stack's emulator endpoint variable (one per stack, shared by its providers)."""
    existing = stack.node.try_find_child(EMULATOR_ENDPOINT_VARIABLE)
    variable = (
        existing
        if isinstance(existing, TerraformVariable)
        else TerraformVariable(
            stack,
            EMULATOR_ENDPOINT_VARIABLE,
            type="string",
            description="URL of the local AWS emulator (ndap deploy sets it; `ndap emulator "
            "status` prints it).",
        )
    )
    return variable.string_value


def _remote_state(stack: TerraformStack, state: StateBackendConfig, home_region: str) -> None:
    """The stack's state in the configured bucket, encrypted and locked."""
    S3Backend(
        stack,
        bucket=state.bucket,
        key=state.key(stack.node.id),
        region=state.region or home_region,
        encrypt=True,
        kms_key_id=state.kms_key_arn,
    ).add_override("use_lockfile", True)


@jsii.implements(IAspect)
class EmulatorGaps:
    """Local target only: ``count = 0`` on the resources the emulator cannot create, and
    ``lifecycle.ignore_changes`` on the arguments it does not read back.

    Why ``count = 0`` in the synthesized stack rather than leaving them out at apply time:
    Terraform 1.11 has no ``-exclude``, and ``-target`` pulls in every dependency of what it
    targets, leaves ``terraform plan`` permanently non-empty, and does not exist for
    ``cdktf deploy``. ``count = 0`` makes the local stack deployable by every tool and its
    plan empty after deploy. It is a definition change, so it is explicit: each such
    resource carries ``"//": {"ndap_emulator_gap": "<reason>"}`` in ``cdk.tf.json``, and
    ``ndap deploy`` lists them on screen and in ``.ndap/emulator-gaps.md``.

    A resource whose configuration refers to a gap resource's attributes is a gap too,
    with the reason naming the one it refers to, and its references are indexed
    (``aws_x.name[0].attr``): Terraform rejects an unindexed reference to a resource with
    ``count`` even from a resource that has no instances either. ``depends_on`` alone is
    not a reason: depending on zero instances is valid.

    The whole stack is judged at once when the aspect visits the stack (one resolution of
    the stack, not one per resource: synthesis stays fast at thousands of resources).
    Resources that other aspects add while the tree is walked are judged when visited.
    """

    def __init__(self) -> None:
        self._known: set[int] = set()
        self._gaps: set[str] = set()

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, TerraformStack):
            self._judge_stack(node)
        elif isinstance(node, TerraformResource) and id(node) not in self._known:
            self._judge_added(node)

    def _judge_stack(self, stack: TerraformStack) -> None:
        document = stack.to_terraform()
        self._known = {id(r) for r in stack.node.find_all() if isinstance(r, TerraformResource)}
        bodies: dict[str, tuple[str, dict[str, Any]]] = {}
        for resource_type, resources in document.get("resource", {}).items():
            for name, body in resources.items():
                bodies[f"{resource_type}.{name}"] = (resource_type, body)
        reasons: dict[str, str] = {}
        references: dict[str, list[str]] = {}
        for address, (resource_type, body) in bodies.items():
            reason = gap_reason(resource_type, body)
            if reason is not None:
                reasons[address] = reason
            references[address] = sorted(
                {r for r in REFERENCE.findall(_reference_text(body)) if r in bodies}
            )
        changed = True
        while changed:
            changed = False
            for address, referenced in references.items():
                if address in reasons:
                    continue
                for target in referenced:
                    if target in reasons:
                        reasons[address] = f"refers to {target}, left out on the emulator"
                        changed = True
                        break
        self._gaps |= set(reasons)
        found: dict[str, IConstruct] = {stack.node.id: stack}
        for address, (resource_type, body) in bodies.items():
            if address not in reasons and drift(resource_type, body) is None:
                continue  # nothing to change: its construct is not looked up
            path = body.get("//", {}).get("metadata", {}).get("path", "")
            construct = _construct_at(path, found)
            if construct is None:
                continue
            if address in reasons:
                self._leave_out(construct, body, reasons[address])
            else:
                _ignore_drift(construct, resource_type, body)

    def _judge_added(self, resource: TerraformResource) -> None:
        """A resource added after the stack was judged (by another aspect)."""
        self._known.add(id(resource))
        stack = TerraformStack.of(resource)
        body = _resolved_body(stack, resource)
        resource_type = resource.terraform_resource_type
        reason = gap_reason(resource_type, body)
        if reason is None:
            for target in sorted(set(REFERENCE.findall(_reference_text(body)))):
                if target in self._gaps:
                    reason = f"refers to {target}, left out on the emulator"
                    break
        if reason is None:
            _ignore_drift(resource, resource_type, body)
            return
        self._gaps.add(f"{resource_type}.{stack.get_logical_id(resource)}")
        self._leave_out(resource, body, reason)

    def _leave_out(self, resource: TerraformResource, body: dict[str, Any], reason: str) -> None:
        resource.count = 0
        resource.add_override(f"//.{GAP_COMMENT_KEY}", reason)
        for path, value in _leaves(body):
            indexed = _index_references(value, self._gaps)
            if indexed != value:
                resource.add_override(".".join(path), indexed)


def _construct_at(path: str, found: dict[str, IConstruct]) -> TerraformResource | None:
    """The resource at a construct path (``env-dev/data-key/key``), found child by child
    from the scopes already found (by path; the stack's to begin with): a few jsii round
    trips for the resources the aspect changes, instead of asking every resource of the
    stack for its path."""
    parts = path.split("/")
    if parts[0] not in found:
        return None
    node = found[parts[0]]
    for depth in range(2, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        if prefix not in found:
            child = node.node.try_find_child(parts[depth - 1])
            if child is None:
                return None
            found[prefix] = child
        node = found[prefix]
    return node if isinstance(node, TerraformResource) else None


def _ignore_drift(resource: TerraformResource, resource_type: str, body: dict[str, Any]) -> None:
    gap = drift(resource_type, body)
    if gap is None:
        return
    ignored = [*body.get("lifecycle", {}).get("ignore_changes", []), *gap.ignore]
    resource.add_override("lifecycle.ignore_changes", sorted(set(ignored)))
    resource.add_override(f"//.{DRIFT_COMMENT_KEY}", gap.reason)


REFERENCE = re.compile(r"\$\{(aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)\.")


def _reference_text(body: dict[str, Any]) -> str:
    """The body as text, without ``depends_on`` and comments (no index needed there)."""
    return json.dumps({k: v for k, v in body.items() if k not in ("depends_on", "//")})


def _leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every string in a resolved body with its override path (``rule.0.key``); keys with
    a dot cannot be addressed by an override path and are left as they are."""
    if isinstance(value, str):
        return [(path, value)]
    found: list[tuple[tuple[str, ...], str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("depends_on", "//", "lifecycle") and "." not in key:
                found += _leaves(item, (*path, key))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            found += _leaves(item, (*path, str(number)))
    return found


def _index_references(text: str, gaps: set[str]) -> str:
    """``${aws_x.name.attr}`` becomes ``${aws_x.name[0].attr}`` for every gap resource."""

    def index(match: re.Match[str]) -> str:
        address = match.group(1)
        return f"${{{address}[0]." if address in gaps else match.group(0)

    return REFERENCE.sub(index, text)


def _resolved_body(stack: TerraformStack, resource: TerraformResource) -> dict[str, Any]:
    """A resource's configuration with references resolved (``${aws_x.name.attr}``)."""
    resolved = Tokenization.resolve(
        resource.to_terraform(),
        resolver=DefaultTokenResolver(StringConcat()),
        scope=stack,
        preparing=False,
    )
    for blocks in resolved.get("resource", {}).values():
        for body in blocks.values():
            return dict(body)
    return {}
