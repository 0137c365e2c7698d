"""``ndap pipeline run``: one git event of an ML project, executed locally for real.

The event's pipelines (as their triggers select them) run their generated build steps on
a clean clone of the project's repository at the event's commit, with the real AWS CLI
against the emulator and the build role's credentials, stage by stage; the pull-request
event runs the generated pull-request job without any cloud credential. Everything that
happened goes into a transcript. Why and how: docs/pipelines.md, section "Running a
project's pipelines locally", and docs/design-notes.md."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from ndap_infra.config.enums import TOOLING
from ndap_infra.config.model import FeaturePipelineConfig, MlProjectConfig, NdapConfig
from ndap_infra.deploy import container_credentials
from ndap_infra.deploy.build_image import BuildImage, prepare
from ndap_infra.deploy.codebuild_local import BuildRequest, BuildResult, run_build
from ndap_infra.emulator import lifecycle
from ndap_infra.emulator.builds import end_build, start_build
from ndap_infra.emulator.gaps import explain_call_gap
from ndap_infra.emulator.lifecycle import EmulatorInfo
from ndap_infra.names.access import account_access_role_arn
from ndap_infra.names.pipelines import TOOLS_POINTER, TOOLS_PREFIX
from ndap_infra.pipelines.feature_pipeline import FeaturePipelines, feature_pipelines
from ndap_infra.pipelines.platform import platform_pipeline_spec
from ndap_infra.pipelines.spec import BuildStep, ProjectPipelines, StageSpec, tooling_spec
from ndap_infra.pipelines.tools import PUBLISH_TOOLS, VERIFY_TOOLS
from ndap_infra.pipelines.workflows import JOB_PATHS
from ndap_infra.scripts import buildspec as build_scripts

SHOWN = ("ndap:", "digest verified", "release ", "registered ", "prd deploys", "ready for")
"""Lines of a build's output the transcript keeps (the whole log is kept beside it)."""
ROLE_REFERENCE = re.compile(r"\$\{aws_iam_role\.([^.}]+)\.arn\}")
VARIABLE = re.compile(r"#\{([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\}")


class Event(StrEnum):
    PULL_REQUEST = "pull-request"
    PUSH_DEVELOP = "push-develop"
    TAG_DEVELOP = "tag-develop"
    MERGE_MAIN = "merge-main"


class PipelineRunError(RuntimeError):
    """The event cannot be run; the message says why and what to do."""


@dataclass
class Transcript:
    lines: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    calls: int = 0
    ok: bool = True
    waiting_for_approval: bool = False
    on_line: Callable[[str], None] | None = None

    def say(self, line: str) -> None:
        self.lines.append(line)
        if self.on_line is not None:
            self.on_line(line)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass(frozen=True)
class Run:
    config: NdapConfig
    project: str
    event: Event
    repository: Path
    work: Path
    """This run's folder (clones, build logs, the build image)."""
    tag: str | None = None
    head: str | None = None
    """pull-request: the branch or commit proposed (default: the repository's HEAD)."""
    approve: bool = False
    out: Path | None = None
    """The synthesized stacks (``--out``): each buildspec run must be the one there."""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PipelineRunError(f"git {' '.join(args)} in {repo}: {done.stderr.strip()}")
    return done.stdout.strip()


Subject = MlProjectConfig | FeaturePipelineConfig
"""What a run is about: an ML project, or a team's feature pipeline (``<team>-features``)."""
Pipelines = ProjectPipelines | FeaturePipelines


def runnable_names(config: NdapConfig) -> list[str]:
    """What ``ndap pipeline run`` takes: every ML project and every feature pipeline."""
    return [p.name for p in config.ml_projects] + [f.name for f in config.feature_pipelines]


def _project(config: NdapConfig, name: str) -> tuple[Subject, Pipelines]:
    spec = tooling_spec(config)
    if spec is None:
        raise PipelineRunError(
            "no pipelines: the configuration has no organization.tooling_account_id"
        )
    for project, pipelines in zip(config.ml_projects, spec.projects, strict=True):
        if project.name == name:
            return project, pipelines
    for item, teams in zip(config.feature_pipelines, feature_pipelines(config), strict=True):
        if item.name == name:
            return item, teams
    known = ", ".join(runnable_names(config)) or "none"
    raise PipelineRunError(
        f"no ML project or feature pipeline {name!r} in the configuration ({known})"
    )


