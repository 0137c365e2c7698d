"""Synthesis and Terraform figures. Prints a table; asserts nothing.

    .venv/bin/python bench/synth_bench.py [--projects 100] [--skip-terraform]

Each measurement runs in a fresh Python process so import costs and peak memory (the
child's maximum resident set) are those a user sees on one `ndap synth`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PEAK = '''
def peak_mb():
    """Peak resident memory of this process plus its children (jsii's node runtime)."""
    import glob, resource
    total = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for children in glob.glob("/proc/self/task/*/children"):
        for pid in open(children).read().split():
            try:
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                pass
    return total
'''

CHILD_IMPORT = (
    PEAK
    + """
import json, time
t = time.perf_counter()
import cdktf
cdktf.App  # starts the jsii runtime
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mb": peak_mb()}))
"""
)

CHILD_SYNTH = (
    PEAK
    + """
import json, sys, time
t = time.perf_counter()
from ndap_infra.config import load_config
from ndap_infra.stacks.synthesis import synthesize
from pathlib import Path
config = load_config(sys.argv[1])
synthesis = synthesize(config, Path(sys.argv[2]))
seconds = time.perf_counter() - t
resources = sum(
    len(items) for stack in synthesis.stack_json().values()
    for items in stack.get("resource", {}).values()
)
print(json.dumps({"seconds": seconds, "resources": resources, "stacks": len(synthesis.stacks),
                  "peak_mb": peak_mb()}))
"""
)


def child(code: str, *args: str) -> dict[str, float]:
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def many_projects_config(count: int, path: Path) -> Path:
    from ruamel.yaml import YAML

    yaml = YAML()
    data = yaml.load((ROOT / "examples" / "reference.yaml").read_text())
    kinds = ["batch", "realtime"]
    data["ml_projects"] = [
        {
            "name": f"project-{i:03d}",
            "team": f"team-{i % 10}",
            "kind": kinds[i % 2],
            "repository": f"acme/project-{i:03d}",
            "retraining": {"strategy": "periodic", "schedule": "rate(7 days)"},
        }
        for i in range(count)
    ]
    with path.open("w") as handle:
        yaml.dump(data, handle)
    return path


def terraform_seconds(out_dir: Path, work: Path) -> float:
    from ndap_infra.stacks.synthesis import load_synthesis
    from ndap_infra.terraform.cli_config import write_cli_config
    from ndap_infra.terraform.runner import validate_stacks

    setup = write_cli_config(work)
    start = time.perf_counter()
    results = validate_stacks(load_synthesis(out_dir).stacks, setup)
    seconds = time.perf_counter() - start
    failed = [r.message for r in results if not r.ok]
    if failed:
        raise SystemExit("\n".join(failed))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--skip-terraform", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ndap-bench-") as tmp:
        tmp_path = Path(tmp)
        bare = child(CHILD_IMPORT)
        cases = {
            "reference": ROOT / "examples" / "reference.yaml",
            f"{args.projects} projects": many_projects_config(
                args.projects, tmp_path / "many.yaml"
            ),
        }
        print(
            f"bare `import cdktf` (python + jsii node runtime): {bare['seconds']:.2f}s, "
            f"peak {bare['peak_mb']:.0f} MB"
        )
        header = (
            f"{'config':<14} {'stacks':>6} {'resources':>9} {'synth s':>8} {'peak MB':>8} "
            f"{'x import':>8} {'tf init+validate s':>19}"
        )
        print(header)
        print("-" * len(header))
        for name, config in cases.items():
            out = tmp_path / name.replace(" ", "-") / "cdktf.out"
            figures = child(CHILD_SYNTH, str(config), str(out))
            tf = (
                "skipped"
                if args.skip_terraform
                else f"{terraform_seconds(out, tmp_path / 'tf-work'):.1f}"
            )
            print(
                f"{name:<14} {figures['stacks']:>6.0f} {figures['resources']:>9.0f} "
                f"{figures['seconds']:>8.2f} {figures['peak_mb']:>8.0f} "
                f"{figures['seconds'] / bare['seconds']:>8.1f} {tf:>19}"
            )


if __name__ == "__main__":
    main()
