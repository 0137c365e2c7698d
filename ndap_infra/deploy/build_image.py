# ruff: noqa: E501  (the wrapper script keeps one command per line, as it runs)
"""The local stand-in for CodeBuild's build image, used by ``ndap pipeline run``.

Why and how: docs/design-notes.md, section ndap_infra/deploy/build_image.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from pathlib import Path

import ndap_infra


class BuildImageError(RuntimeError):
    """The build image cannot be prepared; the message says why and what to do."""


# Passes every call through to the real AWS CLI (nothing is answered here); it only writes
# down each call, and the calls the emulator answers as not implemented (the gap list).
AWS_OBSERVER = """\
#!/usr/bin/env bash
# ndap pipeline run: every AWS CLI call of the build goes to the real AWS CLI below; this
# wrapper only records the call and, when the emulator does not implement it, the gap.
real={real}
args=("$@")
service="" operation=""
i=0
while [ $i -lt ${{#args[@]}} ]; do
  a="${{args[$i]}}"
  case "$a" in
    --profile|--region|--output|--query|--endpoint-url|--color|--cli-read-timeout|--cli-connect-timeout) i=$((i + 2)); continue ;;
    --*) i=$((i + 1)); continue ;;
  esac
  if [ -z "$service" ]; then service="$a"; elif [ -z "$operation" ]; then operation="$a"; break; fi
  i=$((i + 1))
done
err="$(mktemp)"
"$real" "$@" 2> "$err"
rc=$?
cat "$err" >&2
printf '%s %s %s\\n' "$rc" "$service" "$operation" >> "$NDAP_AWS_CALLS"
if [ $rc -ne 0 ] && grep -q -i -E "not (yet )?implemented|NotImplemented|InternalFailure|InternalError|\\(500\\)|status code: 500|404 Not Found|Unknown operation" "$err"; then
  printf '%s %s: %s\\n' "$service" "$operation" "$(grep -v '^$' "$err" | tail -n 1)" >> "$NDAP_EMULATOR_GAPS"
fi
rm -f "$err"
exit $rc
"""

PIP = '#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n'


@dataclass(frozen=True)
class BuildImage:
    """What every build of a run starts from: the wheel of the platform's tools
    (``wheels/``), the preinstalled libraries, and the real AWS CLI behind a recording
    wrapper. Each build gets a fresh python of its own (``fresh_python``), as each
    CodeBuild build starts from a fresh container."""

    root: Path
    wheels: Path
    wheel: Path
    libraries: Path
    aws: Path
    python_version: str

    def fresh_python(self, directory: Path) -> Path:
        """A new python environment in ``directory`` that sees the image's libraries and
        has ``pip``; returns its ``bin`` folder."""
        shutil.rmtree(directory, ignore_errors=True)
        venv.EnvBuilder(with_pip=False, symlinks=True).create(directory)
        paths = sysconfig.get_paths(vars={"base": str(directory), "platbase": str(directory)})
        (Path(paths["purelib"]) / "ndap-build-image.pth").write_text(str(self.libraries) + "\n")
        pip = directory / "bin" / "pip"
        pip.write_text(PIP)
        pip.chmod(0o755)
        return directory / "bin"

    def path(self, python_bin: Path) -> str:
        """PATH of a build: its python first, then the AWS CLI's and the runner's folders
        (ruff, pytest...), then the system's."""
        runner_bin = Path(sys.executable).parent
        parts = [str(python_bin), str(self.aws.parent), str(runner_bin)]
        parts += ["/usr/local/bin", "/usr/bin", "/bin"]
        return os.pathsep.join(dict.fromkeys(parts))


def find_aws_cli() -> Path:
    """The AWS CLI: beside this interpreter (``pip install -e .[dev]`` pins it), else on
    PATH."""
    beside = Path(sys.executable).parent / "aws"
    if beside.is_file():
        return beside
    found = shutil.which("aws")
    if found is None:
        raise BuildImageError(
            "no AWS CLI: install the pinned one (`pip install -e '.[dev]'`, awscli in the dev "
            "extras) or put `aws` on PATH"
        )
    return Path(found)


def tools_source() -> Path:
    """The checkout this ``ndap_infra`` comes from (its wheel is what builds install)."""
    root = Path(ndap_infra.__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise BuildImageError(
            f"ndap_infra is imported from {root}, which is not a checkout (no pyproject.toml): "
            "the build steps install the wheel of a checkout; run from one"
        )
    return root


def build_wheel(wheels: Path, source: Path) -> Path:
    """Build this checkout's wheel into ``wheels`` (emptied first) and return it. Built from
    a copy at ``source``, so that setuptools' build/ and egg-info stay out of the checkout;
    pip's build isolation fetches the build backend pyproject.toml pins (setuptools) for
    this one command, on the runner's side; the builds themselves never see an index."""
    shutil.rmtree(wheels, ignore_errors=True)
    shutil.rmtree(source, ignore_errors=True)
    checkout = tools_source()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(checkout / "ndap_infra", source / "ndap_infra", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(checkout / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = sorted(wheels.glob("ndap_infra-*.whl"))
    if built.returncode != 0 or not found:
        raise BuildImageError(f"cannot build the ndap-infra wheel: {built.stderr.strip()[-2000:]}")
    return found[-1]


def prepare(root: Path) -> BuildImage:
    """Prepare (once per run directory) the build image under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(root / "wheels", root / "tools-source")
    libraries = _library_view(root / "libraries")
    observer = root / "aws-cli" / "aws"
    observer.parent.mkdir(exist_ok=True)
    real = find_aws_cli()
    observer.write_text(AWS_OBSERVER.format(real=_quote(str(real))))
    observer.chmod(0o755)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return BuildImage(root, wheel.parent, wheel, libraries, observer, version)


def _library_view(view: Path) -> Path:
    """The runner's installed libraries without ndap-infra itself, as a folder of links:
    the build image's preinstalled packages (the builds install ndap-infra themselves,
    from the wheel, as their buildspecs say)."""
    shutil.rmtree(view, ignore_errors=True)
    view.mkdir(parents=True)
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in sorted(site.iterdir()):
        name = entry.name.lower()
        if "ndap_infra" in name or "ndap-infra" in name or name.endswith(".pth"):
            continue
        if name == "__pycache__":
            continue
        (view / entry.name).symlink_to(entry)
    return view


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