def triggered(project: Subject, pipelines: Pipelines, run: Run) -> list[StageSpec]:
    """The pipelines the event starts, as their triggers say."""
    if run.event is Event.PUSH_DEVELOP:
        return [s for s in pipelines.stages if project.pipeline.develop_branch in s.branches]
    assert run.tag is not None
    tagged = [s for s in pipelines.stages if any(fnmatch.fnmatch(run.tag, p) for p in s.tags)]
    if run.event is Event.MERGE_MAIN:
        # The tag was pushed already (tag-develop started every tag pipeline then); once
        # main contains it, the prd pipeline is started again (a "release change").
        return [s for s in tagged if s.approval]
    return tagged


def event_commit(project: Subject, run: Run) -> tuple[str, str]:
    """(what the event is about, the commit) in the project's repository."""
    repo = run.repository
    if run.event is Event.PULL_REQUEST:
        ref = run.head or "HEAD"
        return f"pull request of {ref} into {project.pipeline.develop_branch}", git(
            repo, "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}"
        )
    if run.event is Event.PUSH_DEVELOP:
        branch = project.pipeline.develop_branch
        return f"push to {branch}", git(
            repo, "rev-parse", "--verify", "--end-of-options", f"refs/heads/{branch}"
        )
    if not run.tag:
        raise PipelineRunError(f"--event {run.event.value} needs a tag (e.g. v1.0.0)")
    commit = git(
        repo, "rev-parse", "--verify", "--end-of-options", f"refs/tags/{run.tag}^{{commit}}"
    )
    if run.event is Event.TAG_DEVELOP:
        return f"release tag {run.tag} pushed", commit
    return f"{project.pipeline.main_branch} contains release tag {run.tag}", commit


def clone(repo: Path, commit: str, into: Path) -> Path:
    """CodePipeline's full clone (CODEBUILD_CLONE_REF): every branch and tag, ``origin``
    the repository, HEAD detached at the event's commit."""
    subprocess.run(["rm", "-rf", str(into)], check=True)
    git(repo.parent, "clone", "--quiet", "--no-checkout", str(repo.resolve()), str(into))
    git(into, "fetch", "--quiet", "origin", "+refs/tags/*:refs/tags/*")
    git(into, "checkout", "--quiet", "--detach", commit)
    return into


def _base_environment(
    image: BuildImage, python_bin: Path, home: Path, extra: dict[str, str]
) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": image.path(python_bin),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "NDAP_BUILD_PYTHON": image.python_version,
        "NDAP_AWS_CALLS": str(image.root / "aws-calls.log"),
        "NDAP_EMULATOR_GAPS": str(image.root / "emulator-gaps.log"),
        **extra,
    }


def synthesized_buildspecs(out: Path | None) -> dict[str, str] | None:
    """The CodeBuild projects' buildspecs in the synthesized tooling stack, by project
    name, or None when there is no synthesized tooling stack in ``out``."""
    if out is None:
        return None
    path = out / "stacks" / TOOLING / "cdk.tf.json"
    if not path.is_file():
        return None
    document = json.loads(path.read_text())
    found: dict[str, str] = {}
    for body in document.get("resource", {}).get("aws_codebuild_project", {}).values():
        sources = body.get("source") or []
        source = sources[0] if isinstance(sources, list) and sources else sources
        if isinstance(source, dict) and "buildspec" in source:
            # Terraform JSON escapes template sequences: $${ and %%{ stand for ${ and %{
            text = str(source["buildspec"]).replace("$${", "${").replace("%%{", "%{")
            found[str(body.get("name"))] = text
    return found


