"""Replica and data integrity (#21, finding 4): the data stores' bucket and key policies
refuse configuration changes to every persona on their own (with no SCP at all), nonprod
reaches nothing in dev, each environment's builds write only their own log group, and
nothing built or run for acc or prd reads dev's data bucket. Each with a negative control
that must flip."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from ndap_infra.config.enums import Environment, Persona
from ndap_infra.evaluator import NamedPolicy, Request, Resource, evaluate
from ndap_infra.guardrails import access
from ndap_infra.iam.resource_policies import bucket_arn
from ndap_infra.names.access import dataset_bucket_name
from ndap_infra.names.platform import bucket_name
from ndap_infra.proofs.access_model import PlatformModel
from ndap_infra.proofs.jobs import decide_job, prove_jobs
from ndap_infra.proofs.principals import base_context, reachable_principals

STORE_CHANGES = (
    "s3:DeleteBucket",
    "s3:PutBucketAcl",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
)
KEY_CHANGES = ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:UpdateAlias", "kms:DeleteAlias")
PEOPLE = tuple(p for p in Persona if p is not Persona.DEPLOYER)


def _without_scps(model: PlatformModel) -> PlatformModel:
    """No SCP anywhere: what the resource policies hold on their own."""
    return replace(model, organization=replace(model.organization, scps={}))


def _without_statement(policy: NamedPolicy | None, sid: str) -> NamedPolicy | None:
    if policy is None:
        return None
    statements = [s for s in policy.document["Statement"] if s.get("Sid") != sid]
    return NamedPolicy(policy.name, {**policy.document, "Statement": statements})


def _stores(model: PlatformModel) -> list[tuple[Environment, str]]:
    config = model.config
    org = config.organization.name
    stores = []
    for env in config.enabled_environments():
        account = config.account_id(env)
        for name in (
            dataset_bucket_name(org, env, account),
            bucket_name(org, env, "data", account),
        ):
            if name in model.buckets:
                stores.append((env, name))
    return stores


def _people(model: PlatformModel) -> list[tuple[Persona, str, Any]]:
    return [
        (persona, chain, principal)
        for persona in PEOPLE
        for chain, principal in reachable_principals(model, persona)
    ]


def _store_changes_allowed(model: PlatformModel) -> list[str]:
    context = base_context(model.config)
    allowed = []
    for _, name in _stores(model):
        account, policy = model.buckets[name]
        resource = Resource(bucket_arn(name), account, "s3", policy)
        for persona, chain, principal in _people(model):
            for action in STORE_CHANGES:
                if evaluate(
                    Request(principal, action, resource, context), model.organization
                ).allowed:
                    allowed.append(f"{persona.value} ({chain}): {action} on {name}")
    return allowed


def _key_changes_allowed(model: PlatformModel) -> list[str]:
    context = base_context(model.config)
    allowed = []
    for (stack, path), (account, arn, policy) in model.keys.items():
        if not stack.startswith("env-") or path not in ("data-key/key", "data-access/key/key"):
            continue
        resource = Resource(arn, account, "kms", policy, resource_policy_required=True)
        for persona, chain, principal in _people(model):
            for action in KEY_CHANGES:
                if evaluate(
                    Request(principal, action, resource, context), model.organization
                ).allowed:
                    allowed.append(f"{persona.value} ({chain}): {action} on {stack}/{path}")
    return allowed


def test_the_store_policies_alone_refuse_every_persona_its_configuration(
    reference_proof: Any,
) -> None:
    """Every data store (the datasets buckets: prd's source, acc's copy, dev's replica;
    each environment's data bucket): no principal any person reaches may delete it or
    change its lifecycle, replication, ACLs, ownership or policy, even with no SCP at all
    (the bucket policy's OnlyThePlatformConfiguresTheStore)."""
    model = reference_proof.model
    assert len(_stores(model)) == 7
    assert _store_changes_allowed(model) == []
    assert _store_changes_allowed(_without_scps(model)) == []


def test_without_the_bucket_policy_statement_break_glass_reconfigures_the_replica(
    reference_proof: Any,
) -> None:
    """Negative control: no SCP and the buckets' statement removed: break-glass (an
    administrator in every environment) changes every store's lifecycle again."""
    model = _without_scps(reference_proof.model)
    buckets = {
        name: (account, _without_statement(policy, "OnlyThePlatformConfiguresTheStore"))
        for name, (account, policy) in model.buckets.items()
    }
    allowed = _store_changes_allowed(replace(model, buckets=buckets))
    replica = dataset_bucket_name(
        model.config.organization.name,
        Environment.DEV,
        model.config.account_id(Environment.DEV),
    )
    assert any(
        a.startswith("break-glass") and "s3:PutLifecycleConfiguration" in a and replica in a
        for a in allowed
    )
    assert {name for _, name in _stores(model)} == {
        name for name in buckets if any(a.endswith(f" on {name}") for a in allowed)
    }


def test_the_key_policies_alone_refuse_every_persona_key_and_alias_changes(
    reference_proof: Any,
) -> None:
    model = reference_proof.model
    assert _key_changes_allowed(_without_scps(model)) == []
    keys = {
        slot: (account, arn, _without_statement(policy, "OnlyThePlatformConfiguresTheKey"))
        for slot, (account, arn, policy) in model.keys.items()
    }
    allowed = _key_changes_allowed(replace(_without_scps(model), keys=keys))  # type: ignore[arg-type]
    assert any("kms:UpdateAlias on env-dev/data-access/key/key" in a for a in allowed)


def test_the_access_proof_credits_the_store_policies_beside_the_scp(reference_proof: Any) -> None:
    """The access proof's attacks on the dev replica (delete, lifecycle, alias): on main
    the protect-baseline SCP alone held them; now the bucket and key policies' statements
    hold each alone too (the alias change is authorized on the key as well)."""
    attacks = [c for c in reference_proof.controls if "dev replica" in c.attack.name]
    assert len(attacks) == 3
    for control in attacks:
        assert control.denied_with_all_layers and control.flips_without_all
        assert not control.sole_layers
        assert (
            "each of these alone stops it: bucket and key policy denials, SCP protect-baseline"
            in (control.render())
        )


# ---- nonprod reaches nothing in dev --------------------------------------------------------


def _helper_bucket(model: PlatformModel) -> Resource:
    """A bucket a data scientist creates in dev, with a copy of the replica's data, shared
    with nonprod by its bucket policy."""
    dev = model.config.account_id(Environment.DEV)
    nonprod = model.config.account_id(Environment.NONPROD)
    policy = NamedPolicy(
        "hypothetical/helper-bucket-policy.json",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "SharedWithNonprod",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{nonprod}:root"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::helper/*",
                }
            ],
        },
    )
    return Resource("arn:aws:s3:::helper/copy/part-0.parquet", dev, "s3", policy)


