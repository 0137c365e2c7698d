"""How the platform is deployed and watched: the deploy target and its Terraform state,
scheduled drift detection, and the platform's own pipeline."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
    field_validator,
)

from ndap_infra.config.enums import (
    GitHost,
    Persona,
)
from ndap_infra.config.model.types import (
    BranchName,
    BucketName,
    Region,
    RepositoryName,
    StrictModel,
)
from ndap_infra.config.schedules import schedule_problem


class StateBackendConfig(StrictModel):
    """Where the stacks keep their Terraform state on deploy.target aws: one S3 bucket,
    one object per stack, locked with Terraform's S3 lock file. The bucket is created by
    hand, once, before the first deploy (README: the platform's own pipeline)."""

    bucket: BucketName = Field(
        description="The state bucket, in the management account (or a dedicated account "
        "outside the environment and tooling units): versioned, encrypted, public access "
        "blocked.",
        examples=["acme-ml-terraform-state"],
    )
    region: Region | None = Field(
        default=None, description="The bucket's region. Default: organization.home_region."
    )
    key_prefix: Annotated[
        str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
    ] = Field(
        default="ndap",
        description="Each stack's state is <key_prefix>/<stack>.tfstate.",
    )
    kms_key_arn: (
        Annotated[
            str,
            StringConstraints(pattern=r"^arn:aws:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$"),
        ]
        | None
    ) = Field(
        default=None,
        description="A customer-managed KMS key the state objects are encrypted with. "
        "Default: the bucket's own server-side encryption (state is always encrypted).",
        examples=["arn:aws:kms:eu-west-1:100000000001:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
    )

    def key(self, stack: str) -> str:
        return f"{self.key_prefix}/{stack}.tfstate"


class DeployTarget(StrEnum):
    LOCAL = "local"
    AWS = "aws"


class DeployConfig(StrictModel):
    """Where `ndap deploy` / `cdktf deploy` deploys."""

    target: DeployTarget = Field(
        default=DeployTarget.AWS,
        description="local: a moto server the product starts on a loopback port (every "
        "provider points at it, dummy credentials). aws: real AWS, nothing of the emulator "
        "is generated.",
    )
    state: StateBackendConfig | None = Field(
        default=None,
        description="aws only: the S3 backend of every stack (without it, cdktf's local "
        "state). Required by platform_pipeline. The local target keeps its state on the "
        "emulator.",
    )


DEFAULT_DRIFT_SCHEDULE = "cron(0 6 * * ? *)"


class DriftDetectionConfig(StrictModel):
    """Scheduled drift detection in the tooling account: a build that runs `ndap drift`
    over the platform's own infrastructure repository and alarms when it fails (drift, or
    a plan that could not be made). Needs organization.tooling_account_id."""

    enabled: bool = Field(default=True, description="false: nothing is generated.")
    repository: RepositoryName = Field(
        description="owner/name of the platform's infrastructure repository (this "
        "configuration's repository) on GitHub, cloned by the drift build."
    )
    branch: BranchName = Field(
        default="main", description="The branch whose code is compared with what is deployed."
    )
    config_path: Annotated[str, StringConstraints(min_length=1)] = Field(
        default="platform.yaml",
        description="Path of this configuration inside the repository (the default is the "
        "file `ndap init` writes and the CLI finds by itself).",
        examples=["platform.yaml", "config/platform.yaml"],
    )
    state_bucket: str | None = Field(
        default=None,
        description="The S3 bucket holding the stacks' Terraform state on deploy.target aws, "
        "which the drift build reads (read only). Default: deploy.state.bucket; without "
        "either the build can read no remote state.",
        examples=["acme-ml-terraform-state"],
    )
    schedule: str = Field(
        default=DEFAULT_DRIFT_SCHEDULE,
        description="When the check runs: an EventBridge Scheduler expression, cron(...) or "
        "rate(N unit). Default: every day at 06:00 UTC.",
    )

    @field_validator("schedule")
    @classmethod
    def _is_a_schedule(cls, value: str) -> str:
        problem = schedule_problem(value)
        if problem is not None:
            raise ValueError(f"{value!r} is not an EventBridge schedule: {problem}")
        return value


PLATFORM_APPROVERS = frozenset({Persona.PLATFORM_ENGINEER, Persona.SECURITY_AUDITOR})


class PlatformPipelineConfig(StrictModel):
    """The platform's own infrastructure pipeline, in the tooling account: on a push to
    `branch` of the platform's repository it plans every stack (read-only roles), writes
    the security review pack, waits for a manual approval, and applies exactly the
    reviewed plans. Needs organization.tooling_account_id."""

    repository: RepositoryName = Field(
        description="owner/name of the platform's infrastructure repository (this "
        "configuration's repository) on the git host; the pipeline's source."
    )
    git_host: GitHost = Field(
        default=GitHost.GITHUB,
        description="Where the repository lives: the tooling account's git connection for "
        "that host serves it (the same connection as the ML projects').",
    )
    branch: BranchName = Field(
        default="main", description="Pushes to this branch start the pipeline."
    )
    config_path: Annotated[str, StringConstraints(min_length=1)] = Field(
        default="platform.yaml",
        description="Path of this configuration inside the repository (the default is the "
        "file `ndap init` writes and the CLI finds by itself).",
        examples=["platform.yaml", "config/platform.yaml"],
    )
    approvers: tuple[Persona, ...] = Field(
        default=(Persona.PLATFORM_ENGINEER,),
        min_length=1,
        description="Who approves the reviewed plan, through their role in the tooling "
        "account: platform-engineer and/or security-auditor.",
    )

    @field_validator("approvers")
    @classmethod
    def _approvers_review_the_platform(cls, value: tuple[Persona, ...]) -> tuple[Persona, ...]:
        wrong = [p.value for p in value if p not in PLATFORM_APPROVERS]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)} cannot approve the platform's changes: only "
                "platform-engineer and security-auditor review and approve them; remove "
                f"{', '.join(wrong)}"
            )
        return tuple(dict.fromkeys(value))


class ValidationConfig(StrictModel):
    """How strict ``ndap validate`` (and every command that reads this file) is about
    values that are valid but risky."""

    credential_like_values: Literal["warn", "error"] = Field(
        default="warn",
        description="A value shaped like a credential (an access key, a token, a private "
        "key), or a tag whose key names a secret: 'warn' prints where it is (never the "
        "value); 'error' refuses the configuration. Tags reach every resource's default "
        "tags, so a secret there is readable by anyone who can list tags.",
    )
