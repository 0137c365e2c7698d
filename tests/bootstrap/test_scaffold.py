"""The project scaffold fits the pipelines that will build it.

GIVEN a project's scaffold (written by ``scaffold_files``/``write_scaffold``, as
``ndap add-project --scaffold`` does), THEN ``make model`` honours the variables the
deploy step passes, and the repository holds every file the generated buildspecs read."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from ndap_infra.bootstrap.images import IMAGES_TEST, image_placeholders
from ndap_infra.bootstrap.scaffold import pipeline_definitions, scaffold_files, write_scaffold
from ndap_infra.config.enums import ProjectKind
from ndap_infra.config.load import validate_data
from ndap_infra.config.model import MlProjectConfig, NdapConfig
from ndap_infra.names.pipelines import ORCHESTRATION_DEFINITION, TRAINING_DEFINITION
from ndap_infra.pipelines.buildspecs import IMAGE_CHECK, script
from ndap_infra.pipelines.spec import tooling_spec
from tests.helpers import bash, reference_data

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


# ---- images: a fresh scaffold fails its own check until they are set ----------------------


def unit_tests(repo: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *paths],
        cwd=repo,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )


def image_repository_of(config: NdapConfig, project: MlProjectConfig) -> str:
    """The repository the synthesized deploy step accepts images from (its variable)."""
    spec = tooling_spec(config)
    assert spec is not None
    stages = next(p.stages for p in spec.projects if p.name == project.name)
    deploy = next(b for s in stages for b in s.builds if b.purpose == "deploy")
    repository: str = yaml.safe_load(deploy.buildspec)["env"]["variables"]["IMAGE_REPOSITORY"]
    return repository


def set_images(repo: Path, image: str) -> None:
    """What the README's first steps ask: every image named, here all the same one."""
    params = repo / "config" / "params.yaml"
    params.write_text(
        params.read_text().replace('inference_image: ""', f'inference_image: "{image}"')
    )
    for definition in (repo / "pipelines").glob("*.json"):
        definition.write_text(definition.read_text().replace('"replace-me"', f'"{image}"'))


@pytest.mark.parametrize("kind", list(ProjectKind))
def test_a_fresh_scaffold_fails_its_check_naming_each_image_to_set(
    tmp_path: Path, kind: ProjectKind
) -> None:
    config, project = project_of(kind)
    repo = scaffold(tmp_path, kind)
    readme = (repo / "README.md").read_text()
    placeholders = image_placeholders(pipeline_definitions(project))
    assert len(placeholders) == 1  # batch: the training image; realtime: the processing one
    fresh = unit_tests(repo, IMAGES_TEST)
    assert fresh.returncode == 1, fresh.stdout
    repository = image_repository_of(config, project)
    assert f"{repository}@sha256:<digest>" in fresh.stdout
    assert "config/params.yaml: set inference_image (now '')" in fresh.stdout
    for path, where in placeholders:
        assert f"{path}: set {where} (now 'replace-me')" in fresh.stdout
        assert f"Set `{where}` in `{path}`" in readme  # the README's first steps say so
    assert f"`{repository}@sha256:<digest>`" in readme
    # set as the first steps say: the check passes
    set_images(repo, f"{repository}@sha256:{'ab' * 32}")
    done = unit_tests(repo, IMAGES_TEST)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq")
@pytest.mark.parametrize(
    "image",
    [
        "replace-me",
        "{repository}:latest",
        "{repository}@sha256:" + "ab" * 31,
        "{repository}@sha256:" + "AB" * 32,
        "{repository}-other@sha256:" + "ab" * 32,
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme-ml/x@sha256:" + "ab" * 32,
        "{repository}@sha256:" + "ab" * 32,
    ],
)
def test_the_scaffolds_check_agrees_with_the_deploy_steps(tmp_path: Path, image: str) -> None:
    """The scaffold's test accepts exactly the images the deploy step's check accepts."""
    config, project = project_of(ProjectKind.BATCH)
    repo = scaffold(tmp_path, ProjectKind.BATCH)
    repository = image_repository_of(config, project)
    set_images(repo, image.format(repository=repository))
    scaffold_says = unit_tests(repo, IMAGES_TEST).returncode == 0
    deploy = bash(
        script(IMAGE_CHECK, f"ndap_check_images {TRAINING_DEFINITION}"),
        repo,
        {"IMAGE_REPOSITORY": repository},
    )
    assert deploy.returncode in (0, 1), deploy.stderr
    assert scaffold_says is (deploy.returncode == 0), (deploy.stdout, deploy.stderr)
    assert scaffold_says is (image == "{repository}@sha256:" + "ab" * 32)


# ---- every file the generated buildspecs read is in the scaffold -------------------------

PATH_TOKEN = re.compile(
    r"(?<![\w./$:-])(?:file://)?"
    r"((?:[A-Za-z_.][\w.-]*/)*[A-Za-z_][\w.-]*\.(?:json|txt|ya?ml|py|toml|cfg|gz|sha256|log)"
    r"|(?:[A-Za-z_][\w-]*/)+[A-Za-z_][\w-]*)(?![\w/$-])"
)
"""A relative path in a build script: a file name with an extension, or a/b/... ."""
MAKE_TARGET = re.compile(r"\bmake\s+([\w-]+)")
NAMED_IN_STRINGS = {"model.tar.gz": "printf '%s  model.tar.gz\\n'"}
"""Names that occur only inside a string the build writes (the sha256 line's file name)."""


