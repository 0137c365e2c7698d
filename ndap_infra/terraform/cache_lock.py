"""One ``terraform init`` at a time per plugin cache, across threads and processes.

Terraform's plugin cache is not safe for concurrent writers: two ``init``s filling an
empty cache race on creating its directories and one fails with ``mkdir ...: file
exists`` (seen here when ``ndap build`` validated two stacks at once, and when two ``ndap``
processes shared the project's ``.ndap``). Inits are quick once the cache holds the
provider, so serializing them costs little; ``validate``, ``plan`` and ``apply`` still
run in parallel.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".ndap-init.lock"
_THREADS = threading.Lock()  # flock is per open file, so threads also take this one


@contextmanager
def plugin_cache_lock(plugin_cache_dir: Path) -> Iterator[None]:
    """Hold the cache's init lock (an advisory ``flock`` on a file inside the cache)."""
    plugin_cache_dir.mkdir(parents=True, exist_ok=True)
    with _THREADS, (plugin_cache_dir / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
