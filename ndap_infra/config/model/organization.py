"""The organization, its environments, the security baseline they share, the identity
source and the persona matrix's default."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    StringConstraints,
    model_validator,
)

from ndap_infra.config.enums import (
    Access,
    Environment,
    IdentitySource,
    Persona,
    ProductionData,
)
from ndap_infra.config.model.types import (
    AccountId,
    Email,
    Region,
    RoleName,
    Slug,
    StrictModel,
    TagKey,
    TagValue,
)


class SecurityAccountConfig(StrictModel):
    """One of the two security accounts: adopted (account_id and email) or created (email)."""

    account_id: AccountId | None = Field(
        default=None,
        description="The account, adopted by id (the e-mail is then required too). Without it "
        "the organization stack creates the account and `ndap deploy` records its id here.",
    )
    email: Email = Field(
        description="Root e-mail of the account.", examples=["aws-log-archive@acme.example"]
    )


class SecurityAccountsConfig(StrictModel):
    """Central evidence: an organization trail and every account's Config delivery into an
    immutable archive in a log-archive account, and GuardDuty, Security Hub, IAM Access
    Analyzer and a Config aggregator administered from a security-tooling account, both in a
    security unit of their own."""

    enabled: bool = Field(
        default=True,
        description="false: the per-account model applies unchanged (each account keeps its "
        "own trail, Config delivery and detectors, with no administrator account).",
    )
    log_archive: SecurityAccountConfig = Field(
        description="The log-archive account: the organization trail's and Config's archive."
    )
    security_tooling: SecurityAccountConfig = Field(
        description="The security-tooling account: delegated administrator of GuardDuty, "
        "Security Hub, IAM Access Analyzer and AWS Config."
    )
    archive_retention_days: int = Field(
        default=365,
        ge=1,
        le=36500,
        description="Days every archived log object is locked (S3 Object Lock, compliance "
        "mode: nobody, the root user included, deletes or shortens it).",
    )


GuardrailUnit = Literal["nonprod", "dev", "acc", "prd", "tooling", "security"]
"""An organizational unit the platform creates: an environment's, the delivery account's
(``tooling``) or the security accounts' (``security``)."""

OrganizationalUnitId = Annotated[
    str, StringConstraints(pattern=r"^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$")
]
"""AWS's pattern for an organizational unit's id."""

StatementId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,128}$")]
ActionPattern = Annotated[
    str, StringConstraints(pattern=r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$", max_length=128)
]
ResourcePattern = Annotated[
    str, StringConstraints(pattern=r"^(\*|arn:[^\s]+)$", min_length=1, max_length=2048)
]
ConditionOperator = Annotated[
    str,
    StringConstraints(
        pattern=r"^(ForAllValues:|ForAnyValue:)?("
        r"String(Not)?Equals(IgnoreCase)?|String(Not)?Like|"
        r"Numeric(Not)?Equals|Numeric(Less|Greater)Than(Equals)?|"
        r"Date(Not)?Equals|Date(Less|Greater)Than(Equals)?|Bool|BinaryEquals|"
        r"(Not)?IpAddress|Arn(Not)?(Equals|Like))(IfExists)?$|^Null$"
    ),
]
ConditionKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]+:[A-Za-z0-9:/_.$-]+$")]
ConditionValues = tuple[Annotated[str, StringConstraints(min_length=1, max_length=1024)], ...]