def build_scripts(config: NdapConfig, project: MlProjectConfig) -> list[str]:
    """The commands of every build that runs on the project's repository (acc's register
    step runs only the platform's script: it clones for git, and reads nothing else)."""
    spec = tooling_spec(config)
    assert spec is not None
    pipelines = next(p for p in spec.projects if p.name == project.name)
    scripts = []
    for stage in pipelines.stages:
        for build in stage.builds:
            if build.platform:
                continue
            phases = yaml.safe_load(build.buildspec)["phases"]
            scripts.append("\n".join(c for p in phases.values() for c in p.get("commands", [])))
    return scripts


def written_by_the_build(path: str, script: str) -> bool:
    """``path`` is an output of the script: redirected into, made by ``mkdir -p``, copied
    down from S3, or below ``dist/`` (what ``make model`` writes, the build contract)."""
    quoted = re.escape(path)
    top = re.escape(path.split("/")[0])
    return bool(
        path.startswith("dist/")
        or re.search(rf">\s*\"?{quoted}\b", script)
        or re.search(rf"mkdir -p (?:\S+ )*{top}\b", script)
        or re.search(rf"s3 cp \S+ \"?{quoted}\b", script)
        or (path in NAMED_IN_STRINGS and NAMED_IN_STRINGS[path] in script)
    )


def read_from_the_repository(config: NdapConfig, project: MlProjectConfig) -> set[str]:
    """Every path the builds read from the repository, and ``make <target>`` for each
    make target they run."""
    needed = set()
    for commands in build_scripts(config, project):
        found = PATH_TOKEN.findall(commands)
        needed |= {p for p in found if not written_by_the_build(p, commands)}
        needed |= {f"make {t}" for t in MAKE_TARGET.findall(commands)}
    return needed


def missing_from(files: dict[str, str], needed: set[str]) -> list[str]:
    makefile = files.get("Makefile", "")
    missing = []
    for path in sorted(needed):
        if path.startswith("make "):
            if not re.search(rf"^{re.escape(path[5:])}:", makefile, flags=re.M):
                missing.append(path)
        elif path not in files and not any(f.startswith(path + "/") for f in files):
            missing.append(path)
    return missing


@pytest.mark.parametrize("kind", list(ProjectKind))
def test_the_scaffold_holds_every_file_its_buildspecs_read(kind: ProjectKind) -> None:
    config, project = project_of(kind)
    needed = read_from_the_repository(config, project)
    common = {
        "make model",
        ORCHESTRATION_DEFINITION,
        "requirements-dev.txt",
        "tests/integration",
    }
    expected = common | ({TRAINING_DEFINITION} if kind is ProjectKind.BATCH else set())
    assert needed == expected  # what the builds read, found in their scripts
    files = scaffold_files(config, project)
    assert missing_from(files, needed) == []
    # the negative control: a batch scaffold without its training definition (as before
    # #20) misses what every batch deploy step deploys
    if kind is ProjectKind.BATCH:
        del files[TRAINING_DEFINITION]
        assert missing_from(files, needed) == [TRAINING_DEFINITION]
    del files["Makefile"]
    assert "make model" in missing_from(files, needed)


# ---- the files synth regenerates are the scaffold's ---------------------------------------


@pytest.mark.parametrize("host", ["github", "gitlab", "bitbucket"])
def test_what_synth_writes_for_a_repository_is_the_scaffolds_text(host: str) -> None:
    """``cdktf.out/repositories/<project>/`` holds the files the platform keeps up to date
    (the pull-request job and NDAP.md): each is, byte for byte, the scaffold's, so
    copying them over a repository started from the scaffold changes nothing else."""
    from ndap_infra.stacks.synthesis import repository_files

    data = reference_data()
    for project in data["ml_projects"]:
        project["git_host"] = host
    config, issues = validate_data(data)
    assert config is not None, issues
    synthesized = repository_files(config)
    assert len(synthesized) == 2 * len(config.ml_projects)
    for project in config.ml_projects:
        files = scaffold_files(config, project)
        mine = {
            path.removeprefix(f"{project.name}/"): text
            for path, text in synthesized.items()
            if path.startswith(f"{project.name}/")
        }
        assert mine and all(files[path] == text for path, text in mine.items())
        assert len(files) > len(mine)  # the rest of the repository is the scaffold's


def test_the_checks_tools_are_pinned_to_what_ndap_is_tested_with() -> None:
    """The pull-request job installs requirements-dev.txt: ruff pinned, so a release of
    ruff with new default rules cannot fail a project's check by itself."""
    from importlib.metadata import version

    config, project = project_of(ProjectKind.REALTIME)
    pins = scaffold_files(config, project)["requirements-dev.txt"].splitlines()
    assert pins == [
        f"pytest=={version('pytest')}",
        f"pyyaml=={version('pyyaml')}",
        f"ruff=={version('ruff')}",
    ]
