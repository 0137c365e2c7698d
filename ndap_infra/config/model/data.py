"""Production data: the datasets that reach development and acceptance, how they are
shared, and the integration subset."""

from __future__ import annotations

from pydantic import (
    Field,
)

from ndap_infra.config.enums import (
    DataSharingMode,
)
from ndap_infra.config.model.types import Slug, StrictModel


class DatasetConfig(StrictModel):
    """A production dataset that reaches development and acceptance."""

    name: Slug = Field(examples=["transactions"])
    description: str = Field(
        default="",
        description="What the dataset holds, for people reading the configuration.",
        examples=["Customer transactions, one object per day"],
    )


DEFAULT_SUBSET_SCHEDULE = "rate(1 day)"


class IntegrationSubsetConfig(StrictModel):
    """The sampling job that writes ``integration-subset/`` in prd's datasets bucket: a
    deterministic sample of each dataset, which replication carries to dev's replica, where
    the dev pipeline's integration tests read it. It exists only where that subset is
    replicated (a tooling account, ML projects, ``sharing_mode: replica``)."""

    enabled: bool = Field(
        default=True,
        description="false: no sampling job is provisioned; the data owners write "
        "integration-subset/<dataset>/ in prd themselves.",
    )
    schedule: str = Field(
        default=DEFAULT_SUBSET_SCHEDULE,
        description="When the job runs: an EventBridge Scheduler expression, 'cron(min hour "
        "day-of-month month day-of-week year)' or 'rate(N minutes|hours|days)'.",
    )
    fraction: float = Field(
        default=0.01,
        gt=0,
        le=1,
        description="Share of each dataset's objects sampled, in (0, 1]: an object is taken "
        "when the sha256 of its key, read as a number in [0, 1), falls below it (the same "
        "objects every run while the dataset is unchanged).",
    )
    max_objects: int = Field(
        default=1000, ge=1, le=100_000, description="At most this many objects per dataset."
    )
    max_bytes: int = Field(
        default=5 * 1024**3,
        ge=1,
        description="At most this many bytes per dataset (objects that would exceed it are "
        "skipped). Default: 5 GiB.",
    )


class DataConfig(StrictModel):
    """How production data reaches the other environments."""

    sharing_mode: DataSharingMode = Field(
        default=DataSharingMode.REPLICA,
        description="replica: dev receives a read-only replica (data scientists need no "
        "action on any prd resource). cross-account-read: dev's data-scientist role reads "
        "the named prd datasets directly, read-only.",
    )
    datasets: tuple[DatasetConfig, ...] = Field(
        default=(), description="Production datasets shared with dev (read-only) and acc (copy)."
    )
    integration_subset: IntegrationSubsetConfig = Field(
        default_factory=IntegrationSubsetConfig,
        description="The job in prd that samples the datasets into integration-subset/ "
        "(replicated to dev's replica for the dev pipeline's integration tests).",
    )
