"""The starter code of a project's scaffold, as file texts: training (which honours the
retraining contract of the deploy step), serving, features and their unit tests. The team
replaces the stubs; ``ruff`` and the unit tests of the pull-request check pass on them as
generated (tests/bootstrap)."""

from __future__ import annotations

from ndap_infra.config.enums import ProjectKind

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
