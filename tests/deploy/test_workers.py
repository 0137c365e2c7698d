"""How many stacks of a wave run at once without --workers: the whole wave, as far as the
memory allows; --workers as given otherwise."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ndap_infra.deploy.orchestrate import waves
from ndap_infra.deploy.workers import (
    FALLBACK_WORKERS,
    MEMORY_PER_STACK,
    auto_workers,
    available_memory,
    choose_workers,
)

GIB = 1024**3
ENVIRONMENTS = ["env-nonprod", "env-dev", "env-acc", "env-prd"]


def test_the_four_environments_run_together_where_memory_allows() -> None:
    assert auto_workers(4, 20 * GIB) == 4
    assert auto_workers(4, 5 * GIB) == 2  # two stacks' worth of memory
    assert auto_workers(4, GIB) == 1  # never none
    assert auto_workers(4, None) == FALLBACK_WORKERS  # memory unknown: the old default
    assert auto_workers(1, None) == 1


def test_the_widest_wave_of_the_selection_decides(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("ndap_infra.deploy.workers.available_memory", lambda: 64 * GIB)
    selected = ["organization", "tooling", *ENVIRONMENTS]
    assert choose_workers(None, waves(selected)) == 4
    assert choose_workers(None, waves(["organization", "env-dev", "env-prd"])) == 2
    assert choose_workers(3, waves(selected)) == 3  # asked: as asked


def test_memory_is_read_from_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24576000 kB\nMemAvailable:   8388608 kB\n")
    assert available_memory(meminfo) == 8 * GIB
    meminfo.write_text("MemTotal:       24576000 kB\n")
    assert available_memory(meminfo) is None
    assert available_memory(tmp_path / "absent") is None
    assert available_memory() is None or available_memory() > 0  # this machine's


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=0, max_value=256 * GIB))
def test_never_more_than_the_wave_nor_than_memory_holds(widest: int, available: int) -> None:
    workers = auto_workers(widest, available)
    assert 1 <= workers <= widest
    assert workers == 1 or workers * MEMORY_PER_STACK <= available