class CompanyGuardrailConfig(StrictModel):
    """One statement of the company's own guardrails: a Deny added to the service control
    policies of the platform's units, within AWS's limits (docs/security-model.md, company
    guardrails)."""

    sid: StatementId = Field(
        description="The statement's id: letters and digits, unique among the company's "
        "guardrails and the platform's own statements.",
        examples=["DenyReservedInstancePurchases"],
    )
    effect: Literal["Deny"] = Field(
        default="Deny",
        description="Deny only: every unit keeps AWS's FullAWSAccess policy, so an Allow "
        "statement in an SCP would narrow nothing.",
    )
    actions: tuple[ActionPattern, ...] = Field(
        default=(),
        description="Actions denied (service:Action, wildcards allowed). Give actions or "
        "not_actions, not both.",
        examples=[["ec2:PurchaseReservedInstancesOffering"]],
    )
    not_actions: tuple[ActionPattern, ...] = Field(
        default=(),
        description="Every action but these is denied (NotAction).",
        examples=[["iam:*", "sts:*"]],
    )
    resources: tuple[ResourcePattern, ...] = Field(
        default=("*",),
        min_length=1,
        description="Resources the statement covers: ARN patterns, or * (the default).",
        examples=[["*"]],
    )
    conditions: dict[ConditionOperator, dict[ConditionKey, ConditionValues]] = Field(
        default_factory=dict,
        description="IAM condition block: operator -> condition key -> values.",
        examples=[{"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}],
    )
    units: tuple[GuardrailUnit, ...] = Field(
        default=(),
        description="Units the statement applies to (nonprod, dev, acc, prd, tooling, "
        "security). Empty (the default): every unit the platform creates.",
        examples=[["acc", "prd"]],
    )

    @model_validator(mode="after")
    def _one_kind_of_actions(self) -> CompanyGuardrailConfig:
        if bool(self.actions) == bool(self.not_actions):
            raise ValueError("give exactly one of actions or not_actions")
        if any(not values for keys in self.conditions.values() for values in keys.values()):
            raise ValueError("every condition key needs at least one value")
        return self


SCP_MAX_CHARACTERS = 5120
"""AWS's limit on one service control policy, minified (whitespace outside strings out)."""
InheritedPolicyName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.+=,@-]{1,128}$")]


class InheritedGuardrailConfig(StrictModel):
    """A service control policy attached above the platform's units (the landing zone's,
    on the parent unit, its ancestors or the root): not the platform's, but every job and
    access decision is evaluated through it (docs/security-model.md, inherited guardrails)."""

    name: InheritedPolicyName = Field(
        description="The policy's name in the organization (what `ndap preflight` finds it "
        "by, attached above the platform's units).",
        examples=["aws-guardrails-region-deny"],
    )
    document: dict[str, Any] = Field(
        description="The policy's content, as `aws organizations describe-policy` prints it "
        "(Policy.Content): Version 2012-10-17 and Statement.",
        examples=[
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "DenyLeaving", "Effect": "Deny",
                     "Action": "organizations:LeaveOrganization", "Resource": "*"}
                ],
            }
        ],
    )  # fmt: skip

    @model_validator(mode="after")
    def _a_service_control_policy(self) -> InheritedGuardrailConfig:
        document = self.document
        if document.get("Version") != "2012-10-17":
            raise ValueError('document: Version must be "2012-10-17"')
        statements = document.get("Statement")
        if isinstance(statements, dict):
            statements = [statements]
        if not isinstance(statements, list) or not statements:
            raise ValueError("document: Statement must be a statement or a non-empty list")
        for index, statement in enumerate(statements):
            if not isinstance(statement, dict):
                raise ValueError(f"document: Statement[{index}] is not an object")
            if statement.get("Effect") not in ("Allow", "Deny"):
                raise ValueError(f"document: Statement[{index}].Effect must be Allow or Deny")
            if ("Action" in statement) == ("NotAction" in statement):
                raise ValueError(
                    f"document: Statement[{index}] needs exactly one of Action or NotAction"
                )
            if "Principal" in statement or "NotPrincipal" in statement:
                raise ValueError(
                    f"document: Statement[{index}] names a principal, which a service "
                    "control policy cannot"
                )
        size = len(json.dumps(document, separators=(",", ":")))
        if size > SCP_MAX_CHARACTERS:
            raise ValueError(
                f"document: {size} characters minified, over AWS's {SCP_MAX_CHARACTERS} for "
                "one service control policy"
            )
        return self


