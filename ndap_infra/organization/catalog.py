"""Which organization policies exist and where they attach: plain data from configuration.

Two kinds, kept apart so the parity proof can tell them apart:

* common guardrails (construct subtree ``guardrails/``): the same documents attached to
  every environment's unit — the security baseline of the organization (invariant 1);
* access guardrails (subtree ``access-guardrails/``): the data-access rules of the model,
  which differ by environment by design (invariants 2-4).

A guardrail targets organizational units by key: an environment (``Environment`` is a
``str``) or ``"tooling"``, the unit of the delivery account (when
``organization.tooling_account_id`` is set), which carries the common guardrails too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ndap_infra.access.boundary import platform_role_patterns
from ndap_infra.access.data import receives_data
from ndap_infra.access.personas import shared_read_resources
from ndap_infra.config.accounts import SECURITY_ACCOUNT_KEYS, security_account_id
from ndap_infra.config.enums import LOG_ARCHIVE, SECURITY_UNIT, TOOLING, Environment
from ndap_infra.config.model import NdapConfig
from ndap_infra.guardrails import access, scp
from ndap_infra.iam.document import PolicyDocument
from ndap_infra.iam.limits import PolicyTooLarge
from ndap_infra.iam.resource_policies import bucket_arn
from ndap_infra.names.access import (
    PERSONA_PATH,
    data_scientist_names,
    data_scientist_role_arn,
    dataset_bucket_name,
)
from ndap_infra.names.pipelines import PIPELINE_ROLE_PATTERN
from ndap_infra.names.platform import platform_deployers, scp_name
from ndap_infra.names.security import archive_bucket, organization_trail_arn
from ndap_infra.organization import company
from ndap_infra.pipelines.drift import drift_detection_spec

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
SIZE_LIMITS = {SCP: scp.SCP_SIZE_LIMIT, RCP: 5120}
MAX_POLICIES_PER_TARGET = 5  # AWS quota, per policy type, the AWS-managed one included
PROTECTED = (Environment.ACC, Environment.PRD)
LOWER = (Environment.NONPROD, Environment.DEV)


@dataclass(frozen=True)
class GuardrailSpec:
    """A named organization policy and the units it is attached to: environments, and
    ``"tooling"`` for the delivery account's unit."""

    name: str
    description: str
    document: PolicyDocument
    environments: tuple[str, ...]
    policy_type: str = SCP

    @property
    def size(self) -> int:
        return len(self.document.to_json())


class GuardrailTooLarge(PolicyTooLarge):
    """An organization policy over its size limit, or a unit over its attachment quota."""


def merge(*documents: PolicyDocument) -> PolicyDocument:
    """One document from several: AWS attaches at most 5 SCPs (and 5 RCPs) to a unit,
    the AWS-managed full-access policy included, so related guardrails share one."""
    return PolicyDocument(tuple(s for d in documents for s in d.statements))


def _checked(specs: list[GuardrailSpec]) -> list[GuardrailSpec]:
    for spec in specs:
        limit = SIZE_LIMITS[spec.policy_type]
        if spec.size > limit:
            kind = "service control" if spec.policy_type == SCP else "resource control"
            raise GuardrailTooLarge(
                f"{kind} policy {spec.name} is {spec.size} characters, over the AWS limit of "
                f"{limit}: split it or shorten its statements"
            )
    return specs


def _everywhere(config: NdapConfig) -> tuple[str, ...]:
    """The units the common guardrails are attached to: every enabled environment's, and
    the delivery account's."""
    everywhere: tuple[str, ...] = config.enabled_environments()
    if config.tooling_account_id is not None:
        everywhere += (TOOLING,)
    return everywhere


@dataclass(frozen=True)
class GuardrailCatalog:
    """Every organization policy, by construct subtree: the common guardrails, the access
    guardrails, the security unit's, and the company's own new policies (its statements
    packed into the others are in their documents already)."""

    common: list[GuardrailSpec]
    access: list[GuardrailSpec]
    security: list[GuardrailSpec]
    company: list[GuardrailSpec]


