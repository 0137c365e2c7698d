"""What the emulator holds of the security accounts (#18), asked of the emulator the
product starts, with boto3: GIVEN the started emulator, THEN it holds S3 Object Lock in
compliance mode, an organization trail, delegated administrators, GuardDuty's organization
administrator and an organization Config aggregator; and it refuses exactly what the gap
list says (when a moto upgrade adds one, its test fails and the gap can go)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from ndap_infra.emulator import lifecycle
from ndap_infra.emulator.gaps import KNOWN_GAPS

REGION = "eu-west-1"
MANAGEMENT = "791000000001"
ADMIN = "791000000002"


@pytest.fixture(scope="module")
def info(tmp_path_factory: pytest.TempPathFactory) -> Iterator[lifecycle.EmulatorInfo]:
    work: Path = tmp_path_factory.mktemp("security") / "work"
    started = lifecycle.start(work)
    try:
        yield started.info
    finally:
        lifecycle.stop(work)


def _client(info: lifecycle.EmulatorInfo, service: str, account: str) -> Any:
    return lifecycle.client(info, service, account_id=account, region=REGION)


@pytest.fixture(scope="module")
def organization(info: lifecycle.EmulatorInfo) -> str:
    organizations = _client(info, "organizations", MANAGEMENT)
    organizations.create_organization(FeatureSet="ALL")
    created = organizations.create_account(Email="admin@example.com", AccountName="admin")
    return str(created["CreateAccountStatus"]["AccountId"])


def _gap(resource_type: str) -> str:
    (gap,) = [g for g in KNOWN_GAPS if g.resource_type == resource_type]
    return gap.reason


def test_the_emulator_holds_an_object_lock_archive(info: lifecycle.EmulatorInfo) -> None:
    s3 = _client(info, "s3", ADMIN)
    s3.create_bucket(
        Bucket="archive",
        ObjectLockEnabledForBucket=True,
        CreateBucketConfiguration={"LocationConstraint": REGION},
    )
    s3.put_object_lock_configuration(
        Bucket="archive",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 365}},
        },
    )
    held = s3.get_object_lock_configuration(Bucket="archive")["ObjectLockConfiguration"]
    retention = held["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("COMPLIANCE", 365)


def test_the_emulator_holds_the_organization_trail_and_administrators(
    info: lifecycle.EmulatorInfo, organization: str
) -> None:
    s3 = _client(info, "s3", MANAGEMENT)
    s3.create_bucket(
        Bucket="trail-archive", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    cloudtrail = _client(info, "cloudtrail", MANAGEMENT)
    cloudtrail.create_trail(
        Name="organization-trail",
        S3BucketName="trail-archive",
        IsOrganizationTrail=True,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
    )
    (trail,) = cloudtrail.describe_trails(trailNameList=["organization-trail"])["trailList"]
    assert trail["IsOrganizationTrail"] is True
    organizations = _client(info, "organizations", MANAGEMENT)
    organizations.register_delegated_administrator(
        AccountId=organization, ServicePrincipal="access-analyzer.amazonaws.com"
    )
    delegated = organizations.list_delegated_administrators()["DelegatedAdministrators"]
    assert [d["Id"] for d in delegated] == [organization]
    guardduty = _client(info, "guardduty", MANAGEMENT)
    guardduty.enable_organization_admin_account(AdminAccountId=organization)
    admins = guardduty.list_organization_admin_accounts()["AdminAccounts"]
    assert [a["AdminAccountId"] for a in admins] == [organization]


def test_the_emulator_gives_the_archive_key_s_arn_by_its_alias(
    info: lifecycle.EmulatorInfo,
) -> None:
    """What the organization trail's data source asks (#18 follow-up 3): DescribeKey by the
    alias, in the archive's account, answers the key ARN; a trail given that ARN reads it
    back unchanged, so the plan after apply is empty. moto reads back an alias ARN as it
    was sent (real CloudTrail answers the key ARN): the emulator cannot witness the
    permanent diff the alias caused on AWS, only that the key ARN holds."""
    archive = "791000000007"
    kms = _client(info, "kms", archive)
    key = kms.create_key(Description="archive")["KeyMetadata"]
    kms.create_alias(AliasName="alias/org/log-archive", TargetKeyId=key["KeyId"])
    described = kms.describe_key(KeyId="alias/org/log-archive")["KeyMetadata"]
    assert described["Arn"] == key["Arn"] and ":key/" in described["Arn"]
    s3 = _client(info, "s3", MANAGEMENT)
    s3.create_bucket(Bucket="key-archive", CreateBucketConfiguration={"LocationConstraint": REGION})
    cloudtrail = _client(info, "cloudtrail", MANAGEMENT)
    alias_arn = f"arn:aws:kms:{REGION}:{archive}:alias/org/log-archive"
    for name, given in (("by-key", described["Arn"]), ("by-alias", alias_arn)):
        cloudtrail.create_trail(Name=name, S3BucketName="key-archive", KmsKeyId=given)
        assert cloudtrail.get_trail(Name=name)["Trail"]["KmsKeyId"] == given


def test_the_emulator_refuses_what_the_gap_list_names(
    info: lifecycle.EmulatorInfo, organization: str
) -> None:
    organizations = _client(info, "organizations", MANAGEMENT)
    with pytest.raises(ClientError) as refused:
        organizations.register_delegated_administrator(
            AccountId=organization, ServicePrincipal="config.amazonaws.com"
        )
    assert refused.value.response["Error"]["Code"] == "InvalidInputException"
    assert "config.amazonaws.com" in _gap("aws_organizations_delegated_administrator")
    guardduty = _client(info, "guardduty", organization)
    detector = guardduty.create_detector(Enable=True)["DetectorId"]
    with pytest.raises((ClientError, NotImplementedError)):
        guardduty.update_organization_configuration(
            DetectorId=detector, AutoEnableOrganizationMembers="ALL"
        )
    assert "UpdateOrganizationConfiguration" in _gap("aws_guardduty_organization_configuration")
    securityhub = _client(info, "securityhub", MANAGEMENT)
    with pytest.raises((ClientError, NotImplementedError)):
        securityhub.list_organization_admin_accounts()
    assert "ListOrganizationAdminAccounts" in _gap("aws_securityhub_organization_admin_account")
    hub = _client(info, "securityhub", organization)
    with pytest.raises((ClientError, NotImplementedError)):
        hub.create_finding_aggregator(RegionLinkingMode="ALL_REGIONS")
    assert "CreateFindingAggregator" in _gap("aws_securityhub_finding_aggregator")
    with pytest.raises((ClientError, NotImplementedError)):
        hub.create_configuration_policy(
            Name="standards",
            ConfigurationPolicy={"SecurityHub": {"ServiceEnabled": True}},
        )
    assert "CreateConfigurationPolicy" in _gap("aws_securityhub_configuration_policy")
