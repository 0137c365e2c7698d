"""Requests real AWS accepts and moto refuses: the emulator accepts them too, so a build
that works on AWS does not fail here for moto's sake (each found by ``ndap pipeline
run``; listed in docs/emulator-gaps.md).

- SageMaker ``CreateModelPackage`` with ``ModelPackageGroupName`` given as the group's
  ARN: AWS takes "the name or ARN" (the generated acc build registers releases by ARN,
  since the registry lives in the tooling account); moto 5.2.5 looks the value up as a
  name only ("Model Package Group does not exist"), though its ``ListModelPackages``
  already takes the ARN. The ARN is reduced to the name, as moto's ListModelPackages does.
"""

from __future__ import annotations

import functools
import re
from typing import Any

GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[^:]*:\d{12}:model-package-group/(.+)$")


def install_accepted_requests() -> None:
    """Install every adaptation (idempotent)."""
    from moto.sagemaker.models import SageMakerModelBackend

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
