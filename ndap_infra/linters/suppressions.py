"""The one list of accepted policy-as-code findings, each with its written reason.

Why and how: docs/design-notes.md, section ndap_infra/linters/suppressions.py."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ndap_infra.config.enums import Access, Environment
from ndap_infra.config.model import NdapConfig

ENV = r"(?:env-[a-z]+|tooling|log-archive|security-tooling)"
"""Any account stack: an environment's, or the tooling (delivery) account's, which carries
the same security baseline (proved by ``ndap parity``), or a security account's (#18),
whose keys, bucket policies and trusts follow the same patterns."""
ARCHIVE = r"log-archive/archive"

TODO = "TODO lead:"


@dataclass(frozen=True)
class CheckovSuppression:
    """A checkov check accepted for the resources whose construct path matches."""

    check_id: str
    resource: str
    """Regular expression over ``<stack>/<construct path>``, matched whole."""
    reason: str
    per_stack: int = 1
    """How many matching resources one stack must hold for the suppression to apply (and
    so be stale when unused): 2 for what only a second region's copy fails."""

    def __post_init__(self) -> None:
        _validate(self.reason, self.resource)

    def applies_to(self, paths: Iterable[str]) -> bool:
        """Whether this configuration holds what the suppression names (``per_stack``
        matching resources in one stack)."""
        counts: dict[str, int] = {}
        for path in paths:
            if re.fullmatch(self.resource, path):
                stack = path.split("/", 1)[0]
                counts[stack] = counts.get(stack, 0) + 1
        return any(count >= self.per_stack for count in counts.values())

    def matches(self, check_id: str, construct_path: str) -> bool:
        return check_id == self.check_id and re.fullmatch(self.resource, construct_path) is not None

    @property
    def key(self) -> str:
        return f"{self.check_id} {self.resource}"


@dataclass(frozen=True)
class ParliamentSuppression:
    """A parliament issue accepted in the policy files whose path matches."""

    issue: str
    file: str
    """Regular expression over the file's path below ``policies/``, matched whole."""
    reason: str
    detail: str | None = None
    """Regular expression searched in the finding's detail; any detail if None."""

    def __post_init__(self) -> None:
        _validate(self.reason, self.file, self.detail)

    def matches(self, issue: str, file: str, detail: str) -> bool:
        return (
            issue == self.issue
            and re.fullmatch(self.file, file) is not None
            and (self.detail is None or re.search(self.detail, detail) is not None)
        )

    @property
    def key(self) -> str:
        return f"{self.issue} {self.file}" + ("" if self.detail is None else f" /{self.detail}/")


def _validate(reason: str, *patterns: str | None) -> None:
    if len(reason.split()) < 8:
        raise ValueError(f"a suppression needs a written reason, got {reason!r}")
    for pattern in patterns:
        if pattern is not None:
            re.compile(pattern)


# -- checkov over the synthesized Terraform JSON ----------------------------------------

_STAR_ADMIN = ("CKV_AWS_62", "CKV_AWS_63", "CKV2_AWS_40")
"""checkov's three findings for a policy that allows every action."""

