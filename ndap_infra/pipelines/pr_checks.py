"""What every pull-request job runs, whatever the git host: install, code style, unit tests
and a check that the orchestration definition parses. No step needs a cloud identity."""

from __future__ import annotations

from ndap_infra.names.pipelines import ORCHESTRATION_DEFINITION

PYTHON_IMAGE = "python:3.11-slim"
INSTALL = "python -m pip install -r requirements-dev.txt ruff"

CHECK_ORCHESTRATION = f"""\
import json
import sys

path = "{ORCHESTRATION_DEFINITION}"
try:
    with open(path, encoding="utf-8") as handle:
        definition = json.load(handle)
except (OSError, ValueError) as error:
    sys.exit(f"{{path}} does not parse: {{error}}")
missing = [key for key in ("Version", "Steps") if key not in definition]
if missing or not isinstance(definition.get("Steps"), list):
    what = missing or ["a list of Steps"]
    sys.exit(f"{{path}} is not a SageMaker pipeline definition: it lacks {{what}}")
print(f"{{path}}: {{len(definition['Steps'])}} steps")
"""

CHECKS: tuple[tuple[str, str], ...] = (
    ("code style", "ruff format --check .\nruff check .\n"),
    ("unit tests", "python -m pytest -q --ignore=tests/integration tests"),
    ("orchestration definition parses", f"python - <<'PY'\n{CHECK_ORCHESTRATION}PY\n"),
)
"""(name, shell commands), in the order they run."""
