"""Deploy figures on the local emulator. Prints tables; asserts nothing.

    .venv/bin/python bench/deploy_bench.py [--projects 100] [--skip-projects] [--workers N]

For the reference example, then for the reference with N ML projects: synthesize, start a
fresh emulator (its own work directory and port), `terraform apply` every stack as
`ndap deploy` does (organization and tooling alone, then the environments in parallel),
then the no-change `terraform plan -detailed-exitcode` of every stack; the emulator is
stopped afterwards. Wall time per stack and in total.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def measure(
    name: str, config_path: Path, tmp: Path, workers: int | None
) -> tuple[float, float, bool]:
    """Print the tables; return the wall seconds of the apply, of the no-change plan, and
    whether every stack applied and planned without changes. ``workers`` None: as `ndap
    deploy` chooses without --workers."""
    from ndap_infra.config import load_config
    from ndap_infra.deploy.flow import apply_all, plan_all, stack_runs
    from ndap_infra.deploy.orchestrate import waves
    from ndap_infra.deploy.workers import choose_workers
    from ndap_infra.emulator import lifecycle
    from ndap_infra.emulator.gaps import synthesized_gaps
    from ndap_infra.emulator.seed import seed_adopted_organization
    from ndap_infra.stacks.synthesis import synthesize
    from ndap_infra.terraform.cli_config import write_cli_config

    work = tmp / f"{name.replace(' ', '-')}-work"
    config = load_config(config_path)
    start = time.perf_counter()
    synthesis = synthesize(config, tmp / f"{name.replace(' ', '-')}-out")
    synth_seconds = time.perf_counter() - start
    documents = synthesis.stack_json()
    counts = {
        stack: sum(len(items) for items in doc.get("resource", {}).values())
        for stack, doc in documents.items()
    }
    gaps = synthesized_gaps(documents)
    started = lifecycle.start(work)
    try:
        seed_adopted_organization(started.info, config)  # as `ndap deploy` does
        runs = stack_runs(synthesis, write_cli_config(work), started.info, work)
        stacks = list(synthesis.stacks)
        workers = choose_workers(workers, waves(stacks, levels=synthesis.apply_waves()))
        print(f"{name}: the stacks of a wave {workers} at a time")
        start = time.perf_counter()
        applied = apply_all(runs, stacks, workers=workers, levels=synthesis.apply_waves())
        apply_seconds = time.perf_counter() - start
        start = time.perf_counter()
        plans = plan_all(runs, stacks, workers=workers)
        plan_seconds = time.perf_counter() - start
    finally:
        lifecycle.stop(work)
    by_stack = {r.stack: r for r in applied}
    plan_by_stack = {r.stack: r for r in plans}
    absent = sum(1 for g in gaps if not g.ignored)
    print(
        f"\n{name}: {len(stacks)} stacks, {sum(counts.values())} resources synthesized "
        f"({absent} left out on the emulator), synth {synth_seconds:.1f}s"
    )
    header = f"{'stack':<12} {'resources':>9} {'apply s':>8} {'result':<40} {'plan s':>7} plan"
    print(header)
    print("-" * len(header))
    for stack in stacks:
        result, plan = by_stack[stack], plan_by_stack[stack]
        print(
            f"{stack:<12} {counts[stack]:>9} {result.seconds:>8.1f} {result.summary[:40]:<40} "
            f"{plan.seconds:>7.1f} {plan.summary}"
        )
    print(
        f"{'total':<12} {sum(counts.values()):>9} {apply_seconds:>8.1f} {'(wall, all stacks)':<40} "
        f"{plan_seconds:>7.1f} (wall)"
    )
    failed = [r for r in [*applied, *plans] if not r.ok]
    for result in failed:
        print(f"  {result.stack} {result.action}: {result.detail[:600]}")
    return apply_seconds, plan_seconds, not failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--skip-projects", action="store_true")
    parser.add_argument("--workers", type=int, default=None, help="default: as ndap deploy")
    args = parser.parse_args()

    from synth_bench import many_projects_config

    with tempfile.TemporaryDirectory(prefix="ndap-deploy-bench-") as tmp:
        tmp_path = Path(tmp)
        measure("reference", ROOT / "examples" / "reference.yaml", tmp_path, args.workers)
        if not args.skip_projects:
            config = many_projects_config(args.projects, tmp_path / "many.yaml")
            measure(f"{args.projects} projects", config, tmp_path, args.workers)


if __name__ == "__main__":
    main()
