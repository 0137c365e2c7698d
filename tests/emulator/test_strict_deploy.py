"""The strict emulator witnesses the forward reference of issue #16, finding 1, through
the real Terraform and provider: GIVEN the organization stack reduced to its drift reader,
WHEN its trust names the tooling stack's drift build role (as before the fix: that role is
created a wave later), THEN `ndap deploy` fails with AWS's "Invalid principal in policy";
with the trust the platform synthesizes (the tooling root and aws:PrincipalArn) it applies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ndap_infra.emulator import lifecycle
from tests.helpers import REFERENCE, run

DRIFT_BUILD = "arn:aws:iam::600000000006:role/acme-ml-drift-detection-build"


def _only_the_drift_reader(stack: dict[str, Any], trust_principal: str | None) -> None:
    """Keep the provider, backend and variables, and the drift reader role alone; with
    ``trust_principal``, the role's trust names it instead of the tooling root."""
    roles = stack["resource"]["aws_iam_role"]
    (name,) = [n for n, body in roles.items() if body["name"] == "acme-ml-drift-reader"]
    role = roles[name]
    if trust_principal is not None:
        trust = json.loads(role["assume_role_policy"])
        for statement in trust["Statement"]:
            statement["Principal"] = {"AWS": trust_principal}
            statement.pop("Condition", None)
        role["assume_role_policy"] = json.dumps(trust)
    stack["resource"] = {"aws_iam_role": {name: role}}
    for key in ("data", "import", "output"):
        stack.pop(key, None)


@pytest.mark.deploy
def test_a_trust_naming_a_later_role_is_refused_and_the_fixed_one_applies(
    reference_synthesis: Any, tmp_path: Path
) -> None:
    work, out = tmp_path / "work", tmp_path / "out"
    shutil.copytree(reference_synthesis.out_dir, out)
    path = out / "stacks" / "organization" / "cdk.tf.json"
    original = json.loads(path.read_text())
    lifecycle.start(work)
    try:
        stack = json.loads(json.dumps(original))
        _only_the_drift_reader(stack, DRIFT_BUILD)
        path.write_text(json.dumps(stack))
        args = ("deploy", "-c", str(REFERENCE), "--out", str(out), "--no-synth")
        refused = run(*args, "--stacks", "organization", "--no-check-plan", work=work)
        text = refused.stdout + refused.stderr
        assert refused.returncode == 1, text[-3000:]
        assert "MalformedPolicyDocument" in text and "Invalid principal in policy" in text
        stack = json.loads(json.dumps(original))
        _only_the_drift_reader(stack, None)
        path.write_text(json.dumps(stack))
        applied = run(*args, "--stacks", "organization", "--no-check-plan", work=work)
        assert "ok   organization apply" in applied.stdout, applied.stdout[-3000:]
        # env-dev alone: the organization was applied, tooling never was; nothing is applied
        alone = run(*args, "--stacks", "env-dev", "--no-check-plan", work=work)
        assert alone.returncode == 2, alone.stdout[-2000:] + alone.stderr[-2000:]
        assert "organization: not selected; applied before (1 resources" in alone.stdout
        assert (
            "env-dev depend(s) on tooling, which is not selected and has not been applied"
            in alone.stderr
        ), alone.stderr
        assert "env-dev" not in {line.split()[1] for line in alone.stdout.splitlines()
                                 if line.strip().startswith(("ok", "FAIL"))}  # fmt: skip
    finally:
        lifecycle.stop(work)
