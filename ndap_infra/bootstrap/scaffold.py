"""The repository scaffold of a new ML project: everything the platform's pipelines and
the change classifier expect to find, ready to commit.

Why and how: docs/design-notes.md, section ndap_infra/bootstrap/scaffold.py."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path

from ndap_infra.bootstrap.files import BootstrapError
from ndap_infra.bootstrap.images import (
    IMAGES_TEST,
    image_example,
    image_placeholders,
    images_test,
)
from ndap_infra.bootstrap.release import acc_words, prd_words, retraining_table
from ndap_infra.bootstrap.working_in_dev import GUIDE_PATH, working_in_dev
from ndap_infra.config.enums import (
    Access,
    DataSharingMode,
    Environment,
    Persona,
    ProjectKind,
    RetrainingStrategy,
)
from ndap_infra.config.model import MlProjectConfig, NdapConfig
from ndap_infra.files.directories import UnsafeOutput, replace_directory, write_files
from ndap_infra.names.pipelines import (
    MODEL_ARCHIVE,
    ORCHESTRATION_DEFINITION,
    TRAINING_DEFINITION,
)
from ndap_infra.names.platform import bucket_name
from ndap_infra.pipelines.workflows import repository_files

BUILD_FILES = ("Makefile", "requirements-dev.txt")
"""Files at the repository root that decide how every stage builds and runs. The default
path rules leave them (and the workflows) unclassified on purpose: a change to them runs
every stage."""

ACCESS_WORDS: dict[Access, str] = {
    Access.NONE: "no access",
    Access.READ_ONLY: "read-only",
    Access.SECURITY_AUDIT: "security audit (read-only)",
    Access.UAT: "invoke and test the acceptance endpoints, read reports",
    Access.FULL: "full",
    Access.DEPLOY: "deploy",
    Access.ADMIN: "admin, MFA, time-bound",
}

PERSONA_ROLES: dict[Persona, str] = {
    Persona.DATA_SCIENTIST: "develops the model",
    Persona.ML_ENGINEER: "productionises pipelines",
    Persona.PLATFORM_ENGINEER: "runs the platform",
    Persona.BUSINESS_USER: "user-acceptance tests",
    Persona.SECURITY_AUDITOR: "audits",
    Persona.BREAK_GLASS: "emergencies only",
    Persona.DEPLOYER: "the pipeline's identity",
}


def scaffold_files(config: NdapConfig, project: MlProjectConfig) -> dict[str, str]:
    """Every file of the project's new repository, by path."""
    files = dict(repository_files(project))
    files.update(
        {
            "README.md": team_readme(config, project),
            "Makefile": MAKEFILE,
            "requirements-dev.txt": requirements_dev(),
            "config/params.yaml": params_yaml(project),
            "src/training/__init__.py": '"""Training code: changes here retrain the model."""\n',
            "src/training/train.py": TRAIN_PY,
            "src/serving/__init__.py": '"""Serving code: changes here redeploy serving only."""\n',
            "src/serving/predict.py": PREDICT_PY[project.kind],
            "features/__init__.py": '"""Feature definitions: changes here rerun the feature '
            'pipeline and retrain."""\n',
            "features/definitions.py": FEATURES_PY,
            "tests/conftest.py": CONFTEST_PY,
            "tests/test_training.py": TEST_TRAINING_PY,
            "tests/test_serving.py": TEST_SERVING_PY[project.kind],
            "tests/test_features.py": TEST_FEATURES_PY,
            IMAGES_TEST: images_test(config, project),
            "tests/integration/test_dev_data.py": INTEGRATION_PY,
            "docs/model-card.md": model_card(project),
            GUIDE_PATH: working_in_dev(config, project),
        }
    )
    files.update(pipeline_definitions(project))
    return files


CHECK_TOOLS = {"pytest": "pytest>=8", "pyyaml": "pyyaml>=6", "ruff": "ruff"}
"""What the pull-request check and the integration tests install, and the fallback
requirement of each when ndap's own pins cannot be read."""


def requirements_dev() -> str:
    """The check's tools pinned to the versions ndap itself is tested with (its package
    metadata): an unpinned ruff changes its default rules between releases (0.17 added
    TRY004, which failed the realtime scaffold), and would fail a project's check
    overnight."""
    try:
        requires = importlib.metadata.requires("ndap-infra") or []
    except importlib.metadata.PackageNotFoundError:
        requires = []
    pins = {}
    for requirement in requires:
        found = re.match(r"^([A-Za-z0-9_.-]+)==([^;\s]+)", requirement)
        if found and found.group(1).lower() in CHECK_TOOLS:
            pins[found.group(1).lower()] = f"{found.group(1).lower()}=={found.group(2)}"
    return "".join(f"{pins.get(tool, fallback)}\n" for tool, fallback in CHECK_TOOLS.items())


