"""Requests real AWS accepts and moto refuses: the emulator accepts them too, so a build
that works on AWS does not fail here for moto's sake (each found by ``ndap pipeline
run``; listed in docs/emulator-gaps.md).

- SageMaker ``CreateModelPackage`` with ``ModelPackageGroupName`` given as the group's
  ARN: AWS takes "the name or ARN" (the generated acc build registers releases by ARN,
  since the registry lives in the tooling account); moto 5.2.5 looks the value up as a
  name only ("Model Package Group does not exist"), though its ``ListModelPackages``
  already takes the ARN. The ARN is reduced to the name, as moto's ListModelPackages does.
- SageMaker ``ListModelPackages`` and ``DescribeModelPackage`` on a group or package of
  another account, by ARN (the prd deployer reads the registry of the tooling account,
  which its resource policy allows): moto answers from the caller's own account, where
  the group does not exist. The request goes to the account the ARN names, as on AWS
  (the registry's resource policy is not evaluated: no policy is, with authorization off).
- SageMaker ``UpdateModelPackage`` without ``CustomerMetadataProperties`` (acc approving
  the release): AWS keeps the package's properties (the digests prd checks); moto 5.2.5
  erases them. They are kept.
- IAM ``UpdateRole`` without ``Description`` or ``MaxSessionDuration``: AWS changes only
  what the request names (Terraform's provider sends the maximum session alone when only
  it changed); moto 5.2.5 erases the description and resets the session to an hour, so
  the plan after putting back a hand-made change showed a description to set again. The
  role keeps what the request leaves out.
"""

from __future__ import annotations

import functools
import re
from typing import Any

GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[^:]*:\d{12}:model-package-group/(.+)$")
SAGEMAKER_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:([^:]*):(\d{12}):model-package")


def _owner(backend: Any, arn: object) -> Any:
    """The SageMaker backend of the account and region ``arn`` names, when that is not
    ``backend``'s own; else None."""
    from moto.sagemaker.models import sagemaker_backends

    match = SAGEMAKER_ARN.match(arn) if isinstance(arn, str) else None
    if match is None:
        return None
    region, account = match.group(1) or backend.region_name, match.group(2)
    if (account, region) == (backend.account_id, backend.region_name):
        return None
    return sagemaker_backends[account][region]


def _route(cls: Any, method: str, argument: str) -> None:
    """``cls.method`` answered by the backend of the account its ``argument`` ARN names."""
    original = getattr(cls, method)
    if getattr(original, "_ndap_accepts", False):
        return

    @functools.wraps(original)
    def routed(self: Any, *args: Any, **kwargs: Any) -> Any:
        owner = _owner(self, kwargs.get(argument))
        if owner is not None:
            return getattr(owner, method)(*args, **kwargs)
        return original(self, *args, **kwargs)

    routed._ndap_accepts = True  # type: ignore[attr-defined]
    setattr(cls, method, routed)


def _keep_customer_metadata(cls: Any) -> None:
    original = cls.update_model_package
    if getattr(original, "_ndap_accepts", False):
        return

    @functools.wraps(original)
    def update_model_package(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("customer_metadata_properties") is None:
            package = self.describe_model_package(kwargs["model_package_arn"])
            kept = package.customer_metadata_properties
            kwargs["customer_metadata_properties"] = dict(kept) if kept else None
        return original(self, *args, **kwargs)

    update_model_package._ndap_accepts = True  # type: ignore[attr-defined]
    cls.update_model_package = update_model_package


def _update_role_changes_only_what_it_names() -> None:
    from moto.core.responses import EmptyResult
    from moto.iam.responses import IamResponse

    if getattr(IamResponse.update_role, "_ndap_accepts", False):
        return

    def update_role(self: Any) -> Any:
        name = self._get_param("RoleName")
        role = self.backend.get_role(name)
        self.backend.update_role(
            name,
            self._get_param("Description", role.description),
            self._get_param("MaxSessionDuration", role.max_session_duration),
        )
        return EmptyResult()

    update_role._ndap_accepts = True  # type: ignore[attr-defined]
    IamResponse.update_role = update_role  # type: ignore[method-assign]


def install_accepted_requests() -> None:
    """Install every adaptation (idempotent)."""
    from moto.sagemaker.models import SageMakerModelBackend

    _update_role_changes_only_what_it_names()

    _keep_customer_metadata(SageMakerModelBackend)
    _route(SageMakerModelBackend, "list_model_packages", "model_package_group_name")
    _route(SageMakerModelBackend, "describe_model_package", "model_package_name")
    original = SageMakerModelBackend.create_model_package
    if getattr(original, "_ndap_accepts", False):
        return

    @functools.wraps(original)
    def create_model_package(self: Any, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get("model_package_group_name")
        match = GROUP_ARN.match(name) if isinstance(name, str) else None
        if match is not None:
            kwargs["model_package_group_name"] = match.group(1)
        return original(self, *args, **kwargs)

    create_model_package._ndap_accepts = True  # type: ignore[attr-defined]
    SageMakerModelBackend.create_model_package = create_model_package  # type: ignore[method-assign]
