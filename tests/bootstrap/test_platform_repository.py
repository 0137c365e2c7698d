"""`ndap init --repository`: a platform repository pinned to a built ndap wheel by hash.

GIVEN a wheel built from this checkout, WHEN a newcomer runs `ndap init --repository`,
THEN the repository installs exactly that wheel (by sha256, never from an index), refuses
a tampered one, and the pinned tool validates and synthesizes the platform there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ndap_infra import __version__
from ndap_infra.bootstrap.files import BootstrapError
from ndap_infra.bootstrap.platform_repo import (
    CDKTF_CLI_VERSION,
    LINTER_PINS,
    LOCK_FILE,
    RUNTIME_LOCK,
    TOOLS_LOCK,
    locked_pins,
    read_wheel,
)
from ndap_infra.deploy.build_image import build_wheel
from tests.bootstrap.test_bootstrap import INIT_FLAGS, ndap
from tests.helpers import ROOT

WORKFLOW = ".github/workflows/platform.yml"


def locked(lock: str) -> set[tuple[str, str]]:
    return set(locked_pins(lock).items())


def direct_pins(pins: list[str] | tuple[str, ...]) -> set[tuple[str, str]]:
    """(normalized name, version) of ``name[extra]==version  # comment`` pins."""
    found = set()
    for pin in pins:
        name, version = pin.split("#")[0].replace(" ", "").split("==")
        found.add((name.split("[")[0].replace("_", "-").replace(".", "-").lower(), version))
    return found


def unhashed(lock: str) -> list[str]:
    """The requirements of a lock with no sha256 (pip --require-hashes refuses them)."""
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock)
    return [e.split()[0] for e in entries if e[:1].isalnum() and "--hash=sha256:" not in e]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    return build_wheel(root / "dist", root / "source")