def pipeline_definitions(project: MlProjectConfig) -> dict[str, str]:
    """The SageMaker pipeline definitions the deploy step deploys, by path."""
    definitions = {ORCHESTRATION_DEFINITION: orchestration_definition(project)}
    if project.kind is ProjectKind.BATCH:
        # the batch deploy step deploys it as <project>-training, which the retraining
        # triggers start (a realtime project's orchestration definition is that pipeline)
        definitions[TRAINING_DEFINITION] = training_definition(project)
    return definitions


def write_scaffold(directory: Path, files: dict[str, str]) -> None:
    """Write the scaffold into ``directory``, which must not exist or be empty; all or
    nothing (a failure leaves no partial directory)."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BootstrapError(
            f"{directory} already exists and is not empty: the scaffold goes into a new or "
            "empty directory; pick another --scaffold DIR (nothing was written)"
        )
    try:
        replace_directory(directory, lambda staging: write_files(staging, files), owned=False)
    except UnsafeOutput as error:
        raise BootstrapError(str(error)) from None


def _environments(config: NdapConfig) -> tuple[Environment, ...]:
    return config.enabled_environments()


def team_readme(config: NdapConfig, project: MlProjectConfig) -> str:
    """What the team needs to know, from the configuration."""
    pipeline = project.pipeline
    envs = _environments(config)
    matrix = config.persona_matrix()
    org = config.organization.name
    lines = [
        f"# {project.name}",
        "",
        f"An ML project of team **{project.team}** on the `{org}` N-D-A-P platform: "
        f"a {_kind_words(project.kind)}, retrained {_retraining_words(project)}. "
        f"Repository: `{project.repository}` on {project.git_host.value}.",
        "",
        *first_steps(config, project),
        "## Who may touch which environment",
        "",
        "Read from the platform configuration (the persona x environment matrix). "
        "Acceptance and production change only through the pipeline.",
        "",
        "| persona | " + " | ".join(e.value for e in envs) + " |",
        "|---|" + "---|" * len(envs),
    ]
    for persona in Persona:
        cells = " | ".join(ACCESS_WORDS[matrix[persona][env]] for env in envs)
        lines.append(f"| {persona.value} ({PERSONA_ROLES[persona]}) | {cells} |")
    lines += [
        "",
        "Data scientists work in **dev** only (full access inside a permission boundary): "
        + _production_data_words(config)
        + " They have no access at all to acc or prd, whatever they do in dev.",
        "",
        f"How to sign in to dev, the permission boundary every role you create there must "
        f"carry, and where the data is: `{GUIDE_PATH}`.",
        "",
        "## How code reaches production",
        "",
        f"1. Cut a feature branch from `{pipeline.develop_branch}` and open a pull request "
        f"into `{pipeline.develop_branch}`. The pull-request workflow runs the unit tests, "
        f"`ruff` and the `{ORCHESTRATION_DEFINITION}` check, with no cloud credentials; a "
        "reviewer approves.",
        f"2. The merge into `{pipeline.develop_branch}` deploys to **dev** and runs "
        "`tests/integration` there, on a subset of production data "
        "(`NDAP_INTEGRATION_DATA`).",
        f"3. A release tag matching `{pipeline.release_tag_pattern}` on a commit of "
        f"`{pipeline.develop_branch}` deploys to **acc** for user-acceptance testing: "
        + acc_words(project)
        + " acc's register step then records the release (tag, commit, sha256 of the "
        "model, its metadata and the orchestration definition) in the model registry and "
        "approves it.",
        *prd_words(config, project),
        "",
    ]
    if config.tooling_account_id is None:
        lines += [
            "The platform has no tooling account yet (`organization.tooling_account_id`), "
            "so no pipeline exists for this project: steps 2-4 start once one is "
            "configured.",
            "",
        ]
    lines += retraining_table(config, project)
    lines += [
        "## What runs when you change what",
        "",
        "`ndap changes` classifies the changed paths; a change that cannot affect the "
        "model skips retraining.",
        "",
        "| path | kind | effect |",
        "|---|---|---|",
    ]
    effects = {
        "training": "retrain, register, redeploy",
        "features": "feature pipeline, retrain, redeploy",
        "data_config": "retrain, register, redeploy",
        "serving": "redeploy serving; the model is reused",
        "orchestration": "deploy the orchestration definition, retrain, redeploy",
        "prediction_orchestration": "deploy the orchestration definition; no retraining",
        "tests": "tests only",
        "ci": "tests only; nothing deployed",
        "docs": "nothing deployed"
        + ("; tests run" if project.paths.docs_run_tests else "; no tests"),
        "everything": "every stage",
    }
    for kind, effect in effects.items():
        patterns = ", ".join(f"`{p}`" for p in project.paths.patterns(kind))
        lines.append(f"| {patterns} | {kind} | {effect} |")
    lines += [
        "| anything no rule matches | unclassified | every stage |",
        "",
        "## The build contract",
        "",
        f"- `make model` writes `{MODEL_ARCHIVE}` (the model and `src/serving/predict.py`) "
        "and `dist/model-metadata.json`. The deploy step sets `NDAP_RETRAIN` (`false`: "
        "package the model at `NDAP_PREVIOUS_MODEL` again with the current serving code, "
        "without training), `NDAP_TRAINING_MODE` (`from-scratch` or "
        "`from-previous-state`, a warm start from `NDAP_PREVIOUS_MODEL`) and "
        "`NDAP_PREVIOUS_MODEL` (the model the environment runs); `src/training/train.py` "
        "honours them.",
        f"- Every image a definition names is your repository of the platform registry by "
        f"digest (`{IMAGES_TEST}` checks it): the deploy step refuses a tag, another "
        "registry or a placeholder.",
        f"- `{ORCHESTRATION_DEFINITION}` is the SageMaker pipeline definition the pipeline "
        "deploys"
        + (
            "; the deploy step sets its `ModelName` parameter to the model it deploys."
            if project.kind is ProjectKind.BATCH
            else "."
        ),
        "- `python -m pytest tests` runs the unit tests; `tests/integration` runs in dev.",
        "",
        "Where the project's data lives in each environment it is deployed to:",
        "",
    ]
    for env in envs:
        if env is Environment.NONPROD:
            continue
        account = config.environments.get(env).account_id
        if account is None:  # created by the organization stack; its id is not known yet
            bucket = bucket_name(org, env, "data", "ACCOUNT_ID")
            lines.append(
                f"- {env.value}: `s3://{bucket}/projects/{project.name}/` (ACCOUNT_ID: the "
                f"{env.value} account's id, once the platform has created it)"
            )
            continue
        bucket = bucket_name(org, env, "data", account)
        lines.append(f"- {env.value}: `s3://{bucket}/projects/{project.name}/`")
    lines += ["", "See `NDAP.md` for the generated files, and the platform's README.", ""]
    return "\n".join(lines)


def first_steps(config: NdapConfig, project: MlProjectConfig) -> list[str]:
    """What to set before the first pull request can pass: the images by digest."""
    steps = [
        "Push your inference image there and set `inference_image` in `config/params.yaml` "
        "to it, by digest."
    ]
    steps += [
        f"Set `{where}` in `{path}` to the image it runs, by digest."
        for path, where in image_placeholders(pipeline_definitions(project))
    ]
    steps.append(
        "Run `make test` (the pull-request check's unit tests) and `make model`, then open "
        "your first pull request."
    )
    return [
        "## First steps",
        "",
        f"The pull-request check fails until every image is named by digest (`{IMAGES_TEST}` "
        "names each one still to set); the deploy step refuses any other image. Name them "
        f"`{image_example(config, project)}`:",
        "",
        *(f"{number}. {step}" for number, step in enumerate(steps, start=1)),
        "",
    ]


def _production_data_words(config: NdapConfig) -> str:
    names = ", ".join(f"`{d.name}`" for d in config.data.datasets) or "none configured yet"
    if config.data.sharing_mode is DataSharingMode.REPLICA:
        return f"they read production datasets ({names}) as a read-only replica in dev."
    return f"they read the named production datasets ({names}) read-only, nothing else."


def _kind_words(kind: ProjectKind) -> str:
    if kind is ProjectKind.BATCH:
        return "batch project (a scheduled prediction job)"
    return "real-time project (a SageMaker endpoint)"


def _retraining_words(project: MlProjectConfig) -> str:
    retraining = project.retraining
    if retraining.strategy is RetrainingStrategy.PERIODIC:
        return f"periodically (`{retraining.schedule}`)"
    if retraining.strategy is RetrainingStrategy.DRIFT:
        return f"when `{retraining.metric}` crosses {retraining.threshold}"
    return "ad hoc, when new data arrives"


def orchestration_definition(project: MlProjectConfig) -> str:
    """A SageMaker pipeline definition: a batch transform of the deployed model (batch),
    or a monitoring-data processing step placeholder the team replaces (realtime)."""
    parameters: list[dict[str, object]] = [
        {"Name": "InputUri", "Type": "String", "DefaultValue": "s3://replace-me/input/"},
        {"Name": "OutputUri", "Type": "String", "DefaultValue": "s3://replace-me/output/"},
    ]
    if project.kind is ProjectKind.BATCH:
        parameters.insert(0, {"Name": "ModelName", "Type": "String", "DefaultValue": ""})
        step: dict[str, object] = {
            "Name": "BatchPredict",
            "Type": "Transform",
            "Arguments": {
                "ModelName": {"Get": "Parameters.ModelName"},
                "TransformInput": {
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": {"Get": "Parameters.InputUri"},
                        }
                    },
                    "ContentType": "application/json",
                    "SplitType": "Line",
                },
                "TransformOutput": {"S3OutputPath": {"Get": "Parameters.OutputUri"}},
                "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
            },
        }
    else:
        step = {
            "Name": "CollectEndpointData",
            "Type": "Processing",
            "Arguments": {
                "ProcessingResources": {
                    "ClusterConfig": {
                        "InstanceType": "ml.t3.medium",
                        "InstanceCount": 1,
                        "VolumeSizeInGB": 10,
                    }
                },
                "AppSpecification": {
                    "ImageUri": "replace-me",
                    "ContainerEntrypoint": ["python", "-m", "src.training.train"],
                },
                "ProcessingInputs": [
                    {
                        "InputName": "input",
                        "S3Input": {
                            "S3Uri": {"Get": "Parameters.InputUri"},
                            "LocalPath": "/opt/ml/processing/input",
                            "S3DataType": "S3Prefix",
                            "S3InputMode": "File",
                        },
                    }
                ],
            },
        }
    definition = {
        "Version": "2020-12-01",
        "Metadata": {"project": project.name, "team": project.team},
        "Parameters": parameters,
        "Steps": [step],
    }
    return json.dumps(definition, indent=2) + "\n"


def training_definition(project: MlProjectConfig) -> str:
    """A batch project's training pipeline: the parameters the retraining triggers pass
    (``TrainingMode``, ``TriggeredBy``) and a training step placeholder the team replaces."""
    definition = {
        "Version": "2020-12-01",
        "Metadata": {"project": project.name, "team": project.team},
        "Parameters": [
            {"Name": "TrainingMode", "Type": "String", "DefaultValue": "from-scratch"},
            {"Name": "TriggeredBy", "Type": "String", "DefaultValue": "manual"},
        ],
        "Steps": [
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "AlgorithmSpecification": {
                        "TrainingImage": "replace-me",
                        "TrainingInputMode": "File",
                    },
                    "ResourceConfig": {
                        "InstanceType": "ml.m5.large",
                        "InstanceCount": 1,
                        "VolumeSizeInGB": 10,
                    },
                    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                    "OutputDataConfig": {"S3OutputPath": "s3://replace-me/models/"},
                },
            }
        ],
    }
    return json.dumps(definition, indent=2) + "\n"


def params_yaml(project: MlProjectConfig) -> str:
    return (
        f"# Parameters of {project.name}: a change here retrains the model.\n"
        "# The inference image SageMaker serves the model with (an ECR image URI).\n"
        'inference_image: ""\n'
        "instance_type: ml.m5.large\n"
        "training:\n"
        "  # Replace with reading your training data; the stub fits a constant model.\n"
        "  targets: [1.0, 2.0, 3.0]\n"
    )


def model_card(project: MlProjectConfig) -> str:
    return (
        f"# Model card: {project.name}\n\n"
        "Fill in as the model takes shape: intended use, training data, evaluation, "
        "limitations, owners.\n\n"
        f"- Owning team: {project.team}\n"
        f"- Kind: {project.kind.value}\n"
        f"- Retraining: {_retraining_words(project)}\n"
    )


MAKEFILE = f"""\
# The pipelines' build contract: `make model` writes {MODEL_ARCHIVE} and
# dist/model-metadata.json, honouring NDAP_RETRAIN, NDAP_TRAINING_MODE and
# NDAP_PREVIOUS_MODEL (see src/training/train.py). A change here runs every stage.
.PHONY: model test

