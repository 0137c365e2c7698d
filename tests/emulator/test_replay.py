"""At most once per SDK call (``ndap_infra.emulator.replay``). GIVEN a call the emulator
already answered, WHEN the SDK sends another attempt of it (its answer was lost), THEN the
emulator answers it again without doing the work twice; a new call is always done."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from ndap_infra.emulator import lifecycle
from ndap_infra.emulator.replay import MAX_BODY, Replay


class _Counting:
    """A WSGI app that counts what it does and answers with the count."""

    def __init__(self, status: str = "200 OK", size: int = 0) -> None:
        self.done = 0
        self.status = status
        self.size = size
        self.gate: threading.Event | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.gate is not None:
            self.gate.wait(10)
        self.done += 1
        start_response(self.status, [("Content-Type", "text/plain")])
        return iter([f"done {self.done}".encode(), b"x" * self.size])


def _call(app: Replay, call: str | None, attempt: int) -> tuple[str, bytes]:
    environ: dict[str, Any] = {}
    if call is not None:
        environ["HTTP_AMZ_SDK_INVOCATION_ID"] = call
        environ["HTTP_AMZ_SDK_REQUEST"] = f"attempt={attempt}; max=5"
    seen: list[str] = []
    body = b"".join(app(environ, lambda status, headers, *exc: seen.append(status)))
    return seen[0], body


def test_a_retried_attempt_gets_the_first_answer_and_the_work_is_done_once() -> None:
    inner = _Counting()
    lines: list[str] = []
    app = Replay(inner, log=lines.append)
    assert _call(app, "call-1", 1) == ("200 OK", b"done 1")
    assert _call(app, "call-1", 2) == ("200 OK", b"done 1")
    assert inner.done == 1 and app.replayed == 1
    assert lines and "attempt 2 of call call-1" in lines[0]
    # a new call (or one without an id) is always done
    assert _call(app, "call-2", 1)[1] == b"done 2"
    assert _call(app, None, 1)[1] == b"done 3"
    assert inner.done == 3


def test_a_failed_attempt_is_done_again() -> None:
    inner = _Counting(status="500 Internal Server Error")
    app = Replay(inner, log=lambda line: None)
    _call(app, "call-1", 1)
    _call(app, "call-1", 2)
    assert inner.done == 2 and app.replayed == 0


def test_a_large_answer_streams_through_and_is_not_kept() -> None:
    inner = _Counting(size=MAX_BODY + 1)
    app = Replay(inner, log=lambda line: None)
    status, body = _call(app, "call-1", 1)
    assert status == "200 OK" and len(body) > MAX_BODY
    _call(app, "call-1", 2)
    assert inner.done == 2


def test_a_retry_arriving_while_the_first_attempt_runs_waits_for_its_answer() -> None:
    inner = _Counting()
    inner.gate = threading.Event()
    app = Replay(inner, log=lambda line: None)
    answers: dict[int, tuple[str, bytes]] = {}
    first = threading.Thread(target=lambda: answers.__setitem__(1, _call(app, "call-1", 1)))
    first.start()
    while "call-1" not in app.running:  # the first attempt is inside the app
        threading.Event().wait(0.01)
    second = threading.Thread(target=lambda: answers.__setitem__(2, _call(app, "call-1", 2)))
    second.start()
    inner.gate.set()
    first.join(10)
    second.join(10)
    assert answers[1] == answers[2] == ("200 OK", b"done 1")
    assert inner.done == 1


@pytest.fixture(scope="module")
def info(tmp_path_factory: pytest.TempPathFactory) -> Iterator[lifecycle.EmulatorInfo]:
    work: Path = tmp_path_factory.mktemp("replay") / "work"
    started = lifecycle.start(work)
    try:
        yield started.info
    finally:
        lifecycle.stop(work)


def _as_call(client: Any, call: str, attempt: int) -> None:
    """Every request of ``client`` from now on is attempt ``attempt`` of call ``call``."""

    def headers(request: Any, **_: Any) -> None:
        request.headers["amz-sdk-invocation-id"] = call
        request.headers["amz-sdk-request"] = f"attempt={attempt}; max=5"

    client.meta.events.register_first("before-send.organizations.*", headers)


def test_the_emulator_answers_a_retried_enable_policy_type_as_aws_does(
    info: lifecycle.EmulatorInfo,
) -> None:
    """The CI failure of session 7: EnablePolicyType retried after its answer was lost."""
    orgs = lifecycle.client(info, "organizations", account_id="100000000001")
    orgs.create_organization(FeatureSet="ALL")
    root = orgs.list_roots()["Roots"][0]["Id"]

    def enable(call: str, attempt: int) -> Any:
        client = lifecycle.client(info, "organizations", account_id="100000000001")
        _as_call(client, call, attempt)
        return client.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")

    first = enable("enable-scp", 1)
    again = enable("enable-scp", 2)
    assert again["Root"] == first["Root"]
    types = orgs.list_roots()["Roots"][0]["PolicyTypes"]
    assert [t["Type"] for t in types] == ["SERVICE_CONTROL_POLICY"]
    # negative control: a second call (a new id) is done, and refused as AWS refuses it
    with pytest.raises(ClientError) as refused:
        enable("enable-scp-again", 1)
    assert refused.value.response["Error"]["Code"] == "PolicyTypeAlreadyEnabledException"
