"""Change-aware pipelines: real git histories built here, the plan for each kind of change,
the glob semantics against git itself, the CLI, and real public histories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ndap_infra.changes import (
    MODEL_KINDS,
    ChangesError,
    DiffEntry,
    Fingerprint,
    GlobError,
    Kind,
    PathRules,
    Plan,
    Stage,
    classify_changes,
    compile_glob,
    decide,
    plan_changes,
    plan_to_json,
    plan_to_text,
)
from ndap_infra.cli import app
from ndap_infra.config.model import PathRulesConfig
from tests.helpers import FIXTURES, REFERENCE, ROOT

GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}
ALL_STAGES = [stage.value for stage in Stage]
TESTS_ONLY = {"unit_tests", "integration_tests"}


def git(repo: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-C", str(repo), *args],
        env=GIT_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


def write(repo: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def commit(repo: Path, message: str, files: dict[str, str] | None = None) -> str:
    write(repo, files or {})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def init(repo: Path) -> Path:
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    return repo


INITIAL = {
    "README.md": "# churn\n",
    "docs/guide.md": "guide\n",
    "src/training/train.py": "def train():\n    return 1\n",
    "features/churn.py": "FEATURES = ['tenure']\n",
    "params.yaml": "train:\n  lr: 0.1\n  epochs: 10\n",
    "data.yaml": "snapshot_id: 2026-01-01\n",
    "src/serving/app.py": "def predict():\n    return 0\n",
    "pipelines/train.yaml": "steps: [features, train]\n",
    "tests/test_train.py": "def test_train():\n    assert True\n",
}


def running(plan: Plan) -> set[str]:
    return {stage.value for stage, decision in plan.stages.items() if decision.run}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project repository; each test branches off ``main`` where it needs to."""
    path = init(tmp_path_factory.mktemp("project") / "repo")
    commit(path, "initial", INITIAL)
    git(path, "tag", "v0")
    return path