def _nonprod_reads(model: PlatformModel) -> list[str]:
    nonprod = model.config.account_id(Environment.NONPROD)
    resource = _helper_bucket(model)
    context = base_context(model.config)
    reads = []
    for persona, chain, principal in _people(model):
        if f":{nonprod}:" not in principal.arn:
            continue
        request = Request(principal, "s3:GetObject", resource, context)
        if evaluate(request, model.organization).allowed:
            reads.append(f"{persona.value} ({chain})")
    return reads


def _nonprod_principals(model: PlatformModel) -> int:
    nonprod = model.config.account_id(Environment.NONPROD)
    return sum(f":{nonprod}:" in p.arn for _, _, p in _people(model))


def _old_guardrails(model: PlatformModel) -> PlatformModel:
    """The guardrails before the fix: nonprod's SCP denied acc, prd and the dev replica
    only, and dev's resources had no RCP of their own."""
    config = model.config
    org = config.organization.name
    protected = [config.account_id(e) for e in (Environment.ACC, Environment.PRD)]
    replica = bucket_arn(
        dataset_bucket_name(org, Environment.DEV, config.account_id(Environment.DEV))
    )
    old = access.deny_lower_environments_reaching_protected(
        protected, None, [replica, f"{replica}/*"], config.tooling_account_id
    )
    document = json.loads(old.to_json())
    organization = model.organization
    scps = {
        level: tuple(
            NamedPolicy(p.name, document) if p.name.endswith("nonprod-has-no-production-data.json")
            else p
            for p in policies
        )
        for level, policies in organization.scps.items()
    }  # fmt: skip
    rcps = {
        level: tuple(p for p in policies if not p.name.endswith("dev-refuses-nonprod.json"))
        for level, policies in organization.rcps.items()
    }
    return replace(model, organization=replace(organization, scps=scps, rcps=rcps))


def test_nonprod_cannot_read_what_a_data_scientist_shares_from_dev(reference_proof: Any) -> None:
    model = reference_proof.model
    assert _nonprod_principals(model) > 0
    assert _nonprod_reads(model) == []


def test_with_the_old_guardrails_nonprod_reads_a_copy_shared_from_dev(
    reference_proof: Any,
) -> None:
    """Negative control: the nonprod SCP as it was and no dev RCP: a nonprod principal
    reads the copy (the replica bucket alone was guarded)."""
    assert _nonprod_reads(_old_guardrails(reference_proof.model)) != []