def guardrail_catalog(config: NdapConfig) -> GuardrailCatalog:
    """The platform's organization policies with ``organization.company_guardrails``
    merged in (``ndap_infra.organization.company``); raises ``CompanyGuardrailRejected``
    when they do not fit."""
    common = _common_guardrails(config)
    security = _security_guardrails(config, common)
    by_environment = _access_guardrails(config)
    if not config.organization.company_guardrails:
        return GuardrailCatalog(common, by_environment, security, [])
    everywhere = _everywhere(config)
    if config.security_accounts is not None:
        everywhere += (SECURITY_UNIT,)
    platform = [
        company.Packable(g.name, g.document, tuple(str(u) for u in g.environments), is_common)
        for specs, is_common in ((common, True), (security, False), (by_environment, False))
        for g in specs
        if g.policy_type == SCP
    ]
    placement = company.place_company_guardrails(
        config, platform, everywhere, _unit_accounts(config)
    )

    def grown(specs: list[GuardrailSpec]) -> list[GuardrailSpec]:
        out = []
        for spec in specs:
            sids = placement.added.get(spec.name)
            if sids is None or spec.policy_type != SCP:
                out.append(spec)
                continue
            description = f"{spec.description} Company guardrails: {', '.join(sids)}."
            out.append(
                replace(spec, document=placement.documents[spec.name], description=description)
            )
        return _checked(out)

    own = [
        GuardrailSpec(
            p.name,
            "The company's own guardrails (organization.company_guardrails): "
            + ", ".join(s.sid for s in p.document.statements)
            + ".",
            p.document,
            p.units,
        )
        for p in placement.new
    ]
    return GuardrailCatalog(grown(common), grown(by_environment), grown(security), _checked(own))


def _unit_accounts(config: NdapConfig) -> dict[str, tuple[str, ...]]:
    """Each unit's accounts, as the organization stack places them."""
    accounts: dict[str, tuple[str, ...]] = {
        env.value: (config.account_id(env),) for env in config.enabled_environments()
    }
    if config.tooling_account_id is not None:
        accounts[TOOLING] = (config.tooling_account_id,)
    if config.security_accounts is not None:
        accounts[SECURITY_UNIT] = tuple(
            security_account_id(config, key) for key in SECURITY_ACCOUNT_KEYS
        )
    return accounts


def organization_guardrails(config: NdapConfig) -> list[GuardrailSpec]:
    """The common guardrails, attached to every enabled environment's unit: identical by
    construction (the company's statements for every unit included)."""
    return guardrail_catalog(config).common


def security_guardrails(config: NdapConfig) -> list[GuardrailSpec]:
    """The security unit's guardrails (see ``_security_guardrails``)."""
    return guardrail_catalog(config).security


def access_guardrails(config: NdapConfig) -> list[GuardrailSpec]:
    """The data-access guardrails of the model, per environment unit."""
    return guardrail_catalog(config).access


def company_guardrails(config: NdapConfig) -> list[GuardrailSpec]:
    """The company's own new policies (construct subtree ``company-guardrails/``)."""
    return guardrail_catalog(config).company


def _common_guardrails(config: NdapConfig) -> list[GuardrailSpec]:
    """The common guardrails, attached to every enabled environment's unit: identical by
    construction."""
    org = config.organization.name
    role = config.organization.account_access_role
    everywhere = _everywhere(config)

    platform_roles = platform_role_patterns(org, role)
    # The platform pipeline's deployer deploys like the account access role.
    also = platform_deployers(config)[1:]
    drift_spec = drift_detection_spec(config)
    drift = (
        scp.DriftUse(drift_spec.build_role_arn, f"arn:aws:iam::*:role/{drift_spec.reader_role}")
        if drift_spec is not None
        else None
    )
    non_pipeline_roles = (
        f"arn:aws:iam::*:role{PERSONA_PATH}*",
        *(p for p in platform_roles if p != "arn:aws:iam::*:role/ndap/*"),
    )
    return _checked(
        [
            GuardrailSpec(
                scp_name(org, "organization-integrity"),
                "Accounts stay in the organization, the root user does nothing, regional "
                "services stay in the allowed regions, and only the platform changes its own "
                "roles and identity providers.",
                merge(
                    scp.deny_leaving_organization(),
                    scp.deny_root_user(),
                    scp.restrict_regions(config.organization.allowed_regions),
                    scp.protect_platform_roles(
                        platform_roles, role, PIPELINE_ROLE_PATTERN, non_pipeline_roles, also, drift
                    ),
                ),
                everywhere,
            ),
            _baseline_guardrail(config, everywhere, also),
        ]
    )


