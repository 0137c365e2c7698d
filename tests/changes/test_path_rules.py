"""Path rules that fit real repositories (#19, item 2): exclusions, prediction-only
orchestration, ci, docs without tests, shared paths, an explicit "run everything" kind,
serving told apart from a new model, and equivalent globs recognised as one rule."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ndap_infra.changes import (
    MODEL_KINDS,
    Kind,
    PathRules,
    Stage,
    classify_changes,
    decide,
    plan_changes,
)
from ndap_infra.config.globs import compile_glob, equivalent, overlap
from ndap_infra.config.model import PathRulesConfig
from tests.changes.test_changes import (
    ALL_STAGES,
    INITIAL,
    MLOPSPYTHON_RULES,
    TESTS_ONLY,
    _fake_fingerprints,
    _recorded_history,
    commit,
    git,
    init,
    running,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = init(tmp_path / "repo")
    commit(
        path,
        "initial",
        {
            **INITIAL,
            "src/training/test_train.py": "def test():\n    assert 1\n",
            "pipelines/prediction/batch.json": '{"steps": ["score"]}\n',
            "lib/common.py": "SCALE = 1\n",
            ".github/workflows/pr.yml": "on: pull_request\n",
        },
    )
    git(path, "tag", "v0")
    return path


CARVED = PathRulesConfig(
    training=("src/training/**", "!src/training/**/test_*.py"),
    tests=("tests/**", "src/training/**/test_*.py"),
)


def test_an_exclusion_carves_tests_out_of_the_training_folder(repo: Path) -> None:
    head = commit(repo, "test", {"src/training/test_train.py": "def test():\n    assert 2\n"})
    plan = plan_changes(repo, "v0", head, CARVED)
    assert running(plan) == TESTS_ONLY
    assert not plan.fingerprint_changed
    # negative control: without the exclusion the same commit retrains
    broad = PathRulesConfig(tests=("tests/**", "src/training/**/test_*.py"))
    assert plan_changes(repo, "v0", head, broad).stages[Stage.RETRAIN].run


def test_a_path_carved_out_of_every_kind_runs_everything(repo: Path) -> None:
    rules = PathRulesConfig(training=("src/training/**", "!src/training/test_train.py"))
    head = commit(repo, "test", {"src/training/test_train.py": "x = 3\n"})
    plan = plan_changes(repo, "v0", head, rules)
    assert plan.changes[0].kinds == (Kind.UNCLASSIFIED,)
    assert running(plan) == set(ALL_STAGES)


def test_prediction_orchestration_redeploys_without_retraining(repo: Path) -> None:
    head = commit(repo, "score", {"pipelines/prediction/batch.json": '{"steps": ["s2"]}\n'})
    plan = plan_changes(repo, "v0", head)
    assert running(plan) == TESTS_ONLY | {"deploy_orchestration"}
    assert plan.stages[Stage.DEPLOY_ORCHESTRATION].reasons == (
        "prediction_orchestration changed: pipelines/prediction/batch.json",
    )
    assert not plan.fingerprint_changed
    # the training pipelines beside it still retrain
    head = commit(repo, "train", {"pipelines/train.yaml": "steps: [train]\n"})
    assert plan_changes(repo, "v0", head).stages[Stage.RETRAIN].run


def test_a_branch_behind_base_redeploys_base_prediction_orchestration(repo: Path) -> None:
    base = commit(repo, "score", {"pipelines/prediction/batch.json": '{"steps": ["s9"]}\n'})
    plan = plan_changes(repo, base, "v0")  # head lacks base's change: the diff is empty
    assert plan.changes == ()
    assert plan.stages[Stage.DEPLOY_ORCHESTRATION].reasons == (
        "prediction_orchestration files differ from base's (base has changes head lacks)",
    )
    assert not plan.stages[Stage.RETRAIN].run


def test_ci_changes_run_the_tests_and_deploy_nothing(repo: Path) -> None:
    head = commit(repo, "ci", {".github/workflows/pr.yml": "on: [pull_request, push]\n"})
    plan = plan_changes(repo, "v0", head)
    assert running(plan) == TESTS_ONLY
    assert plan.stages[Stage.UNIT_TESTS].reasons == ("ci changed: .github/workflows/pr.yml",)


def test_docs_alone_run_tests_only_when_asked(repo: Path) -> None:
    head = commit(repo, "docs", {"docs/guide.md": "new\n"})
    assert running(plan_changes(repo, "v0", head)) == set()
    asked = plan_changes(repo, "v0", head, PathRulesConfig(docs_run_tests=True))
    assert running(asked) == TESTS_ONLY
    # docs with anything else still test
    head = commit(repo, "both", {"docs/guide.md": "newer\n", "tests/test_train.py": "x = 1\n"})
    assert running(plan_changes(repo, "v0", head)) == TESTS_ONLY


def test_a_shared_path_counts_for_each_kind_it_is_said_to_serve(repo: Path) -> None:
    rules = PathRulesConfig(
        shared=({"pattern": "lib/common.py", "kinds": ["training", "serving"]},)
    )
    head = commit(repo, "common", {"lib/common.py": "SCALE = 2\n"})
    plan = plan_changes(repo, "v0", head, rules)
    assert plan.changes[0].kinds == (Kind.TRAINING, Kind.SERVING)
    assert plan.stages[Stage.RETRAIN].run and plan.fingerprint_changed
    assert plan.serving["new_model"].run and plan.serving["serving_code"].run


def test_the_plan_tells_a_new_model_from_serving_code(repo: Path) -> None:
    serving = commit(repo, "serve", {"src/serving/app.py": "def predict():\n    return 9\n"})
    plan = plan_changes(repo, "v0", serving)
    assert not plan.serving["new_model"].run
    assert plan.serving["serving_code"].reasons == ("serving changed: src/serving/app.py",)
    git(repo, "checkout", "-q", "-b", "train", "v0")
    training = commit(repo, "train", {"src/training/train.py": "def train():\n    return 7\n"})
    plan = plan_changes(repo, "v0", training)
    assert plan.serving["new_model"].reasons == ("a new model is trained: serve it",)
    assert not plan.serving["serving_code"].run


def test_everything_is_said_as_such(repo: Path) -> None:
    head = commit(repo, "deps", {"requirements.txt": "numpy==2.0\n"})
    plan = plan_changes(repo, "v0", head)
    assert running(plan) == set(ALL_STAGES)
    assert plan.stages[Stage.RETRAIN].reasons[0] == (
        "everything (a rule says it can change anything): requirements.txt"
    )
    assert plan.fingerprint_changed


# -- a real history ---------------------------------------------------------------------

REFINED = MLOPSPYTHON_RULES.model_copy(
    update={
        "training": (
            "diabetes_regression/training/**",
            "diabetes_regression/evaluate/**",
            "!diabetes_regression/training/test_*.py",
        ),
        "orchestration": (
            ".pipelines/**",
            "ml_service/pipelines/**",
            "!ml_service/pipelines/*batchscore*",
        ),
        "prediction_orchestration": ("ml_service/pipelines/*batchscore*",),
    }
)


def _stages(rules: PathRulesConfig, commit_id: str) -> set[str]:
    changes = classify_changes(_recorded_history()[commit_id], PathRules.from_config(rules))
    model_changed = any(k in MODEL_KINDS for c in changes for k in c.kinds)
    stages, _ = decide(changes, *_fake_fingerprints(model_changed))
    return {stage.value for stage, d in stages.items() if d.run}


def test_mlopspython_batch_scoring_pipeline_no_longer_retrains() -> None:
    """1d789c2 touched docs and the batch-scoring pipeline definition, which sits beside
    the training pipelines in ml_service/pipelines/."""
    assert "retrain" in _stages(MLOPSPYTHON_RULES, "1d789c2")
    assert _stages(REFINED, "1d789c2") == TESTS_ONLY | {"deploy_orchestration"}


def test_mlopspython_refined_rules_never_skip_a_model_change() -> None:
    """Over the whole recorded history: the refined rules retrain on every commit that
    touches training (but its tests), evaluation, data or the training pipelines, and skip
    more commits than the broad rules."""
    history = _recorded_history()
    broad = refined = 0
    for commit_id, entries in history.items():
        if not entries:
            continue
        paths = {e.path for e in entries} | {e.old_path for e in entries if e.old_path}
        model_path = any(
            (
                p.startswith(("diabetes_regression/training/", "diabetes_regression/evaluate/"))
                and not p.split("/")[-1].startswith("test_")
            )
            or p == "diabetes_regression/parameters.json"
            or (p.startswith("ml_service/pipelines/") and "batchscore" not in p)
            for p in paths
        )
        refined_run = _stages(REFINED, commit_id)
        if model_path:
            assert "retrain" in refined_run, commit_id
        broad += "retrain" not in _stages(MLOPSPYTHON_RULES, commit_id)
        refined += "retrain" not in refined_run
    assert (broad, refined) == (122, 123)


# -- equivalent globs -------------------------------------------------------------------

CHARS = st.sampled_from(["a", "b", "/", "*", "?", "[ab]", "[!a]", "**/", "[b]"])
PATTERNS = (
    st.lists(CHARS, min_size=1, max_size=5).map("".join).filter(lambda p: not p.startswith("/"))
)
PATHS = [
    "/".join(parts)
    for n in range(1, 4)
    for parts in product(["a", "b", "ab", "ba", "bb"], repeat=n)
]


@settings(max_examples=300, deadline=None)
@given(PATTERNS, PATTERNS)
def test_equivalence_and_overlap_agree_with_matching(first: str, second: str) -> None:
    a, b = compile_glob(first), compile_glob(second)
    both = [p for p in PATHS if a.matches(p) and b.matches(p)]
    if both:  # a witness within the bounded paths (a longer one may exist otherwise)
        assert overlap(first, second), both[0]
    differing = [p for p in PATHS if a.matches(p) != b.matches(p)]
    if equivalent(first, second) and all(set(x) & set("*?[") for x in (first, second)):
        assert not differing, differing[0]
    if first == second:
        assert equivalent(first, second)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("x/util[s].py", "x/utils.py", True),
        ("src/**/*.py", "src/**/**/*.py", True),
        ("docs", "docs/**", True),
        ("docs/", "docs/**", True),
        ("./docs", "docs", True),
        ("a/[!b]", "a/[^b]", True),
        ("[ba]", "[ab]", True),
        ("a*", "a?", False),
        ("**/x", "x", False),
        ("docs", "doc", False),
        ("*.md", "**/*.md", False),
    ],
)
def test_equivalent_globs(first: str, second: str, same: bool) -> None:
    assert equivalent(first, second) is same
    assert equivalent(second, first) is same
