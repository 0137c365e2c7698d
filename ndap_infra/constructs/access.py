"""Persona roles and production-data stores: the access layer, as resources."""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from ndap_infra.access.data import DatasetStore
from ndap_infra.access.onboarding import PersonSpec
from ndap_infra.access.personas import PermissionSetSpec, PersonaAccess, PersonaRole
from ndap_infra.access.sampling import DATA_ROLE_PATH, START_BUILD_TARGET, IntegrationSampler
from ndap_infra.config.enums import AnyPersona
from ndap_infra.constructs.builds import build_project, inline_source, role
from ndap_infra.constructs.storage import BucketProps, KeyProps, ManagedKey, SecureBucket
from ndap_infra.resources.aws import (
    CloudwatchLogGroup,
    IamPolicy,
    IamRole,
    IamRolePolicy,
    IdentitystoreGroupMembership,
    IdentitystoreUser,
    IdentitystoreUserEmails,
    IdentitystoreUserName,
    S3BucketReplicationConfiguration,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationAccessControlTranslation,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetRetryPolicy,
    SsoadminAccountAssignment,
    SsoadminPermissionsBoundaryAttachment,
    SsoadminPermissionsBoundaryAttachmentPermissionsBoundary,
    SsoadminPermissionSet,
    SsoadminPermissionSetInlinePolicy,
)
from ndap_infra.resources.aws import (
    SsoadminPermissionsBoundaryAttachmentPermissionsBoundaryCustomerManagedPolicyReference as BoundaryReference,  # noqa: E501
)


