"""The project scaffold fits the pipelines that will build it.

GIVEN a project's scaffold (written by ``scaffold_files``/``write_scaffold``, as
``ndap add-project --scaffold`` does), THEN ``make model`` honours the variables the
deploy step passes, and the repository holds every file the generated buildspecs read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ndap_infra.bootstrap.scaffold import scaffold_files, write_scaffold
from ndap_infra.config.enums import ProjectKind
from ndap_infra.config.load import validate_data
from ndap_infra.config.model import MlProjectConfig, NdapConfig
from tests.helpers import reference_data

PYTHON_BIN = str(Path(sys.executable).parent)


def project_of(kind: ProjectKind) -> tuple[NdapConfig, MlProjectConfig]:
    config, issues = validate_data(reference_data())
    assert config is not None, issues
    return config, next(p for p in config.ml_projects if p.kind is kind)


def scaffold(tmp_path: Path, kind: ProjectKind) -> Path:
    config, project = project_of(kind)
    repo = tmp_path / project.name
    write_scaffold(repo, scaffold_files(config, project))
    return repo


# ---- make model and the retraining contract ----------------------------------------------


def make_model(repo: Path, **contract: str) -> subprocess.CompletedProcess[str]:
    """``make model`` as the deploy step runs it: the contract's variables exported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NDAP_")}
    env.update(contract, PATH=os.pathsep.join([PYTHON_BIN, env["PATH"]]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        ["make", "model"], cwd=repo, env=env, capture_output=True, text=True, check=False
    )


def archive_members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
        }


def set_targets(repo: Path, targets: str) -> None:
    params = repo / "config" / "params.yaml"
    text = params.read_text().replace('inference_image: ""', "inference_image: repo/image:1")
    text = text[: text.index("  targets:")] + f"  targets: {targets}\n"
    params.write_text(text)


@pytest.fixture
def trained(tmp_path: Path) -> tuple[Path, Path]:
    """A batch scaffold, trained once from scratch on [1, 2, 6]; that model kept aside as
    the one the environment runs (what the deploy step hands as NDAP_PREVIOUS_MODEL)."""
    if shutil.which("make") is None:
        pytest.skip("needs make")
    repo = scaffold(tmp_path, ProjectKind.BATCH)
    set_targets(repo, "[1.0, 2.0, 6.0]")
    first = make_model(repo, NDAP_RETRAIN="true", NDAP_TRAINING_MODE="from-scratch")
    assert first.returncode == 0, first.stderr
    previous = tmp_path / "previous-model.tar.gz"
    shutil.copyfile(repo / "dist" / "model.tar.gz", previous)
    assert json.loads(archive_members(previous)["model.json"]) == {"mean": 3.0, "count": 3.0}
    return repo, previous


def model_in(repo: Path) -> dict[str, float]:
    model: dict[str, float] = json.loads(archive_members(repo / "dist/model.tar.gz")["model.json"])
    return model


def metadata_of(repo: Path) -> dict[str, str]:
    metadata: dict[str, str] = json.loads((repo / "dist" / "model-metadata.json").read_text())
    return metadata


def test_make_model_from_scratch_ignores_the_previous_model(trained: tuple[Path, Path]) -> None:
    repo, previous = trained
    set_targets(repo, "[7.0]")
    done = make_model(
        repo,
        NDAP_RETRAIN="true",
        NDAP_TRAINING_MODE="from-scratch",
        NDAP_PREVIOUS_MODEL=str(previous),
    )
    assert done.returncode == 0, done.stderr
    assert model_in(repo) == {"mean": 7.0, "count": 1.0}
    assert metadata_of(repo)["training_mode"] == "from-scratch"


def test_make_model_from_previous_state_warm_starts(trained: tuple[Path, Path]) -> None:
    repo, previous = trained
    set_targets(repo, "[7.0]")
    done = make_model(
        repo,
        NDAP_RETRAIN="true",
        NDAP_TRAINING_MODE="from-previous-state",
        NDAP_PREVIOUS_MODEL=str(previous),
    )
    assert done.returncode == 0, done.stderr
    # the previous model saw 1, 2, 6; with 7 the mean of all four is 4
    assert model_in(repo) == {"mean": 4.0, "count": 4.0}
    assert metadata_of(repo)["training_mode"] == "from-previous-state"


def test_make_model_without_retraining_packages_the_previous_model_with_new_serving_code(
    trained: tuple[Path, Path],
) -> None:
    repo, previous = trained
    set_targets(repo, "[100.0]")  # would change the model, if it trained
    predict = repo / "src" / "serving" / "predict.py"
    predict.write_text(predict.read_text() + "\n# tuned serving\n")
    done = make_model(
        repo, NDAP_RETRAIN="false", NDAP_TRAINING_MODE="none", NDAP_PREVIOUS_MODEL=str(previous)
    )
    assert done.returncode == 0, done.stderr
    members = archive_members(repo / "dist" / "model.tar.gz")
    assert members["model.json"] == archive_members(previous)["model.json"]
    assert members["code/predict.py"] == predict.read_bytes()
    assert members["code/predict.py"] != archive_members(previous)["code/predict.py"]
    assert metadata_of(repo)["training_mode"] == "none"


def test_the_same_inputs_make_the_same_archive(trained: tuple[Path, Path]) -> None:
    """Digest-checked promotion needs it: building twice gives the same sha256."""
    repo, previous = trained
    assert make_model(repo, NDAP_RETRAIN="true").returncode == 0
    assert (repo / "dist" / "model.tar.gz").read_bytes() == previous.read_bytes()


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        ({"NDAP_RETRAIN": "false"}, "but NDAP_PREVIOUS_MODEL is not set"),
        ({"NDAP_RETRAIN": "maybe"}, "NDAP_RETRAIN='maybe': expected true or false"),
        ({"NDAP_TRAINING_MODE": "warm"}, "NDAP_TRAINING_MODE='warm': expected one of"),
        (
            {"NDAP_TRAINING_MODE": "from-previous-state"},
            "starts from NDAP_PREVIOUS_MODEL, which is not set",
        ),
        (
            {"NDAP_RETRAIN": "false", "NDAP_PREVIOUS_MODEL": "missing.tar.gz"},
            "cannot read the model in missing.tar.gz",
        ),
    ],
)
def test_make_model_refuses_a_contract_it_cannot_honour(
    trained: tuple[Path, Path], contract: dict[str, str], message: str
) -> None:
    repo, _ = trained
    (repo / "dist" / "model.tar.gz").unlink()
    done = make_model(repo, **contract)
    assert done.returncode != 0 and message in done.stderr, done.stderr
    assert not (repo / "dist" / "model.tar.gz").exists()


def test_the_model_archive_holds_the_serving_code(trained: tuple[Path, Path]) -> None:
    repo, previous = trained
    members = archive_members(previous)
    assert sorted(members) == ["code/predict.py", "model.json"]
    assert members["code/predict.py"] == (repo / "src/serving/predict.py").read_bytes()
