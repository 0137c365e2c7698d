"""The last values validated (#15, item 3): ASCII digits, real regions, repository and
git ref grammars, finite numbers, AWS's tag rules, and credentials that are never echoed.
Each case is refused with the field named and a fix; the reference configuration, with
its ordinary values, stays valid (the negative control)."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ndap_infra.config import validate_data
from ndap_infra.config.regions import regions_by_partition
from tests.helpers import NDAP, issues_of, reference_data

ARABIC_INDIC = "٣٠٠٠٠٠٠٠٠٠٠٣"  # 300000000003 in Arabic-Indic digits
CYRILLIC_A = "\u0430"


def with_value(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    data = reference_data()
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


CASES: dict[str, tuple[tuple[str | int, ...], Any, str, str]] = {
    # name: (path, value, dotted path of the issue, words of the message)
    "account id in Arabic-Indic digits": (
        ("environments", "dev", "account_id"),
        ARABIC_INDIC,
        "environments.dev.account_id",
        "12-digit AWS account id (ASCII digits)",
    ),
    "region that does not exist": (
        ("organization", "home_region"),
        "eu-westeros-1",
        "organization.home_region",
        "is not an AWS region; e.g. eu-",
    ),
    "region of another partition": (
        ("organization", "allowed_regions"),
        ["eu-west-1", "us-gov-west-1"],
        "organization.allowed_regions[1]",
        "aws-us-gov partition; ndap supports the aws partition only",
    ),
    "rate with a non-ASCII digit": (
        ("ml_projects", 0, "retraining", "schedule"),
        "rate(\u0663 days)",
        "ml_projects[0].retraining.schedule",
        "positive whole number",
    ),
    "cron with a superscript digit": (
        ("ml_projects", 0, "retraining", "schedule"),
        "cron(\u00b2 3 ? * MON *)",
        "ml_projects[0].retraining.schedule",
        "minutes field",
    ),
    "repository with path segments": (
        ("ml_projects", 0, "repository"),
        "../..",
        "ml_projects[0].repository",
        "'owner/name' of a repository",
    ),
    "repository nested under a path": (
        ("ml_projects", 0, "repository"),
        "acme/team/churn",
        "ml_projects[0].repository",
        "no further path segments",
    ),
    "repository owner with a look-alike letter": (
        ("drift_detection", "repository"),
        f"{CYRILLIC_A}cme/ml-platform-infra",
        "drift_detection.repository",
        "ASCII letters",
    ),
    "threshold that is not a number": (
        ("ml_projects", 1, "retraining", "threshold"),
        float("nan"),
        "ml_projects[1].retraining.threshold",
        "finite number",
    ),
    "infinite threshold": (
        ("ml_projects", 1, "retraining", "threshold"),
        float("inf"),
        "ml_projects[1].retraining.threshold",
        "finite number",
    ),
    "tag key reserved for AWS": (
        ("organization", "tags"),
        {"aws:owner": "x"},
        "organization.tags.aws:owner",
        "reserved for AWS",
    ),
    "tag value with a character AWS refuses": (
        ("organization", "tags"),
        {"owner": "platform<team>"},
        "organization.tags.owner",
        "does not allow in tags",
    ),
    "branch with a look-alike letter": (
        ("platform_pipeline", "branch"),
        f"m{CYRILLIC_A}in",
        "platform_pipeline.branch",
        "non-ASCII character",
    ),
    "branch component starting with a dot": (
        ("drift_detection", "branch"),
        "release/.next",
        "drift_detection.branch",
        "not a valid git ref name",
    ),
    "project branch with a look-alike letter": (
        ("ml_projects", 0, "pipeline"),
        {"develop_branch": f"dev{CYRILLIC_A}lop"},
        "ml_projects[0].pipeline.develop_branch",
        "non-ASCII character",
    ),
    "tag pattern ending in .lock": (
        ("ml_projects", 0, "pipeline"),
        {"release_tag_pattern": "v*.lock"},
        "ml_projects[0].pipeline.release_tag_pattern",
        "as a tag pattern",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_value_that_looks_right_but_is_not_is_refused(name: str) -> None:
    path, value, where, words = CASES[name]
    found = issues_of(with_value(path, value))
    assert where in found, f"{name}: {found}"
    assert words in found[where]


def test_the_reference_values_stay_valid() -> None:
    config, issues = validate_data(reference_data())
    assert issues == [] and config is not None


def test_a_null_tag_key_is_refused_not_renamed_none() -> None:
    """YAML's ``~: x`` used to become a tag named 'None' on every resource."""
    found = issues_of(with_value(("organization", "tags"), {None: "x", "owner": "y"}))
    assert found == {"organization.tags.None": found["organization.tags.None"]}
    assert "a key with no name" in found["organization.tags.None"]


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.characters(categories=["Nd"]), min_size=12, max_size=12).filter(
        lambda t: not t.isascii()
    )
)
def test_account_ids_take_ascii_digits_only(digits: str) -> None:
    found = issues_of(with_value(("environments", "acc", "account_id"), digits))
    assert "environments.acc.account_id" in found


