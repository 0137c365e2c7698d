"""``ndap init --repository``: a platform repository that pins a built ndap wheel by hash.

The repository holds only the organization's configuration, ``cdktf.json`` running ndap's
app, the pinned tool (the wheel itself under ``tools/`` and its sha256 in ``ndap.lock``),
its third-party requirements and the policy linters, every one pinned and hashed (the locks
the wheel carries, checked against its own metadata), the Makefile the platform pipeline
and the drift build run (``make setup``), and the repository's CI.
``policies/`` appears with the first ``make build`` and is committed. Why and how:
docs/runbooks/platform-repository.md.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from ndap_infra.bootstrap.files import BootstrapError
from ndap_infra.files.directories import UnsafeOutput, replace_directory, write_files
from ndap_infra.pipelines.workflows import CHECKOUT, PYTHON_VERSION, SETUP_PYTHON

DISTRIBUTION = "ndap-infra"
CONFIG_FILE = "platform.yaml"
LOCK_FILE = "ndap.lock"
TOOLS_DIR = "tools"
CDKTF_CLI_VERSION = "0.21.0"
"""The cdktf CLI users run ``cdktf deploy`` with (the same pin as ndap's package.json)."""
LINTER_PINS = ("checkov==3.3.30", "parliament==1.6.4")
"""The policy linters ``ndap build`` runs (the same pins as ndap's requirements-tools.txt)."""
SETUP_NODE = "actions/setup-node@v4"
RUNTIME_LOCK = "ndap_infra/bootstrap/locks/runtime.txt"
TOOLS_LOCK = "ndap_infra/bootstrap/locks/tools.txt"
"""The hashed locks inside the wheel (``make lock``): every requirement, transitive too."""
_LOCKED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)
_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\[\],-]*==[A-Za-z0-9.+!-]+$")


