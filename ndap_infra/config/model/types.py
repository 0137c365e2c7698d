"""Field types shared by the configuration's sections: account ids, regions, names, tags,
and the strict base model (frozen, unknown keys rejected)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)


def _account_id_from_yaml(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            "account ids must be quoted strings in YAML (an unquoted number loses leading "
            f"zeros): write '{value:012d}'"
        )
    return value


AccountId = Annotated[
    str,
    BeforeValidator(_account_id_from_yaml),
    StringConstraints(pattern=r"^\d{12}$"),
    Field(description="A 12-digit AWS account id, quoted in YAML.", examples=["123456789012"]),
]

Region = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$"),
    Field(description="An AWS region name.", examples=["eu-west-1"]),
]

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$"),
    Field(
        description="Lowercase letters, digits and hyphens; 3-24 characters; starts with a "
        "letter. Used in resource names.",
    ),
]

RoleName = Annotated[str, StringConstraints(pattern=r"^[\w+=,.@-]{1,64}$")]

Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]

TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]

TagValue = Annotated[str, StringConstraints(max_length=256)]


class StrictModel(BaseModel):
    """Base: frozen, unknown keys rejected, enums kept as enums."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


FeatureName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$"),
    Field(description="A SageMaker Feature Store feature name."),
]

GlobPattern = Annotated[str, StringConstraints(min_length=1, max_length=200)]

BucketName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    Field(description="An S3 bucket name (3-63 of a-z, 0-9, '.', '-')."),
]
