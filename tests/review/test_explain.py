"""`ndap explain` answers every kind of cell the proofs decide, with the proof's own
verdict and the evaluator's trace; a changed policy flips both."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ndap_infra import cli
from ndap_infra.config.enums import TOOLING
from ndap_infra.proofs.access_model import ou_level
from ndap_infra.proofs.jobs import with_scp_statement, with_statement, without_statement
from ndap_infra.review.explain import Explanation, UnknownCell, explain
from tests.helpers import REFERENCE

SAMPLED = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _statements(explanation: Explanation) -> set[str]:
    return {
        ref.statement
        for step in explanation.steps
        if step.decision is not None
        for ref in step.decision.deciding
    }


def _trace_concludes(explanation: Explanation) -> bool:
    """What the trace alone says: some principal had every request allowed."""
    by_who: dict[str, list[bool]] = {}
    for step in explanation.steps:
        assert step.decision is not None
        by_who.setdefault(step.who, []).append(step.decision.allowed)
    return any(all(answers) for answers in by_who.values())


# ---- one cell of each kind, against the proof's own decision --------------------------------


@SAMPLED
@given(data=st.data())
def test_access_cells_follow_the_proof(reference_proof: Any, data: st.DataObject) -> None:
    cell = data.draw(st.sampled_from([c for c in reference_proof.cells if c.allowed is not None]))
    words = [cell.persona.value, cell.environment.value, cell.action]
    (found,) = explain(reference_proof.model, {}, words)
    assert (found.holds, found.expected) == (cell.allowed, cell.expected)
    assert _trace_concludes(found) == cell.allowed
    assert found.verdict.endswith(f"{cell.action} in {cell.environment.value}")


@SAMPLED
@given(data=st.data())
def test_pipeline_cells_follow_the_proof(reference_proof: Any, data: st.DataObject) -> None:
    # the ML projects' cells and the teams' feature pipelines' cells
    cell = data.draw(st.sampled_from(reference_proof.pipelines.cells))
    (found,) = explain(
        reference_proof.model, {}, ["pipelines", cell.who, cell.action, cell.project]
    )
    assert (found.holds, found.expected) == (cell.allowed, cell.expected)
    assert _trace_concludes(found) == cell.allowed
    assert found.steps, "every cell shows the requests behind it"


@SAMPLED
@given(data=st.data())
def test_job_rows_follow_the_proof(reference_proof: Any, data: st.DataObject) -> None:
    result = data.draw(st.sampled_from(reference_proof.jobs))
    job = result.job
    answers = explain(
        reference_proof.model, {}, ["jobs", job.identity, job.operation, job.resource]
    )
    # Several rows may share identity, operation and resource (CodeBuild assuming one
    # build role for two steps of a stage); the row's reason and context pick its own.
    (found,) = [
        a
        for a in answers
        if job.why in a.verdict and all(f"{k}={v}" in a.cell for k, v in job.context)
    ]
    assert (found.holds, found.expected) == (result.allowed, job.expected)
    assert found.steps[0].decision == result.decision


def test_rows_differing_only_in_context_are_told_apart(reference_proof: Any) -> None:
    """CodeBuild assumes a stage's build role for two steps: two rows, two answers, each
    naming the project that calls."""
    shared = [
        r.job
        for r in reference_proof.jobs
        if r.job.identity == "codebuild.amazonaws.com" and r.job.resource.endswith("-build-dev")
    ]
    role = shared[0].resource
    answers = explain(
        reference_proof.model, {}, ["jobs", shared[0].identity, "sts:AssumeRole", role]
    )
    assert len(answers) == len([j for j in shared if j.resource == role]) >= 2
    assert len({a.cell for a in answers}) == len(answers)
    assert all("aws:SourceArn=arn:aws:codebuild:" in a.cell for a in answers)


def test_provenance_rows_follow_the_proof(reference_proof: Any, reference_stacks: Any) -> None:
    for row in reference_proof.provenance:
        found = explain(reference_proof.model, reference_stacks, ["provenance", row.identity])
        assert [(f.holds, f.verdict.endswith(row.state)) for f in found] == [
            (row.controlled_by_others, True)
        ]


def test_a_persona_pipelines_cell_covers_every_project(reference_proof: Any) -> None:
    found = explain(reference_proof.model, {}, ["pipelines", "ml-engineer", "approve-prd-release"])
    # every ML project and every feature pipeline
    projects = {c.project for c in reference_proof.pipelines.cells}
    assert any(p.endswith("-features") for p in projects)
    assert {f.cell.rsplit(" ", 1)[1] for f in found} == projects
    assert all(f.holds for f in found)
    assert all("ApproveProductionReleases" in _statements(f) for f in found)


def test_every_feature_pipeline_cell_is_explained_as_the_proof_decided(
    reference_proof: Any,
) -> None:
    """All of them: an answer evaluates only the cell asked (about 12 ms), not the proof."""
    features = {p.name for p in reference_proof.model.config.feature_pipelines}
    cells = [c for c in reference_proof.pipelines.cells if c.project in features]
    assert len(cells) == 104
    for cell in cells:
        (found,) = explain(
            reference_proof.model, {}, ["pipelines", cell.who, cell.action, cell.project]
        )
        assert (found.holds, found.expected) == (cell.allowed, cell.expected), cell
        assert _trace_concludes(found) == cell.allowed, cell
        assert "feature pipeline" in found.verdict


def test_every_platform_cell_is_explained_as_the_proof_decided(reference_proof: Any) -> None:
    cells = reference_proof.platform.cells
    assert len(cells) == 738
    for cell in cells:
        (found,) = explain(reference_proof.model, {}, ["platform", cell.who, cell.action])
        assert (found.holds, found.expected) == (cell.allowed, cell.expected), cell
        assert _trace_concludes(found) == cell.allowed, cell


# ---- negative controls: the policy changes, the decision and its explanation follow --------


def test_removing_the_grant_flips_a_pipelines_cell(reference_proof: Any) -> None:
    model = reference_proof.model
    words = ["pipelines", "ml-engineer", "approve-prd-release", "churn-prediction"]
    (before,) = explain(model, {}, words)
    assert before.holds and "ApproveProductionReleases" in _statements(before)
    role = next(
        arn for arn in model.roles if arn.endswith("/ndap/personas/acme-ml-ml-engineer")
        and f":{model.config.tooling_account_id}:" in arn
    )  # fmt: skip
    (after,) = explain(without_statement(role, "ApproveProductionReleases")(model), {}, words)
    assert after.holds is False and not after.as_expected
    assert "ApproveProductionReleases" not in _statements(after)
    assert "NOT AS THE MODEL EXPECTS" in after.render()


def test_a_blocking_guardrail_flips_a_job_and_is_named(reference_proof: Any) -> None:
    model = reference_proof.model
    job = next(
        r.job for r in reference_proof.jobs
        if r.job.expected and r.job.operation == "sts:AssumeRole"
        and r.job.resource.endswith("-deployer") and "/ndap/pipelines/" in r.job.identity
    )  # fmt: skip
    words = ["jobs", job.identity, job.operation, job.resource]
    blocking = {"Sid": "BlockTheDeploy", "Effect": "Deny", "Action": "sts:AssumeRole",
                "Resource": "*"}  # fmt: skip
    (before,) = explain(model, {}, words)
    (after,) = explain(with_scp_statement(ou_level(TOOLING), blocking)(model), {}, words)
    assert before.holds and "BlockTheDeploy" not in _statements(before)
    assert after.holds is False and "BlockTheDeploy" in _statements(after)
    assert "hypothetical/blocking-scp.json" in after.render()


def test_release_powers_given_back_flip_a_provenance_row(
    reference_proof: Any, reference_stacks: Any
) -> None:
    model = reference_proof.model
    build = next(r.identity for r in reference_proof.provenance if r.identity.endswith("build-acc"))
    grant = {
        "Sid": "RegisterReleases",
        "Effect": "Allow",
        "Resource": "*",
        "Action": ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"],
    }
    (before,) = explain(model, reference_stacks, ["provenance", build])
    (after,) = explain(with_statement(build, grant)(model), reference_stacks, ["provenance", build])
    assert before.holds is False and "RegisterReleases" not in _statements(before)
    assert after.holds is True and "RegisterReleases" in _statements(after)
    assert "FAILS" in after.verdict


def test_a_deny_on_the_dev_unit_flips_an_access_cell(reference_proof: Any) -> None:
    model = reference_proof.model
    words = ["data-scientist", "dev", "read-working-data"]
    deny = {"Sid": "NoReadsInDev", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}
    (before,) = explain(model, {}, words)
    (after,) = explain(with_scp_statement(ou_level("dev"), deny)(model), {}, words)
    assert before.holds and after.holds is False
    assert "NoReadsInDev" in _statements(after) and "NoReadsInDev" not in _statements(before)
    assert after.verdict == "data-scientist cannot read-working-data in dev"


# ---- unknown cells ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "closest"),
    [
        (["data-scientst", "dev", "read-working-data"], "data-scientist"),
        (["data-scientist", "prod", "read-working-data"], "prd"),
        (["pipelines", "ml-enginer", "approve-prd-release"], "ml-engineer"),
        (["platform", "plan build role", "asume-planner"], "assume-planner"),
        (["jobs", "codebuild.amazonaws.com", "sts:AssumeRol"], "sts:AssumeRole"),
        (["provenance", "churn-prediction-deploy-prdd"], "churn-prediction-deploy-prd"),
    ],
)
def test_an_unknown_cell_names_the_closest(
    reference_proof: Any, reference_stacks: Any, words: list[str], closest: str
) -> None:
    with pytest.raises(UnknownCell, match="closest: .*" + closest):
        explain(reference_proof.model, reference_stacks, words)


def test_the_command_explains_a_platform_cell_and_refuses_an_unknown_one(
    reference_synthesis: Any, reference_proof: Any
) -> None:
    out = str(reference_synthesis.out_dir)
    cell = next(c for c in reference_proof.platform.cells if c.who == "plan build role")
    good = CliRunner().invoke(
        cli.app, ["explain", "platform", cell.who, cell.action, "-c", str(REFERENCE), "--out", out]
    )
    assert good.exit_code == 0, good.output
    assert f"{cell.who} {'CAN' if cell.allowed else 'cannot'} {cell.action}" in good.output
    bad = CliRunner().invoke(
        cli.app, ["explain", "jobs", "nobody", "x", "-c", str(REFERENCE), "--out", out]
    )
    assert bad.exit_code == 2
    assert "unknown jobs identity 'nobody'" in bad.output
