"""Rules on ``drift_detection``: the scheduled drift job needs a tooling account."""

from __future__ import annotations

from collections.abc import Iterator

from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules.registry import rule


@rule("drift_detection", "organization")
def drift_detection_needs_a_tooling_account(config: NdapConfig) -> Iterator[ConfigIssue]:
    drift = config.drift_detection
    org = config.organization
    tooling = org.tooling_account_id is not None or org.tooling_email is not None
    if drift is not None and drift.enabled and not tooling:
        yield ConfigIssue(
            ("drift_detection",),
            "scheduled drift detection runs in the tooling (delivery) account: set "
            "organization.tooling_account_id (or tooling_email, to create it), or set "
            "drift_detection.enabled: false",
        )