@dataclass(frozen=True)
class PinnedWheel:
    """A built ndap-infra wheel: where it is, its version, its sha256 and the hashed locks
    it carries (checked to pin its ``Requires-Dist``, extras left out)."""

    path: Path
    version: str
    sha256: str
    runtime_lock: str
    tools_lock: str

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def lock_line(self) -> str:
        return f"{DISTRIBUTION}=={self.version} --hash=sha256:{self.sha256}"


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", requirement.split("[", 1)[0]).lower()


def locked_pins(lock: str) -> dict[str, str]:
    """The name (normalized) and version of every requirement of a hashed lock; a line
    without a hash fails ``pip --require-hashes`` on its own."""
    return {_name(name): version for name, version in _LOCKED.findall(lock)}


def _unlocked(requires: tuple[str, ...], lock: str) -> list[str]:
    pins = locked_pins(lock)
    return [r for r in requires if pins.get(_name(r.split("==", 1)[0])) != r.split("==", 1)[1]]


def read_wheel(path: Path) -> PinnedWheel:
    """Read ``path`` as an ndap-infra wheel; BootstrapError saying why when it is not one."""
    if path.suffix != ".whl" or not path.is_file():
        raise BootstrapError(
            f"--wheel {path}: not a wheel file (build one with `make wheel`, or take the "
            "release's ndap_infra-VERSION-py3-none-any.whl); nothing was written"
        )
    try:
        with zipfile.ZipFile(path) as wheel:
            metadata = next(
                (n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")), None
            )
            if metadata is None:
                raise BootstrapError(f"--wheel {path}: no METADATA inside; nothing was written")
            headers = HeaderParser().parsestr(wheel.read(metadata).decode("utf-8"))
            names = set(wheel.namelist())
            locks = {
                lock: wheel.read(lock).decode("utf-8") if lock in names else ""
                for lock in (RUNTIME_LOCK, TOOLS_LOCK)
            }
    except zipfile.BadZipFile:
        raise BootstrapError(f"--wheel {path}: not a zip archive; nothing was written") from None
    name = (headers.get("Name") or "").replace("_", "-").lower()
    if name != DISTRIBUTION:
        raise BootstrapError(
            f"--wheel {path}: a wheel of {name or 'an unnamed distribution'}, not of "
            f"{DISTRIBUTION}; nothing was written"
        )
    requires = []
    for line in headers.get_all("Requires-Dist") or []:
        requirement = line.split(";", 1)[0].replace(" ", "")
        if ";" in line and "extra" in line.split(";", 1)[1]:
            continue  # an optional extra (dev tools), not what the platform runs
        if not _PIN.match(requirement):
            raise BootstrapError(
                f"--wheel {path}: requirement {requirement!r} is not pinned to one version; "
                "a platform repository installs exact versions only. Nothing was written"
            )
        requires.append(requirement)
    for lock, pins in ((RUNTIME_LOCK, tuple(requires)), (TOOLS_LOCK, LINTER_PINS)):
        missing = _unlocked(pins, locks[lock])
        if missing:
            raise BootstrapError(
                f"--wheel {path}: its {lock} does not pin {', '.join(missing)} with "
                "hashes (was `make lock` run after the pins changed?); a platform repository "
                "installs only hashed requirements. Nothing was written"
            )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return PinnedWheel(
        path, str(headers.get("Version")), digest, locks[RUNTIME_LOCK], locks[TOOLS_LOCK]
    )


def _cdktf_json() -> str:
    document = {
        "language": "python",
        "app": f".venv/bin/python -m ndap_infra.stacks.app --config {CONFIG_FILE}",
        "sendCrashReports": "false",
        "terraformProviders": [],
        "terraformModules": [],
        "context": {},
    }
    return json.dumps(document, indent=2) + "\n"


def _package_json(org: str) -> str:
    document = {
        "name": f"{org}-platform",
        "private": True,
        "description": "The pinned cdktf CLI (cdktf synth / cdktf deploy).",
        "dependencies": {"cdktf-cli": CDKTF_CLI_VERSION},
    }
    return json.dumps(document, indent=2) + "\n"


def _makefile(wheel: PinnedWheel) -> str:
    return f"""\
# The platform's toolchain, pinned: ndap-infra {wheel.version} from tools/ by sha256
# ({LOCK_FILE}), never by name from a package index; its third-party requirements and
# the policy linters, every one (transitive too) pinned and checked by its sha256
# (requirements.txt, requirements-tools.txt: the wheel's own locks); the cdktf CLI.
# The platform pipeline and the drift build run `make setup` in this repository.
PYTHON ?= python{PYTHON_VERSION}
VENV := .venv
BIN := $(VENV)/bin
NDAP_PYTHON ?= $(BIN)/python
CONFIG := {CONFIG_FILE}

.PHONY: setup ndap-tool validate build review deploy drift

setup: $(VENV)/.installed .venv-tools/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt {LOCK_FILE}
\t$(PYTHON) -m venv $(VENV)
\t$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
\t$(MAKE) ndap-tool
\ttouch $@

## ndap-tool: install the pinned ndap wheel from tools/, checked by its sha256
ndap-tool:
\t$(NDAP_PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps --no-index \\
\t\t--require-hashes --find-links {TOOLS_DIR} -r {LOCK_FILE}

.venv-tools/.installed: requirements-tools.txt
\t$(PYTHON) -m venv .venv-tools
\t.venv-tools/bin/pip install --quiet --disable-pip-version-check --require-hashes \\
\t\t-r requirements-tools.txt
\ttouch $@

node_modules/.installed: package.json
\tnpm install --no-audit --no-fund --loglevel=error
\ttouch $@

validate: setup
\t$(BIN)/ndap validate -c $(CONFIG)

## build: synthesize, prove, lint, and write policies/ (commit it)
build: setup
\t$(BIN)/ndap build -c $(CONFIG)

## review: what changed in policies/ since BASE (a tag or branch), as a review pack
BASE ?= origin/main
review: setup
\t$(BIN)/ndap review --base $(BASE) --out review.md

deploy: setup
\t$(BIN)/ndap deploy -c $(CONFIG)

drift: setup
\t$(BIN)/ndap drift -c $(CONFIG)
"""


def _workflow() -> str:
    return f"""\
name: platform
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  build:
    name: validate, build, proofs and policies up to date
    runs-on: ubuntu-latest
    timeout-minutes: 45
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - uses: {SETUP_PYTHON}
        with:
          python-version: "{PYTHON_VERSION}"
      - uses: {SETUP_NODE}
        with:
          node-version: "20"
      - run: make setup PYTHON=python
      - run: make build
      - name: policies/ is committed and up to date
        run: git add -N policies && git diff --exit-code -- policies
"""


def _readme(org: str, wheel: PinnedWheel) -> str:
    return f"""\
# {org}: the ML platform

This repository holds the platform's configuration (`{CONFIG_FILE}`) and what reviewers
read (`policies/`, written by `make build`: commit it). The tool that turns one into the
other is **ndap-infra {wheel.version}**, pinned: the wheel is in `{TOOLS_DIR}/`
and `{LOCK_FILE}` holds its sha256, so `make setup` installs exactly that file
(`pip --require-hashes --no-index`) and never ndap by name from a package index. Its
third-party requirements (`requirements.txt`) and the policy linters
(`requirements-tools.txt`) are the wheel's own locks: every package, transitive ones too,
at one version and installed only if its sha256 matches.

    make setup      # .venv with the pinned ndap, .venv-tools (linters), the cdktf CLI
    make validate   # the configuration against the model's rules
    make build      # synthesize, prove, lint; writes policies/ (commit it)
    make review     # the review pack of policies/ against BASE (default origin/main)
    make deploy     # shows each stack's plan and asks before applying

`cdktf.json` runs ndap's app on `{CONFIG_FILE}`, so `npx cdktf synth` and `npx cdktf deploy`
work here too. The platform pipeline and the scheduled drift check (when configured) run
`make setup` in this repository.

## Upgrading ndap

Put the new release's wheel in `{TOOLS_DIR}/`, delete the old one, and write its line in
`{LOCK_FILE}` (`ndap-infra==VERSION --hash=sha256:DIGEST`, the digest from
`sha256sum`); take `requirements.txt` and `requirements-tools.txt` from the new wheel's
`ndap_infra/bootstrap/locks/` (`ndap init --repository` in an empty directory writes
them all). Read CHANGELOG.md's
upgrade notes, run `make build`, and review the change to `policies/` like any other.
"""


_GITIGNORE = "\n".join(
    # no trailing slash: a venv linked in (a symbolic link) is ignored too
    [".venv", ".venv-tools", "node_modules", "cdktf.out", ".ndap", "review.md",
     "review.details.md", ""]
)  # fmt: skip


def repository_files(org: str, config_text: str, wheel: PinnedWheel) -> dict[str, str]:
    """Every text file of the repository (the wheel itself is copied beside them)."""
    return {
        CONFIG_FILE: config_text,
        LOCK_FILE: (
            "# The ndap-infra wheel in tools/, by sha256 "
            "(pip install --require-hashes --no-index).\n" + wheel.lock_line + "\n"
        ),
        "requirements.txt": (
            f"# ndap-infra {wheel.version}'s runtime requirements, every one pinned and hashed:\n"
            f"# the wheel's own {RUNTIME_LOCK} (pip install --require-hashes).\n"
            + wheel.runtime_lock
        ),
        "requirements-tools.txt": (
            f"# The policy linters of ndap-infra {wheel.version}, pinned and hashed: the\n"
            f"# wheel's own {TOOLS_LOCK} (pip install --require-hashes).\n" + wheel.tools_lock
        ),
        "cdktf.json": _cdktf_json(),
        "package.json": _package_json(org),
        "Makefile": _makefile(wheel),
        "README.md": _readme(org, wheel),
        ".gitignore": _GITIGNORE,
        ".github/workflows/platform.yml": _workflow(),
    }


def write_repository(directory: Path, files: dict[str, str], wheel: PinnedWheel) -> None:
    """Write the repository into ``directory``, which must not exist or be empty; all or
    nothing. The wheel is copied byte for byte and checked against its digest again."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BootstrapError(
            f"{directory} already exists and is not empty: a platform repository goes into "
            "a new or empty directory; pick another --repository DIR (nothing was written)"
        )
    data = wheel.path.read_bytes()
    if hashlib.sha256(data).hexdigest() != wheel.sha256:
        raise BootstrapError(f"--wheel {wheel.path} changed while it was read; nothing was written")

    def build(staging: Path) -> None:
        write_files(staging, files)
        (staging / TOOLS_DIR).mkdir()
        (staging / TOOLS_DIR / wheel.filename).write_bytes(data)

    try:
        replace_directory(directory, build, owned=False)
    except UnsafeOutput as error:
        raise BootstrapError(str(error)) from None
