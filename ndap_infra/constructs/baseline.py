"""The security baseline: the same controls in every environment account.

``SecurityBaseline`` is driven only by ``SecurityBaselineConfig`` and the account's names
and ids; it never looks at which environment it is in (invariant 1 of the model). Every
policy document, filter pattern and setting comes from the pure layer in
``ndap_infra.baseline``; this module only turns them into resources.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import TerraformProvider, TerraformResource, TerraformStack
from constructs import Construct

from ndap_infra.baseline import archive, controls, policies
from ndap_infra.baseline.alarms import BASELINE_ALARMS, AlarmSpec
from ndap_infra.config.model import SecurityBaselineConfig
from ndap_infra.constructs.storage import (
    BucketLifecycle,
    BucketProps,
    KeyProps,
    ManagedKey,
    SecureBucket,
    ServerAccessLogging,
    lifecycle_configuration,
)
from ndap_infra.names import arns
from ndap_infra.names.baseline import BaselineNames
from ndap_infra.resources.aws import (
    AccessanalyzerAnalyzer,
    Cloudtrail,
    CloudwatchLogGroup,
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
    CloudwatchMetricAlarm,
    ConfigConfigRule,
    ConfigConfigRuleSource,
    ConfigConfigurationRecorder,
    ConfigConfigurationRecorderRecordingGroup,
    ConfigConfigurationRecorderStatus,
    ConfigDeliveryChannel,
    ConfigDeliveryChannelSnapshotDeliveryProperties,
    EbsDefaultKmsKey,
    EbsEncryptionByDefault,
    GuarddutyDetector,
    IamAccountPasswordPolicy,
    IamRole,
    IamRolePolicy,
    IamRolePolicyAttachment,
    S3AccountPublicAccessBlock,
    SecurityhubAccount,
    SecurityhubStandardsSubscription,
    SnsTopic,
    SnsTopicPolicy,
    SnsTopicSubscription,
)

CONFIG_SNAPSHOT_FREQUENCY = "TwentyFour_Hours"
ALARM_PERIOD_SECONDS = 300
LOG_LIFECYCLE_RULE = "archive-then-expire"


def _bucket_lifecycle(lifecycle: controls.LogLifecycle) -> BucketLifecycle:
    """The log buckets' lifecycle rule: archive, then expire, current and noncurrent alike."""
    return BucketLifecycle(
        rule_id=LOG_LIFECYCLE_RULE,
        archive_after_days=lifecycle.archive_after_days,
        archive_storage_class=lifecycle.archive_storage_class,
        expire_after_days=lifecycle.expire_after_days,
        noncurrent_expire_after_days=lifecycle.noncurrent_expire_after_days,
        abort_incomplete_uploads_after_days=lifecycle.abort_incomplete_uploads_after_days,
    )


@dataclass(frozen=True)
class BaselineProps:
    """Everything the baseline depends on: configuration, names and ids, nothing else."""

    org: str
    account_id: str
    region: str
    config: SecurityBaselineConfig
    ebs_kms_key_arn: str
    """Key that encrypts EBS volumes by default (the environment's data key)."""
    partition: str = arns.DEFAULT_PARTITION
    other_regions: Mapping[str, TerraformProvider] = field(default_factory=dict)
    """Every other region the guardrails allow, with its provider: detection runs there
    too (``account_provider(other_regions=...)``)."""
    config_archive: ConfigArchive | None = None
    """With the security accounts: AWS Config delivers into the log archive instead of
    the account's log bucket."""
    detection_administrator: str | None = None
    """With the security accounts: the delegated administrator (security-tooling) whose
    organization configuration creates this account's GuardDuty detector and Security Hub
    (auto-enable ALL, central configuration with the baseline's standards) in every
    allowed region; the baseline then creates neither (AWS would refuse the second
    detector, and a centrally configured hub's standards are the administrator's).
    None: the baseline enables both itself."""


@dataclass(frozen=True)
class ConfigArchive:
    """The log archive AWS Config delivers into (``organization.security_accounts``)."""

    bucket: str
    account_id: str