model:
\tpython -m src.training.train config/params.yaml dist

test:
\tpython -m pytest -q --ignore=tests/integration tests
"""

TRAIN_PY = '''\
"""Training: fit the model and package it for the pipeline (`make model`).

The platform's build step says what to do through three variables (the contract):

- ``NDAP_RETRAIN``: ``true`` (or unset) trains; ``false`` trains nothing and packages
  the model at ``NDAP_PREVIOUS_MODEL`` again, with the current serving code (a change
  to serving only);
- ``NDAP_TRAINING_MODE``: ``from-scratch`` (or unset) or ``from-previous-state``, which
  warm-starts from the model at ``NDAP_PREVIOUS_MODEL``;
- ``NDAP_PREVIOUS_MODEL``: the model archive the environment runs (empty: none).

The stub fits a constant model (the mean of every target it has seen); replace ``fit``
with the real training, keeping ``package``'s outputs: the pipelines read them.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tarfile
from collections.abc import Mapping
from pathlib import Path

MODEL_FILE = "model.json"
SERVING_CODE = Path(__file__).resolve().parent.parent / "serving" / "predict.py"
MODES = ("from-scratch", "from-previous-state")


def fit(
    targets: list[float], previous: dict[str, float] | None = None
) -> dict[str, float]:
    """A constant model: the mean of the targets, and of those ``previous`` saw."""
    if not targets:
        raise ValueError("no training targets: cannot fit a model")
    count, total = float(len(targets)), sum(targets)
    if previous is not None:
        count += previous["count"]
        total += previous["mean"] * previous["count"]
    return {"mean": total / count, "count": count}


