"""At most once per SDK call: a retried attempt of a call the emulator already answered
gets that answer again instead of being done twice.

AWS SDKs (botocore, aws-sdk-go-v2 in the Terraform provider) send each call's id
(``amz-sdk-invocation-id``) and attempt number (``amz-sdk-request: attempt=N; max=M``) and
retry on a lost connection or a timeout. When the emulator did the work but the answer was
lost (a loaded machine, a dropped keep-alive connection), the retry is a second
``EnablePolicyType`` or ``CreateAccount`` and fails with ``...AlreadyEnabled`` where AWS,
whose answers are not lost this way, succeeds. Why this is hand-written and where it sits:
docs/design-notes.md, ``ndap_infra.emulator.replay``.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

INVOCATION = "HTTP_AMZ_SDK_INVOCATION_ID"
REQUEST = "HTTP_AMZ_SDK_REQUEST"
MAX_BODY = 1 << 20  # larger answers stream through and are not kept
MAX_KEPT = 4096
WAIT_SECONDS = 300.0
_ATTEMPT = re.compile(r"attempt=(\d+)")

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def attempt(environ: dict[str, Any]) -> int:
    """The attempt number the SDK sent (1 when it sent none)."""
    found = _ATTEMPT.search(str(environ.get(REQUEST, "")))
    return int(found.group(1)) if found else 1


class Replay:
    """WSGI middleware: keeps each call's successful answer by invocation id and gives it
    again to a later attempt of the same call (waiting for one still being answered)."""

    def __init__(self, app: Wsgi, log: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.kept: OrderedDict[str, Answer] = OrderedDict()
        self.running: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.replayed = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        call = environ.get(INVOCATION)
        if not call:
            return self.app(environ, start_response)
        if attempt(environ) > 1:
            answer = self._earlier_answer(call)
            if answer is not None:
                with self.lock:
                    self.replayed += 1
                self.log(
                    f"emulator: attempt {attempt(environ)} of call {call} answered with the "
                    f"first attempt's {answer.status.split()[0]} (it was done once already)"
                )
                start_response(answer.status, answer.headers)
                return [answer.body]
        done = threading.Event()
        with self.lock:
            self.running[call] = done
        try:
            return self._answer_and_keep(call, environ, start_response)
        finally:
            with self.lock:
                self.running.pop(call, None)
            done.set()

    def _earlier_answer(self, call: str) -> Answer | None:
        with self.lock:
            running = self.running.get(call)
        if running is not None:
            running.wait(WAIT_SECONDS)
        with self.lock:
            return self.kept.get(call)

    def _answer_and_keep(
        self, call: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def keep_start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            seen["status"], seen["headers"] = status, list(headers)
            return start_response(status, headers, *exc)

        result = self.app(environ, keep_start)
        chunks: list[bytes] = []
        size = 0
        iterator = iter(result)
        for chunk in iterator:
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY:  # a large answer (an S3 object): stream the rest, keep nothing
                return _Rest(chunks, iterator, result)
        _close(result)
        body = b"".join(chunks)
        status = str(seen.get("status", ""))
        if status[:1] == "2":
            with self.lock:
                self.kept[call] = Answer(status, seen["headers"], body)
                while len(self.kept) > MAX_KEPT:
                    self.kept.popitem(last=False)
        return [body]


class _Rest:
    """What is left of a large answer: the chunks read so far, then the rest."""

    def __init__(self, read: list[bytes], rest: Any, result: Any) -> None:
        self.read, self.rest, self.result = read, rest, result

    def __iter__(self) -> Any:
        yield from self.read
        yield from self.rest

    def close(self) -> None:
        _close(self.result)


def _close(result: Any) -> None:
    close = getattr(result, "close", None)
    if callable(close):
        close()