def _trail_arn(config: NdapConfig) -> str:
    org = config.organization
    return organization_trail_arn(org.name, org.home_region, org.management_account_id)


def _archive_arns(config: NdapConfig) -> tuple[str, ...]:
    name = archive_bucket(config.organization.name, security_account_id(config, LOG_ARCHIVE))
    return (bucket_arn(name), f"{bucket_arn(name)}/*")


def _baseline_guardrail(
    config: NdapConfig, everywhere: tuple[str, ...], also: tuple[str, ...]
) -> GuardrailSpec:
    """protect-baseline; with the security accounts it also keeps the organization trail,
    the member detectors and the archive (merged: acc and prd already carry five SCPs)."""
    org = config.organization.name
    baseline = scp.protect_baseline(org, config.organization.account_access_role, also)
    description = "Only the platform stops, deletes or reconfigures the security baseline."
    if config.security_accounts is None:
        return GuardrailSpec(scp_name(org, "protect-baseline"), description, baseline, everywhere)
    trail = _trail_arn(config)
    return GuardrailSpec(
        scp_name(org, "protect-baseline"),
        description + " Nobody stops the organization trail, takes a detector away from "
        "the administrator or changes the log archive.",
        merge(baseline, scp.protect_central_evidence(trail, _archive_arns(config))),
        everywhere,
    )


def _security_guardrails(
    config: NdapConfig, common_guardrails: list[GuardrailSpec]
) -> list[GuardrailSpec]:
    """The security unit's guardrails (construct subtree ``security-guardrails/``): the
    organization's integrity and the baseline's protection, the same statements as the
    workload units' (their own policies, so that the common guardrails stay attached to
    exactly the workload units the parity proof compares), and the archive's and the
    delegated administrator's protection."""
    if config.security_accounts is None:
        return []
    org = config.organization.name
    also = platform_deployers(config)[1:]
    common = {g.name: g for g in common_guardrails}
    integrity = common[scp_name(org, "organization-integrity")]
    return _checked(
        [
            GuardrailSpec(
                scp_name(org, "security-organization-integrity"),
                integrity.description,
                integrity.document,
                (SECURITY_UNIT,),
            ),
            GuardrailSpec(
                scp_name(org, "protect-security-baseline"),
                "Only the platform stops, deletes or reconfigures the security baseline; "
                "nobody stops the organization trail or takes a detector away from the "
                "administrator.",
                merge(
                    scp.protect_baseline(org, config.organization.account_access_role, also),
                    scp.protect_central_evidence(_trail_arn(config), None),
                ),
                (SECURITY_UNIT,),
            ),
            GuardrailSpec(
                scp_name(org, "protect-security-accounts"),
                "Nobody deletes from the log archive or shortens its lock; only the platform "
                "configures it and the delegated administrator's detection.",
                scp.protect_security_accounts(
                    _archive_arns(config), config.organization.account_access_role, also
                ),
                (SECURITY_UNIT,),
            ),
        ]
    )


