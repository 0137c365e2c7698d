"""The one place where the pinned Terraform provider is named.

Changing the provider version is this setting plus regenerating the typed resource
classes (``make resources``); nothing else in the code names a version.
"""

from __future__ import annotations

PROVIDER_HOST = "registry.terraform.io"
PROVIDER_NAMESPACE = "hashicorp"
PROVIDER_TYPE = "aws"
PROVIDER_SOURCE = f"{PROVIDER_NAMESPACE}/{PROVIDER_TYPE}"
PROVIDER_VERSION = "5.100.0"