def read_model(archive: Path) -> dict[str, float]:
    """The model inside a model archive written by ``package``."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MODEL_FILE)
            assert member is not None
            model: dict[str, float] = json.load(member)
    except (OSError, KeyError, tarfile.TarError) as error:
        raise SystemExit(f"cannot read the model in {archive}: {error}") from None
    return model


def contract(environ: Mapping[str, str]) -> tuple[bool, str, Path | None]:
    """(train?, training mode, previous model) from the platform's variables."""
    retrain = environ.get("NDAP_RETRAIN") or "true"
    if retrain not in ("true", "false"):
        raise SystemExit(f"NDAP_RETRAIN={retrain!r}: expected true or false")
    previous = environ.get("NDAP_PREVIOUS_MODEL") or None
    if retrain == "false":
        if previous is None:
            raise SystemExit(
                "NDAP_RETRAIN=false packages the model at NDAP_PREVIOUS_MODEL again, "
                "but NDAP_PREVIOUS_MODEL is not set"
            )
        return False, "none", Path(previous)
    mode = environ.get("NDAP_TRAINING_MODE") or "from-scratch"
    if mode not in MODES:
        raise SystemExit(f"NDAP_TRAINING_MODE={mode!r}: expected one of {MODES}")
    if mode == "from-previous-state" and previous is None:
        raise SystemExit(
            "NDAP_TRAINING_MODE=from-previous-state starts from NDAP_PREVIOUS_MODEL, "
            "which is not set"
        )
    return True, mode, Path(previous) if previous else None


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    tar.addfile(info, io.BytesIO(data))


