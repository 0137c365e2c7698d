# ruff: noqa: E501  (the shell scripts below keep one command per line, as they run)
"""The platform's own tooling inside builds (the change classifier), delivered by the
platform and pinned by sha256, never resolved by name from a public index: pure values.

The platform pipeline's plan build makes the ndap-infra wheel from the reviewed commit and
fetches the wheels it needs (checked against ``CLASSIFIER_REQUIREMENTS``); the manifest the
approver approves records the wheel's sha256; the apply build checks it and publishes the set
under ``tools/ndap-infra/sha256/<sha256>/`` in the tooling account's artifact store, then
points ``tools/ndap-infra/current.txt`` at it. A project build reads the pointer, copies that
set and installs it with ``pip install --require-hashes --no-deps --no-index``: the wheel
against the sha256 its path names, its dependencies against the hashes below, which are part
of the synthesized buildspec. Why: docs/design-notes.md, section
ndap_infra/pipelines/tools.py."""

from __future__ import annotations

from ndap_infra.names.pipelines import TOOLS_POINTER, TOOLS_PREFIX

CLASSIFIER_REQUIREMENTS = """\
annotated-types==0.8.0 --hash=sha256:f072f4d804ea359e4eaf198b1af7a8b0943881a87f31bb764f8bf219bb9419e0
pydantic==2.13.4 --hash=sha256:45a282cde31d808236fd7ea9d919b128653c8b38b393d1c4ab335c62924d9aba
pydantic-core==2.46.4 --hash=sha256:f9fa868638bf362d3d138ea55829cefb3d5f4b0d7f142234382a15e2485dbec4 --hash=sha256:7bfb192b3f4b9e8a89b6277b6ce787564f62cfd272055f6e685726b111dc7826
ruamel.yaml==0.19.1 --hash=sha256:27592957fedf6e0b62f281e96effd28043345e0e66001f97683aa9a40c667c93
typing-extensions==4.16.0 --hash=sha256:481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8
typing-inspection==0.4.5 --hash=sha256:bc210535442b39e1bf2805e0c7a17dfd6a4ace760c84c7f7d16245d23a6b1c39
"""
"""What ``ndap_infra.changes`` imports beyond the standard library (pydantic for the path
rules' model, ruamel.yaml for orchestration definitions), pinned to the versions of
``pyproject.toml`` by the sha256 of their wheels on PyPI for CPython 3.11 (the build image's
runtime; pydantic-core for linux x86_64 and aarch64). Changing a version here means changing
its hashes: ``pip download --no-deps --only-binary=:all: --python-version 3.11`` then
``sha256sum``."""

WHEEL_PLATFORM = "manylinux_2_17_x86_64"
"""The platform the plan build fetches compiled dependencies for (CodeBuild's standard image)."""

