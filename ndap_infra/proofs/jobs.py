"""The jobs proof: every row of the jobs table evaluated allowed, end to end, from the
synthesized JSON (the caller's SCPs, the resource's RCPs, boundaries, trusts, bucket, key
and registry policies), with negative controls that must flip a row to denied.

A guardrail that blocks the platform's own job is a defect (the model's invariant 7):
the drift build denied by the organization-integrity SCP was one (#16, finding 4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ndap_infra.config.enums import SECURITY_UNIT, TOOLING, Environment
from ndap_infra.config.model import NdapConfig
from ndap_infra.evaluator import (
    Decision,
    NamedPolicy,
    Principal,
    Request,
    Resource,
    StatementRef,
    can_assume,
    evaluate,
    principal_for,
)
from ndap_infra.names.pipelines import PIPELINE_ROLE_PATTERN, TOOLS_POINTER
from ndap_infra.names.security import ORGANIZATION_TRAIL_STACK
from ndap_infra.pipelines.drift import drift_detection_spec
from ndap_infra.proofs.access_model import PlatformModel, inherited_policy_file, ou_level
from ndap_infra.proofs.jobs_table import Job, required_jobs
from ndap_infra.proofs.principals import base_context


@dataclass(frozen=True)
class JobResult:
    job: Job
    allowed: bool
    reason: str
    decision: Decision | None = None

    @property
    def ok(self) -> bool:
        """Allowed for a job, denied for a power the identity must not hold."""
        return self.allowed == self.job.expected


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _resource(model: PlatformModel, arn: str) -> Resource | str:
    """The modelled resource behind ``arn`` (with its resource policy), or why none."""
    if arn.startswith("arn:aws:s3:::"):
        bucket, _, _key = arn.removeprefix("arn:aws:s3:::").partition("/")
        if bucket not in model.buckets:
            return f"bucket {bucket} is not synthesized"
        account, policy = model.buckets[bucket]
        return Resource(arn, account, "s3", policy)
    if arn.startswith("arn:aws:kms:"):
        for account, key_arn, policy in model.keys.values():
            if key_arn == arn:
                return Resource(arn, account, "kms", policy, resource_policy_required=True)
        return f"key {arn} is not synthesized"
    if ":model-package-group/" in arn or ":model-package/" in arn:
        group = arn.rsplit("/", 2)[-1] if ":model-package-group/" in arn else arn.split("/")[1]
        if group in model.registries:
            account, policy = model.registries[group]
            return Resource(arn, account, "sagemaker", policy)
    if arn.startswith("arn:aws:ecr:") and ":repository/" in arn:
        repository = arn.split(":repository/", 1)[1]
        if repository not in model.image_repositories:
            return f"repository {repository} is not synthesized"
        account, policy = model.image_repositories[repository]
        return Resource(arn, account, "ecr", policy)
    account = _account_of(arn)
    return Resource(arn, account)


def _principal(model: PlatformModel, job: Job) -> Principal | str:
    if job.service_principal:
        return Principal.service(job.identity)
    role = model.roles.get(job.identity)
    if role is None:
        return f"identity {job.identity} is not synthesized"
    return principal_for(role)


def decide_job(model: PlatformModel, job: Job) -> JobResult:
    principal = _principal(model, job)
    if isinstance(principal, str):
        return JobResult(job, False, principal)
    context = {**base_context(model.config), **dict(job.context)}
    if job.operation == "sts:AssumeRole":
        role = model.roles.get(job.resource)
        if role is None:
            return JobResult(job, False, f"role {job.resource} is not synthesized")
        decision = can_assume(principal, role, model.organization, context)
    else:
        resource = _resource(model, job.resource)
        if isinstance(resource, str):
            return JobResult(job, False, resource)
        request = Request(principal, job.operation, resource, context)
        decision = evaluate(request, model.organization)
    return JobResult(job, decision.allowed, decision.reason, decision)


def prove_jobs(model: PlatformModel, jobs: Sequence[Job] | None = None) -> list[JobResult]:
    """Each row of the jobs table (``required_jobs`` of the model's configuration)."""
    rows = required_jobs(model.config) if jobs is None else jobs
    return [decide_job(model, job) for job in rows]


class CompanyGuardrailBreaksJobs(ValueError):
    """A statement of ``organization.company_guardrails``, or a policy of
    ``organization.inherited_guardrails``, denies a job of the platform's own (the model's
    invariant 7): the configuration is rejected, naming the jobs."""


def jobs_denied_by_company_guardrails(
    config: NdapConfig, results: Sequence[JobResult]
) -> dict[str, list[JobResult]]:
    """Company guardrail Sid -> the required jobs it denies: rows that come out wrong with
    an explicit SCP Deny from that statement among the deciding ones."""
    sids = {g.sid for g in config.organization.company_guardrails}
    return _denied_by(
        results, lambda ref: str(ref.sid_or_index) if ref.sid_or_index in sids else None
    )


def jobs_denied_by_inherited_guardrails(
    config: NdapConfig, results: Sequence[JobResult]
) -> dict[str, list[JobResult]]:
    """Inherited policy name -> the required jobs one of its Deny statements denies."""
    files = {
        inherited_policy_file(p.name): p.name for p in config.organization.inherited_guardrails
    }
    return _denied_by(results, lambda ref: files.get(ref.policy_name))


def _denied_by(
    results: Sequence[JobResult], owner: Callable[[StatementRef], str | None]
) -> dict[str, list[JobResult]]:
    broken: dict[str, list[JobResult]] = {}
    for result in results:
        if result.ok or not result.job.expected or result.decision is None:
            continue
        for ref in result.decision.deciding:
            if ref.layer == "scp" and ref.effect == "Deny" and (key := owner(ref)) is not None:
                broken.setdefault(key, []).append(result)
    return broken


def _denial_lines(field: str, index: int, key: str, denied: Sequence[JobResult]) -> list[str]:
    jobs = sorted({r.job.job for r in denied})
    lines = [
        f"organization.{field}[{index}] ({key}) denies {len(denied)} operation(s) of the "
        f"platform's own jobs: {'; '.join(jobs)}"
    ]
    lines += [
        f"  - {r.job.job}: {r.job.identity} {r.job.operation} {r.job.resource}" for r in denied[:5]
    ]
    if len(denied) > 5:
        lines.append(f"  - and {len(denied) - 5} more")
    return lines


def check_company_guardrails(config: NdapConfig, results: Sequence[JobResult]) -> None:
    """Raise ``CompanyGuardrailBreaksJobs`` naming, per company statement and per inherited
    policy, the jobs it denies."""
    organization = config.organization
    parts = (
        (
            "company_guardrails",
            [g.sid for g in organization.company_guardrails],
            jobs_denied_by_company_guardrails(config, results),
            "Narrow the statement (a Condition excepting the platform's roles, or fewer "
            "actions or units): the platform cannot run with it.",
        ),
        (
            "inherited_guardrails",
            [p.name for p in organization.inherited_guardrails],
            jobs_denied_by_inherited_guardrails(config, results),
            "That policy is attached above the platform's units: the platform cannot run "
            "under it. Ask its owners for an exception for the platform's roles (a Condition "
            "on aws:PrincipalArn), or place the units (parent_ou_id) where it does not apply.",
        ),
    )
    lines = []
    for field, keys, denied_by, advice in parts:
        for key in (k for k in dict.fromkeys(keys) if k in denied_by):
            lines += _denial_lines(field, keys.index(key), key, denied_by[key])
        if denied_by:
            lines.append(advice)
    if lines:
        raise CompanyGuardrailBreaksJobs("\n".join(lines))


# ---- negative controls: a job row that must flip to denied -----------------------------


@dataclass(frozen=True)
class JobControl:
    """A mistake (a grant removed, a guardrail added, a power given back) and the rows it
    must turn wrong: a job denied, or a forbidden power allowed."""

    name: str
    mutate: Callable[[PlatformModel], PlatformModel]
    row: Callable[[Job], bool]


@dataclass(frozen=True)
class JobControlResult:
    control: JobControl
    rows: int
    flipped: int

    @property
    def ok(self) -> bool:
        return self.rows > 0 and self.flipped == self.rows

    def render(self) -> str:
        verdict = "flips" if self.ok else "DOES NOT FLIP"
        return f"- {self.control.name}: {verdict} ({self.flipped} of {self.rows} rows flipped)"


def without_statement(role_arn: str, sid: str) -> Callable[[PlatformModel], PlatformModel]:
    """A grant removed: the statement ``sid`` from every identity policy of the role."""

    def mutate(model: PlatformModel) -> PlatformModel:
        role = model.roles[role_arn]
        policies = tuple(
            NamedPolicy(
                p.name,
                {
                    **p.document,
                    "Statement": [s for s in p.document["Statement"] if s.get("Sid") != sid],
                },
            )
            for p in role.identity_policies
        )
        return model.with_roles({role_arn: replace(role, identity_policies=policies)})

    return mutate


def with_scp_statement(
    level: str, statement: dict[str, object]
) -> Callable[[PlatformModel], PlatformModel]:
    """A blocking guardrail: one more SCP at ``level`` holding ``statement``."""

    def mutate(model: PlatformModel) -> PlatformModel:
        org = model.organization
        extra = NamedPolicy(
            "hypothetical/blocking-scp.json",
            {"Version": "2012-10-17", "Statement": [statement]},
        )
        scps = {**org.scps, level: (*org.scps.get(level, ()), extra)}
        return replace(model, organization=replace(org, scps=scps))

    return mutate


def without_scp_exemption(
    suffix: str, principal_arn: str
) -> Callable[[PlatformModel], PlatformModel]:
    """An exemption removed: ``principal_arn`` taken out of every ``aws:PrincipalArn``
    condition of the SCPs whose reviewer file ends with ``suffix`` (what the guardrail
    looked like before the exemption)."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value if v != principal_arn]
        return value

    def mutate(model: PlatformModel) -> PlatformModel:
        org = model.organization
        scps = {
            level: tuple(
                NamedPolicy(p.name, strip(dict(p.document)))  # type: ignore[arg-type]
                if p.name.endswith(suffix)
                else p
                for p in policies
            )
            for level, policies in org.scps.items()
        }
        return replace(model, organization=replace(org, scps=scps))

    return mutate


def check_controls(
    model: PlatformModel, controls: Sequence[JobControl], jobs: Sequence[Job] | None = None
) -> list[JobControlResult]:
    rows = required_jobs(model.config) if jobs is None else list(jobs)
    results = []
    for control in controls:
        targeted = [job for job in rows if control.row(job)]
        mutated = control.mutate(model)
        flipped = sum(not decide_job(mutated, job).ok for job in targeted)
        results.append(JobControlResult(control, len(targeted), flipped))
    return results


def job_controls(model: PlatformModel) -> list[JobControl]:
    """The mistakes the jobs proof must catch, for what this configuration has."""
    config = model.config
    controls = []
    drift = drift_detection_spec(config)
    if drift is not None:
        build, home = drift.build_role_arn, drift.account_id

        def drift_assumes(job: Job) -> bool:
            return job.identity == build and job.operation == "sts:AssumeRole"

        controls += [
            JobControl(
                "organization-integrity SCP without the drift build's exemption (as before "
                "#16, finding 4)",
                without_scp_exemption("organization-integrity.json", build),
                drift_assumes,
            ),
            JobControl(
                # Within the tooling account the reader's trust naming the build's role ARN
                # suffices on its own (AWS's same-account rule): only other accounts flip.
                "the drift build's policy without its AssumeTheDriftReaders grant (readers "
                "in other accounts)",
                without_statement(build, "AssumeTheDriftReaders"),
                lambda job: drift_assumes(job) and _account_of(job.resource) != home,
            ),
        ]
    if config.tooling_account_id is not None and config.ml_projects:

        def builds_deploy(job: Job) -> bool:
            return (
                job.operation == "sts:AssumeRole"
                and "/ndap/pipelines/" in job.identity
                and job.resource.endswith("-deployer")
                and job.expected
            )

        controls.append(
            JobControl(
                "a blocking guardrail: an SCP on the tooling unit denying pipeline roles "
                "sts:AssumeRole",
                with_scp_statement(
                    ou_level(TOOLING),
                    {
                        "Sid": "Blocking",
                        "Effect": "Deny",
                        "Action": "sts:AssumeRole",
                        "Resource": "*",
                        "Condition": {"ArnLike": {"aws:PrincipalArn": PIPELINE_ROLE_PATTERN}},
                    },
                ),
                builds_deploy,
            )
        )
        builds = sorted(
            arn for arn in model.roles if arn.endswith("-build-prd") and "/ndap/pipelines/" in arn
        )
        if builds:
            build_role = builds[0]
            controls.append(
                JobControl(
                    f"{build_role} without its ReadThePlatformsTooling grant",
                    without_statement(build_role, "ReadThePlatformsTooling"),
                    lambda job: job.identity == build_role and job.resource.endswith(TOOLS_POINTER),
                )
            )
        controls.append(
            JobControl(
                "the acc registry guardrail denying every repository (the tooling account's "
                "left out of its NotResource)",
                with_scp_statement(
                    ou_level(Environment.ACC.value),
                    {
                        "Sid": "PullImagesFromNowhere",
                        "Effect": "Deny",
                        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                        "Resource": "*",
                    },
                ),
                lambda job: (
                    job.operation == "ecr:BatchGetImage"
                    and _account_of(job.identity) == config.account_id(Environment.ACC)
                ),
            )
        )
        deployers = sorted(
            arn for arn in model.roles if arn.endswith("-deployer") and "/ndap/pipelines/" in arn
        )
        if deployers:
            deployer = deployers[0]
            controls.append(
                JobControl(
                    f"{deployer} without its PassOnlyTheProjectsExecutionRole grant",
                    without_statement(deployer, "PassOnlyTheProjectsExecutionRole"),
                    lambda job: job.identity == deployer and job.operation == "iam:PassRole",
                )
            )
        acc_builds = sorted(
            arn for arn in model.roles if arn.endswith(f"-build-{Environment.ACC.value}")
        )
        if acc_builds:
            acc_build = acc_builds[0]
            controls.append(
                JobControl(
                    f"{acc_build} given sagemaker:CreateModelPackage and UpdateModelPackage back "
                    "(as before #21, finding 3)",
                    with_statement(
                        acc_build,
                        {
                            "Sid": "RegisterReleases",
                            "Effect": "Allow",
                            "Action": [
                                "sagemaker:CreateModelPackage",
                                "sagemaker:UpdateModelPackage",
                            ],
                            "Resource": "*",
                        },
                    ),
                    lambda job: (
                        job.identity == acc_build
                        and job.operation.startswith("sagemaker:")
                        and not job.expected
                    ),
                )
            )
    controls += _feature_publisher_controls(model)
    if config.security_accounts is not None:
        controls.append(
            JobControl(
                "a guardrail on the security unit denying kms:DescribeKey (the organization "
                "trail could not read the archive key's ARN)",
                with_scp_statement(
                    ou_level(SECURITY_UNIT),
                    {
                        "Sid": "NoKeyReads",
                        "Effect": "Deny",
                        "Action": "kms:DescribeKey",
                        "Resource": "*",
                    },
                ),
                lambda job: (
                    job.job.startswith(ORGANIZATION_TRAIL_STACK)
                    and job.operation == "kms:DescribeKey"
                ),
            )
        )
    return controls


def _feature_publisher_controls(model: PlatformModel) -> list[JobControl]:
    """A feature publisher without its create grant, or given every SageMaker power."""
    publishers = sorted(arn for arn in model.roles if arn.endswith("-features-publisher"))
    if not publishers:
        return []
    publisher = publishers[0]
    return [
        JobControl(
            f"{publisher} without its CreateTheTeamsFeatureGroupVersionsHere grant",
            without_statement(publisher, "CreateTheTeamsFeatureGroupVersionsHere"),
            lambda job: (
                job.identity == publisher
                and job.operation == "sagemaker:CreateFeatureGroup"
                and job.expected
            ),
        ),
        JobControl(
            f"{publisher} given sagemaker:* (models, endpoints, every feature group)",
            with_statement(
                publisher,
                {"Sid": "Everything", "Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
            ),
            lambda job: (
                job.identity == publisher
                and job.operation.startswith("sagemaker:")
                and not job.expected
            ),
        ),
    ]


def with_statement(
    role_arn: str, statement: dict[str, object]
) -> Callable[[PlatformModel], PlatformModel]:
    """A grant given: ``statement`` added to the role's first identity policy."""

    def mutate(model: PlatformModel) -> PlatformModel:
        role = model.roles[role_arn]
        first, *rest = role.identity_policies
        grown = NamedPolicy(
            first.name,
            {**first.document, "Statement": [*first.document["Statement"], statement]},
        )
        return model.with_roles({role_arn: replace(role, identity_policies=(grown, *rest))})

    return mutate