@pytest.fixture(scope="module")
def repository(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("platform") / "acme-platform"
    code, out, err = ndap("init", "--repository", str(repo), "--wheel", str(wheel), *INIT_FLAGS)
    assert code == 0, out + err
    assert f"ndap-infra {__version__} pinned by sha256" in out
    return repo


@pytest.fixture(scope="module")
def installed(repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned tool, installed by the repository's own Makefile recipe."""
    target = tmp_path_factory.mktemp("site")
    result = _make_ndap_tool(repository, target)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def _make_ndap_tool(repo: Path, target: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_TARGET": str(target)}
    return subprocess.run(
        ["make", "-C", str(repo), "ndap-tool", f"NDAP_PYTHON={sys.executable}"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def _pinned(repo: Path, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run python in the repository with only the pinned tool's ndap_infra importable."""
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "NDAP_WORK_DIR": str(repo / ".ndap"),
    }
    return subprocess.run(
        [sys.executable, *args], cwd=repo, env=env, capture_output=True, text=True, check=False
    )


def test_the_repository_holds_the_configuration_and_the_wheel_pinned_by_hash(
    repository: Path, wheel: Path
) -> None:
    files = sorted(p.relative_to(repository).as_posix() for p in repository.rglob("*"))
    assert {
        "platform.yaml", LOCK_FILE, "requirements.txt", "requirements-tools.txt", "cdktf.json",
        "package.json", "Makefile", "README.md", ".gitignore", WORKFLOW, f"tools/{wheel.name}",
    } <= set(files)  # fmt: skip
    copied = repository / "tools" / wheel.name
    digest = hashlib.sha256(copied.read_bytes()).hexdigest()
    assert copied.read_bytes() == wheel.read_bytes()
    lock = [line for line in (repository / LOCK_FILE).read_text().splitlines() if line[:1] != "#"]
    assert lock == [f"ndap-infra=={__version__} --hash=sha256:{digest}"]
    # the third-party requirements: the wheel's own pins, each with its transitive ones,
    # every one hashed; ndap itself never by name
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = (repository / "requirements.txt").read_text()
    assert direct_pins(pyproject["project"]["dependencies"]) <= locked(requirements)
    assert len(locked(requirements)) > 3 * len(pyproject["project"]["dependencies"])
    assert unhashed(requirements) == []
    assert not any("ndap" in name for name in locked_pins(requirements))
    tools = (repository / "requirements-tools.txt").read_text()
    assert direct_pins(LINTER_PINS) <= locked(tools) and unhashed(tools) == []
    makefile = (repository / "Makefile").read_text().replace("\\\n", " ")
    for installed in ("-r requirements.txt", "-r requirements-tools.txt", f"-r {LOCK_FILE}"):
        (line,) = [line for line in makefile.splitlines() if line.endswith(installed)]
        assert "--require-hashes" in line, line
    app = json.loads((repository / "cdktf.json").read_text())["app"]
    assert app == ".venv/bin/python -m ndap_infra.stacks.app --config platform.yaml"


def test_the_pinned_tool_installs_by_hash_and_runs_the_repository(
    repository: Path, installed: Path
) -> None:
    where = _pinned(repository, installed, "-c", "import ndap_infra; print(ndap_infra.__file__)")
    assert where.stdout.strip().startswith(str(installed)), where.stdout + where.stderr
    version = _pinned(repository, installed, "-m", "ndap_infra", "--version")
    assert __version__ in version.stdout, version.stdout + version.stderr
    # no -c: the pinned tool finds the repository's platform.yaml by itself
    valid = _pinned(repository, installed, "-m", "ndap_infra", "validate")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "valid (nonprod, dev, acc, prd" in valid.stdout


def test_the_pinned_tool_synthesizes_and_writes_policies_in_the_repository(
    repository: Path, installed: Path
) -> None:
    synth = _pinned(repository, installed, "-m", "ndap_infra", "synth")
    assert synth.returncode == 0, synth.stdout + synth.stderr
    assert "Synthesized" in synth.stdout
    assert (repository / "cdktf.out" / "stacks" / "organization" / "cdk.tf.json").is_file()
    assert any((repository / "policies").rglob("*.json")), "policies/ is written, to commit"


def test_a_tampered_wheel_is_refused(repository: Path, tmp_path: Path) -> None:
    """The negative control: the same install, one byte of the wheel changed."""
    copy = tmp_path / "repo"
    subprocess.run(["cp", "-r", str(repository), str(copy)], check=True)
    (wheel,) = (copy / "tools").glob("*.whl")
    data = bytearray(wheel.read_bytes())
    data[-100] ^= 0xFF
    wheel.write_bytes(bytes(data))
    result = _make_ndap_tool(copy, tmp_path / "site")
    assert result.returncode != 0
    assert "DO NOT MATCH THE HASHES" in result.stdout + result.stderr
    assert not (tmp_path / "site" / "ndap_infra").exists()


def test_init_refuses_and_writes_nothing(wheel: Path, tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    note = str(used / "notes.txt")
    refusals = {
        "already exists and is not empty": ("--repository", str(used), "--wheel", str(wheel)),
        "contradict": ("--repository", str(tmp_path / "a"), "-c", "x.yaml", "--wheel", str(wheel)),
        "needs --wheel": ("--repository", str(tmp_path / "b")),
        "not a wheel file": ("--repository", str(tmp_path / "c"), "--wheel", note),
        "goes with --repository": ("-c", str(tmp_path / "d.yaml"), "--wheel", str(wheel)),
    }  # fmt: skip
    for message, args in refusals.items():
        code, out, err = ndap("init", *args, *INIT_FLAGS)
        assert code == 2, (message, out, err)
        assert message in err, (message, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["used"]
    assert [p.name for p in used.iterdir()] == ["notes.txt"]


def test_a_wheel_of_another_distribution_is_refused(tmp_path: Path) -> None:
    import zipfile

    other = tmp_path / "other-1.0-py3-none-any.whl"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("other-1.0.dist-info/METADATA", "Name: other\nVersion: 1.0\n")
    with pytest.raises(BootstrapError, match="a wheel of other, not of ndap-infra"):
        read_wheel(other)


def test_a_wheel_whose_locks_miss_a_pin_is_refused(wheel: Path, tmp_path: Path) -> None:
    """The wheel's locks must pin (with hashes) what its metadata requires: a wheel built
    from a pyproject changed after the last `make lock` is refused, naming the pin."""
    import zipfile

    for lock, dropped in ((RUNTIME_LOCK, "moto"), (TOOLS_LOCK, "checkov")):
        stale = tmp_path / lock.split("/")[-1] / wheel.name
        stale.parent.mkdir()
        with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(stale, "w") as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename == lock:
                    text = data.decode()
                    data = text.replace(f"\n{dropped}==", f"\n{dropped}-gone==").encode()
                target.writestr(item, data)
        refused = rf"does not pin {dropped}(\[\w+\])?==[0-9.]+ with hashes"
        with pytest.raises(BootstrapError, match=refused):
            read_wheel(stale)
    assert read_wheel(wheel).runtime_lock  # the control: the wheel as built passes


def test_the_checkouts_locks_pin_its_own_requirements() -> None:
    """`make lock` was run after the last change of a pin: the locks the wheel carries and
    `make setup` installs hold every direct pin of pyproject.toml and requirements-tools.txt,
    every requirement hashed."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = (ROOT / RUNTIME_LOCK).read_text()
    assert direct_pins(pyproject["project"]["dependencies"]) <= locked(runtime)
    tools = (ROOT / TOOLS_LOCK).read_text()
    assert direct_pins(LINTER_PINS) <= locked(tools)
    assert unhashed(runtime) == [] and unhashed(tools) == []
    assert unhashed("six==1.16.0\n") == ["six==1.16.0"]  # the check itself can fail


def test_the_repository_workflow_passes_actionlint(repository: Path) -> None:
    from tests.helpers import actionlint

    assert actionlint([repository / WORKFLOW]) == []


def test_the_pins_written_are_the_checkouts_own() -> None:
    tools = [
        line.strip()
        for line in (ROOT / "requirements-tools.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert tuple(tools) == LINTER_PINS
    package = json.loads((ROOT / "package.json").read_text())
    assert package["dependencies"]["cdktf-cli"] == CDKTF_CLI_VERSION
