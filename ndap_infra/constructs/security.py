"""The security accounts' constructs (``organization.security_accounts``): the log archive,
the delegated administrators' organization-wide detection, and the organization trail."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import TerraformProvider, TerraformStack
from constructs import Construct

from ndap_infra.baseline import archive, controls
from ndap_infra.baseline.policies import access_log_bucket_policy
from ndap_infra.config.model import SecurityBaselineConfig
from ndap_infra.constructs.storage import (
    BucketProps,
    KeyProps,
    ManagedKey,
    SecureBucket,
    ServerAccessLogging,
)
from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement
from ndap_infra.iam.resource_policies import key_policy_account_administers
from ndap_infra.iam.trust import service_trust
from ndap_infra.names import security as names
from ndap_infra.names.access import PERSONA_PATH
from ndap_infra.resources.aws import (
    AccessanalyzerAnalyzer,
    Cloudtrail,
    CloudwatchEventRule,
    CloudwatchEventTarget,
    ConfigConfigurationAggregator,
    ConfigConfigurationAggregatorOrganizationAggregationSource,
    DataAwsKmsKey,
    DataAwsOrganizationsOrganization,
    GuarddutyDetector,
    GuarddutyOrganizationConfiguration,
    IamRole,
    IamRolePolicy,
    IamRolePolicyAttachment,
    S3BucketObjectLockConfiguration,
    S3BucketObjectLockConfigurationRule,
    S3BucketObjectLockConfigurationRuleDefaultRetention,
    SecurityhubAccount,
    SecurityhubConfigurationPolicy,
    SecurityhubConfigurationPolicyAssociation,
    SecurityhubConfigurationPolicyConfigurationPolicy,
    SecurityhubConfigurationPolicyConfigurationPolicySecurityControlsConfiguration,
    SecurityhubFindingAggregator,
    SecurityhubOrganizationConfiguration,
    SecurityhubOrganizationConfigurationOrganizationConfiguration,
    SnsTopic,
    SnsTopicPolicy,
    SnsTopicSubscription,
)

OBJECT_LOCK_MODE = "COMPLIANCE"
CONFIG_ORGANIZATIONS_POLICY = "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"
EVENTS = "events.amazonaws.com"
HIGH_SEVERITY = ("HIGH", "CRITICAL")


@dataclass(frozen=True)
class ArchiveProps:
    org: str
    account_id: str
    management_account_id: str
    region: str
    member_accounts: tuple[str, ...]
    """Every account whose AWS Config delivers into the archive."""
    retention_days: int
    auditor_role: str
    auditor_trust: PolicyDocument
    config_role_name: str


class LogArchive(Construct):
    """The archive bucket (Object Lock in compliance mode, the archive key, TLS only, public
    access blocked, deletion denied to everyone), its server access log bucket, and the
    security auditor's read-only role."""

    def __init__(self, scope: Construct, id_: str, props: ArchiveProps) -> None:
        super().__init__(scope, id_)
        bucket = names.archive_bucket(props.org, props.account_id)
        trail_arn = names.organization_trail_arn(
            props.org, props.region, props.management_account_id
        )
        self.key = ManagedKey(
            self,
            "archive-key",
            KeyProps(
                alias=names.archive_key_alias(props.org),
                description=f"{props.org} log archive: the organization trail and Config",
                policy=archive.archive_key_policy(
                    props.account_id,
                    props.management_account_id,
                    trail_arn,
                    props.member_accounts,
                    bucket,
                    props.region,
                ),
                prevent_destroy=True,
            ),
        )
        access_logs = names.archive_access_log_bucket(props.org, props.account_id)
        self.access_log_bucket = SecureBucket(
            self,
            "access-log-bucket",
            BucketProps(
                name=access_logs,
                kms_key_arn=None,
                policy=access_log_bucket_policy(access_logs, props.account_id),
                prevent_destroy=True,
                receives_access_logs=True,
            ),
        )
        self.bucket = SecureBucket(
            self,
            "archive-bucket",
            BucketProps(
                name=bucket,
                kms_key_arn=self.key.arn,
                policy=archive.archive_bucket_policy(
                    bucket,
                    trail_arn,
                    props.member_accounts,
                    f"arn:aws:iam::{props.account_id}:role{PERSONA_PATH}{props.auditor_role}",
                    props.config_role_name,
                ),
                prevent_destroy=True,
                # CloudTrail's key policy conditions on its own encryption context.
                bucket_key_enabled=False,
                lifecycle=None,
                eventbridge_notifications=False,
                object_lock=True,
            ),
        )
        S3BucketObjectLockConfiguration(
            self,
            "object-lock",
            bucket=self.bucket.bucket.id,
            rule=[
                S3BucketObjectLockConfigurationRule(
                    default_retention=[
                        S3BucketObjectLockConfigurationRuleDefaultRetention(
                            mode=OBJECT_LOCK_MODE, days=props.retention_days
                        )
                    ]
                )
            ],
            depends_on=[self.bucket.versioning],
        )
        ServerAccessLogging.apply(
            TerraformStack.of(self), self.access_log_bucket, names.ARCHIVE_ACCESS_LOGS_PREFIX
        )
        role = IamRole(
            self,
            "auditor-role",
            name=props.auditor_role,
            path=PERSONA_PATH,
            description="Security auditors read the log archive; nothing else",
            assume_role_policy=props.auditor_trust.to_json(),
            max_session_duration=3600,
        )
        IamRolePolicy(
            self,
            "auditor-read",
            name="read-log-archive",
            role=role.id,
            policy=archive.archive_reader_policy(bucket, props.region, props.account_id).to_json(),
        )