class OrganizationConfig(StrictModel):
    """The AWS organization the platform is built in."""

    name: Slug = Field(
        description="Short name of the organization, used as a name prefix.", examples=["acme-ml"]
    )
    management_account_id: AccountId = Field(
        description="The organization's management account; the organization stack deploys here."
    )
    home_region: Region = Field(description="Region of the platform's own resources.")
    allowed_regions: tuple[Region, ...] = Field(
        min_length=1,
        description="Regions workloads may use in every environment (guardrails deny others; "
        "global services excepted). Must include home_region.",
    )
    account_access_role: RoleName = Field(
        default="OrganizationAccountAccessRole",
        description="Role in each member account that the stacks' providers assume.",
    )
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict,
        description="Tags applied to every resource.",
        examples=[{"cost-center": "ml-platform", "owner": "platform-team"}],
    )
    create_organization: bool = Field(
        default=False,
        description="true: the organization stack creates the AWS organization (a new "
        "organization, or the local emulator). false: it looks up the existing one.",
    )
    tooling_account_id: AccountId | None = Field(
        default=None,
        description="The delivery (tooling) account: the ML projects' pipelines, artifact "
        "store and model registry live here, in their own organizational unit with the "
        "common guardrails. Data scientists have no access to it. Optional: without it no "
        "pipelines are generated (ml_projects are then only validated).",
    )
    tooling_email: Email | None = Field(
        default=None,
        description="Root e-mail of the tooling account. With tooling_account_id the "
        "organization stack adopts the account (by id) and places it in its unit, which "
        "needs the e-mail (so it is required with tooling_account_id). Without "
        "tooling_account_id the organization stack creates the account, and `ndap deploy` "
        "records its id here.",
        examples=["aws-ml-tooling@acme.example"],
    )
    security_accounts: SecurityAccountsConfig | None = Field(
        default=None,
        description="A log-archive and a security-tooling account (optional; on in the "
        "reference). Without it, or with enabled: false, every account keeps its own logs "
        "and detectors.",
    )
    company_guardrails: tuple[CompanyGuardrailConfig, ...] = Field(
        default=(),
        description="The company's own guardrails: Deny statements merged into the "
        "platform's service control policies of the units they name, within AWS's limits "
        "(5 SCPs per unit, 5,120 characters per policy); validate and build reject one that "
        "does not fit, the build one that denies a job of the platform's own "
        "(docs/runbooks/add-guardrail.md).",
        examples=[
            [
                {
                    "sid": "DenyReservedInstancePurchases",
                    "actions": ["ec2:PurchaseReservedInstancesOffering"],
                    "units": ["acc", "prd"],
                }
            ]
        ],
    )
    parent_ou_id: OrganizationalUnitId | None = Field(
        default=None,
        description="An existing organizational unit (of a landing zone) the platform's "
        "units are created under. Default: the organization's root. Its own policies "
        "(and its parents') apply on top of the platform's guardrails.",
        examples=["ou-ab12-cd34ef56"],
    )
    inherited_guardrails: tuple[InheritedGuardrailConfig, ...] = Field(
        default=(),
        description="The service control policies attached above the platform's units "
        "(parent_ou_id, its ancestors, the root), other than AWS's FullAWSAccess: the "
        "proofs evaluate every job and access decision through them, the build rejects one "
        "that denies a job of the platform's own, and `ndap preflight` fails when the "
        "organization has one attached that is not listed here (or differs).",
        examples=[
            [
                {
                    "name": "landing-zone-deny-leaving",
                    "document": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Action": "organizations:LeaveOrganization",
                                "Resource": "*",
                            }
                        ],
                    },
                }
            ]
        ],
    )


DEFAULT_CONFIG_RULES = (
    "CLOUD_TRAIL_ENABLED",
    "MULTI_REGION_CLOUD_TRAIL_ENABLED",
    "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
    "CLOUD_TRAIL_ENCRYPTION_ENABLED",
    "GUARDDUTY_ENABLED_CENTRALIZED",
    "SECURITYHUB_ENABLED",
    "EC2_EBS_ENCRYPTION_BY_DEFAULT",
    "IAM_PASSWORD_POLICY",
    "ROOT_ACCOUNT_MFA_ENABLED",
    "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC",
    "S3_BUCKET_SSL_REQUESTS_ONLY",
    "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
    "S3_BUCKET_VERSIONING_ENABLED",
    "CMK_BACKING_KEY_ROTATION_ENABLED",
    "IAM_ROOT_ACCESS_KEY_CHECK",
)

