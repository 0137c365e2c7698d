"""Run Terraform over every stack in dependency order, a few stacks at a time.

The synthesis lists the stacks in dependency order. Every stack that is not an environment
stack (organization, tooling) runs alone, in that order: later stacks may rely on what it
creates (the environments' deployer roles trust the tooling stack's build roles). The
environment stacks share nothing with each other (each has its own state and account, no
references between them), so they run last, together, ``workers`` at a time, except where
the synthesis declares a dependency between them (prd replicates into dev's and acc's
buckets, which must exist first: ``Synthesis.apply_waves``). Destroy runs the other way
round. When a wave fails, the waves after it are not started (their results
say so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ndap_infra.config.enums import Environment
from ndap_infra.deploy.runner import StackResult
from ndap_infra.names.platform import environment_stack

DEFAULT_WORKERS = 2


class UnknownStacks(ValueError):
    pass


def select(available: Sequence[str], requested: Sequence[str]) -> list[str]:
    """The requested stacks (all when none), in the available (dependency) order."""
    if not requested:
        return list(available)
    unknown = [name for name in requested if name not in available]
    if unknown:
        raise UnknownStacks(
            f"unknown stacks: {', '.join(unknown)}; the synthesized stacks are "
            + ", ".join(available)
        )
    return [name for name in available if name in requested]


def is_environment_stack(name: str) -> bool:
    return any(name == environment_stack(env) for env in Environment)


def waves(
    stacks: Sequence[str], *, reverse: bool = False, levels: Mapping[str, int] | None = None
) -> list[list[str]]:
    """The stacks grouped by the wave they apply in, ``levels`` (the synthesis's declared
    order); without it each non-environment stack alone, in order, then the environment
    stacks together. Reversed for destroy: the environments first, the organization last."""
    if levels is not None:
        numbers = sorted({levels[s] for s in stacks})
        grouped = [[s for s in stacks if levels[s] == n] for n in numbers]
        return grouped[::-1] if reverse else grouped
    ordered = [[s] for s in stacks if not is_environment_stack(s)]
    environments = [s for s in stacks if is_environment_stack(s)]
    if environments:
        ordered.append(environments)
    return ordered[::-1] if reverse else ordered


def run_waves(
    groups: Sequence[Sequence[str]],
    action: Callable[[str], StackResult],
    *,
    workers: int = DEFAULT_WORKERS,
    on_result: Callable[[StackResult], None] = lambda result: None,
    stop_on_failure: bool = True,
    label: str = "apply",
) -> list[StackResult]:
    results: list[StackResult] = []
    failed: list[str] = []
    for group in groups:
        if failed and stop_on_failure:
            for stack in group:
                skipped = StackResult(
                    stack, label, False, 0.0, f"not run: {', '.join(failed)} failed", Path()
                )
                results.append(skipped)
                on_result(skipped)
            continue
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [pool.submit(action, stack) for stack in group]
            for future in as_completed(futures):
                result = future.result()
                results.append(result)
                on_result(result)
                if not result.ok:
                    failed.append(result.stack)
    return results