class PersonaRoles(Construct):
    """One role per persona with access in this account (trust, inline access policy, the
    permission boundary where the persona has one), and the boundary policies themselves
    (which Identity Center permission sets reference by name too)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        roles: Sequence[PersonaRole],
        boundaries: Sequence[PersonaAccess],
    ) -> None:
        super().__init__(scope, id_)
        personas: dict[AnyPersona, Construct] = {}
        boundary_arns: dict[AnyPersona, str] = {}
        by_name: dict[str, str] = {}
        for access in boundaries:
            assert access.boundary is not None and access.boundary_name is not None
            if access.boundary_name not in by_name:
                # One policy per name: the data-scientist-like personas share theirs,
                # made under the first of them (the built-in one's id stays put).
                persona = self._persona(personas, access.persona)
                by_name[access.boundary_name] = IamPolicy(
                    persona,
                    "boundary",
                    name=access.boundary_name,
                    description=f"Permission boundary of {access.persona.value}",
                    policy=access.boundary.to_terraform_json(),
                ).arn
            boundary_arns[access.persona] = by_name[access.boundary_name]
        for spec in roles:
            persona = self._persona(personas, spec.persona)
            boundary_arn = boundary_arns.get(spec.persona)
            role = IamRole(
                persona,
                "role",
                name=spec.name,
                path=spec.path,
                assume_role_policy=spec.trust.to_terraform_json(),
                max_session_duration=spec.max_session_seconds,
                permissions_boundary=boundary_arn,
                tags=spec.tags,
                description=f"{spec.persona.value}: {spec.access.value} access",
            )
            IamRolePolicy(
                persona,
                "access",
                name="access",
                role=role.id,
                policy=spec.policy.to_terraform_json(),
            )

    def _persona(self, made: dict[AnyPersona, Construct], persona: AnyPersona) -> Construct:
        if persona not in made:
            made[persona] = Construct(self, persona.value)
        return made[persona]


class DatasetBucket(Construct):
    """The datasets bucket of one environment: its key, the bucket, and (in prd) the
    replication that writes the dev replica and the acc copy. The bucket and its key hold
    production data wherever they exist: both are deletion-protected (``prevent_destroy``;
    `ndap destroy` keeps them unless ``--include-protected``)."""

    def __init__(self, scope: Construct, id_: str, store: DatasetStore) -> None:
        super().__init__(scope, id_)
        key = ManagedKey(
            self,
            "key",
            KeyProps(
                alias=store.key_alias,
                description=f"production datasets ({store.environment.value})",
                policy=store.key_policy,
                prevent_destroy=True,
            ),
        )
        bucket = SecureBucket(
            self,
            "bucket",
            BucketProps(
                name=store.bucket,
                kms_key_arn=key.arn,
                policy=store.bucket_policy,
                prevent_destroy=True,
            ),
        )
        if store.sampler is not None:
            IntegrationSubsetJob(self, "integration-subset", store.sampler, key.arn)
        if not store.replication_targets or store.replication_role is None:
            return
        assert store.replication_role_trust and store.replication_role_policy
        role = IamRole(
            self,
            "replication-role",
            name=store.replication_role,
            assume_role_policy=store.replication_role_trust.to_terraform_json(),
            description="Writes production datasets to the dev replica and the acc copy",
        )
        IamRolePolicy(
            self,
            "replication-access",
            name="replicate",
            role=role.id,
            policy=store.replication_role_policy.to_terraform_json(),
        )
        rules: list[S3BucketReplicationConfigurationRule] = []
        for target in store.replication_targets:
            prefixes = (*store.prefixes, *target.extra_prefixes) if store.prefixes else ("",)
            for prefix in prefixes:
                rules.append(
                    S3BucketReplicationConfigurationRule(
                        id=f"{target.environment.value}-{prefix or 'all'}",
                        status="Enabled",
                        priority=len(rules),
                        filter=[
                            S3BucketReplicationConfigurationRuleFilter(
                                prefix=f"{prefix}/" if prefix else ""
                            )
                        ],
                        delete_marker_replication=[
                            S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                                status="Enabled"
                            )
                        ],
                        source_selection_criteria=[
                            S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                                sse_kms_encrypted_objects=[
                                    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                                        status="Enabled"
                                    )
                                ]
                            )
                        ],
                        destination=[
                            S3BucketReplicationConfigurationRuleDestination(
                                bucket=f"arn:aws:s3:::{target.bucket}",
                                account=target.account_id,
                                access_control_translation=[
                                    S3BucketReplicationConfigurationRuleDestinationAccessControlTranslation(
                                        owner="Destination"
                                    )
                                ],
                                encryption_configuration=[
                                    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                                        replica_kms_key_id=target.key_alias_arn
                                    )
                                ],
                            )
                        ],
                    )
                )
        # AWS refuses replication on a bucket whose versioning is not enabled yet, and
        # nothing in the configuration refers to the versioning resource: depend on it.
        S3BucketReplicationConfiguration(
            self,
            "replication",
            depends_on=[bucket.versioning],
            bucket=bucket.bucket.id,
            role=role.arn,
            rule=rules,
        )


SAMPLER_TIMEOUT_MINUTES = 120


class IntegrationSubsetJob(Construct):
    """The sampling job that writes ``integration-subset/`` of the datasets bucket: its
    role and log group, the CodeBuild project (no source, inline buildspec) and the
    schedule that starts it, with the schedule's role. Logs and schedule are encrypted
    with the datasets key (the logs name production objects)."""

    def __init__(
        self, scope: Construct, id_: str, sampler: IntegrationSampler, key_arn: str
    ) -> None:
        super().__init__(scope, id_)
        sampler_role = role(
            self,
            "sampler",
            name=sampler.role_name,
            path=DATA_ROLE_PATH,
            trust=sampler.role_trust,
            policy=sampler.role_policy(key_arn),
            description="Samples the production datasets into integration-subset/ of the "
            "same bucket; reads the datasets, writes only the subset",
        )
        logs = CloudwatchLogGroup(
            self,
            "logs",
            name=sampler.log_group,
            retention_in_days=sampler.log_retention_days,
            kms_key_id=key_arn,
        )
        build_project(
            self,
            "project",
            name=sampler.project,
            description="Writes the integration subset of the production datasets "
            "(replicated to dev for the pipelines' integration tests)",
            service_role_arn=sampler_role.arn,
            timeout_minutes=SAMPLER_TIMEOUT_MINUTES,
            log_group=logs.name,
            source=inline_source("NO_SOURCE", sampler.buildspec),
            encryption_key=key_arn,
        )
        schedule_role = role(
            self,
            "schedule",
            name=sampler.schedule_role_name,
            path=DATA_ROLE_PATH,
            trust=sampler.schedule_role_trust,
            policy=sampler.schedule_role_policy(key_arn),
            description="Starts the integration-subset sampling job; nothing else",
        )
        SchedulerSchedule(
            self,
            "schedule",
            name=sampler.schedule_name,
            group_name="default",
            description="Starts the integration-subset sampling job",
            schedule_expression=sampler.schedule,
            flexible_time_window=[SchedulerScheduleFlexibleTimeWindow(mode="OFF")],
            kms_key_arn=key_arn,
            state="ENABLED",
            target=[
                SchedulerScheduleTarget(
                    arn=START_BUILD_TARGET,
                    role_arn=schedule_role.arn,
                    input=sampler.start_build_input,
                    retry_policy=[SchedulerScheduleTargetRetryPolicy(maximum_retry_attempts=2)],
                )
            ],
        )


class IdentityCenterAccess(Construct):
    """Permission sets with their inline policy and boundary, assigned to each persona's
    group in each environment account (in the management account's Identity Center)."""

    def __init__(
        self, scope: Construct, id_: str, instance_arn: str, specs: Sequence[PermissionSetSpec]
    ) -> None:
        super().__init__(scope, id_)
        for spec in specs:
            node = Construct(self, spec.name)
            access = spec.access
            permission_set = SsoadminPermissionSet(
                node,
                "permission-set",
                instance_arn=instance_arn,
                name=spec.name,
                description=(
                    f"{access.persona.value}: {access.access.value} in {access.environment.value}"
                ),
                session_duration=spec.session_duration,
            )
            SsoadminPermissionSetInlinePolicy(
                node,
                "access",
                instance_arn=instance_arn,
                permission_set_arn=permission_set.arn,
                inline_policy=access.policy.to_terraform_json(),
            )
            if access.boundary_name is not None:
                SsoadminPermissionsBoundaryAttachment(
                    node,
                    "boundary",
                    instance_arn=instance_arn,
                    permission_set_arn=permission_set.arn,
                    permissions_boundary=[
                        SsoadminPermissionsBoundaryAttachmentPermissionsBoundary(
                            customer_managed_policy_reference=[
                                BoundaryReference(name=access.boundary_name)
                            ]
                        )
                    ],
                )
            SsoadminAccountAssignment(
                node,
                "assignment",
                instance_arn=instance_arn,
                permission_set_arn=permission_set.arn,
                principal_id=spec.group_id,
                principal_type="GROUP",
                target_id=spec.account_id,
                target_type="AWS_ACCOUNT",
            )


class IdentityCenterPeople(Construct):
    """Each onboarded person: a user of the identity store, and a member of the group of
    each of their personas (whose permission sets ``IdentityCenterAccess`` assigns)."""

    def __init__(
        self, scope: Construct, id_: str, identity_store_id: str, specs: Sequence[PersonSpec]
    ) -> None:
        super().__init__(scope, id_)
        for spec in specs:
            node = Construct(self, spec.user_name)
            user = IdentitystoreUser(
                node,
                "user",
                identity_store_id=identity_store_id,
                user_name=spec.user_name,
                display_name=spec.display_name,
                name=[
                    IdentitystoreUserName(given_name=spec.given_name, family_name=spec.family_name)
                ],
                emails=[IdentitystoreUserEmails(value=spec.email, primary=True, type="work")],
            )
            for persona, group_id in spec.groups:
                IdentitystoreGroupMembership(
                    node,
                    f"member-of-{persona}",
                    identity_store_id=identity_store_id,
                    group_id=group_id,
                    member_id=user.user_id,
                )