DEFAULT_SECURITY_HUB_STANDARDS = (
    "aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark/v/1.4.0",
)


class PasswordPolicyConfig(StrictModel):
    """The IAM account password policy (CIS 1.8-1.9 defaults)."""

    minimum_length: int = Field(
        default=14, ge=14, le=128, description="Shortest password IAM users may set."
    )
    max_age_days: int = Field(
        default=90, ge=1, le=1095, description="Days after which a password must be changed."
    )
    reuse_prevention: int = Field(
        default=24, ge=1, le=24, description="How many previous passwords may not be reused."
    )


class SecurityBaselineConfig(StrictModel):
    """The security controls every environment account carries, identically.

    There is deliberately no per-environment variant: invariant 1 of the model."""

    log_retention_days: int = Field(
        default=365, ge=90, description="Days CloudTrail/Config logs are kept before expiry."
    )
    log_archive_transition_days: int = Field(
        default=90, ge=30, description="Days before logs move to Glacier storage."
    )
    cloudwatch_log_retention_days: int = Field(
        default=365, description="Retention of the CloudTrail CloudWatch log group."
    )
    config_rules: tuple[str, ...] = Field(
        default=DEFAULT_CONFIG_RULES,
        min_length=1,
        description="AWS Config managed rule identifiers that check the baseline itself.",
    )
    security_hub_standards: tuple[str, ...] = Field(
        default=DEFAULT_SECURITY_HUB_STANDARDS,
        min_length=1,
        description="Security Hub standards ARNs' suffixes (after 'standards/' or 'ruleset/').",
    )
    password_policy: PasswordPolicyConfig = Field(default_factory=PasswordPolicyConfig)
    alarm_email: Email | None = Field(
        default=None,
        description="E-mail subscribed to the security alarm topic (optional).",
        examples=["security-alerts@acme.example"],
    )
    guardduty_finding_frequency: str = Field(
        default="FIFTEEN_MINUTES",
        pattern="^(FIFTEEN_MINUTES|ONE_HOUR|SIX_HOURS)$",
        description="How often GuardDuty publishes updated findings.",
    )


class EnvironmentConfig(StrictModel):
    """One environment account."""

    enabled: bool = Field(
        default=True, description="Only nonprod may be switched off; dev, acc, prd always exist."
    )
    account_id: AccountId | None = Field(
        default=None,
        description="The environment's AWS account, adopted by id. An enabled environment "
        "needs it or an email (then the organization stack creates the account and `ndap "
        "deploy` records its id here).",
    )
    email: Email | None = Field(
        default=None,
        description="Root e-mail of the account. With account_id the organization stack "
        "adopts the account (by id) and places it in its unit, which needs the e-mail "
        "(so it is required with account_id). Without account_id the organization "
        "stack creates the account with this e-mail.",
        examples=["aws-ml-dev@acme.example"],
    )
    production_data: ProductionData | None = Field(
        default=None,
        description="How this environment holds production data. Default: nonprod none, "
        "dev read-only, acc copy, prd source. The model allows no other values.",
    )
    security_baseline: dict[str, Any] | None = Field(
        default=None,
        description="Not allowed: the baseline is identical in every environment "
        "(invariant 1). Set it once in the top-level security_baseline.",
    )
    allowed_regions: tuple[str, ...] | None = Field(
        default=None,
        description="Not allowed: every environment has the organization's allowed_regions "
        "(invariant 1).",
    )


class EnvironmentsConfig(StrictModel):
    """The N-D-A-P environments. nonprod is optional."""

    nonprod: EnvironmentConfig = Field(default_factory=lambda: EnvironmentConfig(enabled=False))
    dev: EnvironmentConfig
    acc: EnvironmentConfig
    prd: EnvironmentConfig

    def get(self, env: Environment) -> EnvironmentConfig:
        result: EnvironmentConfig = getattr(self, env.value)
        return result


