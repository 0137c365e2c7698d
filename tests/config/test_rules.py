"""Every configuration rule, with a configuration that passes it and one that fails it.

Each case edits the reference example. A failing case names the field path the issue is
reported at and the line a person sees there (``path: message (got value)``), and checks
that the rule itself reports it. The meta-test refuses a rule registered without cases.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from ruamel.yaml import YAML

from ndap_infra.config.load import validate_data
from ndap_infra.config.model import NdapConfig
from ndap_infra.config.rules import RULES
from tests.helpers import REFERENCE

Data = dict[str, Any]
Edit = Callable[[Data], None]


_LZ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
}


_ANA = {
    "user_name": "ana.lima",
    "given_name": "Ana",
    "family_name": "Lima",
    "email": "ana@acme.example",
    "personas": ["data-scientist"],
}
_ONBOARDED = {
    "instance_arn": "arn:aws:sso:::instance/ssoins-0123456789abcdef",
    "identity_store_id": "d-906712a1b2",
    "groups": {
        p: f"group-{p}"
        for p in (
            "data-scientist",
            "ml-engineer",
            "platform-engineer",
            "business-user",
            "security-auditor",
            "break-glass",
        )
    },
    "people": [_ANA],
}


@cache
def _reference() -> Data:
    data: Data = YAML(typ="safe").load(REFERENCE.read_text(encoding="utf-8"))
    return data


def _steps(dotted: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in dotted.split(".")]


def _parent(data: Data, dotted: str) -> tuple[Any, str | int]:
    *head, last = _steps(dotted)
    node: Any = data
    for step in head:
        node = node.setdefault(step, {}) if isinstance(step, str) else node[step]
    return node, last


def put(dotted: str, value: Any) -> Edit:
    """Set the value at a dotted path (list indexes as numbers; the index just past the
    end appends), creating mappings on the way."""

    def edit(data: Data) -> None:
        node, last = _parent(data, dotted)
        if isinstance(node, list) and last == len(node):
            node.append(copy.deepcopy(value))
        else:
            node[last] = copy.deepcopy(value)

    return edit


def drop(dotted: str) -> Edit:
    def edit(data: Data) -> None:
        node, last = _parent(data, dotted)
        del node[last]

    return edit


def both(*edits: Edit) -> Edit:
    def edit(data: Data) -> None:
        for step in edits:
            step(data)

    return edit


NO_TOOLING = both(drop("organization.tooling_account_id"), drop("organization.tooling_email"))
ON_AWS_WITH_STATE = put("deploy", {"target": "aws", "state": {"bucket": "acme-ml-state"}})
IDENTITY_CENTER = {
    "instance_arn": "arn:aws:sso:::instance/ssoins-0123456789abcdef",
    "groups": {
        persona: f"group-{persona}"
        for persona in (
            "data-scientist",
            "ml-engineer",
            "platform-engineer",
            "business-user",
            "security-auditor",
            "break-glass",
        )
    },
}


@dataclass(frozen=True)
class Fails:
    """A failing edit, the dotted path of the issue and what follows it on the line shown."""

    edit: Edit
    path: str
    shown: str
    label: str = ""


@dataclass(frozen=True)
class Case:
    passes: Edit
    fails: tuple[Fails, ...]


def case(passes: Edit, *fails: Fails) -> Case:
    return Case(passes, fails)


INVARIANT_2 = (
    "breaks invariant 2 (a data scientist has no access at all to acceptance or production)"
)
INVARIANT_3 = "breaks invariant 3 (non-production can never reach production data)"
INVARIANT_5 = "breaks invariant 5 (only the pipeline deploys to acceptance and production)"
INVARIANT_1 = "breaks invariant 1 (every environment gets the same security controls)"

RESEARCH = {
    "name": "research-scientist",
    "like": "data-scientist",
    "description": "Explores new model families in dev.",
    "access": {"dev": "full"},
}
ANALYST = {
    "name": "analyst",
    "like": "business-user",
    "description": "Reads reports.",
    "access": {"acc": "uat", "prd": "read-only"},
}


def custom(**fields: Any) -> Edit:
    """custom_personas: the research scientist with ``fields`` changed."""
    return put("custom_personas", [{**RESEARCH, **fields}])


CASES: dict[str, Case] = {
    # -- custom personas
    "custom_persona_names_are_new": case(
        put("custom_personas", [RESEARCH, ANALYST]),
        Fails(
            custom(name="ml-engineer", like="ml-engineer"),
            "custom_personas[0].name",
            "is the name of a built-in persona: choose another name (to change a built-in "
            "persona's cells, use personas.<name>) (got 'ml-engineer')",
            "built-in",
        ),
        Fails(
            put("custom_personas", [ANALYST, ANALYST]),
            "custom_personas[1].name",
            "is the name of another one: choose another name (to change a built-in "
            "persona's cells, use personas.<name>) (got 'analyst')",
            "twice",
        ),
    ),
    "custom_persona_is_like_a_person": case(
        put("custom_personas", [{**ANALYST, "like": "security-auditor", "access": {}}]),
        Fails(
            put("custom_personas", [{**ANALYST, "like": "break-glass", "access": {}}]),
            "custom_personas[0].like",
            "a custom persona cannot be like the deployer (the pipelines' identity) or "
            "break-glass (one emergency access): use data-scientist, ml-engineer, "
            "platform-engineer, business-user or security-auditor (got 'break-glass')",
        ),
    ),
    "data_scientist_like_names_are_distinct": case(
        put("custom_personas", [RESEARCH, {**ANALYST, "name": "research-analyst"}]),
        Fails(
            custom(name="explorer"),
            "custom_personas[0].name",
            "a data-scientist-like persona's name must contain 'scientist': the guardrails "
            "deny every role whose name contains it, in every account (got 'explorer')",
            "no scientist",
        ),
        Fails(
            put("custom_personas", [RESEARCH, {**ANALYST, "name": "research-scientist-lead"}]),
            "custom_personas[1].name",
            "contains 'research-scientist', a data-scientist-like persona's name: the "
            "guardrails would deny its roles in acc and prd; choose another "
            "(got 'research-scientist-lead')",
            "contains one",
        ),
    ),
    # -- personas
    "data_scientist_never_in_acc_or_prd": case(
        put("personas.data-scientist", {"dev": "read-only", "acc": "none", "prd": "none"}),
        Fails(
            put("personas.data-scientist.prd", "read-only"),
            "personas.data-scientist.prd",
            f"{INVARIANT_2}: set it to 'none'; production data reaches data scientists as a "
            "read-only replica in dev (data.sharing_mode) (got 'read-only')",
        ),
        Fails(
            custom(access={"dev": "full", "acc": "read-only"}),
            "custom_personas[0].access.acc",
            f"{INVARIANT_2}: set it to 'none'; production data reaches data scientists as a "
            "read-only replica in dev (data.sharing_mode) (got 'read-only')",
            "custom",
        ),
    ),
    "nonprod_is_for_engineers_only": case(
        put("personas.ml-engineer.nonprod", "read-only"),
        Fails(
            put("personas.business-user.nonprod", "uat"),
            "personas.business-user.nonprod",
            "nonprod is for ML, cloud and data engineers only (the model's environment "
            "table): set it to 'none', or give business-user access in dev (got 'uat')",
        ),
    ),
    "persona_levels_fit_the_persona": case(
        put("personas.security-auditor.dev", "read-only"),
        Fails(
            put("personas.security-auditor.dev", "full"),
            "personas.security-auditor.dev",
            "security-auditor cannot have 'full': use one of 'none', 'read-only', "
            "'security-audit' (got 'full')",
        ),
    ),
    "only_pipelines_change_acc_and_prd": case(
        put("personas.ml-engineer.prd", "read-only"),
        Fails(
            put("personas.ml-engineer.acc", "full"),
            "personas.ml-engineer.acc",
            f"{INVARIANT_5}: a person may have at most 'none', 'read-only', 'security-audit', "
            "'uat' here (got 'full')",
        ),
    ),
    # -- environments
    "production_data_follows_the_model": case(
        put("environments.dev.production_data", "none"),
        Fails(
            put("environments.nonprod.production_data", "read-only"),
            "environments.nonprod.production_data",
            f"{INVARIANT_3}: use 'none' or leave it out (got 'read-only')",
        ),
    ),
    "core_environments_exist": case(
        put("environments.nonprod.enabled", False),
        Fails(
            put("environments.acc.enabled", False),
            "environments.acc.enabled",
            "only nonprod can be switched off; dev, acc and prd always exist: remove "
            "'enabled: false' (got False)",
        ),
    ),
    "enabled_environments_have_accounts": case(
        drop("environments.dev.account_id"),
        Fails(
            both(drop("environments.nonprod.account_id"), drop("environments.nonprod.email")),
            "environments.nonprod.account_id",
            'an enabled environment needs an account: set account_id ("123456789012", '
            "quoted) to adopt an existing one, or environments.nonprod.email (a root e-mail "
            "no other AWS account uses) for the organization stack to create it; or set "
            "enabled: false",
        ),
    ),
    "adopted_accounts_are_placed": case(
        # created (e-mail alone) or adopted with the e-mail: placed either way
        drop("environments.dev.account_id"),
        Fails(
            drop("environments.dev.email"),
            "environments.dev.email",
            "an adopted account needs its root e-mail too: the organization stack imports "
            "the account by id and moves it into its dev unit, and without the e-mail it "
            "would stay where it is, outside the unit, so none of that unit's guardrails "
            "(SCPs and RCPs) would apply to it: set environments.dev.email",
        ),
        Fails(
            drop("organization.tooling_email"),
            "organization.tooling_email",
            "an adopted account needs its root e-mail too: the organization stack imports "
            "the account by id and moves it into its tooling unit, and without the e-mail it "
            "would stay where it is, outside the unit, so none of that unit's guardrails "
            "(SCPs and RCPs) would apply to it: set organization.tooling_email",
            "tooling",
        ),
    ),
    "no_per_environment_security_controls": case(
        put("organization.allowed_regions", ["eu-west-1", "eu-central-1", "eu-north-1"]),
        Fails(
            put("environments.dev.allowed_regions", ["eu-west-1"]),
            "environments.dev.allowed_regions",
            f"{INVARIANT_1}: a region set that differs between environments breaks parity: "
            "remove it and use organization.allowed_regions",
        ),
        Fails(
            put("environments.prd.security_baseline", {"log_retention_days": 30}),
            "environments.prd.security_baseline",
            f"{INVARIANT_1}: remove it and set the control once in the top-level "
            "security_baseline, for every environment",
            "baseline",
        ),
    ),
    # -- organization
    "account_emails_are_unique": case(
        # a switched-off environment's e-mail belongs to no account
        both(
            put("environments.nonprod.enabled", False),
            put("environments.nonprod.email", "aws-ml-dev@acme.example"),
        ),
        Fails(
            put("environments.prd.email", "AWS-ML-DEV@acme.example"),
            "environments.prd.email",
            "e-mail is also used by environments.dev.email: every AWS account needs its own "
            "root e-mail (an alias such as name+dev@domain works) (got 'aws-ml-dev@acme.example')",
        ),
    ),
    "account_ids_are_unique": case(
        put("identity.identity_account_id", "100000000001"),
        Fails(
            put("environments.acc.account_id", "100000000001"),
            "environments.acc.account_id",
            "account id is also used by organization.management_account_id: every "
            "environment needs its own account, separate from the management account "
            "(got '100000000001')",
        ),
        Fails(
            put("identity.identity_account_id", "300000000003"),
            "identity.identity_account_id",
            "the identity account must not be an environment account (a principal there "
            "could reach every environment): use the management or a dedicated identity "
            "account (got '300000000003')",
            "identity",
        ),
    ),
    "home_region_is_allowed": case(
        put("organization.home_region", "eu-central-1"),
        Fails(
            put("organization.home_region", "us-east-1"),
            "organization.home_region",
            "must be one of allowed_regions (eu-west-1, eu-central-1): add it there or pick "
            "one of them (got 'us-east-1')",
        ),
        Fails(
            put("organization.allowed_regions", ["eu-west-1", "eu-central-1", "eu-west-1"]),
            "organization.allowed_regions",
            "lists a region twice: remove the copy (got 'eu-west-1')",
            "twice",
        ),
    ),
    "company_guardrails_are_well_formed": case(
        put(
            "organization.company_guardrails",
            [{"sid": "DenyBilling", "actions": ["aws-portal:*"], "units": ["tooling"]}],
        ),
        Fails(
            put(
                "organization.company_guardrails",
                [
                    {"sid": "DenyBilling", "actions": ["aws-portal:*"]},
                    {"sid": "DenyBilling", "actions": ["ec2:PurchaseReservedInstancesOffering"]},
                ],
            ),
            "organization.company_guardrails[1].sid",
            "Sid is also used by organization.company_guardrails[0]: every statement needs "
            "its own (got 'DenyBilling')",
            "sid",
        ),
        Fails(
            both(
                NO_TOOLING,
                put(
                    "organization.company_guardrails",
                    [{"sid": "DenyBilling", "actions": ["aws-portal:*"], "units": ["tooling"]}],
                ),
            ),
            "organization.company_guardrails[0].units",
            "the platform creates no tooling unit with this configuration (units: acc, dev, "
            "nonprod, prd, security) (got 'tooling')",
            "units",
        ),
    ),
    "inherited_guardrails_are_named_once": case(
        put("organization.inherited_guardrails", [{"name": "lz-a", "document": _LZ}]),
        Fails(
            put(
                "organization.inherited_guardrails",
                [{"name": "lz-a", "document": _LZ}, {"name": "lz-a", "document": _LZ}],
            ),
            "organization.inherited_guardrails[1].name",
            "also the name of organization.inherited_guardrails[0]: list each policy attached "
            "above the platform's units once (got 'lz-a')",
            "name",
        ),
    ),
    "parent_unit_is_in_an_existing_organization": case(
        put("organization.parent_ou_id", "ou-ab12-cd34ef56"),
        Fails(
            both(
                put("organization.parent_ou_id", "ou-ab12-cd34ef56"),
                put("organization.create_organization", True),
            ),
            "organization.parent_ou_id",
            "create_organization: true makes a new organization, which has no existing unit "
            "to nest under: drop parent_ou_id, or set create_organization: false (got "
            "'ou-ab12-cd34ef56')",
        ),
    ),
    "tooling_account_is_separate": case(
        put("organization.tooling_account_id", "710000000007"),
        Fails(
            put("organization.tooling_account_id", "300000000003"),
            "organization.tooling_account_id",
            "is also environments.dev.account_id: the delivery account must be an account "
            "of its own (its pipelines deploy to every environment, and data scientists "
            "must not be able to reach it): give it a dedicated 12-digit account id "
            "(got '300000000003')",
        ),
    ),
    "security_accounts_are_separate": case(
        put("organization.security_accounts.log_archive.account_id", "710000000007"),
        Fails(
            put("organization.security_accounts.log_archive.account_id", "600000000006"),
            "organization.security_accounts.log_archive.account_id",
            "is also organization.tooling_account_id: the log-archive account must be an "
            "account of its own (the evidence and the detectors of every account may not be "
            "in the hands of an account they watch): give it a dedicated 12-digit account id "
            "(got '600000000006')",
        ),
    ),
    # -- identity
    "identity_center_is_configured": case(
        put("identity", {"source": "identity-center", "identity_center": IDENTITY_CENTER}),
        Fails(
            put("identity.source", "identity-center"),
            "identity.identity_center",
            "source 'identity-center' needs the Identity Center instance_arn and a group per "
            "persona: add identity_center",
        ),
        Fails(
            both(
                put("identity", {"source": "both", "identity_center": IDENTITY_CENTER}),
                drop("identity.identity_center.groups.business-user"),
            ),
            "identity.identity_center.groups.business-user",
            "business-user has access in some environment: add its Identity Center group id",
            "group",
        ),
        Fails(
            put("identity.identity_center", IDENTITY_CENTER),
            "identity.identity_center",
            "is not used with source 'iam-roles': remove it or set source to "
            "'identity-center' or 'both'",
            "unused",
        ),
    ),
    "people_are_onboarded_safely": case(
        put("identity", {"source": "identity-center", "identity_center": _ONBOARDED}),
        Fails(
            put(
                "identity",
                {
                    "source": "identity-center",
                    "identity_center": {
                        **_ONBOARDED,
                        "people": [{**_ANA, "personas": ["data-scientist", "ml-engineer"]}],
                    },
                },
            ),
            "identity.identity_center.people[0].personas",
            "ana.lima would be data-scientist and ml-engineer, which reaches acc or prd: a data "
            "scientist gets no access to acc and prd, also through a second persona; onboard "
            "them as one or the other",
        ),
    ),
    # -- data
    "dataset_names_are_unique": case(
        put("data.datasets.1.name", "customers-eu"),
        Fails(
            put("data.datasets.1.name", "transactions"),
            "data.datasets[1].name",
            "dataset names must be unique: rename or remove the copy (got 'transactions')",
        ),
    ),
    "integration_subset_is_valid": case(
        put("data.integration_subset", {"schedule": "cron(0 4 * * ? *)"}),
        Fails(
            put("data.datasets.1.name", "integration-subset"),
            "data.datasets[1].name",
            "'integration-subset' is where the sampling job writes the subset of the "
            "datasets: rename the dataset (got 'integration-subset')",
        ),
        Fails(
            put("data.integration_subset", {"schedule": "daily"}),
            "data.integration_subset.schedule",
            "is not an EventBridge schedule: is neither 'cron(...)' nor 'rate(N unit)': e.g. "
            "'cron(0 3 ? * MON *)' or 'rate(7 days)' (got 'daily')",
            "schedule",
        ),
    ),
    # -- ml_projects
    "project_names_are_unique": case(
        put("ml_projects.2.name", "demand-planning"),
        Fails(
            put("ml_projects.2.name", "churn-prediction"),
            "ml_projects[2].name",
            "is already used by ml_projects[0]: project names must be unique (they name "
            "pipelines, roles and buckets) (got 'churn-prediction')",
        ),
    ),
    "retraining_settings_fit_the_strategy": case(
        put("ml_projects.2.retraining", {"strategy": "periodic", "schedule": "rate(1 day)"}),
        Fails(
            put("ml_projects.0.retraining.schedule", "every monday"),
            "ml_projects[0].retraining.schedule",
            "is not an EventBridge schedule: is neither 'cron(...)' nor 'rate(N unit)': e.g. "
            "'cron(0 3 ? * MON *)' or 'rate(7 days)' (got 'every monday')",
        ),
        Fails(
            drop("ml_projects.0.retraining.schedule"),
            "ml_projects[0].retraining.schedule",
            "periodic retraining needs a schedule: e.g. 'cron(0 3 ? * MON *)' or 'rate(7 days)'",
            "no-schedule",
        ),
        Fails(
            drop("ml_projects.1.retraining.threshold"),
            "ml_projects[1].retraining.threshold",
            "drift-triggered retraining needs a threshold: add it",
            "drift",
        ),
        Fails(
            put("ml_projects.2.retraining.acceptance_schedule", "rate(7 days)"),
            "ml_projects[2].retraining.acceptance_schedule",
            "is used only with acceptance: periodic-from-scratch (this project's is "
            "'if-model-changed'): remove it or change acceptance (got 'rate(7 days)')",
            "acceptance",
        ),
        Fails(
            put("ml_projects.2.retraining.metric", "feature_drift_score"),
            "ml_projects[2].retraining.metric",
            "is not used by the 'ad-hoc' strategy: remove it or change the strategy "
            "(got 'feature_drift_score')",
            "unused",
        ),
    ),
    "pipelines_follow_the_git_flow": case(
        put("ml_projects.2.pipeline", {"develop_branch": "dev", "main_branch": "trunk"}),
        Fails(
            put("ml_projects.2.pipeline", {"prd_approval": False}),
            "ml_projects[2].pipeline.prd_approval",
            f"{INVARIANT_5}: a deployment to prd always waits for a manual approval; remove "
            "'prd_approval: false' (got False)",
        ),
        Fails(
            put("ml_projects.2.pipeline", {"main_branch": "develop"}),
            "ml_projects[2].pipeline.main_branch",
            "must differ from develop_branch: develop deploys to dev, main to prd (got 'develop')",
            "branches",
        ),
        Fails(
            put("ml_projects.0.pipeline", {"digest_check": False}),
            "ml_projects[0].pipeline.digest_check",
            "reusing acc's artifacts in prd needs the digest check (prd must deploy exactly "
            "what acc verified): set digest_check: true or retraining.production: retrain "
            "(got False)",
            "digest",
        ),
        Fails(
            put("ml_projects.2.pipeline", {"main_branch": "v1", "release_tag_pattern": "v*"}),
            "ml_projects[2].pipeline.release_tag_pattern",
            "also matches the branch name 'v1': tag and branch triggers would overlap; use a "
            "pattern such as 'v*' (got 'v*')",
            "tag",
        ),
    ),
    "branch_and_tag_filters_are_usable": case(
        put("ml_projects.2.pipeline", {"release_tag_pattern": "release/v*"}),
        Fails(
            put("ml_projects.2.pipeline", {"release_tag_pattern": "*"}),
            "ml_projects[2].pipeline.release_tag_pattern",
            "matches every tag: any tag anyone pushes would release to acc and prd; use a "
            "prefix such as 'v*' (got '*')",
        ),
        Fails(
            put("ml_projects.2.pipeline", {"release_tag_pattern": "v..*"}),
            "ml_projects[2].pipeline.release_tag_pattern",
            "is not a valid git ref name (no spaces or control characters, '..', '@{', '~', "
            "'^', ':', '\\', a leading '-', '.' or '/', a trailing '/', '.' or '.lock', a "
            "component starting with '.', '//'); as a tag pattern: use e.g. 'v*' (got 'v..*')",
            "tag",
        ),
        Fails(
            put("ml_projects.2.pipeline", {"develop_branch": "feature/*"}),
            "ml_projects[2].pipeline.develop_branch",
            "is a branch name, not a pattern: remove '*', '?' and '[' (a pattern would let "
            "other branches trigger the pipeline): use e.g. 'develop' (got 'feature/*')",
            "glob",
        ),
        Fails(
            put("ml_projects.2.pipeline", {"main_branch": "main line"}),
            "ml_projects[2].pipeline.main_branch",
            "is not a valid git ref name (no spaces or control characters, '..', '@{', '~', "
            "'^', ':', '\\', a leading '-', '.' or '/', a trailing '/', '.' or '.lock', a "
            "component starting with '.', '//'): use e.g. 'develop' (got 'main line')",
            "branch",
        ),
    ),
    "project_names_do_not_nest": case(
        put("ml_projects.2.name", "fraud-scoringv2"),
        Fails(
            put("ml_projects.2.name", "fraud-scoring-v2"),
            "ml_projects[2].name",
            "starts with 'fraud-scoring-', the name of another project followed by '-': the "
            "deployer role of 'fraud-scoring' may act on 'fraud-scoring-*' resources and "
            "would reach this project's; rename one of them (got 'fraud-scoring-v2')",
        ),
    ),
    "pipeline_artifacts_do_not_collide": case(
        # without a tooling account there are no project pipelines
        both(
            put("ml_projects.1.name", "customer-lifetime-value"),
            put("ml_projects.2.name", "customer-lifetime-value2"),
            NO_TOOLING,
            drop("drift_detection"),
            drop("platform_pipeline"),
        ),
        Fails(
            both(
                put("ml_projects.1.name", "customer-lifetime-value"),
                put("ml_projects.2.name", "customer-lifetime-value2"),
            ),
            "ml_projects[2].name",
            "pipeline 'customer-lifetime-value2-dev' would share its artifact prefix "
            "'customer-lifetime-va' with 'customer-lifetime-value-dev' (CodePipeline keeps "
            "artifacts under the first 20 characters of a pipeline's name): use a name of at "
            "most 16 characters, or one that differs from the other project's in its first "
            "16 (got 'customer-lifetime-value2')",
        ),
    ),
    "project_names_stay_clear_of_the_guardrails": case(
        put("ml_projects.2.name", "data-science"),
        Fails(
            put("ml_projects.2.name", "data-scientist"),
            "ml_projects[2].name",
            "contains 'data-scientist': the project's pipeline roles would match the "
            "guardrails that refuse data-scientist principals in acc and prd; rename the "
            "project (got 'data-scientist')",
        ),
    ),
    "prediction_schedule_fits_the_kind": case(
        put("ml_projects.0.prediction_schedule", "cron(0 5 * * ? *)"),
        Fails(
            put("ml_projects.1.prediction_schedule", "cron(0 5 * * ? *)"),
            "ml_projects[1].prediction_schedule",
            "only batch projects run on a schedule ('realtime' serves an endpoint): remove "
            "it or set kind: batch (got 'cron(0 5 * * ? *)')",
        ),
        Fails(
            put("ml_projects.0.prediction_schedule", "hourly"),
            "ml_projects[0].prediction_schedule",
            "is not an EventBridge schedule: is neither 'cron(...)' nor 'rate(N unit)': e.g. "
            "'cron(0 3 ? * MON *)' or 'rate(7 days)' (got 'hourly')",
            "schedule",
        ),
    ),
    "production_retraining_has_one_source": case(
        put("ml_projects.0.pipeline", {"reuse_acc_artifacts": True}),
        Fails(
            put("ml_projects.1.pipeline", {"reuse_acc_artifacts": True}),
            "ml_projects[1].pipeline.reuse_acc_artifacts",
            "contradicts retraining.production: 'retrain': remove pipeline.reuse_acc_artifacts "
            "(retraining.production is the one setting) (got True)",
        ),
    ),
    "path_rules_are_unambiguous": case(
        put(
            "ml_projects.0.paths",
            {
                "training": ["src/**", "!src/**/test_*.py"],
                "tests": ["tests/**", "src/**/test_*.py"],
                "docs": ["docs/**", "README.md"],
                "shared": [{"pattern": "lib/common.py", "kinds": ["training", "serving"]}],
            },
        ),
        Fails(
            put("ml_projects.0.paths", {"training": ["src/**"], "docs": ["src/**"]}),
            "ml_projects[0].paths.docs[0]",
            "is also a 'training' path rule (paths.training[0]): a path matching it would "
            "count as both training and docs; keep it under one kind, or list it under "
            "'shared' with both kinds if it serves both (got 'src/**')",
        ),
        Fails(
            put("ml_projects.0.paths", {"training": ["x/utils.py"], "serving": ["x/util[s].py"]}),
            "ml_projects[0].paths.serving[0]",
            "is the same rule as 'x/utils.py', a 'training' path rule (paths.training[0]): a "
            "path matching it would count as both training and serving; keep it under one "
            "kind, or list it under 'shared' with both kinds if it serves both "
            "(got 'x/util[s].py')",
            "equivalent",
        ),
        Fails(
            put("ml_projects.0.paths", {"training": ["src/**", "!tests/**"]}),
            "ml_projects[0].paths.training[1]",
            "excludes nothing: no other 'training' pattern matches a path it matches; an "
            "exclusion carves paths out of its own kind's patterns (got '!tests/**')",
            "exclusion",
        ),
        Fails(
            put("ml_projects.0.paths", {"docs": ["/docs/**"]}),
            "ml_projects[0].paths.docs[0]",
            "cannot be matched as git does: '/docs/**': patterns are relative to the "
            "repository root (got '/docs/**')",
            "glob",
        ),
    ),
    # -- feature_groups
    "feature_groups_are_well_formed": case(
        put(
            "feature_groups.0.versions.2",
            {"version": 3, "features": {"spend_90d": "Fractional"}, "promoted_to": "dev"},
        ),
        Fails(
            put("feature_groups.0.versions.1.version", 1),
            "feature_groups[0].versions[1].version",
            "is already declared by versions[0]: give each version of the definitions its "
            "own number (got 1)",
        ),
        Fails(
            put("feature_groups.0.versions.1.promoted_to", "nonprod"),
            "feature_groups[0].versions[1].promoted_to",
            "feature definitions are promoted dev > acc > prd: use dev, acc or prd (got 'nonprod')",
            "promoted",
        ),
        Fails(
            put("feature_groups.0.event_time", "customer_id"),
            "feature_groups[0].event_time",
            "must differ from record_identifier: a feature group needs both (got 'customer_id')",
            "event-time",
        ),
        Fails(
            put("feature_groups.0.versions.0.features.customer_id", "String"),
            "feature_groups[0].versions[0].features.customer_id",
            "is the group's record_identifier or event_time, which every version has "
            "already: remove it from features",
            "reserved",
        ),
        Fails(
            put("feature_groups.1", {**_reference()["feature_groups"][0], "team": "risk"}),
            "feature_groups[1].name",
            "is already used by feature_groups[0]: feature group names must be unique "
            "(got 'customer-spend')",
            "name",
        ),
    ),
    "projects_use_declared_features": case(
        put("ml_projects.2.uses_features", [{"group": "customer-spend", "version": 1}]),
        Fails(
            put("ml_projects.0.uses_features.0.version", 3),
            "ml_projects[0].uses_features[0].version",
            "feature group 'customer-spend' has no version 3 (declared: 1, 2): add it to the "
            "group's versions or use a declared one (got 3)",
        ),
        Fails(
            put("ml_projects.0.uses_features.0.group", "customer-churn"),
            "ml_projects[0].uses_features[0].group",
            "is not a declared feature group (feature_groups: customer-spend, "
            "transaction-risk): declare it under feature_groups or fix the name (got "
            "'customer-churn')",
            "group",
        ),
        Fails(
            put("ml_projects.1.uses_features.1", {"group": "customer-spend", "version": 1}),
            "ml_projects[1].uses_features[1]",
            "is listed twice: remove the copy",
            "twice",
        ),
    ),
    # -- feature_pipelines
    "feature_pipelines_are_well_formed": case(
        put("feature_pipelines.0.pipeline.develop_branch", "integration"),
        Fails(
            put("feature_pipelines.0.team", "supply"),
            "feature_pipelines[0].team",
            "owns no feature group (feature_groups[].team: growth, risk): its pipeline would "
            "create nothing (got 'supply')",
            "no group",
        ),
        Fails(
            put("feature_pipelines.1", {"team": "growth", "repository": "acme/more-features"}),
            "feature_pipelines[1].team",
            "already has feature_pipelines[0]: one pipeline per team (got 'growth')",
            "twice",
        ),
        Fails(
            put("feature_pipelines.0.pipeline.prd_approval", False),
            "feature_pipelines[0].pipeline.prd_approval",
            f"{INVARIANT_5}: publishing to prd always waits for a manual approval; remove "
            "'prd_approval: false' (got False)",
        ),
        Fails(
            put("ml_projects.2.name", "growth-features"),
            "feature_pipelines[0].team",
            "its pipelines would be named like ml_projects 'growth-features': rename one "
            "(got 'growth')",
            "named like",
        ),
        Fails(
            both(
                put("feature_groups.0.team", "growthhack"),
                put("ml_projects.0.team", "growthhack"),
                put("feature_pipelines.0.team", "growthhack"),
            ),
            "feature_pipelines[0].team",
            "pipeline 'growthhack-features-acc' would share its artifact prefix "
            "'growthhack-features-' with 'growthhack-features-dev' (CodePipeline keeps "
            "artifacts under the first 20 characters of a pipeline's name): use a team name of "
            "at most 9 characters (got 'growthhack')",
            "prefix",
        ),
    ),
    # -- deploy
    "state_backend_is_for_aws": case(
        ON_AWS_WITH_STATE,
        Fails(
            put("deploy.state", {"bucket": "acme-ml-state"}),
            "deploy.state",
            "deploy.target local keeps every stack's state on the emulator: remove "
            "deploy.state, or set deploy.target: aws",
        ),
    ),
    "drift_detection_reads_the_configured_state": case(
        both(ON_AWS_WITH_STATE, put("drift_detection.state_bucket", "acme-ml-state")),
        Fails(
            both(ON_AWS_WITH_STATE, put("drift_detection.state_bucket", "acme-ml-other")),
            "drift_detection.state_bucket",
            "the drift build would read another bucket than the stacks' state "
            "(deploy.state.bucket: 'acme-ml-state'): remove drift_detection.state_bucket (it "
            "defaults to deploy.state.bucket) or make them equal (got 'acme-ml-other')",
        ),
    ),
    # -- drift_detection
    "drift_detection_needs_a_tooling_account": case(
        both(NO_TOOLING, put("drift_detection.enabled", False), drop("platform_pipeline")),
        Fails(
            both(NO_TOOLING, drop("platform_pipeline")),
            "drift_detection",
            "scheduled drift detection runs in the tooling (delivery) account: set "
            "organization.tooling_account_id (or tooling_email, to create it), or set "
            "drift_detection.enabled: false",
        ),
    ),
    # -- platform_pipeline
    "platform_pipeline_needs_a_tooling_account": case(
        # the tooling account may be created by the organization stack
        drop("organization.tooling_account_id"),
        Fails(
            both(NO_TOOLING, drop("drift_detection")),
            "platform_pipeline",
            "the platform's own pipeline runs in the tooling (delivery) account: set "
            "organization.tooling_account_id (or tooling_email, to create it), or remove "
            "platform_pipeline",
        ),
    ),
    "platform_pipeline_needs_remote_state": case(
        ON_AWS_WITH_STATE,
        Fails(
            put("deploy.target", "aws"),
            "deploy.state",
            "the platform pipeline's builds plan and apply against the stacks' remote state: "
            "set deploy.state.bucket (the S3 state bucket, created once by hand)",
        ),
    ),
    "platform_pipeline_artifacts_are_its_own": case(
        put("organization.name", "acme-machine-learning"),
        Fails(
            both(
                put("organization.name", "acme-machine-learning"),
                put("ml_projects.2.name", "acme-machine-learning"),
            ),
            "ml_projects[2].name",
            "its dev pipeline would share the artifact prefix 'acme-machine-learnin' with "
            "the platform's own pipeline (CodePipeline uses the first 20 characters of a "
            "pipeline's name): rename the project (got 'acme-machine-learning')",
        ),
    ),
}

RULES_BY_NAME = {registered.name: registered for registered in RULES}


def edited(edit: Edit) -> Data:
    data = copy.deepcopy(_reference())
    edit(data)
    return data


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    assert sorted(RULES_BY_NAME) == sorted(CASES), "a rule without cases, or cases without a rule"
    assert len(RULES_BY_NAME) == len(RULES), "two rules share a name"
    assert [name for name, c in CASES.items() if not c.fails] == []
    for name, c in CASES.items():
        labels = [f.label for f in c.fails]
        assert len(set(labels)) == len(labels), f"{name}: failing cases need distinct labels"


@pytest.mark.parametrize(
    ("name", "edit"), [pytest.param(n, c.passes, id=n) for n, c in CASES.items()]
)
def test_rule_passes(name: str, edit: Edit) -> None:
    config, issues = validate_data(edited(edit))
    assert [issue.render() for issue in issues] == []
    assert config is not None
    assert list(RULES_BY_NAME[name].check(config)) == []


@pytest.mark.parametrize(
    ("name", "failing"),
    [
        pytest.param(n, f, id=f"{n}-{f.label}" if f.label else n)
        for n, c in CASES.items()
        for f in c.fails
    ],
)
def test_rule_fails(name: str, failing: Fails) -> None:
    data = edited(failing.edit)
    config, issues = validate_data(data)
    shown = f"{failing.path}: {failing.shown}"
    assert config is None
    assert shown in [issue.render() for issue in issues if issue.dotted_path == failing.path]
    # reported by this rule, not another one
    by_rule = RULES_BY_NAME[name].check(NdapConfig.model_validate(data))
    assert shown in [issue.render() for issue in by_rule]
