"""``ndap pipeline run`` without the emulator: which pipelines an event starts, the
pull-request job's steps, the buildspec checked against the synthesized stack, and the
build role's credentials served as CodeBuild serves them (read by botocore's own
container provider), the role each step runs as, and who publishes the platform's tooling."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.credentials import ContainerProvider  # type: ignore[import-untyped]

from ndap_infra.config.model import NdapConfig
from ndap_infra.deploy import container_credentials
from ndap_infra.deploy.pipeline_run import (
    Event,
    PipelineRunError,
    Run,
    Transcript,
    _check_buildspec,
    _check_role,
    publisher_role,
    pull_request_steps,
    step_role,
    triggered,
)
from ndap_infra.pipelines.spec import tooling_spec
from ndap_infra.pipelines.workflows import pull_request_workflow


def _run(config: NdapConfig, event: Event, tag: str | None = None, out: Path | None = None) -> Run:
    return Run(config, "churn-prediction", event, Path("."), Path("."), tag=tag, out=out)


def test_each_event_starts_the_pipelines_its_trigger_names(reference_config: NdapConfig) -> None:
    project = reference_config.ml_projects[0]
    spec = tooling_spec(reference_config)
    assert spec is not None
    pipelines = spec.projects[0]

    def started(event: Event, tag: str | None = None) -> list[str]:
        return [
            s.pipeline for s in triggered(project, pipelines, _run(reference_config, event, tag))
        ]

    assert started(Event.PUSH_DEVELOP) == ["churn-prediction-dev"]
    assert started(Event.TAG_DEVELOP, "v1.2.0") == ["churn-prediction-acc", "churn-prediction-prd"]
    assert started(Event.MERGE_MAIN, "v1.2.0") == ["churn-prediction-prd"]
    assert started(Event.TAG_DEVELOP, "nightly-3") == []  # not a release tag (v*)


def test_the_pull_request_job_runs_its_scripts_and_names_the_actions_it_skips(
    reference_config: NdapConfig,
) -> None:
    workflow = pull_request_workflow(reference_config.ml_projects[0])
    steps = pull_request_steps(".github/workflows/pull-request.yml", workflow)
    assert [name for name, _, _ in steps] == [
        "actions/checkout@v4",
        "actions/setup-python@v5",
        "install",
        "code style",
        "unit tests",
        "orchestration definition parses",
    ]
    skipped = {name: why for name, script, why in steps if script is None}
    assert set(skipped) == {"actions/checkout@v4", "actions/setup-python@v5"}
    assert all(why for why in skipped.values())


def test_a_buildspec_that_differs_from_the_synthesized_one_is_refused(
    reference_config: NdapConfig, tmp_path: Path
) -> None:
    spec = tooling_spec(reference_config)
    assert spec is not None
    step = spec.projects[0].stages[0].before_approval[0]
    stack = tmp_path / "stacks" / "tooling" / "cdk.tf.json"
    stack.parent.mkdir(parents=True)

    def synthesize(buildspec: str) -> None:
        body = {"name": step.project, "source": [{"type": "CODEPIPELINE", "buildspec": buildspec}]}
        document = {"resource": {"aws_codebuild_project": {"deploy": body}}}
        stack.write_text(json.dumps(document))

    run = _run(reference_config, Event.PUSH_DEVELOP, out=tmp_path)
    synthesize(step.buildspec.replace("${", "$${"))  # as Terraform JSON escapes it
    transcript = Transcript()
    _check_buildspec(run, step, transcript)
    assert transcript.lines[-1].startswith(f"    buildspec: as synthesized in {tmp_path}")

    synthesize(step.buildspec.replace("${", "$${").replace("make model", "make other"))
    with pytest.raises(PipelineRunError, match="differs from the synthesized one"):
        _check_buildspec(run, step, Transcript())


def test_the_build_roles_credentials_are_served_to_the_container_provider() -> None:
    credentials = {
        "AccessKeyId": "ASIAEXAMPLE0000001",
        "SecretAccessKey": "secret",
        "SessionToken": "token",
        "Expiration": datetime(2099, 1, 1, tzinfo=UTC),
    }
    document = container_credentials.as_container_document(credentials)
    with container_credentials.serve(document) as env:
        found = ContainerProvider(environ=env).load()
        assert found is not None
        frozen = found.get_frozen_credentials()
        assert (frozen.access_key, frozen.secret_key, frozen.token) == (
            "ASIAEXAMPLE0000001",
            "secret",
            "token",
        )
        # without the build's token, nothing is served
        request = urllib.request.Request(env["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 403


def test_each_step_runs_as_the_role_its_synthesized_project_uses(
    reference_config: NdapConfig,
) -> None:
    """acc's platform-only register step as the register role, every other step (the
    project's code included) as its stage's build role (the runner also refuses a step
    whose deployed project runs as another role: tests/emulator/test_pipeline_run.py)."""
    spec = tooling_spec(reference_config)
    assert spec is not None
    seen: dict[str, str] = {}
    for stage in spec.projects[0].stages:
        for step in stage.builds:
            seen[step.project] = step_role(stage, step)
    acc = next(s for s in spec.projects[0].stages if s.register_role is not None)
    register = [step for step in acc.builds if step.platform]
    assert len(register) == 1
    assert seen[register[0].project] == acc.register_role != acc.build_role
    assert all(seen[step.project] == acc.build_role for step in acc.builds if not step.platform)


def test_the_platforms_tooling_is_published_as_the_platform_publishes_it(
    reference_config: NdapConfig,
) -> None:
    spec = tooling_spec(reference_config)
    assert spec is not None
    run = _run(reference_config, Event.PUSH_DEVELOP)
    role, who = publisher_role(run, spec.account_id)
    assert reference_config.platform_pipeline is not None  # the reference has one
    assert role.endswith(f"/{reference_config.organization.name}-platform-apply")
    assert who == "the platform pipeline's apply build"
    without = reference_config.model_copy(update={"platform_pipeline": None})
    role, who = publisher_role(_run(without, Event.PUSH_DEVELOP), spec.account_id)
    access = reference_config.organization.account_access_role
    assert role == f"arn:aws:iam::{spec.account_id}:role/{access}"
    assert "ndap deploy" in who


def test_a_step_whose_synthesized_project_runs_as_another_role_is_refused(
    reference_config: NdapConfig, tmp_path: Path
) -> None:
    spec = tooling_spec(reference_config)
    assert spec is not None
    acc = next(s for s in spec.projects[0].stages if s.register_role is not None)
    register = next(step for step in acc.builds if step.platform)
    stack = tmp_path / "stacks" / "tooling" / "cdk.tf.json"
    stack.parent.mkdir(parents=True)

    def synthesized(role: str) -> None:
        stack.write_text(
            json.dumps(
                {
                    "resource": {
                        "aws_iam_role": {"r": {"name": role}},
                        "aws_codebuild_project": {
                            "p": {"name": register.project, "service_role": "${aws_iam_role.r.arn}"}
                        },
                    }
                }
            )
        )

    run = _run(reference_config, Event.TAG_DEVELOP, "v1.0.0", out=tmp_path)
    assert acc.register_role is not None
    synthesized(acc.register_role)
    _check_role(run, register, step_role(acc, register))  # as synthesized: runs
    synthesized(acc.build_role)  # the project's build role on the register step: refused
    with pytest.raises(
        PipelineRunError, match=f"{register.project} in .* runs as {acc.build_role}"
    ):
        _check_role(run, register, step_role(acc, register))
