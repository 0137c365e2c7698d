"""Stopping Terraform cleanly: SIGINT (Ctrl-C) or SIGTERM asks every running terraform to
stop once, so that it saves its state and releases its lock, and the next run converges.
Killing terraform instead would leave a lock and resources it created outside its state."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator

from ndap_infra.deploy.runner import interrupt_terraform


@contextlib.contextmanager
def graceful_interruption(on_interrupt: Callable[[], None]) -> Iterator[None]:
    """While Terraform runs: the first SIGINT or SIGTERM asks every running terraform to
    stop, then calls ``on_interrupt`` (to say so); the previous handlers come back after."""

    def handler(signum: int, frame: object) -> None:
        if interrupt_terraform():
            on_interrupt()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