CHECKOV_SUPPRESSIONS: tuple[CheckovSuppression, ...] = (
    # -- storage --
    CheckovSuppression(
        "CKV_AWS_144",
        rf"{ENV}/(data-bucket|data-access/bucket)/bucket",
        "Cross-region replication would copy ML data to a second region; every workload "
        "and its data stay within organization.allowed_regions (data residency), and the "
        "home region is the only region the platform deploys into. S3 stores objects "
        "across availability zones; versioning plus the lifecycle's 90-day noncurrent "
        "window cover deletion and overwrite. (The prd datasets bucket already replicates, "
        "within the region, to the dev replica and the acc copy.)",
    ),
    CheckovSuppression(
        "CKV_AWS_144",
        rf"{ENV}/baseline/(log-bucket|access-log-bucket)/bucket",
        "Cross-region replication of the audit logs would send them out of the allowed "
        "regions (data residency). The log buckets are versioned, deletion-protected "
        "(prevent_destroy) and guarded by the organization's baseline guardrails; the copy "
        "outside the account is the log archive (organization.security_accounts: the "
        "organization trail and every account's Config delivery).",
    ),
    CheckovSuppression(
        "CKV_AWS_144",
        rf"{ARCHIVE}/(archive-bucket|access-log-bucket)/bucket",
        "The log archive is itself the copy outside every workload account; replicating it "
        "to a second region would send the organization's audit logs out of "
        "organization.allowed_regions (data residency). Every version is held by S3 Object "
        "Lock in compliance mode, and nobody may delete (bucket policy and the security "
        "unit's SCP).",
    ),
    CheckovSuppression(
        "CKV2_AWS_61",
        rf"{ARCHIVE}/archive-bucket/bucket",
        "No lifecycle rule on purpose: a lifecycle expiration is a deletion path, and the "
        "archive's bucket policy denies s3:PutLifecycleConfiguration to every principal. "
        "Object Lock (compliance mode, organization.security_accounts."
        "archive_retention_days) governs how long each version is kept.",
    ),
    CheckovSuppression(
        "CKV2_AWS_62",
        rf"{ARCHIVE}/archive-bucket/bucket",
        "Only CloudTrail and AWS Config write to the archive, and nothing consumes a "
        "notification per delivered log file (several per account and region every few "
        "minutes); a change to the archive itself is denied by its policy and the "
        "guardrails, and would show in the organization trail.",
    ),
    CheckovSuppression(
        "CKV2_AWS_10",
        r"organization-trail/organization-trail/trail",
        "The organization trail is the immutable copy in the log archive; each account's "
        "own baseline trail feeds that account's CloudWatch log group and its CIS metric "
        "alarms (an organization trail delivers to CloudWatch Logs only in the management "
        "account).",
    ),
    CheckovSuppression(
        "CKV_AWS_252",
        r"organization-trail/organization-trail/trail",
        "A CloudTrail SNS topic announces every log file delivered and nothing consumes "
        "those messages; high-severity findings reach the security findings topic in the "
        "security-tooling account, and the accounts' baseline alarms their own topic.",
    ),
    CheckovSuppression(
        "CKV_AWS_121",
        r"security-tooling/detection/config-aggregator",
        "The organization aggregator covers organization.allowed_regions, the regions every "
        "account records in; the organization-integrity guardrail denies every other "
        "region, so there is nothing to aggregate there.",
    ),
    CheckovSuppression(
        "CKV_AWS_145",
        rf"{ARCHIVE}/access-log-bucket/bucket",
        "The archive's S3 server access log destination is encrypted with SSE-S3 on "
        "purpose: S3 delivers server access logs only to buckets whose default encryption "
        "is SSE-S3, not SSE-KMS. The archive itself uses the archive key.",
    ),
    CheckovSuppression(
        "CKV_AWS_145",
        rf"{ENV}/baseline/access-log-bucket/bucket",
        "The S3 server access log destination is encrypted with SSE-S3 on purpose: S3 "
        "documents that server access logs are delivered only to buckets whose default "
        "encryption is SSE-S3, not SSE-KMS. Everything else (data buckets, the CloudTrail "
        "and Config log bucket) uses a customer-managed KMS key.",
    ),
    # -- the security baseline --
    CheckovSuppression(
        "CKV_AWS_252",
        rf"{ENV}/baseline/trail",
        "A CloudTrail SNS topic announces every log file delivered (several per region "
        "every five minutes) and nothing consumes those messages. Security alerting reads "
        "the trail's CloudWatch log group through the baseline's metric filters and "
        "alarms, which notify the encrypted alarm topic.",
    ),
    CheckovSuppression(
        "CKV2_AWS_3",
        rf"{ENV}/baseline/detection/[a-z0-9-]+/guardduty",
        "Without organization.security_accounts (switched off), every account enables its "
        "own GuardDuty detector through the baseline (the same control everywhere, proved "
        "by parity), and the protect-baseline SCP stops anyone but the platform from "
        "disabling it; checkov wants organization-wide administration (a delegated "
        "administrator with auto-enable), which is what the security accounts add: a "
        "documented gap of the per-account model, not an accepted risk. With them, the "
        "administrator creates every member's detector and no workload stack holds one, so "
        "this suppression names nothing.",
    ),
    CheckovSuppression(
        "CKV2_AWS_48",
        rf"{ENV}/baseline/detection/[a-z0-9-]+/config-recorder",
        "Detection runs in every allowed region, and global resources (IAM) are the same "
        "from each: only the home region's recorder records them (AWS's recommendation, "
        "so they are not recorded and billed once per region). The parity proof requires "
        "exactly one region per account to record them, and the baseline tests that it is "
        "the home region.",
        per_stack=2,  # one region alone has only the home recorder, which records them
    ),
    CheckovSuppression(
        "CKV_AWS_144",
        r"tooling/pipelines/artifact-bucket/bucket",
        "The artifact store holds build outputs that every release can rebuild from its git "
        "tag; replicating them to a second region would take model artifacts out of "
        "organization.allowed_regions (data residency). The bucket is versioned with the "
        "same 90-day noncurrent window as the data buckets.",
    ),
    CheckovSuppression(
        "CKV_AWS_61",
        rf"(organization|{ENV})/(drift-reader/role|platform-roles/(planner|deployer)-role)",
        "These roles trust the tooling account's root with ArnEquals aws:PrincipalArn on "
        "one build role (the drift build, the platform's plan or apply build): that role "
        "is created by a later stack, and AWS refuses a trust naming a role that does not "
        "exist yet (docs/design-notes.md#creation-order). Only that role's sessions match "
        "the condition; the platform-pipeline proof evaluates who can assume each one, and "
        "checkov flags any account principal regardless of conditions.",
    ),
    # -- access: persona roles and their policies (the persona x environment matrix) --
    CheckovSuppression(
        "CKV_AWS_61",
        rf"({ENV}/personas/[a-z-]+/role|{ARCHIVE}/auditor-role)",
        "Persona roles trust the identity account (its root principal, AWS's documented "
        "cross-account pattern, delegating to that account's IAM), conditioned on MFA "
        "(identity.require_mfa) and on the matching ndap:persona principal tag; checkov "
        "flags any account principal regardless of the conditions.",
    ),
    *(
        CheckovSuppression(
            check,
            rf"{ENV}/personas/break-glass/access",
            "Break-glass is the emergency administrator by definition: full access in "
            "every environment, only through an MFA-conditioned assumption of its own "
            "role from the identity account.",
        )
        for check in _STAR_ADMIN
    ),
    *(
        CheckovSuppression(
            check,
            r"env-(nonprod|dev)/personas/(ml-engineer|platform-engineer|data-scientist)/access",
            "The persona matrix gives these personas full access in nonprod and dev (data "
            "scientists in dev only), bounded by the organization guardrails and, for data "
            "scientists, by their permissions boundary; in acc and prd they are read-only, "
            "so this suppression does not reach those stacks.",
        )
        for check in _STAR_ADMIN
    ),
    *(
        CheckovSuppression(
            check,
            rf"{ENV}/personas/data-scientist/boundary",
            "A permissions boundary is a ceiling, not a grant: AWS's documented pattern "
            "allows everything and then denies what must stay out of reach (changing the "
            "boundary, creating principals without it, touching the platform's roles). "
            "Effective permissions are the intersection with the role's own policy.",
        )
        for check in _STAR_ADMIN
    ),
    CheckovSuppression(
        "CKV_AWS_274",
        rf"(?:{ENV}|organization)/platform-roles/deployer-managed",
        "The platform pipeline's deployer applies the reviewed, approved plan of a whole "
        "stack (IAM, KMS, S3, CloudTrail, Config, Organizations, ...): the rights the "
        "account access role has, which people used until now. It is trusted only by the "
        "tooling account's apply build role (principal ARN and aws:PrincipalAccount), no "
        "person can assume it (ndap access proves it), it may assume no role, and the apply "
        "build runs only saved plans whose sha256 the approver saw.",
    ),
)