def _check_buildspec(run: Run, step: BuildStep, transcript: Transcript) -> None:
    synthesized = synthesized_buildspecs(run.out)
    digest = hashlib.sha256(step.buildspec.encode()).hexdigest()[:12]
    if synthesized is None:
        transcript.say(
            f"    buildspec: from the pipeline builders (sha256 {digest}); no synthesized "
            f"tooling stack in {run.out} to compare with"
        )
        return
    if synthesized.get(step.project) != step.buildspec:
        raise PipelineRunError(
            f"the buildspec of {step.project} differs from the synthesized one in {run.out}: "
            "the deployed platform is not this configuration; run `ndap deploy` (or `ndap "
            "synth`) again"
        )
    transcript.say(f"    buildspec: as synthesized in {run.out} (sha256 {digest})")


def synthesized_roles(out: Path | None) -> dict[str, str] | None:
    """The name of the role each CodeBuild project of the synthesized tooling stack runs
    as, by project name, or None when there is no synthesized tooling stack in ``out``."""
    if out is None:
        return None
    path = out / "stacks" / TOOLING / "cdk.tf.json"
    if not path.is_file():
        return None
    resources = json.loads(path.read_text()).get("resource", {})
    roles = {key: str(body.get("name")) for key, body in resources.get("aws_iam_role", {}).items()}
    found: dict[str, str] = {}
    for body in resources.get("aws_codebuild_project", {}).values():
        reference = ROLE_REFERENCE.fullmatch(str(body.get("service_role")))
        if reference is not None and reference.group(1) in roles:
            found[str(body.get("name"))] = roles[reference.group(1)]
    return found


def _check_role(run: Run, step: BuildStep, role: str) -> None:
    """The role the step runs as is the one its synthesized CodeBuild project names."""
    synthesized = synthesized_roles(run.out)
    if synthesized is not None and synthesized.get(step.project) != role:
        raise PipelineRunError(
            f"the synthesized CodeBuild project {step.project} in {run.out} runs as "
            f"{synthesized.get(step.project)}, the pipeline builders say {role}: run `ndap "
            "synth` (and `ndap deploy`) again"
        )


