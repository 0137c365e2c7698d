"""Scheduled drift detection in the tooling account, as plain values (no CDKTF).

Why and how: docs/design-notes.md, section ndap_infra/pipelines/drift.py."""

from __future__ import annotations

from dataclasses import dataclass

from ndap_infra.config.accounts import security_account_ids
from ndap_infra.config.model import NdapConfig
from ndap_infra.iam.document import Condition, PolicyDocument, Principal, Statement
from ndap_infra.iam.trust import later_role_trust, service_trust
from ndap_infra.names.platform import baseline_name

CODEBUILD = "codebuild.amazonaws.com"
SCHEDULER = "scheduler.amazonaws.com"
SECURITY_AUDIT = "arn:aws:iam::aws:policy/SecurityAudit"
BUILD_TIMEOUT_MINUTES = 60
LOG_RETENTION_DAYS = 365
ALARM_PERIOD_SECONDS = 3600
CONNECTION_PREFIXES = ("codeconnections", "codestar-connections")
CONNECTION_AUTH = "CODECONNECTIONS"
"""CodeBuild's source authorization through a connection (``source.auth.type``)."""

# What a drift reader must never read, although SecurityAudit allows some of it: data
# and secrets, as opposed to the configuration a plan compares.
DATA_READS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "kms:Decrypt",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "sagemaker:InvokeEndpoint",
)


