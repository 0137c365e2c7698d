"""The scaffold's README states the release procedure the project's pipelines follow.

GIVEN every retraining strategy x acceptance choice x production choice of the
configuration model, WHEN the scaffold's README is generated, THEN it says what prd's and
acc's deploy steps (the buildspecs built from the same configuration) actually do, and
never what the other choice does."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ndap_infra.bootstrap.release import RETRAIN_WORDS, REUSE_WORDS
from ndap_infra.bootstrap.scaffold import scaffold_files
from ndap_infra.config.enums import (
    AcceptanceRetraining,
    Environment,
    ProductionRetraining,
    RetrainingStrategy,
)
from ndap_infra.config.load import validate_data
from ndap_infra.config.model import MlProjectConfig, NdapConfig
from ndap_infra.pipelines.retraining import retraining_in
from ndap_infra.pipelines.spec import tooling_spec
from tests.helpers import reference_data

STRATEGY_SETTINGS: dict[RetrainingStrategy, dict[str, Any]] = {
    RetrainingStrategy.AD_HOC: {},
    RetrainingStrategy.PERIODIC: {"schedule": "rate(3 days)"},
    RetrainingStrategy.DRIFT: {"metric": "psi", "threshold": 0.3},
}
COMBINATIONS = list(
    itertools.product(RetrainingStrategy, AcceptanceRetraining, ProductionRetraining)
)


def configured(
    strategy: RetrainingStrategy,
    acceptance: AcceptanceRetraining,
    production: ProductionRetraining | None,
    *,
    legacy_reuse: bool | None = None,
) -> tuple[NdapConfig, MlProjectConfig]:
    data = reference_data()
    project = data["ml_projects"][0]
    retraining: dict[str, Any] = {
        "strategy": strategy.value,
        "acceptance": acceptance.value,
        **STRATEGY_SETTINGS[strategy],
    }
    if production is not None:
        retraining["production"] = production.value
    project["retraining"] = retraining
    if legacy_reuse is not None:
        project["pipeline"] = {"reuse_acc_artifacts": legacy_reuse}
    config, issues = validate_data(data)
    assert config is not None, issues
    return config, config.ml_projects[0]


def readme(config: NdapConfig, project: MlProjectConfig) -> str:
    return scaffold_files(config, project)["README.md"]


def step(text: str, number: int) -> str:
    """Step ``number`` of "How code reaches production"."""
    flow = text[text.index("## How code reaches production") :]
    return next(line for line in flow.splitlines() if line.startswith(f"{number}. "))


def prd_deploy_script(config: NdapConfig, project: MlProjectConfig) -> str:
    """The deploy step of the project's prd pipeline, as synthesized."""
    spec = tooling_spec(config)
    assert spec is not None
    pipelines = next(p for p in spec.projects if p.name == project.name)
    prd = next(s for s in pipelines.stages if s.environment is Environment.PRD)
    return next(b.buildspec for b in prd.after_approval if b.purpose == "deploy")


@pytest.mark.parametrize(("strategy", "acceptance", "production"), COMBINATIONS)
def test_the_readme_states_what_the_pipelines_do(
    strategy: RetrainingStrategy,
    acceptance: AcceptanceRetraining,
    production: ProductionRetraining,
) -> None:
    config, project = configured(strategy, acceptance, production)
    text = readme(config, project)
    prd, acc = step(text, 4), step(text, 3)
    script = prd_deploy_script(config, project)
    # prd: the words follow the choice, and the choice is what prd's deploy step does
    if production is ProductionRetraining.REUSE_ACC_ARTIFACTS:
        assert "prd deploys $PACKAGE_ARN, approved by acc" in script
        assert REUSE_WORDS in prd and "checked by sha256" in prd
        assert "does not run `make model` and never retrains by itself" in prd
        assert RETRAIN_WORDS not in text
    else:
        assert "approved by acc" not in script and "make model" in script
        assert RETRAIN_WORDS in prd and "`retraining.production: retrain`" in prd
        assert REUSE_WORDS not in text and "never retrains by itself" not in text
    assert "rebuilt from the tag" not in text  # the sentence every project used to get
    # acc
    assert f"`retraining.acceptance: {acceptance.value}`" in acc
    expected_acc = {
        AcceptanceRetraining.IF_MODEL_CHANGED: "acc retrains only when a release changes",
        AcceptanceRetraining.PERIODIC_FROM_SCRATCH: "acc builds every release from scratch",
        AcceptanceRetraining.FROM_PREVIOUS_STATE: "warm-starting from the model it runs",
    }
    for choice, words in expected_acc.items():
        assert (words in acc) is (choice is acceptance), (choice, acc)
    # the retraining table: one row per environment, as the triggers are built
    for env in (Environment.DEV, Environment.ACC, Environment.PRD):
        row = next(line for line in text.splitlines() if line.startswith(f"| {env.value} |"))
        decision = retraining_in(project, env)
        if decision.kind is None:
            assert "never" in row and row.endswith("| - |"), row
        else:
            assert row.endswith(f"| `{decision.mode.value}` |"), row
            own = {
                RetrainingStrategy.AD_HOC: "/projects/churn-prediction/input/",
                RetrainingStrategy.PERIODIC: "`rate(3 days)`",
                RetrainingStrategy.DRIFT: "`psi` (CloudWatch namespace `ndap/churn-prediction`)",
            }[strategy]
            if decision.triggered_by == "acceptance-schedule":
                own = "`rate(3 days)`" if strategy is RetrainingStrategy.PERIODIC else "rate(7"
            assert own in row, row


def test_all_eighteen_choices_are_covered() -> None:
    assert len(COMBINATIONS) == 18


@pytest.mark.parametrize(("legacy_reuse", "reuses"), [(None, True), (True, True), (False, False)])
def test_the_default_and_the_older_setting_say_what_prd_does(
    legacy_reuse: bool | None, reuses: bool
) -> None:
    """The default project (no retraining.production) reuses acc's package for the same
    tag; the older ``pipeline.reuse_acc_artifacts`` is honoured the same way."""
    config, project = configured(
        RetrainingStrategy.AD_HOC,
        AcceptanceRetraining.IF_MODEL_CHANGED,
        None,
        legacy_reuse=legacy_reuse,
    )
    prd = step(readme(config, project), 4)
    assert (REUSE_WORDS in prd) is reuses
    assert (RETRAIN_WORDS in prd) is not reuses


def test_the_flow_follows_the_configured_branches_and_tags() -> None:
    data = reference_data()
    data["ml_projects"][2]["pipeline"] = {
        "develop_branch": "integration",
        "main_branch": "production",
        "release_tag_pattern": "rel-*",
    }
    config, issues = validate_data(data)
    assert config is not None, issues
    text = readme(config, config.ml_projects[2])
    assert "A release tag matching `rel-*` on a commit of `integration`" in step(text, 3)
    prd = step(text, 4)
    assert "Merge the release into `production` before you push its tag" in prd
    assert "cut from `integration`" in prd and "`main`" not in prd
