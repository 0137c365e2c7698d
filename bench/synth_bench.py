"""The figures of issue #17, every row in one run. Prints tables; asserts nothing.

    .venv/bin/python bench/synth_bench.py [--projects 100] [--skip-terraform]
        [--skip-build] [--deploy] [--fresh-clone]

Each measurement runs in a fresh process so import costs and peak memory (the child's
maximum resident set, with jsii's node runtime) are those a user sees. Synthesis is also
given as a ratio to a bare `import cdktf` measured in the same run, and the load average is
printed before and after: read the ratios on a shared machine. `--deploy` adds the deploy
and no-change plan on the emulator (minutes); `--fresh-clone` times `make all` and
`.ci/run` on a fresh clone of this checkout's HEAD (tens of minutes).
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

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


def round_trips(config: Path) -> dict[str, Any]:
    """jsii round trips of one synthesis, in a fresh process (bench/jsii_round_trips.py)."""
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "jsii_round_trips.py"), str(config)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(result.stdout))


def ndap_seconds(tmp: Path, *args: str) -> float:
    """Wall time of one `ndap` command, run as a user runs it (exit 0 required)."""
    env = dict(
        os.environ,
        NDAP_WORK_DIR=str(tmp / "work"),
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "ndap_infra", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"ndap {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return seconds


def build_seconds(tmp: Path) -> tuple[float, float]:
    """`ndap build` on the reference: from cold (an empty work directory), then again with
    nothing changed."""
    args = ["build", "-c", str(ROOT / "examples" / "reference.yaml"), "--out",
            str(tmp / "build-out"), "--policies", str(tmp / "build-policies")]  # fmt: skip
    return ndap_seconds(tmp, *args), ndap_seconds(tmp, *args)


def fresh_clone_seconds(tmp: Path, target: list[str]) -> tuple[float, list[str]]:
    """Wall time of ``target`` (a command) in a fresh clone of HEAD, and the lines of its
    output that time a stage (``.ci/run`` prints "ci: make <stage> took <n>s")."""
    clone = tmp / f"clone-{len(list(tmp.glob('clone-*')))}"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    log = tmp / f"{clone.name}.log"
    start = time.perf_counter()
    with log.open("w") as stream:
        completed = subprocess.run(target, cwd=clone, stdout=stream, stderr=stream, check=False)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        print(f"  {' '.join(target)} exited {completed.returncode}; its last lines:")
        print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
    stages = [line for line in log.read_text(errors="replace").splitlines() if " took " in line]
    return seconds, stages


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--skip-terraform", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--deploy", action="store_true", help="deploy onto the emulator")
    parser.add_argument("--fresh-clone", action="store_true", help="make all and .ci/run")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    print(f"before: {load()}")

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
            rows.append(
                (
                    f"synthesis, {name} ({figures['stacks']:.0f} stacks, "
                    f"{figures['resources']:.0f} resources)",
                    f"{figures['seconds']:.2f} s = {figures['seconds'] / bare['seconds']:.1f}x "
                    f"the bare import ({bare['seconds']:.2f} s); peak {figures['peak_mb']:.0f} MB",
                )
            )
            if tf != "skipped":
                stacks = f"{figures['stacks']:.0f} stacks, {name}"
                rows.append((f"`terraform validate` (init + validate, cold), {stacks}", f"{tf} s"))
        trips = round_trips(cases["reference"])
        rows.append(
            (
                "jsii round trips per resource (reference)",
                f"{trips['round_trips']} for {trips['resources']} resources = "
                f"{trips['per_resource']:.1f} each; {trips['waiting_s']:.1f} s of "
                f"{trips['synthesis_s']:.1f} s waiting on the node runtime",
            )
        )
        print("jsii round trips by kind (reference):")
        for kind, count in trips["top"]:
            print(f"  {count:>6}  {kind}")
        if not args.skip_build:
            cold_build, warm_build = build_seconds(tmp_path)
            rows.append(("`ndap build` on the reference, cold", f"{cold_build:.1f} s"))
            rows.append(("`ndap build` on the reference, nothing changed", f"{warm_build:.1f} s"))
        if args.deploy:
            from deploy_bench import measure

            applied, planned, ok = measure(
                "reference", cases["reference"], tmp_path / "deploy", workers=None
            )
            note = "" if ok else " (a stack failed: see above)"
            rows.append(
                ("`ndap deploy` of the reference onto the emulator", f"{applied:.0f} s{note}")
            )
            rows.append(("no-change plan of all stacks after deploy", f"{planned:.0f} s{note}"))
        if args.fresh_clone:
            make_all, _ = fresh_clone_seconds(tmp_path, ["make", "all"])
            rows.append(("`make all` on a fresh clone", f"{make_all / 60:.1f} min"))
            ci, stages = fresh_clone_seconds(tmp_path, ["bash", ".ci/run"])
            rows.append(("`.ci/run` on a fresh clone", f"{ci / 60:.1f} min"))
            for line in stages:  # "ci: make test-fast took 334s"
                stage, took = line.removeprefix("ci: ").split(" took ")
                seconds = float(took.rstrip("s"))
                rows.append((f"`{stage}` within `.ci/run`", f"{seconds / 60:.1f} min"))
        print(f"\nafter: {load()}\n")
        print("| what | measured |\n|---|---|")
        for what, figure in rows:
            print(f"| {what} | {figure} |")


if __name__ == "__main__":
    main()
