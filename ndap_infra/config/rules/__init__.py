"""The configuration rules: the N-D-A-P model's hard invariants and the checks that need
several fields at once, one module per configuration section (a rule that reads several
sections lives with the first one it declares). Importing this package registers them all.
"""

from ndap_infra.config.rules import (
    data,
    deploy,
    drift_detection,
    environments,
    feature_groups,
    feature_pipelines,
    identity,
    ml_projects,
    organization,
    personas,
    platform_pipeline,
)
from ndap_infra.config.rules.registry import RULES, RegisteredRule, rule

__all__ = [
    "RULES",
    "RegisteredRule",
    "data",
    "deploy",
    "drift_detection",
    "environments",
    "feature_groups",
    "feature_pipelines",
    "identity",
    "ml_projects",
    "organization",
    "personas",
    "platform_pipeline",
    "rule",
]

# The order the rules run in, and so the order validate_data returns problems in (kept
# from when they lived in one module). A new rule is named here too: importing this
# package fails otherwise.
RUN_ORDER: tuple[str, ...] = (
    "custom_persona_names_are_new",
    "custom_persona_is_like_a_person",
    "data_scientist_like_names_are_distinct",
    "data_scientist_never_in_acc_or_prd",
    "nonprod_is_for_engineers_only",
    "persona_levels_fit_the_persona",
    "only_pipelines_change_acc_and_prd",
    "production_data_follows_the_model",
    "core_environments_exist",
    "enabled_environments_have_accounts",
    "adopted_accounts_are_placed",
    "account_emails_are_unique",
    "account_ids_are_unique",
    "home_region_is_allowed",
    "company_guardrails_are_well_formed",
    "inherited_guardrails_are_named_once",
    "parent_unit_is_in_an_existing_organization",
    "project_names_are_unique",
    "retraining_settings_fit_the_strategy",
    "dataset_names_are_unique",
    "integration_subset_is_valid",
    "no_per_environment_security_controls",
    "identity_center_is_configured",
    "people_are_onboarded_safely",
    "pipelines_follow_the_git_flow",
    "tooling_account_is_separate",
    "security_accounts_are_separate",
    "branch_and_tag_filters_are_usable",
    "project_names_do_not_nest",
    "pipeline_artifacts_do_not_collide",
    "project_names_stay_clear_of_the_guardrails",
    "prediction_schedule_fits_the_kind",
    "production_retraining_has_one_source",
    "feature_groups_are_well_formed",
    "projects_use_declared_features",
    "feature_pipelines_are_well_formed",
    "path_rules_are_unambiguous",
    "drift_detection_needs_a_tooling_account",
    "platform_pipeline_needs_a_tooling_account",
    "platform_pipeline_needs_remote_state",
    "state_backend_is_for_aws",
    "drift_detection_reads_the_configured_state",
    "platform_pipeline_artifacts_are_its_own",
)

_registered = [registered.name for registered in RULES]
if sorted(_registered) != sorted(RUN_ORDER):
    raise RuntimeError(
        "ndap_infra.config.rules.RUN_ORDER must name every registered rule exactly once; "
        f"not in it: {sorted(set(_registered) - set(RUN_ORDER))}, not registered: "
        f"{sorted(set(RUN_ORDER) - set(_registered))} (or a name is there twice)"
    )
RULES.sort(key=lambda registered: RUN_ORDER.index(registered.name))