def _access_guardrails(config: NdapConfig) -> list[GuardrailSpec]:
    """The data-access guardrails of the model, per environment unit."""
    org = config.organization.name
    enabled = config.enabled_environments()
    protected_accounts = [config.account_id(e) for e in PROTECTED]
    lower_accounts = [config.account_id(e) for e in LOWER if e in enabled]
    shared = shared_read_resources(config)
    shared_read = access.SharedRead(data_scientist_role_arn(config), shared) if shared else None
    scientists = data_scientist_names(config)
    tooling = config.tooling_account_id
    with_tooling: tuple[str, ...] = (TOOLING,) if tooling is not None else ()
    with_security: tuple[str, ...] = (SECURITY_UNIT,) if config.security_accounts else ()
    specs = [
        GuardrailSpec(
            scp_name(org, "dev-stays-out-of-acc-prd"),
            "No dev principal acts on acc or prd resources (but the configured read), nor "
            "on the delivery account's (but dev's pipeline roles).",
            access.deny_lower_environments_reaching_protected(
                protected_accounts, shared_read, (), tooling, PIPELINE_ROLE_PATTERN
            ),
            (Environment.DEV,),
        ),
        GuardrailSpec(
            scp_name(org, "deny-data-scientists"),
            "Data-scientist principals (by tag or name) do nothing here.",
            access.deny_data_scientists(scientists),
            (*PROTECTED, *with_tooling, *with_security),
        ),
        GuardrailSpec(
            scp_name(org, "protect-acc-prd-resources"),
            "acc/prd resources refuse dev, nonprod and data-scientist principals.",
            access.deny_lower_environment_principals(lower_accounts, shared_read, scientists),
            PROTECTED,
            RCP,
        ),
    ]
    if Environment.NONPROD in enabled:
        replica = []
        if receives_data(config, Environment.DEV):
            name = dataset_bucket_name(org, Environment.DEV, config.account_id(Environment.DEV))
            replica = [bucket_arn(name), f"{bucket_arn(name)}/*"]
        # Nor on anything else in dev: a data scientist may copy production data anywhere
        # there and share it (#21, finding 4).
        dev = [config.account_id(Environment.DEV)] if Environment.DEV in enabled else []
        specs.append(
            GuardrailSpec(
                scp_name(org, "nonprod-has-no-production-data"),
                "No nonprod principal acts on acc/prd/dev resources (the dev replica by name too).",
                access.deny_lower_environments_reaching_protected(
                    [*protected_accounts, *dev], None, replica, tooling
                ),
                (Environment.NONPROD,),
            )
        )
        if dev:
            specs.append(
                GuardrailSpec(
                    scp_name(org, "dev-refuses-nonprod"),
                    "dev resources refuse nonprod principals (whatever a dev resource policy "
                    "grants).",
                    access.deny_nonprod_principals(config.account_id(Environment.NONPROD)),
                    (Environment.DEV,),
                    RCP,
                )
            )
    if tooling is not None:
        specs.append(
            GuardrailSpec(
                scp_name(org, "images-only-from-the-platform-registry"),
                "acc/prd principals pull container images only from the platform registry "
                "in the delivery account.",
                scp.images_only_from_the_platform_registry(tooling),
                PROTECTED,
            )
        )
        specs.append(
            GuardrailSpec(
                scp_name(org, "protect-tooling-resources"),
                "Delivery-account resources refuse dev, nonprod (but dev's pipeline roles' "
                "reads) and data-scientist principals.",
                access.protect_tooling_resources(lower_accounts, PIPELINE_ROLE_PATTERN, scientists),
                (TOOLING,),
                RCP,
            )
        )
    return _checked(specs)


def check_attachment_quota(specs: list[GuardrailSpec]) -> None:
    """Fail at synthesis when a unit would carry more policies than AWS allows."""
    counts: dict[tuple[str, str], int] = {}
    for spec in specs:
        for env in spec.environments:
            key = (str(env), spec.policy_type)
            counts[key] = counts.get(key, 0) + 1
    for (env, policy_type), count in sorted(counts.items()):
        if count + 1 > MAX_POLICIES_PER_TARGET:
            raise GuardrailTooLarge(
                f"the {env} unit would carry {count} {policy_type} policies plus the "
                f"AWS-managed one, over the AWS limit of {MAX_POLICIES_PER_TARGET}: merge some"
            )
