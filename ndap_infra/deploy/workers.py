"""How many stacks of one wave ``ndap deploy`` and ``ndap destroy`` run at the same time
when ``--workers`` is not given: all of them, as far as memory allows.

An apply mostly waits on the cloud (a bucket's lifecycle rules, a KMS key; docs/testing.md),
so stacks run side by side finish together even on two cores; what bounds them is memory:
each Terraform run holds one AWS provider process per provider configuration (about 650 MB
each, two configurations in most stacks) beside Terraform itself."""

from __future__ import annotations

import os
from pathlib import Path

MEMORY_PER_STACK = 2 * 1024**3
"""Bytes one stack's Terraform run may hold: Terraform (about 300 MB) and two AWS provider
processes (620 to 645 MB each at GOGC=200, measured with bench/terraform_processes.py),
rounded up."""
FALLBACK_WORKERS = 2
"""When the available memory cannot be read."""
MEMINFO = Path("/proc/meminfo")


def available_memory(meminfo: Path = MEMINFO) -> int | None:
    """Bytes of memory available to new processes (Linux's ``MemAvailable``), else None."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def auto_workers(widest_wave: int, available: int | None) -> int:
    """Stacks at once: the widest wave whole, unless memory allows fewer (never below 1)."""
    if available is None:
        return max(1, min(widest_wave, FALLBACK_WORKERS))
    return max(1, min(widest_wave, available // MEMORY_PER_STACK))


def choose_workers(asked: int | None, waves: list[list[str]]) -> int:
    """``--workers`` as asked, else :func:`auto_workers` for these waves on this machine."""
    if asked is not None:
        return asked
    widest = max((len(wave) for wave in waves), default=1)
    return auto_workers(widest, available_memory() if os.name == "posix" else None)
