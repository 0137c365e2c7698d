"""Where one Terraform command spends its CPU: Terraform itself and each provider process
it starts. Prints a line; asserts nothing.

    .venv/bin/python bench/terraform_processes.py --stack env-dev [--out cdktf.out]
        [--work .ndap] [-- plan -input=false -no-color -lock=false]

Runs in the stack's directory of a synthesis, with the environment `ndap deploy` gives
it (the emulator of ``--work`` when one runs there), after ``terraform init`` (without the
backend when no emulator runs: enough for ``validate``); the default command is a
no-change plan. The CPU of every process is read from /proc while it runs
(the providers are Terraform's children), so this needs Linux. Issue #17's figures,
docs/testing.md ("Where the time goes"), came from it.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a live process, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / HZ


def peak_mb(pid: int) -> float | None:
    """The process's peak resident memory so far (VmHWM)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    """Every thread's children: Go starts the provider processes from any thread."""
    found: list[int] = []
    for listing in glob.glob(f"/proc/{pid}/task/*/children"):
        with contextlib.suppress(OSError):  # the thread or process ended meanwhile
            found += [int(p) for p in Path(listing).read_text().split()]
    return found


def measure(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    last: dict[int, float] = {}
    peaks: dict[int, float] = {}
    started: dict[int, float] = {}
    start = time.monotonic()
    while process.poll() is None:
        for pid in (process.pid, *children(process.pid)):
            seconds = cpu_seconds(pid)
            if seconds is not None:
                last[pid] = seconds
                peaks[pid] = max(peaks.get(pid, 0.0), peak_mb(pid) or 0.0)
                started.setdefault(pid, time.monotonic() - start)
        time.sleep(0.1)
    wall = time.monotonic() - start
    core = last.pop(process.pid, 0.0)
    providers = ", ".join(
        f"{last[p]:.1f} s (from {started[p]:.1f} s, peak {peaks[p]:.0f} MB)" for p in last
    )
    print(
        f"terraform {' '.join(command[1:3])}: exit {process.returncode}, wall {wall:.1f} s, "
        f"Terraform {core:.1f} s CPU, {len(last)} provider processes: {providers or 'none'} "
        f"(CPU seen while they ran; load {os.getloadavg()[0]:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--out", type=Path, default=ROOT / "cdktf.out")
    parser.add_argument("--work", type=Path, default=ROOT / ".ndap")
    parser.add_argument("command", nargs="*")
    args = parser.parse_args()

    from ndap_infra.deploy.flow import stack_runs
    from ndap_infra.deploy.runner import init
    from ndap_infra.emulator import lifecycle
    from ndap_infra.stacks.synthesis import load_synthesis
    from ndap_infra.terraform.cli_config import write_cli_config
    from ndap_infra.terraform.runner import find_terraform

    status = lifecycle.status(args.work)
    emulator = status.info if status.state is lifecycle.State.RUNNING else None
    runs = stack_runs(load_synthesis(args.out), write_cli_config(args.work), emulator, args.work)
    run = runs[args.stack]
    if emulator is None:  # no state to reach: enough for validate (as `ndap build` runs it)
        subprocess.run(
            [find_terraform(), "init", "-backend=false", "-input=false", "-no-color"],
            cwd=run.directory,
            env=dict(run.env),
            check=True,
            capture_output=True,
        )
    elif (failure := init(run, "bench")) is not None:
        raise SystemExit(failure)
    command = args.command or ["plan", "-input=false", "-no-color", "-lock=false"]
    measure([find_terraform(), *command], run.directory, dict(run.env))


if __name__ == "__main__":
    main()