@dataclass(frozen=True)
class DriftDetectionSpec:
    """Every name, document and text of the scheduled drift check in the tooling account."""

    org: str
    account_id: str
    region: str
    repository: str
    branch: str
    config_path: str
    schedule: str
    reader_accounts: tuple[str, ...]
    alarm_topic_arn: str | None = None  # the tooling account's alarm topic
    state_bucket: str | None = None
    state_kms_key_arn: str | None = None
    """The key of the state objects (``deploy.state.kms_key_arn``), when there is one."""

    @property
    def project(self) -> str:
        return f"{self.org}-drift-detection"

    @property
    def project_arn(self) -> str:
        return f"arn:aws:codebuild:{self.region}:{self.account_id}:project/{self.project}"

    @property
    def build_role(self) -> str:
        return f"{self.org}-drift-detection-build"

    @property
    def schedule_role(self) -> str:
        return f"{self.org}-drift-detection-schedule"

    @property
    def schedule_name(self) -> str:
        return f"{self.org}-drift-detection"

    @property
    def reader_role(self) -> str:
        return f"{self.org}-drift-reader"

    @property
    def log_group(self) -> str:
        return f"/ndap/{self.org}/drift-detection"

    @property
    def log_group_arn(self) -> str:
        return f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{self.log_group}"

    @property
    def alarm(self) -> str:
        """Under the baseline prefix: the alarm topic only accepts baseline alarms."""
        return baseline_name(self.org, "drift-detection-failed")

    @property
    def key_alias(self) -> str:
        return f"alias/{self.org}/tooling/drift-detection"

    @property
    def repository_url(self) -> str:
        return f"https://github.com/{self.repository}.git"

    def reader_arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:role/{self.reader_role}"

    @property
    def build_role_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.build_role}"

    # -- documents --

    def build_trust(self) -> PolicyDocument:
        return service_trust(CODEBUILD, self.account_id, (self.project_arn,))

    def schedule_trust(self) -> PolicyDocument:
        return service_trust(SCHEDULER, self.account_id)

    def build_policy(self, connection_arn: str | None = None) -> PolicyDocument:
        """Write its logs, read the state, assume the readers: no write anywhere else.
        With ``connection_arn`` (the tooling account's GitHub connection, the source's
        credential), use that connection for this repository only."""
        statements = [*self.connection_statements(connection_arn)]
        statements += [
            Statement(
                "WriteItsLogs",
                "Allow",
                actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                resources=(self.log_group_arn, f"{self.log_group_arn}:log-stream:*"),
            ),
            Statement(
                "AssumeTheDriftReaders",
                "Allow",
                actions=("sts:AssumeRole",),
                resources=tuple(self.reader_arn(a) for a in self.reader_accounts),
            ),
        ]
        if self.state_bucket is not None:
            statements.append(
                Statement(
                    "ReadTheTerraformState",
                    "Allow",
                    actions=("s3:GetObject", "s3:ListBucket"),
                    resources=(
                        f"arn:aws:s3:::{self.state_bucket}",
                        f"arn:aws:s3:::{self.state_bucket}/*",
                    ),
                )
            )
            if self.state_kms_key_arn is not None:
                statements.append(
                    Statement(
                        "DecryptTheTerraformState",
                        "Allow",
                        actions=("kms:Decrypt",),
                        resources=(self.state_kms_key_arn,),
                    )
                )
        return PolicyDocument(tuple(statements))

    def connection_statements(self, connection_arn: str | None) -> tuple[Statement, ...]:
        """CodeBuild clones a GitHub source authorized by a connection (``source.auth``
        ``CODECONNECTIONS``) as the build's role: it gets the connection's token, and uses
        the connection for the drift repository alone. Both service prefixes, as the
        connection's ARN may carry either."""
        if connection_arn is None:
            return ()
        return (
            Statement(
                "GetTheGitConnectionToken",
                "Allow",
                actions=tuple(
                    f"{prefix}:{action}"
                    for prefix in CONNECTION_PREFIXES
                    for action in ("GetConnection", "GetConnectionToken")
                ),
                resources=(connection_arn,),
            ),
            *(
                Statement(
                    f"UseTheGitConnectionFor{prefix.title().replace('-', '')}",
                    "Allow",
                    actions=(f"{prefix}:UseConnection",),
                    resources=(connection_arn,),
                    conditions=(
                        Condition.of("StringEquals", f"{prefix}:FullRepositoryId", self.repository),
                    ),
                )
                for prefix in CONNECTION_PREFIXES
            ),
        )

    def schedule_policy(self) -> PolicyDocument:
        """Start the one build; read its own schedule (encrypted with the drift key)."""
        return PolicyDocument(
            (
                Statement(
                    "StartTheDriftBuild",
                    "Allow",
                    actions=("codebuild:StartBuild",),
                    resources=(self.project_arn,),
                ),
                Statement(
                    "DecryptTheSchedule",
                    "Allow",
                    actions=("kms:Decrypt",),
                    resources=(f"arn:aws:kms:{self.region}:{self.account_id}:key/*",),
                    conditions=(
                        Condition.of(
                            "ForAnyValue:StringEquals", "kms:ResourceAliases", self.key_alias
                        ),
                    ),
                ),
            )
        )

    def key_policy(self) -> PolicyDocument:
        """The key of the build's logs and of the schedule: the account administers it
        through IAM (AWS's default), and CloudWatch Logs uses it for this log group only."""
        return PolicyDocument(
            (
                Statement(
                    "AccountAdministersKey",
                    "Allow",
                    principals=(Principal.aws(f"arn:aws:iam::{self.account_id}:root"),),
                    actions=("kms:*",),
                    resources=("*",),
                ),
                Statement(
                    "CloudWatchLogsEncryptsTheDriftLogs",
                    "Allow",
                    principals=(Principal.service(f"logs.{self.region}.amazonaws.com"),),
                    actions=(
                        "kms:Decrypt*",
                        "kms:Encrypt*",
                        "kms:GenerateDataKey*",
                        "kms:ReEncrypt*",
                    ),
                    resources=("*",),
                    conditions=(
                        Condition.of(
                            "ArnEquals", "kms:EncryptionContext:aws:logs:arn", self.log_group_arn
                        ),
                    ),
                ),
            )
        )

    def reader_trust(self) -> PolicyDocument:
        """Only the drift build's role assumes a reader. The organization stack creates
        readers before the tooling stack creates the build role, so the trust names the
        tooling account and ``aws:PrincipalArn`` the role (``later_role_trust``)."""
        return later_role_trust("DriftBuildAssumes", self.build_role_arn, self.account_id)

    def reader_guard(self) -> PolicyDocument:
        """Denies the data reads ``SecurityAudit`` would otherwise leave open."""
        return PolicyDocument(
            (Statement("NeverReadData", "Deny", actions=DATA_READS, resources=("*",)),)
        )

    def buildspec(self) -> str:
        """Clone (the project's source), install, and run the check; ``ndap drift`` exits
        non-zero on drift, which fails the build and raises the alarm."""
        return "\n".join(
            [
                "version: 0.2",
                "env:",
                "  variables:",
                "    NDAP_WORK_DIR: /tmp/ndap",
                "    JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20'",
                "phases:",
                "  install:",
                "    commands:",
                "      - make setup",
                "  build:",
                "    commands:",
                f"      - .venv/bin/python -m ndap_infra drift --config {self.config_path} "
                f"--assume-role {self.reader_role}",
                "",
            ]
        )


def drift_detection_spec(
    config: NdapConfig, alarm_topic_arn: str | None = None
) -> DriftDetectionSpec | None:
    """The scheduled check, or None when it is not configured, switched off, or there is
    no tooling account to run it in."""
    drift = config.drift_detection
    tooling = config.tooling_account_id
    if drift is None or not drift.enabled or tooling is None:
        return None
    state = config.deploy.state
    accounts = [config.organization.management_account_id, tooling]
    accounts += [config.account_id(env) for env in config.enabled_environments()]
    accounts += security_account_ids(config)
    return DriftDetectionSpec(
        org=config.organization.name,
        account_id=tooling,
        region=config.organization.home_region,
        repository=drift.repository,
        branch=drift.branch,
        config_path=drift.config_path,
        schedule=drift.schedule,
        reader_accounts=tuple(dict.fromkeys(accounts)),
        alarm_topic_arn=alarm_topic_arn,
        state_bucket=drift.state_bucket or (state.bucket if state is not None else None),
        state_kms_key_arn=state.kms_key_arn if state is not None else None,
    )
