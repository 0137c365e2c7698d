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
from ndap_infra.bootstrap.starter_code import (
    CONFTEST_PY,
    FEATURES_PY,
    INTEGRATION_PY,
    PREDICT_PY,
    TEST_FEATURES_PY,
    TEST_SERVING_PY,
    TEST_TRAINING_PY,
    TRAIN_PY,
)
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
    described = {c.name: c.description.rstrip(".") for c in config.custom_personas}
    for persona in config.all_personas():
        cells = " | ".join(ACCESS_WORDS[matrix[persona][env]] for env in envs)
        role = PERSONA_ROLES[persona] if isinstance(persona, Persona) else described[persona.value]
        lines.append(f"| {persona.value} ({role}) | {cells} |")
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
