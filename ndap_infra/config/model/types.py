"""Field types shared by the configuration's sections: account ids, regions, names, tags,
and the strict base model (frozen, unknown keys rejected)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from ndap_infra.config.git_refs import ref_problem
from ndap_infra.config.regions import region_problem


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
    StringConstraints(pattern=r"^[0-9]{12}$"),
    Field(description="A 12-digit AWS account id, quoted in YAML.", examples=["123456789012"]),
]


def _known_region(value: str) -> str:
    problem = region_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Region = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$"),
    AfterValidator(_known_region),
    Field(
        description="An AWS region name of the aws partition (botocore's list).",
        examples=["eu-west-1"],
    ),
]

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$"),
    Field(
        description="Lowercase letters, digits and hyphens; 3-24 characters; starts with a "
        "letter. Used in resource names.",
    ),
]

RoleName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_+=,.@-]{1,64}$")]

Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]

TAG_PUNCTUATION = frozenset("_.:/=+-@ ")


def _tag_text(value: str) -> str:
    """AWS's tag character set: Unicode letters, digits, spaces and ``_.:/=+-@``."""
    for character in value:
        category = unicodedata.category(character)
        if character not in TAG_PUNCTUATION and category[0] not in "LNZ":
            raise ValueError(
                f"holds {character!r}, which AWS does not allow in tags (letters, digits, "
                "spaces and _.:/=+-@ only)"
            )
    return value


def _tag_key(value: str) -> str:
    if value.lower().startswith("aws:"):
        raise ValueError("tag keys starting with 'aws:' are reserved for AWS")
    return _tag_text(value)


TagKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128),
    AfterValidator(_tag_key),
    Field(description="An AWS tag key: 1-128 letters, digits, spaces and _.:/=+-@."),
]

TagValue = Annotated[
    str,
    StringConstraints(max_length=256),
    AfterValidator(_tag_text),
    Field(description="An AWS tag value: up to 256 letters, digits, spaces and _.:/=+-@."),
]


def _repository_problem(value: str) -> str:
    owner, _, name = value.partition("/")
    if name in (".", "..") or name.endswith(".git"):
        raise ValueError(
            "must be 'owner/name' of a repository (the name is not '.', '..' and does "
            "not end in '.git'), e.g. 'acme/churn'"
        )
    if owner.endswith("."):
        raise ValueError("the repository owner does not end with '.'")
    return value


RepositoryName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}/[A-Za-z0-9_.-]{1,100}$"),
    AfterValidator(_repository_problem),
    Field(
        description="owner/name of a repository on the git host (ASCII; no further path segments).",
        examples=["acme/churn"],
    ),
]


def _branch(value: str) -> str:
    problem = ref_problem(value, pattern=False)
    if problem:
        raise ValueError(f"{problem}: use e.g. 'main'")
    return value


BranchName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255),
    AfterValidator(_branch),
    Field(description="A git branch name (exact, ASCII)."),
]


class StrictModel(BaseModel):
    """Base: frozen, unknown keys rejected, enums kept as enums."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )


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
