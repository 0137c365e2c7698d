"""AWS regions by partition, from botocore's endpoint data (pinned with boto3).

The Terraform provider accepts any region name and fails at apply time; botocore's
``endpoints.json`` is the list we can read without a network. ndap writes ``arn:aws:``
ARNs, so only the ``aws`` partition is supported; a region of another partition is named
with its partition so the message can say why it is refused.
"""

from __future__ import annotations

from functools import cache

import botocore.session  # type: ignore[import-untyped]

SUPPORTED_PARTITION = "aws"


@cache
def regions_by_partition() -> dict[str, frozenset[str]]:
    """Every region botocore knows, keyed by partition name."""
    endpoints = botocore.session.get_session().get_data("endpoints")
    return {
        partition["partition"]: frozenset(partition["regions"])
        for partition in endpoints["partitions"]
    }


def partition_of(region: str) -> str | None:
    for partition, regions in regions_by_partition().items():
        if region in regions:
            return partition
    return None


def region_problem(region: str) -> str | None:
    """None for a region of the supported partition, else what is wrong with it."""
    partition = partition_of(region)
    if partition == SUPPORTED_PARTITION:
        return None
    if partition is not None:
        return (
            f"is a region of the {partition} partition; ndap supports the "
            f"{SUPPORTED_PARTITION} partition only (its ARNs are arn:{SUPPORTED_PARTITION}:...)"
        )
    known = sorted(regions_by_partition()[SUPPORTED_PARTITION])
    close = [r for r in known if r.split("-")[0] == region.split("-")[0]][:6]
    hint = f"; e.g. {', '.join(close)}" if close else f"; e.g. {', '.join(known[:4])}"
    return f"is not an AWS region{hint}"
