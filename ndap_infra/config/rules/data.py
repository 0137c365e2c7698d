"""Rules on ``data``: unique dataset names and a usable integration subset."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules.registry import rule
from ndap_infra.config.schedules import schedule_problem


@rule("data")
def dataset_names_are_unique(config: NdapConfig) -> Iterator[ConfigIssue]:
    counts = Counter(d.name for d in config.data.datasets)
    for index, dataset in enumerate(config.data.datasets):
        if counts[dataset.name] > 1:
            yield ConfigIssue(
                ("data", "datasets", index, "name"),
                "dataset names must be unique: rename or remove the copy",
                dataset.name,
                True,
            )


@rule("data")
def integration_subset_is_valid(config: NdapConfig) -> Iterator[ConfigIssue]:
    """The sampling job's schedule parses as EventBridge reads it, and no dataset is named
    like the prefix the subset is written under (the job would sample its own output)."""
    from ndap_infra.names.pipelines import INTEGRATION_SUBSET

    subset = config.data.integration_subset
    if problem := schedule_problem(subset.schedule):
        yield ConfigIssue(
            ("data", "integration_subset", "schedule"),
            f"is not an EventBridge schedule: {problem}",
            subset.schedule,
            True,
        )
    for index, dataset in enumerate(config.data.datasets):
        if dataset.name == INTEGRATION_SUBSET:
            yield ConfigIssue(
                ("data", "datasets", index, "name"),
                f"'{INTEGRATION_SUBSET}' is where the sampling job writes the subset of the "
                "datasets: rename the dataset",
                dataset.name,
                True,
            )