def package(
    params_file: Path, out_dir: Path, environ: Mapping[str, str] = os.environ
) -> Path:
    """Train (or not, as the platform says) and write model.tar.gz (the model and the
    serving code, byte for byte the same for the same inputs) and model-metadata.json."""
    import yaml

    params = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    if not params.get("inference_image"):
        raise SystemExit(f"set inference_image in {params_file} (an ECR image URI)")
    train, mode, previous = contract(environ)
    if not train:
        assert previous is not None  # contract() refuses NDAP_RETRAIN=false without it
        model = read_model(previous)
    else:
        warm = mode == "from-previous-state" and previous is not None
        start = read_model(previous) if warm and previous is not None else None
        model = fit([float(t) for t in params["training"]["targets"]], start)
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / "model.tar.gz"
    with (
        archive.open("wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w") as tar,
    ):
        _add(tar, MODEL_FILE, json.dumps(model, sort_keys=True).encode())
        _add(tar, "code/predict.py", SERVING_CODE.read_bytes())
    metadata = {
        "image": params["inference_image"],
        "instance_type": params.get("instance_type", "ml.m5.large"),
        "training_mode": mode,
    }
    (out_dir / "model-metadata.json").write_text(json.dumps(metadata) + "\\n")
    return archive


if __name__ == "__main__":
    print(package(Path(sys.argv[1]), Path(sys.argv[2])))
