"""Start, find, check and stop the local AWS emulator (moto in server mode).

The emulator is a detached process (``python -m ndap_infra.emulator.server``) listening on
a free loopback port. It keeps running between commands until ``ndap emulator stop``; its
port, pid and start time are recorded in ``<work dir>/emulator.json`` and its output goes
to ``<work dir>/emulator.log``. Everything it holds lives in memory: stopping it discards
every deployed resource and the Terraform state (which lives in it, see
``ndap_infra.constructs.provider``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from ndap_infra.emulator.server import LOOPBACK
from ndap_infra.emulator.settings import (
    DUMMY_CREDENTIAL,
    EMULATOR_STATE_BUCKET,
    EMULATOR_STATE_REGION,
)

STATE_FILE = "emulator.json"
LOG_FILE = "emulator.log"
SERVER_MODULE = "ndap_infra.emulator.server"
HEALTH_PATH = "/moto-api/config"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def default_work_dir() -> Path:
    """The project's work directory: ``NDAP_WORK_DIR``, default ``.ndap``."""
    return Path(os.environ.get("NDAP_WORK_DIR", ".ndap"))


class EmulatorError(RuntimeError):
    """The emulator cannot be used; the message says why and what to do."""


class EmulatorNotRunning(EmulatorError):
    pass


@dataclass(frozen=True)
class EmulatorInfo:
    """A running emulator, as recorded in ``emulator.json``."""

    port: int
    pid: int
    started_at: str
    log: str

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