def test_every_region_of_the_aws_partition_is_accepted() -> None:
    regions = sorted(regions_by_partition()["aws"])
    assert len(regions) >= 30 and "eu-west-1" in regions
    data = with_value(("organization", "allowed_regions"), regions)
    assert validate_data(data)[1] == []


# -- credentials: through the command a user runs ------------------------------------------

ACCESS_KEY = "AKIAQWERTYUIOPASDFGH"


def validate(tmp_path: Path, data: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "platform.yaml"
    with config.open("w") as stream:
        YAML(typ="safe").dump(data, stream)
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    return subprocess.run(
        [*NDAP, "validate", "-c", str(config)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_secret_under_a_misspelled_key_is_not_echoed(tmp_path: Path) -> None:
    data = reference_data()
    data["organization"]["secret_key"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    data["organization"]["acces_key"] = ACCESS_KEY
    result = validate(tmp_path, data)
    assert result.returncode == 2, result.stderr
    assert "organization.acces_key: unknown key" not in result.stderr  # pydantic's wording
    assert "organization.acces_key" in result.stderr
    assert "organization.secret_key" in result.stderr
    assert ACCESS_KEY not in result.stderr + result.stdout
    assert "wJalrXUtnFEMI" not in result.stderr + result.stdout


def test_a_secret_in_a_checked_value_is_named_not_shown(tmp_path: Path) -> None:
    data = reference_data()
    data["ml_projects"][0]["team"] = ACCESS_KEY  # not a slug: refused with its value
    result = validate(tmp_path, data)
    assert result.returncode == 2
    assert "ml_projects[0].team" in result.stderr
    assert "looks like an AWS access key id: not shown" in result.stderr
    assert ACCESS_KEY not in result.stderr + result.stdout


def test_credential_like_tags_warn_by_default_and_fail_when_asked(tmp_path: Path) -> None:
    data = reference_data()
    data["organization"]["tags"] = {"owner": "platform-team", "db-password": "hunter2hunter"}
    warned = validate(tmp_path, data)
    assert warned.returncode == 0, warned.stderr
    assert "warning:" in warned.stderr and "organization.tags.db-password" in warned.stderr
    assert "hunter2hunter" not in warned.stderr + warned.stdout
    assert "organization.tags.owner" not in warned.stderr  # the ordinary tag: no warning

    strict = copy.deepcopy(data)
    strict["validation"] = {"credential_like_values": "error"}
    refused = validate(tmp_path, strict)
    assert refused.returncode == 2
    assert "organization.tags.db-password" in refused.stderr
    assert "hunter2hunter" not in refused.stderr + refused.stdout


def test_an_ordinary_configuration_has_no_credential_warning(tmp_path: Path) -> None:
    result = validate(tmp_path, reference_data())
    assert result.returncode == 0 and "warning" not in result.stderr
