"""Rules on ``deploy``: remote state only on AWS, and drift detection reading that state."""

from __future__ import annotations

from collections.abc import Iterator

from ndap_infra.config.issues import ConfigIssue
from ndap_infra.config.model import DeployTarget, NdapConfig
from ndap_infra.config.rules.registry import rule


@rule("deploy")
def state_backend_is_for_aws(config: NdapConfig) -> Iterator[ConfigIssue]:
    if config.deploy.state is not None and config.deploy.target is DeployTarget.LOCAL:
        yield ConfigIssue(
            ("deploy", "state"),
            "deploy.target local keeps every stack's state on the emulator: remove "
            "deploy.state, or set deploy.target: aws",
        )


@rule("deploy", "drift_detection")
def drift_detection_reads_the_configured_state(config: NdapConfig) -> Iterator[ConfigIssue]:
    drift, state = config.drift_detection, config.deploy.state
    if drift is None or drift.state_bucket is None or state is None:
        return
    if drift.state_bucket != state.bucket:
        yield ConfigIssue(
            ("drift_detection", "state_bucket"),
            "the drift build would read another bucket than the stacks' state "
            f"(deploy.state.bucket: {state.bucket!r}): remove drift_detection.state_bucket "
            "(it defaults to deploy.state.bucket) or make them equal",
            drift.state_bucket,
            True,
        )
