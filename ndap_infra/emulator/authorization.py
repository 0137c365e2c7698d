"""One authorization rule for the whole emulator: outside ``ndap probe`` it enforces no
policy at all.

moto checks no identity policy until its authorization is switched on (``ndap probe``
does, and switches it off after), but it evaluated S3 bucket policies on object requests
always, counting every statement with a condition as a denial (moto 5.2.5,
``moto/s3/responses.py`` ``_key_response``, ``FakeBucket.get_permission`` without the
request's condition values): the TLS-only deny every ndap bucket carries then refused
every object read and write, so no build could use an artifact or data bucket. With
authorization off, a bucket policy now counts as neutral, like every other policy on the
emulator; with it on (the probes), moto's evaluation is unchanged. What is proved about
access is proved by the evaluator, not here (docs/emulator-gaps.md)."""

from __future__ import annotations

import functools
from typing import Any


def authorization_on() -> bool:
    from moto import settings

    count: float = settings.INITIAL_NO_AUTH_ACTION_COUNT
    return count != float("inf")


def install_bucket_policy_rule() -> None:
    """Bucket policies count only while authorization is on (idempotent)."""
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    original = FakeBucket.get_permission
    if getattr(original, "_ndap_authorization", False):
        return

    @functools.wraps(original)
    def get_permission(self: Any, action: str, resource: str) -> Any:
        if not authorization_on():
            return PermissionResult.NEUTRAL
        return original(self, action, resource)

    get_permission._ndap_authorization = True  # type: ignore[attr-defined]
    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
