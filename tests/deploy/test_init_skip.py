"""`terraform init` is skipped in a stack directory ndap initialized from the very same
inputs, and run again as soon as one of them changes. Real Terraform, the offline provider
mirror, a stack of no resource (init never starts the provider)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ndap_infra.deploy.runner import INIT_MARKER, StackRun, init
from ndap_infra.terraform.cli_config import write_cli_config
from ndap_infra.terraform.provider import PROVIDER_SOURCE, PROVIDER_VERSION

pytestmark = pytest.mark.terraform


def stack(directory: Path, state: str = "terraform.tfstate") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "terraform": {
            "required_providers": {"aws": {"source": PROVIDER_SOURCE, "version": PROVIDER_VERSION}},
            "backend": {"local": {"path": state}},
        },
        "output": {"stack": {"value": "env-dev"}},
    }
    (directory / "cdk.tf.json").write_text(json.dumps(document))
    return directory


def inits(run: StackRun) -> list[str]:
    """The init lines of the stack's log, in order: ran or skipped."""
    log = run.log("plan").read_text()
    return [
        "skipped" if "skipped" in line else "ran"
        for line in log.splitlines()
        if line.startswith("$ terraform init")
    ]


@pytest.fixture
def run(tmp_path: Path) -> StackRun:
    """A stack directory of its own, with the project's CLI configuration."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    setup = write_cli_config(tmp_path / "work")
    return StackRun("env-dev", stack(tmp_path / "env-dev"), setup.environment(), tmp_path / "logs")


def test_an_init_that_would_change_nothing_is_skipped(run: StackRun) -> None:

    # GIVEN a first init: it runs, and leaves its marker
    assert init(run, "plan") is None
    assert (run.directory / INIT_MARKER).is_file()
    # WHEN nothing changed THEN the next one is skipped, and the log says so
    assert init(run, "plan") is None
    assert inits(run) == ["ran", "skipped"]

    # WHEN the backend changes THEN it runs again (Terraform would refuse to plan otherwise)
    stack(run.directory, state="other.tfstate")
    assert init(run, "plan") is None and inits(run)[-1] == "ran"
    assert init(run, "plan") is None and inits(run)[-1] == "skipped"

    # WHEN the dependency lock file is gone THEN it runs again, and writes it back
    (run.directory / ".terraform.lock.hcl").unlink()
    assert init(run, "plan") is None and inits(run)[-1] == "ran"
    assert (run.directory / ".terraform.lock.hcl").is_file()

    # WHEN the provider it installed is gone (the plugin cache cleaned) THEN it runs again
    cache = Path(run.env["TF_PLUGIN_CACHE_DIR"])
    shutil.rmtree(cache)
    cache.mkdir()
    assert init(run, "plan") is None and inits(run)[-1] == "ran"

    # WHEN the environment that steers init changes THEN it runs again
    other = StackRun(run.stack, run.directory, {**run.env, "TF_CLI_ARGS_init": "-upgrade=false"},
                     run.log_dir)  # fmt: skip
    assert init(other, "plan") is None and inits(run)[-1] == "ran"
    assert inits(run) == ["ran", "skipped", "ran", "skipped", "ran", "ran", "ran"]


def test_a_failed_init_leaves_no_marker(run: StackRun) -> None:
    assert init(run, "plan") is None
    document = json.loads((run.directory / "cdk.tf.json").read_text())
    document["terraform"]["required_providers"]["aws"]["version"] = "0.0.1"  # not in the mirror
    (run.directory / "cdk.tf.json").write_text(json.dumps(document))

    assert init(run, "plan") is not None
    assert not (run.directory / INIT_MARKER).exists()
    assert init(run, "plan") is not None  # and is not skipped the next time either
