"""Creation-time rules real AWS enforces and moto does not, installed in the emulator's
process (``ndap_infra.emulator.server``) by wrapping moto's backend methods.

Why backend methods and not a WSGI middleware in front of moto: a backend method receives
the request already parsed (query, JSON and REST-XML protocols alike) and a moto exception
raised there is rendered in the service's own wire format, so the caller (Terraform, boto3)
sees AWS's error code and message. What each rule is and what moto already enforces:
docs/emulator-gaps.md#the-strict-layer.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

PRINCIPAL_ARN = re.compile(r"^arn:aws:iam::(\d{12}):(role|user)/(?:.*/)?([^/]+)$")

GUARDDUTY_DETECTOR_EXISTS = (
    "The request is rejected because a detector already exists for the current account."
)
SECURITY_HUB_SUBSCRIBED = "Account is already subscribed to Security Hub"
DESTINATION_MISSING = "Destination bucket must exist."
DESTINATION_UNVERSIONED = "Destination bucket must have versioning enabled."
KMS_INVALID_PRINCIPALS = "Policy contains a statement with one or more invalid principals."


def named_principals(policy: str | bytes | None) -> Iterator[str]:
    """The role and user ARNs a policy document names as ``Principal.AWS``."""
    if not policy:
        return
    try:
        document = json.loads(policy)
    except ValueError:
        return
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        if not isinstance(principal, dict):
            continue
        named = principal.get("AWS", [])
        for arn in [named] if isinstance(named, str) else named:
            if isinstance(arn, str) and PRINCIPAL_ARN.match(arn):
                yield arn


def principal_exists(arn: str) -> bool:
    """Does the role or user ``arn`` exist in the emulator (in its account)?"""
    from moto.iam.models import iam_backends

    match = PRINCIPAL_ARN.match(arn)
    if match is None:
        return True
    account, kind, _name = match.groups()
    backend = iam_backends[account]["global"]
    if kind == "role":
        return any(role.arn == arn for role in backend.roles.values())
    return any(user.arn == arn for user in backend.users.values())


def missing_principal(policy: str | bytes | None) -> str | None:
    """The first principal the policy names that does not exist, or None."""
    return next((arn for arn in named_principals(policy) if not principal_exists(arn)), None)


def _before(cls: Any, name: str, check: Callable[..., None]) -> None:
    """Run ``check(self, *args, **kwargs)`` before ``cls.name``; idempotent."""
    original = getattr(cls, name)
    if getattr(original, "_ndap_strict", False):
        return

    @functools.wraps(original)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        check(self, *args, **kwargs)
        return original(self, *args, **kwargs)

    wrapped._ndap_strict = True  # type: ignore[attr-defined]
    setattr(cls, name, wrapped)


def _argument(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def _install_iam() -> None:
    from moto.iam.exceptions import MalformedPolicyDocument
    from moto.iam.models import IAMBackend

    def check(policy: Any) -> None:
        missing = missing_principal(policy)
        if missing is not None:
            raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{missing}"')

    _before(
        IAMBackend,
        "create_role",
        lambda self, *a, **k: check(_argument(a, k, 1, "assume_role_policy_document")),
    )
    _before(
        IAMBackend,
        "update_assume_role_policy",
        lambda self, *a, **k: check(_argument(a, k, 1, "policy_document")),
    )


def _install_s3() -> None:
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import S3Backend

    def check(self: Any, *args: Any, **kwargs: Any) -> None:
        if missing_principal(_argument(args, kwargs, 1, "policy")) is not None:
            raise S3ClientError("MalformedPolicy", "Invalid principal in policy")

    def destinations_exist(self: Any, *args: Any, **kwargs: Any) -> None:
        replication = _argument(args, kwargs, 1, "replication") or {}
        rules = replication.get("Rule", [])
        for rule in [rules] if isinstance(rules, dict) else rules:
            arn = str((rule.get("Destination") or {}).get("Bucket", ""))
            problem = destination_problem(arn.removeprefix("arn:aws:s3:::"))
            if problem is not None:
                raise S3ClientError("InvalidRequest", problem)

    _before(S3Backend, "put_bucket_policy", check)
    _before(S3Backend, "put_bucket_replication", destinations_exist)


def destination_problem(bucket: str) -> str | None:
    """Why AWS refuses ``bucket`` as a replication destination (it does not exist, in any
    account, or its versioning is off), or None."""
    from moto.s3.models import s3_backends

    if bucket not in s3_backends.bucket_accounts:
        return DESTINATION_MISSING
    partition, account = s3_backends.bucket_accounts[bucket]
    found = s3_backends[account][partition].buckets.get(bucket)
    if found is None:
        return DESTINATION_MISSING
    if not found.is_versioned:
        return DESTINATION_UNVERSIONED
    return None


def _install_kms() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.kms.models import KmsBackend

    def check(policy: Any) -> None:
        if missing_principal(policy) is not None:
            raise JsonRESTError("MalformedPolicyDocumentException", KMS_INVALID_PRINCIPALS)

    _before(KmsBackend, "create_key", lambda self, *a, **k: check(_argument(a, k, 0, "policy")))
    _before(KmsBackend, "put_key_policy", lambda self, *a, **k: check(_argument(a, k, 1, "policy")))


def _install_sns_sqs() -> None:
    from moto.sns.exceptions import SNSInvalidParameter
    from moto.sns.models import SNSBackend
    from moto.sqs.exceptions import SQSException
    from moto.sqs.models import SQSBackend

    def sns(policy: Any) -> None:
        if missing_principal(policy) is not None:
            raise SNSInvalidParameter("Invalid parameter: Policy Error: PrincipalNotFound")

    def sqs(policy: Any) -> None:
        if missing_principal(policy) is not None:
            raise SQSException("InvalidAttributeValue", "Invalid value for the parameter Policy.")

    def topic_attributes(self: Any, *args: Any, **kwargs: Any) -> None:
        attributes = _argument(args, kwargs, 1, "attributes") or {}
        sns(attributes.get("Policy"))

    def topic_attribute(self: Any, *args: Any, **kwargs: Any) -> None:
        if str(_argument(args, kwargs, 1, "attribute_name")).lower() == "policy":
            sns(_argument(args, kwargs, 2, "attribute_value"))

    def queue_attributes(self: Any, *args: Any, **kwargs: Any) -> None:
        attributes = _argument(args, kwargs, 1, "attributes") or {}
        sqs(attributes.get("Policy"))

    _before(SNSBackend, "create_topic", topic_attributes)
    _before(SNSBackend, "set_topic_attribute", topic_attribute)
    _before(SQSBackend, "create_queue", lambda self, *a, **k: sqs(k.get("Policy")))
    _before(SQSBackend, "set_queue_attributes", queue_attributes)


def _install_organizations() -> None:
    from moto.organizations.exceptions import PolicyTypeNotEnabledException
    from moto.organizations.models import FakeRoot, OrganizationsBackend

    def check(self: Any, *args: Any, **kwargs: Any) -> None:
        policy = self.get_policy_by_id(kwargs["PolicyId"])
        roots = [ou for ou in self.ou if isinstance(ou, FakeRoot)]
        enabled = {
            t["Type"] for root in roots for t in root.policy_types if t["Status"] == "ENABLED"
        }
        # moto attaches the AWS-managed FullAWSAccess itself when it creates the
        # organization (AWS does so when SCPs are enabled): not a request to check.
        if policy.type not in enabled and not policy.aws_managed:
            raise PolicyTypeNotEnabledException()

    _before(OrganizationsBackend, "attach_policy", check)


def _install_singletons() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.guardduty.models import GuardDutyBackend
    from moto.securityhub.models import SecurityHubBackend

    def one_detector(self: Any, *args: Any, **kwargs: Any) -> None:
        if self.detectors:
            raise JsonRESTError("BadRequestException", GUARDDUTY_DETECTOR_EXISTS)

    def one_hub(self: Any, *args: Any, **kwargs: Any) -> None:
        if self.enabled:
            raise JsonRESTError("ResourceConflictException", SECURITY_HUB_SUBSCRIBED)

    _before(GuardDutyBackend, "create_detector", one_detector)
    _before(SecurityHubBackend, "enable_security_hub", one_hub)


def install_strict_rules() -> None:
    """Install every rule (idempotent). Config's one recorder and one delivery channel
    per account and region are moto's own already."""
    _install_iam()
    _install_s3()
    _install_kms()
    _install_sns_sqs()
    _install_organizations()
    _install_singletons()