class PersonConfig(StrictModel):
    """One person onboarded into Identity Center's directory: a user, and a member of the
    group of each of their personas (docs/runbooks/add-persona.md)."""

    user_name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._@+-]{1,128}$")] = Field(
        description="Their sign-in name in the identity store.", examples=["ana.lima"]
    )
    given_name: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Their given name (the user's display name is given and family name).",
        examples=["Ana"],
    )
    family_name: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Their family name.", examples=["Lima"]
    )
    email: Email = Field(
        description="Their work e-mail (primary).", examples=["ana.lima@acme.example"]
    )
    personas: tuple[Slug, ...] = Field(
        min_length=1,
        description="The personas (built-in or custom) whose groups they join. A "
        "data-scientist-like persona may not be combined with one that has access to acc "
        "or prd.",
        examples=[["data-scientist"]],
    )


class IdentityCenterConfig(StrictModel):
    """IAM Identity Center, in the management account: one permission set per persona and
    environment, assigned to the persona's group in that environment's account."""

    instance_arn: Annotated[
        str,
        StringConstraints(pattern=r"^arn:aws[a-z-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$"),
    ] = Field(
        description="ARN of the Identity Center instance.",
        examples=["arn:aws:sso:::instance/ssoins-722378a1b2c3d4e5"],
    )
    groups: dict[Slug, Annotated[str, StringConstraints(min_length=1, max_length=47)]] = Field(
        description="Identity store group id of each persona, built-in or custom, by name "
        "(personas without access anywhere may be left out).",
        examples=[{"data-scientist": "a1b2c3d4-5678-90ab-cdef-111122223333"}],
    )
    session_duration: Annotated[str, StringConstraints(pattern=r"^PT([1-9]|1[0-2])H$")] = Field(
        default="PT4H", description="Session length of permission sets (break-glass: PT1H)."
    )
    identity_store_id: Annotated[str, StringConstraints(pattern=r"^d-[0-9a-f]{10}$")] | None = (
        Field(
            default=None,
            description="The instance's identity store (required with people).",
            examples=["d-906712a1b2"],
        )
    )
    people: tuple[PersonConfig, ...] = Field(
        default=(),
        description="People onboarded by the platform: a user in the identity store each, a "
        "member of their personas' groups. Leave empty when an external identity provider "
        "provisions the users and groups (SCIM).",
    )


class IdentityConfig(StrictModel):
    """Where people sign in, and how they reach the environment accounts."""

    source: IdentitySource = Field(
        default=IdentitySource.IAM_ROLES,
        description="iam-roles: persona roles in each account trust the identity account "
        "(MFA required). identity-center: IAM Identity Center permission sets. both.",
    )
    identity_account_id: AccountId | None = Field(
        default=None,
        description="Account whose principals may assume persona roles. Default: the "
        "management account.",
    )
    require_mfa: bool = Field(default=True, description="Persona role trusts require MFA.")
    identity_center: IdentityCenterConfig | None = Field(
        default=None,
        description="Required when source is identity-center or both: the instance and the "
        "group of each persona.",
    )


ACCESS_CELLS = dict[Environment, Access]


def default_persona_matrix() -> dict[Persona, dict[Environment, Access]]:
    """The default matrix of the design document."""
    n, d, a, p = Environment.NONPROD, Environment.DEV, Environment.ACC, Environment.PRD
    full, ro, none = Access.FULL, Access.READ_ONLY, Access.NONE
    return {
        Persona.DATA_SCIENTIST: {n: none, d: full, a: none, p: none},
        Persona.ML_ENGINEER: {n: full, d: full, a: ro, p: none},
        Persona.PLATFORM_ENGINEER: {n: full, d: full, a: ro, p: ro},
        Persona.BUSINESS_USER: {n: none, d: none, a: Access.UAT, p: none},
        Persona.SECURITY_AUDITOR: dict.fromkeys(Environment, Access.SECURITY_AUDIT),
        Persona.BREAK_GLASS: dict.fromkeys(Environment, Access.ADMIN),
        Persona.DEPLOYER: dict.fromkeys(Environment, Access.DEPLOY),
    }