'''

PREDICT_BATCH_PY = '''\
"""Batch prediction: score records with the model (run by the scheduled batch job)."""

from __future__ import annotations

import json


def predict(model: dict[str, float], records: list[dict[str, object]]) -> list[float]:
    """One prediction per record."""
    return [model["mean"] for _ in records]


def predict_lines(model: dict[str, float], lines: list[str]) -> list[str]:
    """JSON lines in, JSON lines out (the batch transform's format)."""
    records = [json.loads(line) for line in lines if line.strip()]
    return [json.dumps({"prediction": p}) for p in predict(model, records)]
'''

PREDICT_REALTIME_PY = '''\
"""Real-time serving: the endpoint's request handler."""

from __future__ import annotations

import json


def predict(model: dict[str, float], records: list[dict[str, object]]) -> list[float]:
    """One prediction per record."""
    return [model["mean"] for _ in records]


def handle(model: dict[str, float], body: str) -> str:
    """A JSON request ``{"instances": [...]}`` to a JSON response."""
    request = json.loads(body)
    instances = request.get("instances")
    if not isinstance(instances, list):
        raise TypeError("the request needs a list of 'instances'")
    return json.dumps({"predictions": predict(model, instances)})
'''

PREDICT_PY = {ProjectKind.BATCH: PREDICT_BATCH_PY, ProjectKind.REALTIME: PREDICT_REALTIME_PY}

FEATURES_PY = '''\
"""Feature definitions: how a raw record becomes model input."""

from __future__ import annotations

FEATURES = ("amount", "is_weekend")


def build_features(record: dict[str, object]) -> dict[str, float]:
    """The model's features of one raw record."""
    amount = float(record.get("amount", 0.0))  # type: ignore[arg-type]
    weekday = int(record.get("weekday", 0))  # type: ignore[call-overload]
    return {"amount": amount, "is_weekend": 1.0 if weekday >= 5 else 0.0}
'''

CONFTEST_PY = '''\
"""Make the repository root importable (``src.training``, ``features``) under pytest."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
'''

TEST_TRAINING_PY = """\
import pytest

from src.training.train import fit


def test_fit_predicts_the_mean() -> None:
    assert fit([1.0, 2.0, 6.0]) == {"mean": 3.0, "count": 3.0}


def test_a_warm_start_counts_what_the_previous_model_saw() -> None:
    previous = fit([1.0, 2.0, 6.0])
    assert fit([7.0], previous) == {"mean": 4.0, "count": 4.0}


def test_fit_refuses_no_data() -> None:
    with pytest.raises(ValueError):
        fit([])
"""

TEST_SERVING_BATCH_PY = """\
import json

from src.serving.predict import predict_lines


def test_one_prediction_per_record() -> None:
    lines = predict_lines({"mean": 2.5}, ['{"amount": 1}', "", '{"amount": 3}'])
    assert [json.loads(line) for line in lines] == [{"prediction": 2.5}] * 2
"""

TEST_SERVING_REALTIME_PY = """\
import json

import pytest

from src.serving.predict import handle


def test_one_prediction_per_instance() -> None:
    body = json.dumps({"instances": [{"amount": 1}, {"amount": 3}]})
    assert json.loads(handle({"mean": 2.5}, body)) == {"predictions": [2.5, 2.5]}


def test_a_request_without_instances_is_refused() -> None:
    with pytest.raises(TypeError):
        handle({"mean": 2.5}, "{}")
"""

TEST_SERVING_PY = {
    ProjectKind.BATCH: TEST_SERVING_BATCH_PY,
    ProjectKind.REALTIME: TEST_SERVING_REALTIME_PY,
}

TEST_FEATURES_PY = """\
from features.definitions import FEATURES, build_features


def test_every_feature_is_built() -> None:
    built = build_features({"amount": "12.5", "weekday": 6})
    assert set(built) == set(FEATURES)
    assert built == {"amount": 12.5, "is_weekend": 1.0}
"""

INTEGRATION_PY = '''\
"""Integration tests: run by the pipeline in dev, after the deploy, on a subset of
production data (``NDAP_INTEGRATION_DATA``, an S3 prefix read-only to the pipeline)."""

import os

import pytest

DATA = os.environ.get("NDAP_INTEGRATION_DATA")


@pytest.mark.skipif(DATA is None, reason="runs in the dev pipeline only")
def test_the_integration_data_is_an_s3_prefix() -> None:
    assert DATA is not None and DATA.startswith("s3://")
'''