def _fresh(directory: Path) -> Path:
    """An empty build folder: each build starts from a fresh container (no HOME, no AWS
    CLI credential cache, no python packages left by an earlier build)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def _build_role_arn(info: EmulatorInfo, account: str, region: str, role: str) -> str:
    iam = lifecycle.client(info, "iam", account_id=account, region=region)
    try:
        return str(iam.get_role(RoleName=role)["Role"]["Arn"])
    except Exception as error:  # botocore's NoSuchEntity, or the emulator's answer
        raise PipelineRunError(
            f"the build role {role} is not in the tooling account {account} on the emulator "
            f"({error}): deploy the platform first, at least `ndap deploy -c CONFIG --stacks "
            "tooling --stacks env-dev` (and env-acc, env-prd for releases)"
        ) from None


def step_role(stage: StageSpec, step: BuildStep) -> str:
    """The role the synthesized CodeBuild project of ``step`` runs as: a platform-only step
    (acc's register step) its own register role, every other step the stage's build role."""
    if step.platform:
        if stage.register_role is None:
            raise PipelineRunError(
                f"{step.project} is a platform step but {stage.pipeline} has no register role"
            )
        return stage.register_role
    return stage.build_role


def _assume(info: EmulatorInfo, account: str, region: str, role_arn: str, session: str) -> Any:
    sts = lifecycle.client(info, "sts", account_id=account, region=region)
    return sts.assume_role(RoleArn=role_arn, RoleSessionName=session[:64])["Credentials"]


def _resolve(
    variables: tuple[tuple[str, str], ...], exported: dict[str, dict[str, str]]
) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for name, value in variables:
        resolved[name] = VARIABLE.sub(
            lambda m: exported.get(m.group(1), {}).get(m.group(2), ""), value
        )
    return resolved


def _show_build(transcript: Transcript, result: BuildResult, log: Path) -> None:
    status = (
        "ok" if result.ok else f"FAILED in phase {result.failed_phase} (exit {result.exit_code})"
    )
    transcript.say(f"    ran: {status}, {result.seconds:.1f}s; log {log}")
    if result.runtime_note:
        transcript.say(f"    note: {result.runtime_note}")
    for line in result.lines(SHOWN):
        transcript.say(f"      {line}")
    if not result.ok:
        for line in result.output.splitlines()[-12:]:
            if not line.startswith(SHOWN):
                transcript.say(f"      | {line}")


def _run_step(
    run: Run,
    info: EmulatorInfo,
    image: BuildImage,
    pipelines: Pipelines,
    stage: StageSpec,
    step: BuildStep,
    source: Path,
    commit: str,
    exported: dict[str, dict[str, str]],
    transcript: Transcript,
) -> bool:
    spec = tooling_spec(run.config)
    assert spec is not None
    role = step_role(stage, step)
    _check_role(run, step, role)
    role_arn = _build_role_arn(info, spec.account_id, spec.region, role)
    # CodePipeline's StartBuild: the project's CodeBuild project is not on the emulator (its
    # source is a git connection moto lacks), so the runner records the build it runs there,
    # as CodeBuild records it (ndap_infra/emulator/builds.py): id, ARN, role, commit.
    build = start_build(
        info.endpoint,
        spec.account_id,
        spec.region,
        step.project,
        commit,
        role_arn,
        f"codepipeline/{stage.pipeline}",
    )
    credentials = _assume(info, spec.account_id, spec.region, role_arn, f"{step.project}-local")
    variables = _resolve(step.variables, exported)
    transcript.say(
        f"  stage {step.stage}: CodeBuild project {step.project}, build {build['id']} "
        f"(recorded on the emulator), as {role_arn} (assumed through sts:AssumeRole, "
        "served on the container credentials endpoint)"
    )
    _check_buildspec(run, step, transcript)
    for name, value in variables.items():
        transcript.say(f"    variable {name}={value} (from the pipeline)")
    build_dir = _fresh(run.work / "builds" / f"{stage.pipeline}-{step.stage}")
    python_bin = image.fresh_python(build_dir / "python")
    with container_credentials.serve(
        container_credentials.as_container_document(credentials)
    ) as endpoint:
        base = _base_environment(
            image,
            python_bin,
            build_dir / "home",
            {**endpoint, "AWS_ENDPOINT_URL": info.endpoint},
        )
        result = run_build(
            BuildRequest(
                project=step.project,
                buildspec=step.buildspec,
                source_dir=source,
                commit=commit,
                region=spec.region,
                account=spec.account_id,
                pipeline=stage.pipeline,
                variables=variables,
                base_environment=base,
                build_id=str(build["id"]),
            ),
            build_dir,
        )
    # CodeBuild records how its build ended; the emulator learns it from the runner, which
    # ran the build (ndap_infra/emulator/builds.py), so BatchGetBuilds answers truthfully.
    status = "SUCCEEDED" if result.ok else "FAILED"
    end_build(info.endpoint, spec.account_id, spec.region, str(build["id"]), status)
    if step.namespace is not None:
        exported[step.namespace] = result.exported
    _show_build(transcript, result, build_dir / f"{step.project}.log")
    for name, value in result.exported.items():
        transcript.say(f"    exported {step.namespace}.{name}={value}")
    return result.ok


def run_pipeline(
    run: Run,
    info: EmulatorInfo,
    image: BuildImage,
    pipelines: Pipelines,
    stage: StageSpec,
    commit: str,
    transcript: Transcript,
) -> bool:
    source = clone(run.repository, commit, run.work / "sources" / stage.pipeline)
    transcript.say(
        f"pipeline {stage.pipeline} ({stage.environment.value}): source {commit[:12]} "
        f"(full clone of {run.repository.name}, stage Source)"
    )
    exported: dict[str, dict[str, str]] = {}
    for step in stage.before_approval:
        if not _run_step(
            run, info, image, pipelines, stage, step, source, commit, exported, transcript
        ):
            _skip_rest(transcript, stage, after=step)
            return False
    if stage.approval:
        if not run.approve:
            transcript.say(
                f"  stage Approval: WAITING for a release approver (`ndap pipeline run "
                f"{run.project} --event {run.event.value} {run.tag or ''} --approve`)".replace(
                    "  --", " --"
                )
            )
            for step in stage.after_approval:
                transcript.say(f"  stage {step.stage}: not started: waits for the approval")
            transcript.waiting_for_approval = True
            return True
        transcript.say("  stage Approval: approved (--approve)")
    for step in stage.after_approval:
        if not _run_step(
            run, info, image, pipelines, stage, step, source, commit, exported, transcript
        ):
            return False
    return True


def _skip_rest(transcript: Transcript, stage: StageSpec, after: BuildStep) -> None:
    steps = list(stage.builds)
    rest = steps[steps.index(after) + 1 :]
    if stage.approval and after in stage.before_approval:
        transcript.say(f"  stage Approval: not reached: {after.stage} failed")
    for step in rest:
        transcript.say(f"  stage {step.stage}: not run: {after.stage} failed")


def publisher_role(run: Run, account: str) -> tuple[str, str]:
    """(role ARN, who) of what publishes the platform's tooling in the tooling account: the
    platform pipeline's apply build when there is one, else `ndap deploy` itself, which
    acts in the tooling account through the account access role its stacks' provider
    assumes."""
    platform = platform_pipeline_spec(run.config)
    if platform is not None:
        return platform.apply_role_arn, "the platform pipeline's apply build"
    role = account_access_role_arn(account, run.config.organization.account_access_role)
    return role, "`ndap deploy` (no platform_pipeline: the account access role)"


def publish_tools(run: Run, info: EmulatorInfo, image: BuildImage, transcript: Transcript) -> str:
    """Publish this checkout's wheel as the platform does after an approved plan: the
    apply build's own snippets (``VERIFY_TOOLS``, ``PUBLISH_TOOLS``) on a plan artifact whose
    manifest names the wheel's sha256, run with the real AWS CLI as the publishing role.
    Returns the sha256 the builds will install by."""
    spec = tooling_spec(run.config)
    assert spec is not None
    sha256 = hashlib.sha256(image.wheel.read_bytes()).hexdigest()
    platform = _fresh(run.work / "platform")
    (platform / "plan" / "tools").mkdir(parents=True)
    shutil.copy2(image.wheel, platform / "plan" / "tools" / image.wheel.name)
    manifest = {"tools": {"wheel": image.wheel.name, "sha256": sha256}}
    (platform / "plan" / "manifest.json").write_text(json.dumps(manifest))
    role, who = publisher_role(run, spec.account_id)
    credentials = _assume(info, spec.account_id, spec.region, role, "ndap-tools-publish")
    environment = {
        "PATH": image.path(Path(sys.executable).parent),
        "HOME": str(platform),
        "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": info.endpoint,
        "AWS_ACCESS_KEY_ID": str(credentials["AccessKeyId"]),
        "AWS_SECRET_ACCESS_KEY": str(credentials["SecretAccessKey"]),
        "AWS_SESSION_TOKEN": str(credentials["SessionToken"]),
        "AWS_DEFAULT_REGION": spec.region,
        "ARTIFACT_BUCKET": spec.bucket,
        "NDAP_AWS_CALLS": str(platform / "aws-calls.log"),
        "NDAP_EMULATOR_GAPS": str(image.root / "emulator-gaps.log"),
    }
    done = subprocess.run(
        ["bash", "-c", build_scripts.script(VERIFY_TOOLS, PUBLISH_TOOLS)],
        cwd=platform, env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise PipelineRunError(
            f"cannot publish the platform's tooling as {role}: "
            + (done.stdout + done.stderr).strip()
        )
    transcript.say(
        f"tools: {image.wheel.name} (sha256 {sha256}) built from this checkout with no index "
        f"(pip wheel --no-deps), published as {who} ({role}) with the platform's own "
        f"snippet: s3://{spec.bucket}/{TOOLS_PREFIX}/sha256/{sha256}/, then {TOOLS_POINTER}"
    )
    return sha256


# -- the pull-request job ------------------------------------------------------------------

PR_ACTIONS = {
    "actions/checkout": "the runner's clean clone at the proposed commit stands for it",
    "actions/setup-python": "the build image's python",
}


def pull_request_steps(job_file: str, text: str) -> list[tuple[str, str | None, str]]:
    """(name, shell script or None, why skipped) of a GitHub Actions job, in order."""
    document = yaml.safe_load(text)
    steps: list[tuple[str, str | None, str]] = []
    for job in (document.get("jobs") or {}).values():
        for step in job.get("steps") or []:
            if "run" in step:
                steps.append((str(step.get("name") or step["run"]), str(step["run"]), ""))
            else:
                uses = str(step.get("uses", ""))
                reason = PR_ACTIONS.get(uses.split("@")[0], "an action the runner cannot run")
                steps.append((uses, None, reason))
    return steps


def run_pull_request(
    run: Run, project: Subject, image: BuildImage, commit: str, transcript: Transcript
) -> bool:
    path = JOB_PATHS[project.git_host]
    source = clone(run.repository, commit, run.work / "sources" / "pull-request")
    job = source / path
    if not job.is_file():
        raise PipelineRunError(f"the repository has no {path} at {commit[:12]}")
    if not path.startswith(".github/"):
        raise PipelineRunError(
            f"{path}: only the GitHub Actions job runs locally so far ({project.git_host.value})"
        )
    transcript.say(f"job {path} at {commit[:12]}: no AWS credentials, no endpoint, no token")
    build_dir = _fresh(run.work / "builds" / "pull-request")
    python_bin = image.fresh_python(build_dir / "python")
    env = _base_environment(image, python_bin, build_dir / "home", {"GITHUB_ACTIONS": "true"})
    for name, script, reason in pull_request_steps(path, job.read_text()):
        if script is None:
            transcript.say(f"  step {name}: skipped: {reason}")
            continue
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=source, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        status = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        transcript.say(f"  step {name}: ran: {status}")
        last = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        for line in last[-2 if done.returncode == 0 else -12 :]:
            transcript.say(f"      | {line}")
        if done.returncode != 0:
            return False
    return True


# -- an event ----------------------------------------------------------------------------


def run_event(
    run: Run, emulator: EmulatorInfo | None, on_line: Callable[[str], None] | None = None
) -> Transcript:
    """Run the event; ``emulator`` may be None for a pull request only (no cloud)."""
    transcript = Transcript(on_line=on_line)
    project, pipelines = _project(run.config, run.project)
    what, commit = event_commit(project, run)
    transcript.say(f"== {run.project}: event {run.event.value}: {what} ({commit[:12]})")
    run.work.mkdir(parents=True, exist_ok=True)
    image = prepare(run.work / "image")
    for log in ("aws-calls.log", "emulator-gaps.log"):
        (image.root / log).write_text("")
    if run.event is Event.PULL_REQUEST:
        transcript.ok = run_pull_request(run, project, image, commit, transcript)
        return transcript
    if emulator is None:
        raise PipelineRunError(f"--event {run.event.value} runs against the emulator: start it")
    info = emulator
    if isinstance(pipelines, FeaturePipelines):
        transcript.say(
            "tools: not published: a feature build runs only the platform's generated script "
            "(the AWS CLI and jq), it installs nothing"
        )
    else:
        publish_tools(run, info, image, transcript)
    stages = triggered(project, pipelines, run)
    names = ", ".join(s.pipeline for s in stages) or "none"
    transcript.say(f"triggers: {names}")
    for stage in stages:
        ok = run_pipeline(run, info, image, pipelines, stage, commit, transcript)
        transcript.ok = transcript.ok and ok
    calls = (image.root / "aws-calls.log").read_text().splitlines()
    transcript.calls = len(calls)
    failed = sum(1 for c in calls if not c.startswith("0 "))
    transcript.gaps = sorted(set((image.root / "emulator-gaps.log").read_text().splitlines()))
    transcript.say(
        f"aws calls: {len(calls)} by the builds ({failed} answered with an error, "
        "describe-before-create included)"
    )
    if transcript.gaps:
        transcript.say(
            "emulator gaps met (calls the emulator does not implement; nothing stubbed):"
        )
        transcript.lines += [f"  - {explain_call_gap(gap)}" for gap in transcript.gaps]
        if on_line is not None:
            for gap in transcript.gaps:
                on_line(f"  - {explain_call_gap(gap)}")
    else:
        transcript.say("emulator gaps met: none")
    return transcript
