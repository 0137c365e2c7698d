"""The deploy, plan and destroy passes over a synthesis, shared by the CLI and the bench."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ndap_infra.deploy import runner
from ndap_infra.deploy.orchestrate import DEFAULT_WORKERS, run_waves, waves
from ndap_infra.deploy.plans import plan_file
from ndap_infra.deploy.runner import SavedPlan, StackResult, StackRun, stack_environment
from ndap_infra.emulator.lifecycle import EmulatorInfo
from ndap_infra.stacks.synthesis import Synthesis
from ndap_infra.terraform.cli_config import TerraformSetup

Report = Callable[[StackResult], None]


def stack_runs(
    synthesis: Synthesis, setup: TerraformSetup, emulator: EmulatorInfo | None, work_dir: Path
) -> dict[str, StackRun]:
    env = stack_environment(setup, emulator)
    logs = work_dir.resolve() / "logs"
    return {
        name: StackRun(name, path.resolve(), env, logs, emulator)
        for name, path in synthesis.stacks.items()
    }


def apply_all(
    runs: dict[str, StackRun],
    selected: Sequence[str],
    *,
    workers: int = DEFAULT_WORKERS,
    on_result: Report = lambda result: None,
    levels: Mapping[str, int] | None = None,
) -> list[StackResult]:
    """``terraform apply`` on every selected stack, in dependency order (``levels``: the
    synthesis's apply waves)."""
    return run_waves(
        waves(selected, levels=levels),
        lambda s: runner.apply(runs[s]),
        workers=workers,
        on_result=on_result,
    )


def save_plans(
    runs: dict[str, StackRun],
    stacks: Sequence[str],
    directory: Path,
    *,
    workers: int = DEFAULT_WORKERS,
) -> list[SavedPlan]:
    """``terraform plan -out=<directory>/<stack>.tfplan`` on every stack given (any order),
    each with its JSON; in ``stacks``' order."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda s: runner.save_plan(runs[s], plan_file(directory, s)), stacks))


def apply_saved(
    runs: dict[str, StackRun],
    stacks: Sequence[str],
    directory: Path,
    *,
    workers: int = DEFAULT_WORKERS,
    on_result: Report = lambda result: None,
    init_first: bool = False,
) -> list[StackResult]:
    """``terraform apply <directory>/<stack>.tfplan`` on every stack given (one wave)."""
    return run_waves(
        [list(stacks)],
        lambda s: runner.apply_plan(runs[s], plan_file(directory, s), init_first=init_first),
        workers=workers,
        on_result=on_result,
    )


def plan_all(
    runs: dict[str, StackRun],
    selected: Sequence[str],
    *,
    workers: int = DEFAULT_WORKERS,
    on_result: Report = lambda result: None,
    init_first: bool = False,
) -> list[StackResult]:
    """``terraform plan -detailed-exitcode`` on every selected stack (any order)."""
    return run_waves(
        [list(selected)],
        lambda s: runner.plan(runs[s], init_first=init_first),
        workers=workers,
        on_result=on_result,
        stop_on_failure=False,
        label="plan",
    )


def destroy_all(
    runs: dict[str, StackRun],
    synthesis: Synthesis,
    selected: Sequence[str],
    *,
    include_protected: bool,
    workers: int = DEFAULT_WORKERS,
    on_result: Report = lambda result: None,
) -> list[StackResult]:
    """``terraform destroy`` on every selected stack, in reverse dependency order."""
    documents = synthesis.stack_json()
    return run_waves(
        waves(selected, reverse=True, levels=synthesis.apply_waves()),
        lambda s: runner.destroy(runs[s], documents[s], include_protected=include_protected),
        workers=workers,
        on_result=on_result,
        label="destroy",
    )
