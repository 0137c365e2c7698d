"""Does ndap-infra run on each supported Python, and synthesize the same stacks there?

For each interpreter given (default: python3.12 and python3.13 on PATH), in a virtual
environment of its own under .ndap/pythons/: install this checkout with its pinned
dependencies (from the package index pip is configured with), synthesize the reference,
and compare every stack with tests/fixtures/stack-checksums.json (the 3.11 synthesis).
Prints a line per interpreter; exit 1 when one fails. Run by hand or by `make
check-pythons` (minutes: it installs everything); not part of the test tiers.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKSUMS = ROOT / "tests" / "fixtures" / "stack-checksums.json"
REFERENCE = ROOT / "examples" / "reference.yaml"
DEFAULT = ("python3.12", "python3.13")


def _runnable(interpreter: str) -> str | None:
    """``interpreter`` on PATH if it runs (a pyenv shim of a version that is not selected
    does not), else the newest pyenv version of it."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    minor = interpreter.removeprefix("python")
    candidates = [shutil.which(interpreter)] + [
        str(path / "bin" / interpreter) for path in sorted(pyenv.glob(f"{minor}.*"), reverse=True)
    ]
    for candidate in candidates:
        if (
            candidate
            and subprocess.run([candidate, "--version"], capture_output=True).returncode == 0
        ):
            return candidate
    return None


def check(interpreter: str, work: Path) -> tuple[bool, str]:
    found = _runnable(interpreter)
    if found is None:
        return False, f"{interpreter}: not found (PATH, then pyenv's versions)"
    venv = work / Path(interpreter).name
    if not (venv / "bin" / "python").exists():
        subprocess.run([found, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    installed = subprocess.run(
        [python, "-m", "pip", "install", "-q", str(ROOT)], capture_output=True, text=True
    )
    if installed.returncode != 0:
        return False, f"{interpreter} ({version}): install failed:\n{installed.stderr[-2000:]}"
    out = work / f"out-{version}"
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    synth = subprocess.run(
        [python, "-m", "ndap_infra", "synth", "-c", str(REFERENCE), "--out", str(out)],
        capture_output=True, text=True, env=env, cwd=work,
    )  # fmt: skip
    if synth.returncode != 0:
        tail = synth.stderr[-2000:]
        return False, f"{interpreter} ({version}): synth exit {synth.returncode}:\n{tail}"
    expected = json.loads(CHECKSUMS.read_text())
    got = {
        stack: hashlib.sha256((out / "stacks" / stack / "cdk.tf.json").read_bytes()).hexdigest()
        for stack in expected
        if (out / "stacks" / stack / "cdk.tf.json").is_file()
    }
    differ = sorted(s for s in expected if got.get(s) != expected[s])
    if differ:
        return False, f"{interpreter} ({version}): stacks differ from 3.11's: {', '.join(differ)}"
    return True, f"{interpreter} ({version}): installed, {len(got)} stacks byte-identical to 3.11's"


def main(argv: list[str]) -> int:
    work = ROOT / ".ndap" / "pythons"
    work.mkdir(parents=True, exist_ok=True)
    results = [check(interpreter, work) for interpreter in (argv or list(DEFAULT))]
    for ok, line in results:
        print(("ok   " if ok else "FAIL ") + line, flush=True)
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