@pytest.mark.parametrize("layer", ["scp", "rcp"])
def test_each_of_the_two_nonprod_guardrails_holds_alone(reference_proof: Any, layer: str) -> None:
    """The nonprod SCP (principal side) and dev's RCP (resource side) each refuse the read
    on their own."""
    model = reference_proof.model
    organization = model.organization
    if layer == "scp":
        organization = replace(
            organization,
            rcps={
                level: tuple(p for p in ps if not p.name.endswith("dev-refuses-nonprod.json"))
                for level, ps in organization.rcps.items()
            },
        )
    else:
        organization = replace(
            organization,
            scps={
                level: tuple(
                    p for p in ps if not p.name.endswith("nonprod-has-no-production-data.json")
                )
                for level, ps in organization.scps.items()
            },
        )
    assert _nonprod_reads(replace(model, organization=organization)) == []


# ---- build logs and untrusted inputs (jobs-table denial rows) ------------------------------


def test_no_build_writes_a_higher_environments_log_group(reference_proof: Any) -> None:
    rows = [
        r
        for r in reference_proof.jobs
        if not r.job.expected and r.job.operation == "logs:PutLogEvents"
    ]
    projects = len(reference_proof.model.config.ml_projects)
    assert len(rows) == 3 * projects  # dev -> acc, dev -> prd, acc -> prd
    assert all(r.ok and not r.allowed for r in rows)
    dev_rows = [r for r in rows if r.job.identity.endswith("-build-dev")]
    assert {
        r.job.resource.split("log-group:")[1].split(":")[0].rsplit("-", 1)[1] for r in dev_rows
    } == {
        "acc",
        "prd",
    }


def test_a_shared_log_group_lets_dev_forge_the_approvers_log(reference_proof: Any) -> None:
    """Negative control: the dev build role's log grant widened to every project build log
    group (the one shared group as before): dev may write acc's and prd's log."""
    model = reference_proof.model
    rows = [
        r.job
        for r in reference_proof.jobs
        if not r.job.expected
        and r.job.operation == "logs:PutLogEvents"
        and r.job.identity.endswith("-build-dev")
    ]
    roles = {}
    for arn in {job.identity for job in rows}:
        role = model.roles[arn]
        policies = []
        for p in role.identity_policies:
            statements = [
                {**s, "Resource": s["Resource"].rsplit("-dev:", 1)[0].rsplit("/", 1)[0] + "/*"}
                if s.get("Sid") == "WriteBuildLogs"
                else s
                for s in p.document["Statement"]
            ]
            policies.append(NamedPolicy(p.name, {**p.document, "Statement": statements}))
        roles[arn] = replace(role, identity_policies=tuple(policies))
    widened = model.with_roles(roles)
    assert rows and all(decide_job(widened, job).allowed for job in rows)


def test_nothing_built_or_run_for_acc_or_prd_reads_devs_data_bucket(reference_proof: Any) -> None:
    rows = [r for r in reference_proof.jobs if r.job.job == "dev's data bucket: untrusted input"]
    projects = len(reference_proof.model.config.ml_projects)
    # acc and prd build roles, acc's register role, acc and prd deployers and execution roles
    assert len(rows) == 7 * projects
    assert all(not r.job.expected and not r.allowed for r in rows)


def test_a_dev_bucket_grant_to_the_acc_build_flips_the_untrusted_input_row(
    reference_proof: Any,
) -> None:
    """Negative control: dev's data bucket shared with the tooling account and the acc
    build role granted the read: the row turns allowed (wrong)."""
    model = reference_proof.model
    config = model.config
    dev = config.account_id(Environment.DEV)
    data = bucket_name(config.organization.name, Environment.DEV, "data", dev)
    account, policy = model.buckets[data]
    assert policy is not None
    grant = {
        "Sid": "SharedWithTooling",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{config.tooling_account_id}:root"},
        "Action": "s3:GetObject",
        "Resource": f"{bucket_arn(data)}/*",
    }
    shared = NamedPolicy(
        policy.name, {**policy.document, "Statement": [*policy.document["Statement"], grant]}
    )
    rows = [
        r.job
        for r in reference_proof.jobs
        if r.job.job == "dev's data bucket: untrusted input"
        and r.job.identity.endswith("-build-acc")
    ]
    roles = {}
    for arn in {job.identity for job in rows}:
        role = model.roles[arn]
        first, *rest = role.identity_policies
        read = {"Sid": "ReadDev", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        grown = NamedPolicy(
            first.name, {**first.document, "Statement": [*first.document["Statement"], read]}
        )
        roles[arn] = replace(role, identity_policies=(grown, *rest))
    mutated = replace(model.with_roles(roles), buckets={**model.buckets, data: (account, shared)})
    results = prove_jobs(mutated, rows)
    assert results and all(r.allowed and not r.ok for r in results)