# -- parliament over policies/ ------------------------------------------------------------

_TRUST_POLICY = rf"(?:{ENV}|organization)/(.+/)?([a-z-]+-)?role\.json"
_KEY_POLICY = rf"{ENV}/(.+/)?[a-z-]*key/key\.json"
_BUCKET_POLICY = rf"{ENV}/(.+/)?[a-z-]*bucket/policy\.json"

PARLIAMENT_SUPPRESSIONS: tuple[ParliamentSuppression, ...] = (
    # -- resource policies read as identity policies --
    ParliamentSuppression(
        "MALFORMED",
        _TRUST_POLICY,
        "Role trust policies are resource policies of the role: they name a Principal and "
        "never a Resource. parliament reads every file as an identity policy.",
        detail=r"neither Resource nor NotResource",
    ),
    ParliamentSuppression(
        "RESOURCE_STAR",
        _KEY_POLICY,
        'In a key policy "Resource": "*" means the key the policy is attached to; AWS '
        "requires it there (the account's kms:* statement is AWS's default key policy).",
    ),
    ParliamentSuppression(
        "MISMATCHED_TYPE",
        _BUCKET_POLICY,
        "parliament's number pattern accepts integers only; AWS documents the TLS "
        "condition as NumericLessThan s3:TlsVersion 1.2, which is what the bucket policies "
        "deny below.",
        detail=r"s3:TlsVersion requires a value of type Numeric",
    ),
    ParliamentSuppression(
        "UNKNOWN_CONDITION_FOR_ACTION",
        _BUCKET_POLICY,
        "The outdated-TLS Deny covers s3:*; for the few actions S3 sends without the "
        "s3:TlsVersion key the condition cannot match and the Deny does not apply, while "
        "the insecure-transport Deny still covers every action.",
        detail=r"Unknown condition s3:TlsVersion for action",
    ),
    ParliamentSuppression(
        "MISMATCHED_TYPE",
        rf"{ENV}/baseline/logs-key/key\.json",
        "parliament types kms:EncryptionContext:* keys as strings; AWS's CloudWatch Logs "
        "documentation conditions the log group's encryption context "
        "(kms:EncryptionContext:aws:logs:arn) with ArnEquals/ArnLike, as this policy does.",
        detail=r"ArnEquals requires a value of type Arn but given String",
    ),
    ParliamentSuppression(
        "INVALID_ARN",
        rf"{ENV}/baseline/config-role-policy\.json",
        "The logs key's ARN is a Terraform reference (the key id exists only once the key "
        "is created), so the reviewer file shows ${aws_kms_key...arn}, resolved at apply.",
        detail=r"Does not have 6 parts",
    ),
    ParliamentSuppression(
        "MISMATCHED_TYPE_BUT_USABLE",
        rf"{ENV}/personas/data-scientist/boundary\.json",
        "AWS documents iam:PermissionsBoundary with string operators (StringEquals, "
        "StringNotEquals) and a policy ARN as the value, as the boundary's "
        "CreatedPrincipalsCarryTheBoundary statement does.",
        detail=r"StringNotEquals requires a value of type String but given Arn",
    ),
    ParliamentSuppression(
        "RESOURCE_MISMATCH",
        rf"{ENV}/data-access/bucket/policy\.json",
        "AWS's documented destination bucket policy for cross-account replication grants "
        "s3:List* on the bucket; the list actions parliament names do not act on a bucket, "
        "so in a bucket policy they grant nothing.",
        detail=r"s3:List",
    ),
    ParliamentSuppression(
        "RESOURCE_MISMATCH",
        r"organization/people-policy\.json",
        "The role ARN ends in the policy variable ${aws:PrincipalTag/ndap:persona}; "
        "parliament splits ARNs on ':' and miscounts the variable's colon, the ARN is a "
        "valid role ARN pattern once the variable is substituted.",
        detail=r"sts:AssumeRole",
    ),
    ParliamentSuppression(
        "INVALID_ARN",
        r"tooling/pipelines/[a-z0-9-]+/(dev|acc|prd)/(build|pipeline|register)-access\.json",
        "The artifact key's and the git connection's ARNs are Terraform references (both "
        "exist only once created), so the reviewer file shows ${aws_kms_key...arn} and "
        "${aws_codestarconnections_connection...arn}, resolved at apply.",
        detail=r"Does not have 6 parts",
    ),
    ParliamentSuppression(
        "INVALID_ARN",
        r"tooling/drift-detection/build-access\.json",
        "The drift build clones through the tooling account's GitHub connection, whose ARN "
        "is a Terraform reference (it exists only once created), so the reviewer file "
        "shows ${aws_codestarconnections_connection...arn}, resolved at apply.",
        detail=r"Does not have 6 parts",
    ),
    ParliamentSuppression(
        "INVALID_ARN",
        r"tooling/platform-pipeline/(plan|apply|pipeline)-access\.json",
        "The artifact key's and the git connection's ARNs are Terraform references (both "
        "exist only once created), so the reviewer file shows ${aws_kms_key...arn} and "
        "${aws_codestarconnections_connection...arn}, resolved at apply.",
        detail=r"Does not have 6 parts",
    ),
    ParliamentSuppression(
        "INVALID_ARN",
        r"env-[a-z]+/data-access/integration-subset/(sampler|schedule)-access\.json",
        "The integration-subset job's roles name the datasets key by its ARN, a Terraform "
        "reference (the key id exists only once the key is created), so the reviewer file "
        "shows ${aws_kms_key...arn}, resolved at apply.",
        detail=r"Does not have 6 parts",
    ),
    ParliamentSuppression(
        "MISMATCHED_TYPE",
        r"env-[a-z]+/data-access/key/key\.json",
        "parliament types kms:EncryptionContext:* keys as strings; AWS's CloudWatch Logs "
        "documentation conditions the log group's encryption context "
        "(kms:EncryptionContext:aws:logs:arn) with ArnEquals, as the datasets key does for "
        "the integration-subset job's log group.",
        detail=r"ArnEquals requires a value of type Arn but given String",
    ),
    ParliamentSuppression(
        "RESOURCE_MISMATCH",
        r"tooling/pipelines/artifact-bucket/policy\.json",
        "The object ARNs hold the policy variable ${aws:PrincipalTag/ndap:project} (each "
        "deployer role reads only its own project's prefix); parliament splits ARNs on ':' "
        "and miscounts the variable's colon. Once substituted they are object ARNs.",
        detail=r"s3:GetObject",
    ),
    ParliamentSuppression(
        "MISMATCHED_TYPE",
        r"tooling/pipelines/artifact-key/key\.json",
        "parliament types kms:EncryptionContext:* keys as strings; AWS's CloudWatch Logs "
        "documentation conditions the log group's encryption context "
        "(kms:EncryptionContext:aws:logs:arn) with ArnLike, as this policy does for the "
        "build log groups.",
        detail=r"ArnLike requires a value of type Arn but given String",
    ),
    ParliamentSuppression(
        "UNKNOWN_CONDITION_FOR_ACTION",
        r"env-(dev|acc|prd)/(pipelines/[a-z0-9-]+/(deployer|execution|schedule)-access"
        r"|retraining/[a-z0-9-]+/trigger-access|features/offline-store-access)\.json",
        "kms:ResourceAliases (attribute-based access control for KMS, 2021) is a condition "
        "key of kms:Decrypt and kms:GenerateDataKey in AWS's service authorization "
        "reference; parliament's action database predates it. The pipeline, retraining "
        "trigger and feature-store roles use it to name the key by alias, because its id "
        "exists only once created.",
        detail=r"Unknown condition kms:ResourceAliases for action kms:(Decrypt|GenerateDataKey)",
    ),
    ParliamentSuppression(
        "UNKNOWN_CONDITION_FOR_ACTION",
        r"env-(dev|acc|prd)/feature-publishers/[a-z0-9-]+-access\.json",
        "kms:ResourceAliases is a condition key of kms:Decrypt and kms:DescribeKey in AWS's "
        "service authorization reference; parliament's action database predates it. The "
        "feature publisher names the data key by alias, because its id exists only once "
        "created.",
        detail=r"Unknown condition kms:ResourceAliases for action kms:(Decrypt|DescribeKey)",
    ),
    ParliamentSuppression(
        "INVALID_ARN",
        r"tooling/feature-pipelines/[a-z0-9-]+/(dev|acc|prd)/(build|pipeline)-access\.json",
        "The artifact key's and the git connection's ARNs are Terraform references (both "
        "exist only once created), so the reviewer file shows ${aws_kms_key...arn} and "
        "${aws_codestarconnections_connection...arn}, resolved at apply.",
        detail=r"Does not have 6 parts",
    ),
    # -- identity policies: the persona matrix --
    ParliamentSuppression(
        "RESOURCE_STAR",
        r"env-(acc|prd)/personas/(ml-engineer|platform-engineer)/access\.json",
        "Read-only personas in acc and prd read across the account by design (every "
        "service's Describe/Get/List/Search/View actions on every resource), and decrypt "
        "only through S3 in the home region; secrets and parameters stay denied.",
    ),
    ParliamentSuppression(
        "RESOURCE_STAR",
        rf"{ENV}/personas/security-auditor/access\.json",
        "The security auditor reads the security configuration of every resource in the "
        "account (bucket settings included); naming every ARN would be the same grant.",
    ),
    # -- scheduled drift detection (tooling) --
    ParliamentSuppression(
        "MISMATCHED_TYPE",
        r"tooling/drift-detection/key/key\.json",
        "parliament types kms:EncryptionContext:* keys as strings; AWS's CloudWatch Logs "
        "documentation conditions the log group's encryption context "
        "(kms:EncryptionContext:aws:logs:arn) with ArnEquals, as this policy does for the "
        "drift build's log group.",
        detail=r"ArnEquals requires a value of type Arn but given String",
    ),
    ParliamentSuppression(
        "UNKNOWN_CONDITION_FOR_ACTION",
        r"tooling/drift-detection/schedule-access\.json",
        "kms:ResourceAliases is a condition key of kms:Decrypt in AWS's service "
        "authorization reference; parliament's action database predates it. The schedule "
        "role names the drift key by alias, because its id exists only once created.",
        detail=r"Unknown condition kms:ResourceAliases for action kms:Decrypt",
    ),
)