@dataclass(frozen=True)
class DetectionAdminProps:
    org: str
    account_id: str
    region: str
    allowed_regions: tuple[str, ...]
    baseline: SecurityBaselineConfig
    other_regions: Mapping[str, TerraformProvider]
    alarm_email: str | None
    parent_ou_id: str | None = None
    """Where the platform's units are nested (``organization.parent_ou_id``): the Security
    Hub configuration policy goes there, not on the root, so that it reaches the
    platform's accounts and not the rest of an existing landing zone."""


class OrganizationDetection(Construct):
    """The delegated administrator's side: GuardDuty auto-enabled for every member in every
    allowed region, Security Hub with central configuration (the baseline's standards, every
    account, findings of every region aggregated in the home region), an organization
    analyzer per region, an organization Config aggregator, and high-severity findings
    published to the security findings topic."""

    def __init__(self, scope: Construct, id_: str, props: DetectionAdminProps) -> None:
        super().__init__(scope, id_)
        regions: dict[str, TerraformProvider | None] = {props.region: None}
        regions.update(props.other_regions)
        for region, provider in regions.items():
            detector = GuarddutyDetector(
                self,
                f"guardduty-{region}",
                enable=True,
                finding_publishing_frequency=props.baseline.guardduty_finding_frequency,
                provider=provider,
            )
            GuarddutyOrganizationConfiguration(
                self,
                f"guardduty-members-{region}",
                detector_id=detector.id,
                auto_enable_organization_members="ALL",
                provider=provider,
            )
            AccessanalyzerAnalyzer(
                self,
                f"organization-analyzer-{region}",
                analyzer_name=names.organization_analyzer(props.org),
                type="ORGANIZATION",
                provider=provider,
            )
        hub = SecurityhubAccount(
            self, "securityhub", enable_default_standards=False, auto_enable_controls=True
        )
        others = sorted(r for r in props.allowed_regions if r != props.region)
        aggregator = SecurityhubFindingAggregator(
            self,
            "securityhub-regions",
            linking_mode="SPECIFIED_REGIONS" if others else "NO_REGIONS",
            specified_regions=others or None,
            depends_on=[hub],
        )
        central = SecurityhubOrganizationConfiguration(
            self,
            "securityhub-central-configuration",
            auto_enable=False,
            auto_enable_standards="NONE",
            organization_configuration=[
                SecurityhubOrganizationConfigurationOrganizationConfiguration(
                    configuration_type="CENTRAL"
                )
            ],
            depends_on=[aggregator],
        )
        standards = controls.security_hub_standards(props.baseline, props.region)
        policy = SecurityhubConfigurationPolicy(
            self,
            "securityhub-policy",
            name=names.security_hub_policy(props.org),
            description="The baseline's standards, in every account and allowed region",
            configuration_policy=[
                SecurityhubConfigurationPolicyConfigurationPolicy(
                    service_enabled=True,
                    enabled_standard_arns=[s.arn for s in standards],
                    security_controls_configuration=[
                        SecurityhubConfigurationPolicyConfigurationPolicySecurityControlsConfiguration(
                            disabled_control_identifiers=[]
                        )
                    ],
                )
            ],
            depends_on=[central],
        )
        if props.parent_ou_id is not None:
            target = props.parent_ou_id
        else:
            organization = DataAwsOrganizationsOrganization(self, "organization")
            target = organization.get_string_attribute("roots.0.id")
        SecurityhubConfigurationPolicyAssociation(
            self,
            "securityhub-policy-root",  # the construct id stays: a contract with the state
            policy_id=policy.id,
            target_id=target,
        )
        role = IamRole(
            self,
            "config-aggregator-role",
            name=names.config_aggregator_role(props.org),
            description="AWS Config reads every member account's configuration",
            assume_role_policy=service_trust("config.amazonaws.com", props.account_id).to_json(),
        )
        attachment = IamRolePolicyAttachment(
            self,
            "config-aggregator-policy",
            role=role.name,
            policy_arn=CONFIG_ORGANIZATIONS_POLICY,
        )
        ConfigConfigurationAggregator(
            self,
            "config-aggregator",
            name=names.config_aggregator(props.org),
            organization_aggregation_source=[
                ConfigConfigurationAggregatorOrganizationAggregationSource(
                    role_arn=role.arn, regions=sorted(props.allowed_regions)
                )
            ],
            depends_on=[attachment],
        )
        self._findings_alarm(props, hub)

    def _findings_alarm(self, props: DetectionAdminProps, hub: SecurityhubAccount) -> None:
        topic_name = names.findings_topic(props.org)
        rule_name = names.findings_rule(props.org)
        rule_arn = f"arn:aws:events:{props.region}:{props.account_id}:rule/{rule_name}"
        key = ManagedKey(
            self,
            "findings-key",
            KeyProps(
                alias=names.findings_key_alias(props.org),
                description=f"{props.org}: encrypts the security findings topic",
                policy=PolicyDocument(
                    (
                        *key_policy_account_administers(props.account_id).statements,
                        Statement(
                            "EventBridgePublishesFindings",
                            "Allow",
                            principals=(Principal.service(EVENTS),),
                            actions=("kms:Decrypt", "kms:GenerateDataKey*"),
                            resources=("*",),
                            conditions=(Condition.of("StringEquals", "aws:SourceArn", rule_arn),),
                        ),
                    )
                ),
            ),
        )
        topic = SnsTopic(
            self,
            "findings-topic",
            name=topic_name,
            display_name=f"{props.org} high-severity security findings",
            kms_master_key_id=key.arn,
        )
        SnsTopicPolicy(
            self,
            "findings-topic-policy",
            arn=topic.arn,
            policy=PolicyDocument(
                (
                    Statement(
                        "EventBridgePublishes",
                        "Allow",
                        principals=(Principal.service(EVENTS),),
                        actions=("sns:Publish",),
                        resources=(f"arn:aws:sns:{props.region}:{props.account_id}:{topic_name}",),
                        conditions=(Condition.of("ArnEquals", "aws:SourceArn", rule_arn),),
                    ),
                )
            ).to_json(),
        )
        if props.alarm_email is not None:
            SnsTopicSubscription(
                self,
                "findings-email",
                topic_arn=topic.arn,
                protocol="email",
                endpoint=props.alarm_email,
            )
        rule = CloudwatchEventRule(
            self,
            "findings-rule",
            name=rule_name,
            description="High and critical findings of every account and allowed region",
            event_pattern=json.dumps(
                {
                    "source": ["aws.securityhub"],
                    "detail-type": ["Security Hub Findings - Imported"],
                    "detail": {"findings": {"Severity": {"Label": list(HIGH_SEVERITY)}}},
                },
                sort_keys=True,
            ),
            depends_on=[hub],
        )
        CloudwatchEventTarget(self, "findings-target", rule=rule.name, arn=topic.arn)


class OrganizationTrail(Construct):
    """The organization trail (management account): every account, every region, log file
    validation, into the log archive, encrypted with the archive key. The key lives in
    another account and stack: ``archive_reader`` (a provider into the log-archive account)
    reads its ARN by its alias, because CloudTrail reads back the key ARN whatever it was
    given, and an alias ARN would show as a change in every plan (docs/design-notes.md)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        org: str,
        archive_account_id: str,
        archive_reader: TerraformProvider,
    ) -> None:
        super().__init__(scope, id_)
        self.archive_key = DataAwsKmsKey(
            self,
            "archive-key",
            key_id=names.archive_key_alias(org),
            provider=archive_reader,
        )
        Cloudtrail(
            self,
            "trail",
            name=names.organization_trail(org),
            s3_bucket_name=names.archive_bucket(org, archive_account_id),
            s3_key_prefix=names.ARCHIVE_CLOUDTRAIL_PREFIX,
            is_organization_trail=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=self.archive_key.arn,
        )