@pytest.fixture
def branch(repo: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A fresh branch from v0, checked out, for one test."""
    name = request.node.name.replace("[", "-").replace("]", "")
    git(repo, "checkout", "-q", "-b", name, "v0")
    yield repo
    git(repo, "checkout", "-q", "main")


# -- every kind of change, on real git history --------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"docs/guide.md": "more guide\n", "README.md": "# churn!\n"}, set()),
        ({"tests/test_train.py": "def test_train():\n    assert 1\n"}, TESTS_ONLY),
        (
            {"src/serving/app.py": "def predict():\n    return 1\n"},
            TESTS_ONLY | {"redeploy_serving"},
        ),
        (
            {"src/training/train.py": "def train():\n    return 2\n"},
            TESTS_ONLY | {"retrain", "register_model", "redeploy_serving"},
        ),
        (
            {"features/churn.py": "FEATURES = ['tenure', 'plan']\n"},
            TESTS_ONLY | {"feature_pipeline", "retrain", "register_model", "redeploy_serving"},
        ),
        (
            {"data.yaml": "snapshot_id: 2026-02-01\n"},
            TESTS_ONLY | {"retrain", "register_model", "redeploy_serving"},
        ),
        (
            {"pipelines/train.yaml": "steps: [features, train, evaluate]\n"},
            TESTS_ONLY | {"retrain", "register_model", "redeploy_serving", "deploy_orchestration"},
        ),
        ({"setup.py": "print('new and unclassified')\n"}, set(ALL_STAGES)),
    ],
    ids=[
        "docs",
        "tests",
        "serving",
        "training",
        "features",
        "data_config",
        "orchestration",
        "unclassified",
    ],
)
def test_each_kind_of_change_runs_its_stages(
    branch: Path, files: dict[str, str], expected: set[str]
) -> None:
    head = commit(branch, "change", files)
    plan = plan_changes(branch, "v0", head)
    assert running(plan) == expected
    assert {c.path for c in plan.changes} == set(files)
    # the fingerprint changes exactly when a model input changed
    assert plan.fingerprint_changed == ("retrain" in expected)


def test_docs_only_change_says_why_nothing_deploys(branch: Path) -> None:
    head = commit(branch, "docs", {"docs/guide.md": "v2\n"})
    plan = plan_changes(branch, "v0", head)
    assert plan.stages[Stage.UNIT_TESTS].reasons == (
        "docs changed alone: no test suite runs (paths.docs_run_tests: false)",
    )
    assert plan.stages[Stage.RETRAIN].reasons == (
        "no training, features, data_config, orchestration, everything or unclassified path "
        "changed",
    )
    assert plan.stages[Stage.REDEPLOY_SERVING].reasons == (
        "no serving path changed and the model is the same",
    )
    assert plan.reused_model is None


def test_hyperparameter_and_snapshot_changes_are_named(branch: Path) -> None:
    head = commit(
        branch,
        "tune",
        {"params.yaml": "train:\n  lr: 0.01\n  epochs: 10\n", "data.yaml": "snapshot_id: s2\n"},
    )
    plan = plan_changes(branch, "v0", head)
    reasons = plan.stages[Stage.RETRAIN].reasons
    assert "hyperparameters changed: params.yaml:train.lr" in reasons
    assert "data snapshot changed: data.yaml: 2026-01-01 -> s2" in reasons
    assert plan.head_fingerprint.snapshot_ids == {"data.yaml": "s2"}


def test_whitespace_only_edit_of_training_code_still_retrains(branch: Path) -> None:
    head = commit(branch, "ws", {"src/training/train.py": "def train():\n    return 1 \n"})
    plan = plan_changes(branch, "v0", head)
    assert plan.fingerprint_changed
    assert plan.stages[Stage.RETRAIN].run


def test_rename_counts_for_old_and_new_path(branch: Path) -> None:
    git(branch, "mv", "src/serving/app.py", "src/training/app.py")
    head = commit(branch, "move")
    plan = plan_changes(branch, "v0", head)
    (change,) = plan.changes
    assert (change.status, change.old_path, change.path) == (
        "R",
        "src/serving/app.py",
        "src/training/app.py",
    )
    assert change.score == 100
    assert change.kinds == (Kind.TRAINING, Kind.SERVING)
    assert running(plan) == TESTS_ONLY | {"retrain", "register_model", "redeploy_serving"}
    assert "src/serving/app.py" in plan.stages[Stage.REDEPLOY_SERVING].paths


def test_docs_rename_stays_docs_only(branch: Path) -> None:
    git(branch, "mv", "docs/guide.md", "docs/manual.md")
    plan = plan_changes(branch, "v0", commit(branch, "rename docs"))
    assert [c.status for c in plan.changes] == ["R"]
    assert running(plan) == set()


def test_deletion_of_a_feature_definition(branch: Path) -> None:
    git(branch, "rm", "-q", "features/churn.py")
    plan = plan_changes(branch, "v0", commit(branch, "drop features"))
    (change,) = plan.changes
    assert (change.status, change.path, change.kinds) == (
        "D",
        "features/churn.py",
        (Kind.FEATURES,),
    )
    assert plan.stages[Stage.FEATURE_PIPELINE].run
    assert plan.stages[Stage.RETRAIN].run


def test_copy_counts_for_the_new_path_only(branch: Path) -> None:
    # git reports a copy (-C) when the source changes in the same commit
    original = INITIAL["src/serving/app.py"]
    head = commit(
        branch,
        "copy serving code into training",
        {"src/training/app.py": original, "src/serving/app.py": original + "# changed\n"},
    )
    plan = plan_changes(branch, "v0", head)
    statuses = {c.path: (c.status, c.old_path, c.kinds) for c in plan.changes}
    assert statuses["src/training/app.py"] == ("C", "src/serving/app.py", (Kind.TRAINING,))
    assert statuses["src/serving/app.py"] == ("M", None, (Kind.SERVING,))


def test_type_change_file_to_symlink(branch: Path) -> None:
    (branch / "src/serving/app.py").unlink()
    (branch / "src/serving/app.py").symlink_to("../training/train.py")
    plan = plan_changes(branch, "v0", commit(branch, "symlink"))
    (change,) = plan.changes
    assert (change.status, change.kinds) == ("T", (Kind.SERVING,))
    assert running(plan) == TESTS_ONLY | {"redeploy_serving"}


def test_no_change_runs_nothing(repo: Path) -> None:
    plan = plan_changes(repo, "v0", "v0")
    assert plan.changes == ()
    assert running(plan) == set()
    assert plan.summary == "no changes: nothing to run"


# -- merges and reverts ---------------------------------------------------------------------


def test_merge_commit_plans_what_the_merged_branch_brought(branch: Path) -> None:
    name = git(branch, "rev-parse", "--abbrev-ref", "HEAD")
    git(branch, "checkout", "-q", "-b", f"{name}-feature")
    commit(branch, "serving fix", {"src/serving/app.py": "def predict():\n    return 2\n"})
    git(branch, "checkout", "-q", name)
    before = commit(branch, "docs on main", {"docs/guide.md": "main docs\n"})
    git(branch, "merge", "-q", "--no-ff", "-m", "merge feature", f"{name}-feature")
    merge = git(branch, "rev-parse", "HEAD")
    assert len(git(branch, "rev-list", "--parents", "-n1", merge).split()) == 3

    plan = plan_changes(branch, before, merge)
    assert plan.merge_bases == (before,)
    assert [c.path for c in plan.changes] == ["src/serving/app.py"]
    assert running(plan) == TESTS_ONLY | {"redeploy_serving"}

    # a pull request of the feature branch against main: three-dot semantics, main's own
    # docs change is not the branch's change
    pr = plan_changes(branch, before, f"{name}-feature")
    assert [c.path for c in pr.changes] == ["src/serving/app.py"]
    assert pr.merge_bases == (git(branch, "rev-parse", "v0"),)


def test_branch_behind_base_retrains_although_its_diff_has_no_model_change(branch: Path) -> None:
    name = git(branch, "rev-parse", "--abbrev-ref", "HEAD")
    git(branch, "checkout", "-q", "-b", f"{name}-docs")
    head = commit(branch, "docs", {"docs/guide.md": "pr docs\n"})
    git(branch, "checkout", "-q", name)
    base = commit(
        branch, "main retrains", {"src/training/train.py": "def train():\n    return 9\n"}
    )

    plan = plan_changes(branch, base, head)
    assert [c.path for c in plan.changes] == ["docs/guide.md"]
    assert plan.fingerprint_changed, "head lacks base's training change"
    assert plan.stages[Stage.RETRAIN].run
    assert "model inputs differ from base's (base has changes head lacks)" in (
        plan.stages[Stage.RETRAIN].reasons
    )


def test_revert_restoring_identical_content_reuses_the_registered_model(branch: Path) -> None:
    name = git(branch, "rev-parse", "--abbrev-ref", "HEAD")
    bad = commit(
        branch, "bad training change", {"src/training/train.py": "def train():\n    1/0\n"}
    )
    # main reverts it; a hotfix branch cut from the bad commit reverts it too
    git(branch, "checkout", "-q", "-b", f"{name}-hotfix")
    git(branch, "revert", "--no-commit", bad)
    git(branch, "commit", "-q", "-m", "hotfix: revert the bad training change")
    hotfix = commit(branch, "hotfix docs", {"docs/guide.md": "incident notes\n"})
    git(branch, "checkout", "-q", name)
    git(branch, "revert", "--no-edit", bad)
    main = git(branch, "rev-parse", "HEAD")

    plan = plan_changes(branch, main, hotfix)
    assert plan.merge_bases == (bad,)
    assert {c.path for c in plan.changes} == {"src/training/train.py", "docs/guide.md"}
    assert not plan.fingerprint_changed
    retrain = plan.stages[Stage.RETRAIN]
    assert not retrain.run and not plan.stages[Stage.REGISTER_MODEL].run
    fingerprint = plan.head_fingerprint.digest
    assert (
        retrain.reasons[0] == f"model fingerprint unchanged: reuse registered model {fingerprint}"
    )
    assert retrain.paths == ("src/training/train.py",)
    assert plan.reused_model == fingerprint
    assert running(plan) == TESTS_ONLY
    assert f"reuse registered model {fingerprint}" in plan.summary

    # the revert itself, pushed on main: its fingerprint is v0's; without the registry's
    # word it retrains, with it the model registered for v0 is reused and served
    v0 = plan_changes(branch, "v0", "v0").head_fingerprint.digest
    assert plan_changes(branch, "v0", main).changes == ()  # endpoints identical: no diff
    push = plan_changes(branch, bad, main)
    assert push.head_fingerprint.digest == v0
    assert push.stages[Stage.RETRAIN].run
    reused = plan_changes(branch, bad, main, registered=[v0.removeprefix("sha256:")])
    assert not reused.stages[Stage.RETRAIN].run
    assert reused.stages[Stage.RETRAIN].reasons[0] == (
        f"model fingerprint {v0} is already registered: reuse registered model {v0}"
    )
    assert reused.stages[Stage.REDEPLOY_SERVING].run, "serving must switch models"


def test_criss_cross_merges_union_every_merge_base(tmp_path: Path) -> None:
    repo = init(tmp_path / "cc")
    commit(repo, "x", INITIAL)
    git(repo, "checkout", "-q", "-b", "b")
    b1 = commit(repo, "b1", {"src/serving/app.py": "b\n"})
    git(repo, "checkout", "-q", "main")
    a1 = commit(repo, "a1", {"docs/guide.md": "a\n"})
    git(repo, "merge", "-q", "--no-ff", "-m", "a2", b1)
    git(repo, "checkout", "-q", "b")
    git(repo, "merge", "-q", "--no-ff", "-m", "b2", a1)
    commit(repo, "b3", {"features/churn.py": "b3\n"})
    plan = plan_changes(repo, "main", "b")
    assert sorted(plan.merge_bases) == sorted([a1, b1])
    assert {c.path for c in plan.changes} >= {"features/churn.py"}
    assert plan.stages[Stage.FEATURE_PIPELINE].run


# -- bad input -------------------------------------------------------------------------------


def test_unknown_revision_is_a_clear_error(repo: Path) -> None:
    with pytest.raises(ChangesError, match=r"--head 'no-such-branch': no such commit"):
        plan_changes(repo, "v0", "no-such-branch")


def test_a_revision_is_never_read_as_an_option(repo: Path) -> None:
    with pytest.raises(ChangesError, match="no such commit"):
        plan_changes(repo, "--all", "v0")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(ChangesError, match="is not a git repository"):
        plan_changes(tmp_path, "a", "b")
    with pytest.raises(ChangesError, match="no such directory"):
        plan_changes(tmp_path / "missing", "a", "b")


def test_unrelated_histories(tmp_path: Path) -> None:
    repo = init(tmp_path / "two")
    first = commit(repo, "one", {"a.txt": "a\n"})
    git(repo, "checkout", "-q", "--orphan", "other")
    second = commit(repo, "two", {"b.txt": "b\n"})
    with pytest.raises(ChangesError, match="share no history"):
        plan_changes(repo, first, second)


def test_works_in_a_bare_clone_and_from_a_subdirectory(repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    head = git(repo, "rev-parse", "main")
    assert plan_changes(bare, "v0", head).head == head
    assert plan_changes(repo / "src", "v0", head).head == head


# -- classification and globs ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kinds"),
    [
        ("src/training/model/train.py", {Kind.TRAINING}),
        ("training/run.py", {Kind.TRAINING}),
        ("features/a/b.py", {Kind.FEATURES}),
        ("config/prod/data.yaml", {Kind.DATA_CONFIG}),
        ("params.yaml", {Kind.DATA_CONFIG}),
        ("src/params.yaml", {Kind.UNCLASSIFIED}),  # patterns are anchored at the root
        ("src/serving/api.py", {Kind.SERVING}),
        ("pipeline.yaml", {Kind.ORCHESTRATION}),
        ("pipelines/nightly.yaml", {Kind.ORCHESTRATION}),
        ("tests/unit/test_a.py", {Kind.TESTS}),
        ("README.md", {Kind.DOCS}),
        ("docs/a/b.png", {Kind.DOCS}),
        ("src/training/README.md", {Kind.TRAINING}),  # *.md does not cross directories
        ("LICENSE", {Kind.DOCS}),
        ("setup.py", {Kind.EVERYTHING}),
        ("Makefile", {Kind.EVERYTHING}),
        ("requirements-dev.txt", {Kind.EVERYTHING}),
        (".github/workflows/pr.yml", {Kind.CI}),
        (".gitlab-ci.yml", {Kind.CI}),
        ("pipelines/prediction/batch.json", {Kind.PREDICTION_ORCHESTRATION}),
        ("pipelines/training.json", {Kind.ORCHESTRATION}),
        ("src/common/util.py", {Kind.UNCLASSIFIED}),
    ],
)
def test_default_rules(path: str, kinds: set[Kind]) -> None:
    assert PathRules.from_config(PathRulesConfig()).classify(path) == kinds


def test_a_path_matching_two_kinds_counts_for_both() -> None:
    rules = PathRules.from_config(PathRulesConfig(docs=("**/*.md",)))
    assert rules.classify("src/training/README.md") == {Kind.TRAINING, Kind.DOCS}
    changes = classify_changes([DiffEntry("M", "src/training/README.md")], rules)
    fingerprints = _fake_fingerprints(changed=True)
    stages, _ = decide(changes, *fingerprints)
    assert stages[Stage.RETRAIN].run, "a docs rule never shadows a training rule"


GLOB_PATHS = [
    "README.md",
    "LICENSE",
    "params.yaml",
    "docs/c.md",
    "docs/a/b.md",
    "src/a.py",
    "src/params.yaml",
    "src/training/README.md",
    "src/training/x/t.py",
    "srcx/a/b.py",
    "training/y.py",
    "features/f.py",
    "a-b/c[1].txt",
]
GLOB_PATTERNS = [
    "*.md",
    "**/*.md",
    "**.md",
    "docs",
    "docs/",
    "docs/**",
    "docs/*",
    "src/training/**",
    "src/training",
    "src/*",
    "src/**/t.py",
    "src/**/**/t.py",
    "src/**.py",
    "src**",
    "src**/t.py",
    "src/tr*",
    "src/tr[a-z]ining/**",
    "src/tr[!a]ining/**",
    "do[!x]s/*.md",
    "**/training",
    "**/training/**",
    "**",
    "params.yaml",
    "?????.yaml",
    "a-b/c\\[1].txt",
    "a-b/c[[]1].txt",
    "README.md/",
    "src/**/",
    "[",
]


def test_globs_match_exactly_what_git_matches(tmp_path: Path) -> None:
    repo = init(tmp_path / "globs")
    write(repo, dict.fromkeys(GLOB_PATHS, ""))
    git(repo, "add", "-A")
    for pattern in GLOB_PATTERNS:
        listed = git(repo, "ls-files", "-z", "--", f":(glob){pattern}").split("\0")
        expected = {p for p in listed if p}
        glob = compile_glob(pattern)
        assert {p for p in GLOB_PATHS if glob.matches(p)} == expected, pattern


def test_patterns_git_would_read_differently_are_refused() -> None:
    with pytest.raises(GlobError, match="POSIX"):
        compile_glob("[[:alpha:]]*.py")
    with pytest.raises(GlobError, match="relative to the repository root"):
        compile_glob("/docs/**")


# -- output: JSON shape, text, CLI -----------------------------------------------------------


def test_json_shape(branch: Path) -> None:
    git(branch, "mv", "features/churn.py", "features/customer.py")
    head = commit(branch, "rename features", {"docs/guide.md": "x\n"})
    document = plan_to_json(plan_changes(branch, "v0", head))
    assert list(document) == [
        "version",
        "repository",
        "base",
        "head",
        "base_revision",
        "head_revision",
        "merge_bases",
        "fingerprint",
        "changes",
        "stages",
        "serving",
        "summary",
    ]
    assert document["version"] == 1
    assert document["base"] == git(branch, "rev-parse", "v0") and document["base_revision"] == "v0"
    assert document["head"] == head
    fingerprint = document["fingerprint"]
    assert set(fingerprint) == {
        "base",
        "head",
        "changed",
        "reused_model",
        "components",
        "files",
        "snapshot_ids",
    }
    assert fingerprint["base"].startswith("sha256:") and len(fingerprint["base"]) == 71
    assert fingerprint["changed"] is True
    assert list(fingerprint["components"]) == [
        "training",
        "features",
        "data_config",
        "orchestration",
        "unclassified",
    ]
    assert fingerprint["components"]["features"]["changed"] is True
    assert fingerprint["components"]["training"]["changed"] is False
    assert fingerprint["snapshot_ids"]["head"] == {"data.yaml": "2026-01-01"}
    assert document["changes"] == [
        {
            "path": "docs/guide.md",
            "status": "M",
            "kinds": ["docs"],
            "old_path": None,
            "score": None,
        },
        {
            "path": "features/customer.py",
            "status": "R",
            "kinds": ["features"],
            "old_path": "features/churn.py",
            "score": 100,
        },
    ]
    assert list(document["stages"]) == ALL_STAGES
    for decision in document["stages"].values():
        assert set(decision) == {"run", "reasons", "paths"}
        assert isinstance(decision["run"], bool) and decision["reasons"]
    assert document["stages"]["feature_pipeline"]["paths"] == [
        "features/churn.py",
        "features/customer.py",
    ]
    assert document["summary"].startswith("2 changed paths (features 1, docs 1); run: ")
    json.dumps(document)  # plain JSON values only


def test_text_output(branch: Path) -> None:
    head = commit(branch, "serving", {"src/serving/app.py": "def predict():\n    return 5\n"})
    text = plan_to_text(plan_changes(branch, "v0", head))
    assert "  M  src/serving/app.py  [serving]" in text
    assert "  run  redeploy_serving      serving changed: src/serving/app.py" in text
    assert "  skip retrain" in text


runner = CliRunner()


def test_cli_json_and_exit_0(repo: Path) -> None:
    result = runner.invoke(app, ["changes", "--repo", str(repo), "--base", "v0", "--head", "v0"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["summary"] == "no changes: nothing to run"


def test_cli_bad_revision_exits_2_with_a_clear_message(repo: Path) -> None:
    result = runner.invoke(app, ["changes", "--repo", str(repo), "--base", "nope"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "ndap changes: --base 'nope': no such commit in" in result.stderr


def test_cli_not_a_repository_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["changes", "--repo", str(tmp_path), "--base", "main"])
    assert result.exit_code == 2
    assert "is not a git repository" in result.stderr


def test_cli_project_rules_and_unknown_project(repo: Path) -> None:
    args = ["changes", "--repo", str(repo), "--base", "v0", "-c", str(REFERENCE), "--format"]
    result = runner.invoke(app, [*args, "text", "--project", "churn-prediction"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("changes v0 (")
    result = runner.invoke(app, [*args, "json", "--project", "nope"])
    assert result.exit_code == 2
    assert "unknown project 'nope'" in result.stderr and "churn-prediction" in result.stderr


def test_cli_invalid_configuration_exits_2(repo: Path) -> None:
    bad = FIXTURES / "invalid" / "many-problems.yaml"
    result = runner.invoke(
        app, ["changes", "--repo", str(repo), "--base", "v0", "-c", str(bad), "--project", "x"]
    )
    assert result.exit_code == 2
    assert "is not a valid configuration" in result.stderr


def test_ndap_changes_is_a_registered_command(repo: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ndap_infra", "changes", "--repo", str(repo), "--base", "v0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["base_revision"] == "v0"


# -- real public histories -------------------------------------------------------------------

MLOPSPYTHON_RULES = PathRulesConfig(
    training=("diabetes_regression/training/**", "diabetes_regression/evaluate/**"),
    features=(),
    data_config=("diabetes_regression/parameters.json", "data/*.csv"),
    serving=("diabetes_regression/scoring/**", "charts/**"),
    orchestration=(".pipelines/**", "ml_service/pipelines/**"),
    tests=("**/test_*.py", "**/*_test.py"),
    docs=("docs/**", "**/*.md", "LICENSE"),
)


def _fake_fingerprints(changed: bool) -> tuple[Fingerprint, Fingerprint]:
    components = {kind: "0" * 64 for kind in Kind if kind in MODEL_KINDS}

    def make(digest: str) -> Fingerprint:
        return Fingerprint("c", digest, components, 0, {}, {})

    return make("sha256:" + "1" * 64), make("sha256:" + ("2" if changed else "1") * 64)


def _recorded_history() -> dict[str, list[DiffEntry]]:
    """tests/fixtures/history/microsoft-MLOpsPython.txt: the real `git log -M --name-status`
    of microsoft/MLOpsPython at 98a610f (paths and statuses only)."""
    commits: dict[str, list[DiffEntry]] = {}
    current: list[DiffEntry] = []
    for line in (FIXTURES / "history" / "microsoft-MLOpsPython.txt").read_text().splitlines():
        if line.startswith("#") or not line:
            continue
        if line.startswith("commit "):
            current = commits.setdefault(line.split()[1][:7], [])
            continue
        status, *paths = line.split("\t")
        if status[0] in "RC":
            current.append(DiffEntry(status[0], paths[1], paths[0], int(status[1:])))
        else:
            current.append(DiffEntry(status[0], paths[0]))
    return commits


@pytest.mark.parametrize(
    ("commit_id", "expected"),
    [
        ("98a610f", set()),  # getting-started doc and images: no test runs for docs alone
        ("4a9a1ff", TESTS_ONLY | {"redeploy_serving"}),  # batch scoring fix + docs
        ("d081fc2", TESTS_ONLY | {"retrain", "register_model", "redeploy_serving"}),  # evaluate
        ("d8e29cc", TESTS_ONLY | {"redeploy_serving"}),  # AKS deployment config + docs
        ("4b2667e", set(ALL_STAGES)),  # ml_service/util/*: no rule says what it is
    ],
)
def test_recorded_mlopspython_commits(commit_id: str, expected: set[str]) -> None:
    entries = _recorded_history()[commit_id]
    changes = classify_changes(entries, PathRules.from_config(MLOPSPYTHON_RULES))
    # linear history: the fingerprint changes exactly when a model input path changed
    model_changed = any(kind in MODEL_KINDS for c in changes for kind in c.kinds)
    stages, _ = decide(changes, *_fake_fingerprints(model_changed))
    assert {stage.value for stage, d in stages.items() if d.run} == expected


def test_recorded_mlopspython_history_parses_whole() -> None:
    history = _recorded_history()
    assert len(history) == 429
    statuses = {entry.status for entries in history.values() for entry in entries}
    assert statuses == {"A", "D", "M", "R"}


REAL_REPOS = Path(os.environ.get("NDAP_REAL_REPOS", "no-real-repositories-given"))
GET_STARTED = REAL_REPOS / "iterative+example-get-started" / "repo"
MLOPSPYTHON = REAL_REPOS / "microsoft+MLOpsPython" / "repo"
DVC_RULES = PathRulesConfig(
    training=("src/train.py", "src/evaluate.py"),
    features=("src/prepare.py", "src/featurization.py"),
    data_config=("params.yaml", "data/*.dvc", "dvc.lock"),
    serving=(),
    orchestration=("dvc.yaml", ".github/workflows/**", ".gitlab-ci.yml", ".dvc/**"),
    tests=(),
    docs=("**/*.md",),
)


def _real(repo: Path, *commits: str) -> Path:
    """A fetched public repository, or skip: the network here reaches no git host, so
    these run where snapshots were fetched, under NDAP_REAL_REPOS as <owner>+<name>/repo
    (the recorded MLOpsPython history above runs everywhere)."""
    if not repo.is_dir():
        pytest.skip(f"no snapshot of {repo.parent.name} under {REAL_REPOS}")
    for commit_id in commits:
        if subprocess.run(["git", "-C", str(repo), "cat-file", "-e", commit_id]).returncode:
            pytest.skip(f"{repo.parent.name} snapshot lacks {commit_id}")
    return repo


def test_real_dvc_project_data_snapshot_and_hyperparameters() -> None:
    repo = _real(GET_STARTED, "d82611b", "64764c6", "0d46eb4", "e4bc9b0", "06ea489", "c0c556d")
    # "Import raw data (overwrite)": the DVC pointer of the data became an import from the
    # dataset registry. The data (its md5) is the same, the pointer's content is not: the
    # fingerprint is content-based, so this retrains (conservative), naming no snapshot change
    plan = plan_changes(repo, "d82611b", "64764c6", DVC_RULES)
    assert [(c.path, c.kinds) for c in plan.changes] == [("data/data.xml.dvc", (Kind.DATA_CONFIG,))]
    assert running(plan) == TESTS_ONLY | {"retrain", "register_model", "redeploy_serving"}
    snapshot = {"data/data.xml.dvc": "md5:22a1a2931c8370d3aeedd7183606fd7f"}
    assert plan.base_fingerprint.snapshot_ids == plan.head_fingerprint.snapshot_ids == snapshot
    assert not any("snapshot" in r for r in plan.stages[Stage.RETRAIN].reasons)
    # "Reproduce model using bigrams": the hyperparameters that changed are named
    plan = plan_changes(repo, "0d46eb4", "e4bc9b0", DVC_RULES)
    assert (
        "hyperparameters changed: params.yaml:featurize.max_features, params.yaml:featurize.ngrams"
        in (plan.stages[Stage.RETRAIN].reasons)
    )
    assert not plan.stages[Stage.FEATURE_PIPELINE].run
    # "Try a 40K dataset (4x data)" on the try-large-dataset branch: a new data snapshot
    plan = plan_changes(repo, "06ea489", "c0c556d", DVC_RULES)
    assert (
        "data snapshot changed: data/data.xml.dvc: md5:22a1a2931c8370d3aeedd7183606fd7f -> "
        "md5:4bd325a30d5f1d5ea1a451d98767ddde"
    ) in plan.stages[Stage.RETRAIN].reasons


def test_real_dvc_project_merge_commit() -> None:
    # 2a4eb22 is GitHub's merge of the tune-hyperparams branch (bea12fe) into 06ea489
    repo = _real(GET_STARTED, "06ea489", "2a4eb22")
    plan = plan_changes(repo, "06ea489", "2a4eb22", DVC_RULES)
    assert {c.path for c in plan.changes} == {"dvc.lock", "params.yaml"}
    assert running(plan) == TESTS_ONLY | {"retrain", "register_model", "redeploy_serving"}


def test_real_revert_reuses_the_model_registered_before_the_reverted_merge() -> None:
    # 52a7ce1 reverts the accidental merge f580ae9, restoring 44f2e73's tree exactly
    repo = _real(MLOPSPYTHON, "44f2e73", "f580ae9", "52a7ce1")
    rules = PathRulesConfig(training=("code/training/**",), serving=("code/scoring/**",))
    before = plan_changes(repo, "44f2e73", "44f2e73", rules).head_fingerprint.digest
    plan = plan_changes(repo, "f580ae9", "52a7ce1", rules, registered=[before])
    assert {c.path for c in plan.changes} == {
        "code/scoring/score.py",
        "code/training/train.py",
        "tests/unit/test_train.py",
    }
    assert plan.head_fingerprint.digest == before
    assert not plan.stages[Stage.RETRAIN].run
    assert plan.reused_model == before
    assert plan.stages[Stage.REDEPLOY_SERVING].run


def test_recorded_mlopspython_skip_figures() -> None:
    """Over the whole real history (non-merge commits), how many pushes would have skipped
    retraining under these path rules: the figure quoted in the closing note."""
    rules = PathRules.from_config(MLOPSPYTHON_RULES)
    retrained = skipped = tests_only = serving_only = 0
    for entries in _recorded_history().values():
        if not entries:
            continue  # a merge commit: git log lists no paths for it
        changes = classify_changes(entries, rules)
        model_changed = any(kind in MODEL_KINDS for c in changes for kind in c.kinds)
        stages, _ = decide(changes, *_fake_fingerprints(model_changed))
        run = {stage.value for stage, d in stages.items() if d.run}
        if "retrain" in run:
            retrained += 1
            continue
        skipped += 1
        tests_only += run <= TESTS_ONLY
        serving_only += run == TESTS_ONLY | {"redeploy_serving"}
    print(
        f"MLOpsPython: {skipped} of {retrained + skipped} commits skip retraining "
        f"({tests_only} tests/docs only, {serving_only} serving only)"
    )
    assert (retrained, skipped, tests_only, serving_only) == (254, 122, 118, 4)