INSTALL_TOOLS = f"""\
ndap_install_tools() {{
  # The platform's tooling, by sha256, from the platform's prefix of the artifact store.
  aws s3 cp --quiet "s3://$ARTIFACT_BUCKET/{TOOLS_POINTER}" .ndap/tools-current.txt > /dev/null 2>&1 || return 1
  read -r tools_sha256 tools_wheel _ < .ndap/tools-current.txt || true
  [[ "$tools_sha256" =~ ^[0-9a-f]{{64}}$ ]] || ndap_fail "s3://$ARTIFACT_BUCKET/{TOOLS_POINTER} names no sha256: refusing the platform's tooling"
  [[ "$tools_wheel" =~ ^ndap_infra-[A-Za-z0-9.]+-py3-none-any[.]whl$ ]] || ndap_fail "s3://$ARTIFACT_BUCKET/{TOOLS_POINTER} names no ndap-infra wheel: refusing the platform's tooling"
  rm -rf .ndap/tools .ndap/site && mkdir -p .ndap/tools
  aws s3 cp --quiet --recursive "s3://$ARTIFACT_BUCKET/{TOOLS_PREFIX}/sha256/$tools_sha256/" .ndap/tools/ \\
    || ndap_fail "cannot copy the platform's tooling from s3://$ARTIFACT_BUCKET/{TOOLS_PREFIX}/sha256/$tools_sha256/"
  printf '%s' "$NDAP_TOOLS_REQUIREMENTS" > .ndap/tools-requirements.txt
  printf '%s --hash=sha256:%s\\n' "$PWD/.ndap/tools/$tools_wheel" "$tools_sha256" > .ndap/tools-wheel.txt
  python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps --no-index --find-links .ndap/tools -r .ndap/tools-requirements.txt > .ndap/tools.log 2>&1 \\
    || {{ cat .ndap/tools.log >&2; ndap_fail "the change classifier's dependencies do not match the hashes the platform pinned: refused"; }}
  python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps --no-index --target .ndap/site -r .ndap/tools-wheel.txt >> .ndap/tools.log 2>&1 \\
    || {{ cat .ndap/tools.log >&2; ndap_fail "$tools_wheel is not sha256 $tools_sha256 (the digest s3://$ARTIFACT_BUCKET/{TOOLS_POINTER} names): refused"; }}
  echo "ndap: change classifier $tools_wheel, sha256 $tools_sha256 (checked by pip --require-hashes), from s3://$ARTIFACT_BUCKET/{TOOLS_PREFIX}/sha256/$tools_sha256/"
}}
"""
"""A project build's install: returns 1 when the platform published no tooling yet (the
build then runs every stage); a digest that does not match is refused (the build fails)."""


def build_tools(python: str) -> str:
    """The platform's plan build: the wheel from the reviewed commit and its hash-checked
    dependencies for CPython ``python``, in the plan artifact (the manifest records the
    wheel's sha256)."""
    return f"""\
rm -rf plan/tools && mkdir -p plan/tools
python -m pip wheel --quiet --no-deps --wheel-dir plan/tools . || ndap_fail "cannot build the ndap-infra wheel the project builds install"
printf '%s' "$NDAP_TOOLS_REQUIREMENTS" > plan/tools/requirements.txt
python -m pip download --quiet --require-hashes --no-deps --only-binary=:all: --implementation cp --python-version {python} --platform {WHEEL_PLATFORM} -d plan/tools -r plan/tools/requirements.txt \\
  || ndap_fail "the change classifier's dependencies do not match their pinned hashes"
rm plan/tools/requirements.txt
TOOLS_WHEEL="$(cd plan/tools && ls ndap_infra-*-py3-none-any.whl)"
TOOLS_SHA256="$(sha256sum "plan/tools/$TOOLS_WHEEL" | cut -d ' ' -f 1)"
echo "ndap: the platform's tooling: $TOOLS_WHEEL, sha256 $TOOLS_SHA256 (published after the approval)"
"""


VERIFY_TOOLS = """\
tools_wheel="$(python3 -c 'import json; print(json.load(open("plan/manifest.json"))["tools"]["wheel"])')"
tools_sha256="$(python3 -c 'import json; print(json.load(open("plan/manifest.json"))["tools"]["sha256"])')"
actual="$(sha256sum "plan/tools/$tools_wheel" | cut -d ' ' -f 1)"
[ "$actual" = "$tools_sha256" ] || ndap_fail "plan/tools/$tools_wheel is sha256 $actual, the approved manifest says $tools_sha256: refusing to apply or publish it"
"""
"""The platform's apply build, before anything is applied: the tooling wheel is the one the
approved manifest names."""

PUBLISH_TOOLS = f"""\
aws s3 cp --quiet --recursive plan/tools/ "s3://$ARTIFACT_BUCKET/{TOOLS_PREFIX}/sha256/$tools_sha256/" || ndap_fail "cannot publish the platform's tooling"
printf '%s %s\\n' "$tools_sha256" "$tools_wheel" > tools-current.txt
aws s3 cp --quiet tools-current.txt "s3://$ARTIFACT_BUCKET/{TOOLS_POINTER}" || ndap_fail "cannot point the builds at the platform's tooling"
echo "ndap: builds now install $tools_wheel (sha256 $tools_sha256)"
"""
"""The platform's apply build, after the stacks applied: the approved wheel (``VERIFY_TOOLS``
checked it) published under its sha256; the pointer is written last."""