class SecurityBaseline(Construct):
    """CloudTrail, AWS Config, GuardDuty, Security Hub, IAM Access Analyzer, account-level
    S3 public access block, EBS default encryption, the IAM password policy and security
    alarms, with their encrypted, deletion-protected log bucket and logs key; and S3 server
    access logging of every ``SecureBucket`` in the stack into the account's access log
    bucket. Detection (Config, GuardDuty, Security Hub, Access Analyzer) runs in every
    allowed region, the same under ``detection/<region>/``: the home region and each of
    ``other_regions`` (CloudTrail is multi-region already; IAM is global, so the Config
    role is one and only the home region's recorder records global resources)."""

    def __init__(self, scope: Construct, id_: str, props: BaselineProps) -> None:
        super().__init__(scope, id_)
        self.names = names = BaselineNames(
            props.org, props.account_id, props.region, props.partition
        )
        config = props.config

        # -- logs key and log bucket --
        self.logs_key = ManagedKey(
            self,
            "logs-key",
            KeyProps(
                alias=names.logs_key_alias,
                description=f"{props.org} baseline: encrypts CloudTrail and Config logs, the "
                "trail's log group and the alarm topic",
                policy=policies.logs_key_policy(
                    props.account_id, props.region, names.trail_arn, names.trail_log_group_arn
                ),
            ),
        )
        self.log_bucket = SecureBucket(
            self,
            "log-bucket",
            BucketProps(
                name=names.log_bucket,
                kms_key_arn=self.logs_key.arn,
                policy=policies.log_bucket_policy(
                    names.log_bucket, props.account_id, names.trail_arn, props.partition
                ),
                prevent_destroy=True,
                # The logs key lets CloudTrail encrypt only under its trail's encryption
                # context; a bucket-level key would replace that context.
                bucket_key_enabled=False,
                lifecycle=None,  # declared below, under its original construct id
            ),
        )
        log_lifecycle = controls.log_lifecycle(config)
        self._log_bucket_lifecycle(log_lifecycle)

        # -- S3 server access logs of every bucket in the stack, into their own bucket --
        # S3 delivers server access logs only into buckets encrypted with SSE-S3 (not
        # SSE-KMS), and a destination must not log itself: hence a bucket of its own.
        self.access_log_bucket = SecureBucket(
            self,
            "access-log-bucket",
            BucketProps(
                name=names.access_log_bucket,
                kms_key_arn=None,
                policy=policies.access_log_bucket_policy(
                    names.access_log_bucket, props.account_id, props.partition
                ),
                prevent_destroy=True,
                lifecycle=_bucket_lifecycle(log_lifecycle),
                receives_access_logs=True,
            ),
        )
        ServerAccessLogging.apply(
            TerraformStack.of(self), self.access_log_bucket, policies.ACCESS_LOGS_PREFIX
        )
        bucket_policy = self.log_bucket.policy
        assert bucket_policy is not None  # the log bucket always has its policy

        # -- CloudTrail, to the bucket and to a log group --
        log_group = CloudwatchLogGroup(
            self,
            "trail-log-group",
            name=names.trail_log_group,
            retention_in_days=config.cloudwatch_log_retention_days,
            kms_key_id=self.logs_key.arn,
        )
        trail_role = IamRole(
            self,
            "trail-role",
            name=names.trail_role,
            description="CloudTrail delivers the baseline trail's events to CloudWatch Logs",
            assume_role_policy=policies.cloudtrail_role_trust().to_json(),
        )
        trail_role_policy = IamRolePolicy(
            self,
            "trail-role-policy",
            name="deliver-to-log-group",
            role=trail_role.id,
            policy=policies.cloudtrail_role_policy(
                names.trail_log_group_arn, props.account_id
            ).to_json(),
        )
        self.trail = Cloudtrail(
            self,
            "trail",
            name=names.trail,
            s3_bucket_name=self.log_bucket.name,
            s3_key_prefix=policies.CLOUDTRAIL_PREFIX,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=self.logs_key.arn,
            cloud_watch_logs_group_arn=f"{log_group.arn}:*",
            cloud_watch_logs_role_arn=trail_role.arn,
            depends_on=[bucket_policy, trail_role_policy],
        )

        # -- detection, in every allowed region --
        config_role, managed, delivery_policy = self._config_role(props.config_archive)
        regions: dict[str, TerraformProvider | None] = {props.region: None}
        regions.update(props.other_regions)
        detection = Construct(self, "detection")
        self.detection = {
            region: RegionalDetection(
                detection,
                region,
                DetectionProps(
                    names=names,
                    region=region,
                    config=config,
                    config_role_arn=config_role.arn,
                    log_bucket_name=(
                        self.log_bucket.name
                        if props.config_archive is None
                        else props.config_archive.bucket
                    ),
                    # The archive's default encryption (its own key) encrypts deliveries.
                    logs_key_arn=self.logs_key.arn if props.config_archive is None else None,
                    recorder_needs=[managed],
                    delivery_needs=[bucket_policy, delivery_policy],
                    records_global_resources=region == props.region,
                    provider=provider,
                    administered=props.detection_administrator is not None,
                ),
            )
            for region, provider in regions.items()
        }
        self.config_recorder = self.detection[props.region].config_recorder

        # -- account-wide settings --
        S3AccountPublicAccessBlock(
            self,
            "s3-account-public-access-block",
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        EbsEncryptionByDefault(self, "ebs-encryption-by-default", enabled=True)
        EbsDefaultKmsKey(self, "ebs-default-key", key_arn=props.ebs_kms_key_arn)
        IamAccountPasswordPolicy(
            self,
            "password-policy",
            **dataclasses.asdict(controls.password_policy(config.password_policy)),
        )

        # -- alarms --
        self.alarm_topic = SnsTopic(
            self,
            "alarm-topic",
            name=names.alarm_topic,
            display_name=f"{props.org} security baseline alarms",
            kms_master_key_id=self.logs_key.arn,
        )
        SnsTopicPolicy(
            self,
            "alarm-topic-policy",
            arn=self.alarm_topic.arn,
            policy=policies.alarm_topic_policy(
                names.alarm_topic_arn, props.account_id, names.alarm_arn_pattern
            ).to_json(),
        )
        if config.alarm_email is not None:
            SnsTopicSubscription(
                self,
                "alarm-email",
                topic_arn=self.alarm_topic.arn,
                protocol="email",
                endpoint=config.alarm_email,
            )
        for spec in BASELINE_ALARMS:
            self._alarm(spec, log_group.name)

    # -- parts --

    def _log_bucket_lifecycle(self, lifecycle: controls.LogLifecycle) -> None:
        lifecycle_configuration(
            self,
            "log-bucket-lifecycle",
            self.log_bucket.bucket,
            _bucket_lifecycle(lifecycle),
            depends_on=[self.log_bucket.versioning],
        )

    def _config_role(
        self, config_archive: ConfigArchive | None
    ) -> tuple[IamRole, IamRolePolicyAttachment, IamRolePolicy]:
        """The role every region's Config recorder uses (IAM is global: one role) and its
        two policies (the recorder needs the managed one, delivery the other)."""
        names = self.names
        role = IamRole(
            self,
            "config-role",
            name=names.config_role,
            description="AWS Config records resource configurations for the baseline",
            assume_role_policy=policies.config_role_trust(names.account_id).to_json(),
        )
        managed = IamRolePolicyAttachment(
            self,
            "config-role-managed-policy",
            role=role.name,
            policy_arn=arns.aws_managed_policy_arn(arns.CONFIG_ROLE_POLICY, names.partition),
        )
        delivery_policy = IamRolePolicy(
            self,
            "config-role-policy",
            name="deliver-to-log-bucket" if config_archive is None else "deliver-to-log-archive",
            role=role.id,
            policy=(
                policies.config_role_delivery_policy(
                    names.log_bucket, names.account_id, self.logs_key.arn, names.partition
                )
                if config_archive is None
                else archive.config_archive_delivery_policy(
                    config_archive.bucket, names.account_id, config_archive.account_id, names.region
                )
            ).to_json(),
        )
        return role, managed, delivery_policy

    def _alarm(self, spec: AlarmSpec, log_group_name: str) -> None:
        names = self.names
        name = names.alarm(spec.name)
        CloudwatchLogMetricFilter(
            self,
            f"alarm-filter-{spec.name}",
            name=name,
            log_group_name=log_group_name,
            pattern=spec.filter_pattern,
            metric_transformation=[
                CloudwatchLogMetricFilterMetricTransformation(
                    name=spec.metric_name, namespace=names.metric_namespace, value="1"
                )
            ],
        )
        CloudwatchMetricAlarm(
            self,
            f"alarm-{spec.name}",
            alarm_name=name,
            alarm_description=spec.description,
            namespace=names.metric_namespace,
            metric_name=spec.metric_name,
            statistic="Sum",
            period=ALARM_PERIOD_SECONDS,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[self.alarm_topic.arn],
        )

    # -- what later layers use --

    @property
    def trail_arn(self) -> str:
        """The trail's ARN (known from its name; usable in other stacks' policies)."""
        return self.names.trail_arn

    @property
    def log_bucket_name(self) -> str:
        return self.names.log_bucket

    @property
    def access_log_bucket_name(self) -> str:
        return self.names.access_log_bucket

    @property
    def logs_key_arn(self) -> str:
        """The logs key's ARN (a reference: known only once the key exists)."""
        return self.logs_key.arn

    @property
    def alarm_topic_arn(self) -> str:
        return self.names.alarm_topic_arn

    @property
    def baseline_role_names(self) -> tuple[str, ...]:
        """The roles the baseline itself uses, for the guardrails that protect them."""
        return self.names.role_names


@dataclass(frozen=True)
class DetectionProps:
    names: BaselineNames
    region: str
    config: SecurityBaselineConfig
    config_role_arn: str
    log_bucket_name: str
    logs_key_arn: str | None
    """None: the bucket's default encryption encrypts deliveries (the log archive)."""
    recorder_needs: list[TerraformResource]
    """What the recorder needs first (the role's managed policy)."""
    delivery_needs: list[TerraformResource]
    """What delivery needs first (the bucket policy, the role's delivery policy)."""
    records_global_resources: bool
    """Only in the home region: IAM and other global resources are recorded once."""
    provider: TerraformProvider | None
    """None: the stack's default provider (the home region)."""
    administered: bool = False
    """The delegated administrator creates the GuardDuty detector and the Security Hub
    account here (``BaselineProps.detection_administrator``)."""


class RegionalDetection(Construct):
    """One region's detection: the Config recorder (delivering to the home region's log
    bucket) and its rules, the GuardDuty detector, Security Hub with its standards (unless
    the delegated administrator creates both), and an IAM Access Analyzer; the same in
    every region but for the region's name."""

    def __init__(self, scope: Construct, id_: str, props: DetectionProps) -> None:
        super().__init__(scope, id_)
        names, config, provider = props.names, props.config, props.provider
        self.config_recorder = recorder = ConfigConfigurationRecorder(
            self,
            "config-recorder",
            name=names.recorder,
            role_arn=props.config_role_arn,
            recording_group=[
                ConfigConfigurationRecorderRecordingGroup(
                    all_supported=True,
                    include_global_resource_types=props.records_global_resources,
                )
            ],
            depends_on=props.recorder_needs,
            provider=provider,
        )
        channel = ConfigDeliveryChannel(
            self,
            "config-delivery-channel",
            name=names.recorder,
            s3_bucket_name=props.log_bucket_name,
            s3_key_prefix=policies.CONFIG_PREFIX,
            s3_kms_key_arn=props.logs_key_arn,
            snapshot_delivery_properties=[
                ConfigDeliveryChannelSnapshotDeliveryProperties(
                    delivery_frequency=CONFIG_SNAPSHOT_FREQUENCY
                )
            ],
            depends_on=[recorder, *props.delivery_needs],
            provider=provider,
        )
        ConfigConfigurationRecorderStatus(
            self,
            "config-recorder-status",
            name=recorder.name,
            is_enabled=True,
            depends_on=[channel],
            provider=provider,
        )
        for rule in controls.config_rules(config):
            ConfigConfigRule(
                self,
                f"config-rule-{rule.id}",
                name=names.config_rule(rule.identifier),
                source=[ConfigConfigRuleSource(owner="AWS", source_identifier=rule.identifier)],
                input_parameters=rule.input_parameters,
                depends_on=[recorder],
                provider=provider,
            )
        if not props.administered:
            self._member_detection(props)
        AccessanalyzerAnalyzer(
            self, "access-analyzer", analyzer_name=names.analyzer, type="ACCOUNT", provider=provider
        )

    def _member_detection(self, props: DetectionProps) -> None:
        """The account's own GuardDuty detector and Security Hub with its standards
        (without a delegated administrator)."""
        names, config, provider = props.names, props.config, props.provider
        GuarddutyDetector(
            self,
            "guardduty",
            enable=True,
            finding_publishing_frequency=config.guardduty_finding_frequency,
            provider=provider,
        )
        security_hub = SecurityhubAccount(
            self,
            "securityhub",
            enable_default_standards=False,
            auto_enable_controls=True,
            provider=provider,
        )
        for standard in controls.security_hub_standards(config, props.region, names.partition):
            SecurityhubStandardsSubscription(
                self,
                f"securityhub-standard-{standard.id}",
                standards_arn=standard.arn,
                depends_on=[security_hub],
                provider=provider,
            )