class State(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class EmulatorStatus:
    state: State
    info: EmulatorInfo | None
    message: str


def _state_path(work_dir: Path) -> Path:
    return work_dir / STATE_FILE


def read_info(work_dir: Path) -> EmulatorInfo | None:
    path = _state_path(work_dir)
    try:
        data = json.loads(path.read_text())
        return EmulatorInfo(
            port=int(data["port"]),
            pid=int(data["pid"]),
            started_at=str(data["started_at"]),
            log=str(data["log"]),
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return None  # a damaged record: treated as no emulator


def is_healthy(endpoint: str, timeout: float = 2.0) -> bool:
    """True when moto answers its own API at ``endpoint``."""
    try:
        with urllib.request.urlopen(endpoint + HEALTH_PATH, timeout=timeout) as response:
            json.loads(response.read())
            return 200 <= int(response.status) < 300
    except (OSError, ValueError, urllib.error.URLError):
        return False


def _pid_is_emulator(pid: int) -> bool:
    """True when ``pid`` is alive and (where /proc tells) is our server module."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        with contextlib.suppress(OSError):
            return SERVER_MODULE in cmdline.read_bytes().decode(errors="replace")
    return True


def status(work_dir: Path | None = None) -> EmulatorStatus:
    work_dir = default_work_dir() if work_dir is None else work_dir
    info = read_info(work_dir)
    if info is None:
        return EmulatorStatus(
            State.STOPPED, None, "the local emulator is not running (`ndap emulator start`)"
        )
    if is_healthy(info.endpoint):
        return EmulatorStatus(
            State.RUNNING,
            info,
            f"the local emulator is running at {info.endpoint} (pid {info.pid}, started "
            f"{info.started_at}, log {info.log})",
        )
    alive = _pid_is_emulator(info.pid)
    return EmulatorStatus(
        State.UNREACHABLE,
        info,
        f"the local emulator recorded in {_state_path(work_dir)} (pid {info.pid}, "
        f"{info.endpoint}) does not answer"
        + (" although its process is alive" if alive else ": its process has exited")
        + f"; see {info.log}, then `ndap emulator stop` and `ndap emulator start` (its "
        "resources and state are lost either way)",
    )


def require_running(work_dir: Path | None = None) -> EmulatorInfo:
    """The running emulator, or ``EmulatorNotRunning`` with what to do."""
    current = status(work_dir)
    if current.state is State.RUNNING and current.info is not None:
        return current.info
    raise EmulatorNotRunning(current.message)


@dataclass(frozen=True)
class Started:
    info: EmulatorInfo
    already_running: bool


def start(work_dir: Path | None = None, timeout: float = START_TIMEOUT) -> Started:
    """Start the emulator unless it already runs; wait until it answers; create the
    Terraform state bucket in it."""
    work_dir = default_work_dir() if work_dir is None else work_dir
    current = status(work_dir)
    if current.state is State.RUNNING and current.info is not None:
        ensure_state_bucket(current.info)
        return Started(current.info, already_running=True)
    if current.state is State.UNREACHABLE:
        stop(work_dir)  # a dead or hung emulator: clear it before starting a new one
    work_dir.mkdir(parents=True, exist_ok=True)
    work_dir = work_dir.resolve()
    ready = work_dir / "emulator.ready"
    ready.unlink(missing_ok=True)
    log_path = work_dir / LOG_FILE
    env = dict(os.environ)
    # Identity policies are only enforced while `ndap probe` runs (it switches them on).
    env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
    env.pop("MOTO_ACCOUNT_ID", None)  # would override every assumed role's account
    # AWS-managed policies (e.g. service-role/AWS_ConfigRole) exist only when loaded.
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", SERVER_MODULE, "--ready-file", str(ready)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=work_dir,
            env=env,
            start_new_session=True,  # survives this command and the terminal's Ctrl-C
        )
    deadline = time.monotonic() + timeout
    port: int | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorError(
                f"the emulator exited during start-up (code {process.returncode}); the end of "
                f"{log_path}:\n{_tail(log_path)}"
            )
        if port is None and ready.exists():
            port = int(json.loads(ready.read_text())["port"])
            ready.unlink(missing_ok=True)
        if port is not None and is_healthy(f"http://{LOOPBACK}:{port}", timeout=1.0):
            break
        time.sleep(0.1)
    else:
        _terminate(process.pid)
        raise EmulatorError(
            f"the emulator did not answer within {timeout:.0f}s; the end of {log_path}:\n"
            + _tail(log_path)
        )
    info = EmulatorInfo(
        port=port,
        pid=process.pid,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        log=str(log_path),
    )
    tmp = _state_path(work_dir).with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(info), indent=2) + "\n")
    tmp.replace(_state_path(work_dir))
    ensure_state_bucket(info)
    return Started(info, already_running=False)


def stop(work_dir: Path | None = None, timeout: float = STOP_TIMEOUT) -> EmulatorInfo | None:
    """Stop the recorded emulator (if its process is still ours) and forget it. Returns
    what was recorded, or None when nothing was."""
    work_dir = default_work_dir() if work_dir is None else work_dir
    info = read_info(work_dir)
    if info is not None and _pid_is_emulator(info.pid):
        _terminate(info.pid, timeout)
    _state_path(work_dir).unlink(missing_ok=True)
    return info


def _terminate(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    # Reap it if it is our child (tests start and stop within one process).
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- talking to the emulator --------------------------------------------------------------


@functools.cache
def _session() -> Any:
    """One boto3 session for every emulator client of this process: a session loads each
    service's model once, and a new session per client cost about a second per client on
    the loaded 2-core machine (``ndap preflight`` makes one per account, region and
    service). boto3 sessions are not thread-safe, hence ``_SESSION_LOCK``."""
    import boto3  # type: ignore[import-untyped]

    return boto3.session.Session(
        aws_access_key_id=DUMMY_CREDENTIAL, aws_secret_access_key=DUMMY_CREDENTIAL
    )


_SESSION_LOCK = threading.Lock()


def client(
    info: EmulatorInfo, service: str, *, account_id: str | None = None, region: str = "us-east-1"
) -> Any:
    """A boto3 client on the emulator with dummy credentials, acting in ``account_id``
    (moto's ``x-moto-account-id`` header) or in its default account."""
    from botocore.config import Config  # type: ignore[import-untyped]

    with _SESSION_LOCK:
        made = _session().client(
            service,
            region_name=region,
            endpoint_url=info.endpoint,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )
    if account_id is not None:

        def _as_account(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account_id

        made.meta.events.register("before-sign.*.*", _as_account)
    return made


def ensure_state_bucket(info: EmulatorInfo) -> None:
    """The bucket holding Terraform state on the emulator (idempotent)."""
    s3 = client(info, "s3", region=EMULATOR_STATE_REGION)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if EMULATOR_STATE_BUCKET not in existing:
        s3.create_bucket(Bucket=EMULATOR_STATE_BUCKET)