# -- custom personas: the same acceptances as the built-in personas', by access level ---


def custom_persona_suppressions(
    config: NdapConfig,
) -> tuple[tuple[CheckovSuppression, ...], tuple[ParliamentSuppression, ...]]:
    """The suppressions of the custom personas' access policies, written from the
    configuration's matrix by access level (the built-in personas' are listed above by
    name): full access in nonprod and dev allows every action (checkov's star-admin
    checks); read-only and security-audit read across the account (parliament's
    RESOURCE_STAR). Validation keeps full access to nonprod and dev, and to personas like
    the engineers and data scientists (whose boundary then applies)."""
    checkov: list[CheckovSuppression] = []
    parliament: list[ParliamentSuppression] = []
    for custom in config.custom_personas:
        for env, level in custom.cells().items():
            where = f"env-{env.value}/personas/{re.escape(custom.name)}/access"
            if level is Access.FULL and env in (Environment.NONPROD, Environment.DEV):
                checkov += [
                    CheckovSuppression(
                        check,
                        where,
                        f"The custom persona {custom.name} (like {custom.like.value}) has "
                        f"full access in {env.value} by the configured matrix, bounded by the "
                        "organization guardrails (and a data scientist's boundary).",
                    )
                    for check in _STAR_ADMIN
                ]
            if level in (Access.READ_ONLY, Access.SECURITY_AUDIT):
                parliament.append(
                    ParliamentSuppression(
                        "RESOURCE_STAR",
                        rf"{where}\.json",
                        f"The custom persona {custom.name} has {level.value} access in "
                        f"{env.value} by the configured matrix: it reads across the account "
                        "by design, as the built-in read-only personas do.",
                    )
                )
    return tuple(checkov), tuple(parliament)
