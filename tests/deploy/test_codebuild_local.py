"""A buildspec runs locally as CodeBuild runs it: phases in order in one shell, a failing
command ends its phase, post_build runs after a failed build, exported variables are read
at the end, the action's variables win over the buildspec's, and a buildspec's own
failure message reaches the output."""

from __future__ import annotations

import os
from pathlib import Path

from ndap_infra.deploy.codebuild_local import BuildRequest, run_build
from ndap_infra.scripts.buildspec import literal, render, script


def _request(tmp_path: Path, buildspec: str, **variables: str) -> BuildRequest:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    return BuildRequest(
        project="demo-deploy-dev",
        buildspec=buildspec,
        source_dir=source,
        commit="0123456789abcdef0123456789abcdef01234567",
        region="eu-west-1",
        account="600000000006",
        pipeline="demo-dev",
        variables=variables,
        base_environment={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
    )


def _spec(phases: dict[str, list[str]], variables: dict[str, str], exported: list[str]) -> str:
    env: dict[str, object] = {"shell": "bash", "variables": variables}
    if exported:
        env["exported-variables"] = exported
    return render(
        {
            "version": 0.2,
            "env": env,
            "phases": {name: {"commands": commands} for name, commands in phases.items()},
        }
    )


def test_phases_share_one_shell_and_codebuilds_variables(tmp_path: Path) -> None:
    spec = _spec(
        {
            "install": ['GREETING="set in install"'],
            "build": [
                'echo "build sees: $GREETING"',
                'echo "commit: $CODEBUILD_RESOLVED_SOURCE_VERSION in $CODEBUILD_SRC_DIR"',
                'echo "from: $CODEBUILD_INITIATOR, $FROM_SPEC, $OVERRIDDEN"',
                "RESULT=computed",
            ],
        },
        {"FROM_SPEC": "spec", "OVERRIDDEN": "spec"},
        ["RESULT"],
    )
    result = run_build(_request(tmp_path, spec, OVERRIDDEN="pipeline"), tmp_path / "work")
    assert result.ok, result.output
    assert "build sees: set in install" in result.output
    assert f"commit: 0123456789abcdef0123456789abcdef01234567 in {tmp_path / 'src'}" in (
        result.output
    )
    assert "from: codepipeline/demo-dev, spec, pipeline" in result.output
    assert result.exported == {"RESULT": "computed"}
    assert result.build_id.startswith("demo-deploy-dev:")
    assert (tmp_path / "work" / "demo-deploy-dev.log").read_text() == result.output + "\n"


def test_a_failing_command_ends_its_phase_and_post_build_still_runs(tmp_path: Path) -> None:
    spec = _spec(
        {
            "pre_build": ["echo pre"],
            "build": ["echo first", "false", "echo never"],
            "post_build": ['echo "post, succeeding=$CODEBUILD_BUILD_SUCCEEDING"'],
        },
        {},
        [],
    )
    result = run_build(_request(tmp_path, spec), tmp_path / "work")
    assert not result.ok
    assert result.failed_phase == "build"
    assert "first" in result.output and "never" not in result.output
    assert "post, succeeding=0" in result.output


def test_a_failed_install_skips_every_later_phase(tmp_path: Path) -> None:
    spec = _spec(
        {"install": ["exit 3"], "build": ["echo built"], "post_build": ["echo post"]}, {}, []
    )
    result = run_build(_request(tmp_path, spec), tmp_path / "work")
    assert (result.ok, result.failed_phase, result.exit_code) == (False, "install", 3)
    assert "built" not in result.output and "post" not in result.output.replace("POST", "")


def test_a_generated_script_fails_with_its_message(tmp_path: Path) -> None:
    failing = literal(script('[ -n "${NEEDED:-}" ] || ndap_fail "NEEDED is not set"', "echo ok"))
    spec = _spec({"build": [failing]}, {}, [])
    refused = run_build(_request(tmp_path, spec), tmp_path / "work")
    assert not refused.ok and "ndap: NEEDED is not set" in refused.lines(("ndap:",))
    passed = run_build(_request(tmp_path, spec, NEEDED="yes"), tmp_path / "work")
    assert passed.ok and "ok" in passed.output.splitlines()
