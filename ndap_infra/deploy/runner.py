"""Terraform over one synthesized stack: init, apply, plan, destroy; errors made readable.

Every command runs in the stack's directory (``cdktf.out/stacks/<name>``) with the
project's CLI configuration (``ndap_infra.terraform.cli_config``) and, on the local target,
the emulator's address (``emulator_environment``). Output goes to a log per stack and
action under ``<work dir>/logs``; results carry a one-line summary and, on failure, the
error Terraform printed, rewritten when the cause is known (a held state lock, an emulator
that stopped answering).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ndap_infra.emulator.gaps import undeletable
from ndap_infra.emulator.lifecycle import EmulatorInfo, is_healthy
from ndap_infra.emulator.settings import EMULATOR_ENDPOINT_VARIABLE
from ndap_infra.terraform.cache_lock import plugin_cache_lock
from ndap_infra.terraform.cli_config import TerraformSetup
from ndap_infra.terraform.runner import find_terraform
from ndap_infra.terraform.validate_cache import terraform_version

OVERRIDE_FILE = "ndap_destroy_override.tf.json"


def emulator_environment(emulator: EmulatorInfo) -> dict[str, str]:
    """What a Terraform or cdktf process needs to reach the emulator: the providers'
    endpoint variable, and the state backend's S3 endpoint (backends cannot read
    variables)."""
    return {
        f"TF_VAR_{EMULATOR_ENDPOINT_VARIABLE}": emulator.endpoint,
        "AWS_ENDPOINT_URL_S3": emulator.endpoint,
    }


def stack_environment(setup: TerraformSetup, emulator: EmulatorInfo | None) -> dict[str, str]:
    env = setup.environment()
    if emulator is not None:
        env.update(emulator_environment(emulator))
    return env


@dataclass(frozen=True)
class StackResult:
    stack: str
    action: str
    ok: bool
    seconds: float
    summary: str
    log: Path
    detail: str = ""
    changes: bool | None = None  # plan only: True when the plan is not empty
    kept: tuple[str, ...] = field(default=())  # destroy only: what was deliberately kept
    left: tuple[str, ...] = field(default=())
    """Destroy on the emulator only: what it cannot delete, removed from state instead."""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        return f"  {mark} {self.stack:<12} {self.action:<8} {self.summary} [{self.seconds:.1f}s]"


@dataclass(frozen=True)
class StackRun:
    """Where and how to run Terraform for one stack."""

    stack: str
    directory: Path
    env: Mapping[str, str]
    log_dir: Path
    emulator: EmulatorInfo | None = None

    def log(self, action: str) -> Path:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self.log_dir / f"{self.stack}.{action}.log"

    def terraform(
        self, args: Sequence[str], action: str, *, log_stdout: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run Terraform in the stack's directory; its output is appended to the action's
        log (without stdout when ``log_stdout`` is false: a JSON plan is megabytes)."""
        command = [find_terraform(), *args]
        with _RUNNING_LOCK:
            if _INTERRUPTED.is_set():
                return subprocess.CompletedProcess(command, 130, "", INTERRUPTED_TEXT)
            # Its own session: a Ctrl-C on the terminal reaches ndap only, which then asks
            # every running terraform to stop exactly once (a second SIGINT would make
            # terraform exit at once, without saving its state).
            process = subprocess.Popen(
                command,
                cwd=self.directory,
                env=dict(self.env),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            _RUNNING.add(process)
        try:
            stdout, stderr = process.communicate()
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(process)
        completed = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        with self.log(action).open("a") as log:
            shown = completed.stdout if log_stdout else f"({len(completed.stdout)} characters)\n"
            log.write(f"$ terraform {' '.join(args)}\n{shown}{completed.stderr}\n")
        return completed


# -- interruption: stop terraform gracefully, so the next run converges ------------------

INTERRUPTED_TEXT = "ndap: interrupted before this terraform command started\n"
_RUNNING: set[subprocess.Popen[str]] = set()
_RUNNING_LOCK = threading.Lock()
_INTERRUPTED = threading.Event()


def interrupt_terraform() -> int:
    """Ask every running terraform to stop (one SIGINT each: it finishes the operations in
    flight, writes its state and releases its lock) and start no new one. Returns how many
    were asked. Safe to call from a signal handler (only the first call does anything)."""
    if _INTERRUPTED.is_set():
        return 0
    _INTERRUPTED.set()
    asked = 0
    for process in list(_RUNNING):
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            asked += 1
    return asked


def was_interrupted() -> bool:
    return _INTERRUPTED.is_set()


def _failure(run: StackRun, output: str, what: str, logged_as: str | None = None) -> str:
    """The error to show for a failed Terraform command, cause first when known
    (``logged_as``: the action whose log holds the output, when not ``what``)."""
    log = run.log(logged_as or what)
    if was_interrupted():
        return (
            f"{run.stack}: interrupted during terraform {what}; terraform finished what it "
            "had in flight, saved its state and released its lock: run the same command "
            "again to converge"
        )
    lock = parse_lock(output)
    if lock is not None:
        return (
            f"{run.stack}: the state is locked (lock {lock.get('ID', '?')}, held by "
            f"{lock.get('Who', '?')} since {lock.get('Created', '?')}, operation "
            f"{lock.get('Operation', '?')}). Another deploy may be running; wait for it. If "
            "none is, release the lock:\n"
            f'    eval "$(ndap emulator env)"  # or: eval "$(ndap env)" on the aws target\n'
            f"    terraform -chdir={run.directory} force-unlock -force {lock.get('ID', '<id>')}"
        )
    if run.emulator is not None and not is_healthy(run.emulator.endpoint):
        return (
            f"{run.stack}: the local emulator at {run.emulator.endpoint} stopped answering "
            f"during terraform {what}; see {run.emulator.log}. Its resources and state are "
            "gone: `ndap emulator stop`, then `ndap deploy` again."
        )
    first = output.find("Error:")
    shown = output[first:] if first >= 0 else output
    if len(shown) > MAX_ERROR_TEXT:
        shown = shown[:MAX_ERROR_TEXT] + f"\n  ... (the rest is in {log})"
    return f"{run.stack}: terraform {what} failed (log {log}):\n{shown.strip()}"


MAX_ERROR_TEXT = 4000
LOCK_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Version|Created|Info):\s*(.*)$", re.M)


def parse_lock(output: str) -> dict[str, str] | None:
    """The lock details when Terraform failed because the state is locked."""
    if "Error acquiring the state lock" not in output:
        return None
    return {m.group(1): m.group(2).strip() for m in LOCK_FIELD.finditer(output)}


INIT_ARGS = ("init", "-input=false", "-no-color", "-reconfigure")
INIT_MARKER = Path(".terraform") / "ndap-init.json"
"""Written after a successful ``terraform init``: the digest of what that init read."""
INIT_ENV = ("TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR", "TF_DATA_DIR", "TF_CLI_ARGS",
            "TF_CLI_ARGS_init", "TF_WORKSPACE")  # fmt: skip
"""The environment variables that change what ``terraform init`` does."""


def init(run: StackRun, action: str) -> str | None:
    """``terraform init``; the failure message, or None. Skipped when this stack directory
    was initialized by ndap from the very same inputs (docs/design-notes.md, "Skipping
    an init that would change nothing")."""
    marker = run.directory / INIT_MARKER
    recorded = _read(marker)  # none before a first init: nothing to compare, nothing read
    if recorded is not None and recorded == init_digest(run) and _provider_present(run.directory):
        with run.log(action).open("a") as log:
            log.write(f"$ terraform init: skipped, {INIT_MARKER} current\n")
        return None
    marker.unlink(missing_ok=True)
    with plugin_cache_lock(Path(run.env.get("TF_PLUGIN_CACHE_DIR") or run.log_dir)):
        completed = run.terraform(list(INIT_ARGS), action)
    if completed.returncode != 0:
        return _failure(run, completed.stdout + completed.stderr, "init", action)
    if marker.parent.is_dir():
        marker.write_text(json.dumps({"digest": init_digest(run)}) + "\n")
    return None


def init_digest(run: StackRun) -> str:
    """The digest of what ``terraform init`` reads in a stack directory: the Terraform
    binary, the ``terraform`` blocks (backend, required providers) of every ``*.tf.json``,
    the dependency lock file, the CLI configuration and the environment that steers
    init."""
    digest = hashlib.sha256()
    digest.update(f"{INIT_ARGS} {terraform_version(find_terraform())}\n".encode())
    for file in sorted(run.directory.glob("*.tf.json")):
        try:
            block = json.loads(file.read_text()).get("terraform")
        except (OSError, ValueError, AttributeError):
            block = f"unreadable {file.stat().st_mtime_ns}"
        digest.update(f"{file.name} {json.dumps(block, sort_keys=True)}\n".encode())
    for name in INIT_ENV:
        digest.update(f"{name}={run.env.get(name, '')}\n".encode())
    for path in (run.directory / ".terraform.lock.hcl", Path(run.env.get(INIT_ENV[0], ""))):
        digest.update(path.read_bytes() if path.is_file() else b"(none)")
    return digest.hexdigest()


def _read(marker: Path) -> str | None:
    try:
        return str(json.loads(marker.read_text())["digest"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _provider_present(directory: Path) -> bool:
    """The provider init installed is still there (its link into the plugin cache may
    dangle once the cache is cleaned)."""
    providers = directory / ".terraform" / "providers"
    for parent, _, files in os.walk(providers, followlinks=True):
        if any(f.startswith("terraform-provider-") and Path(parent, f).is_file() for f in files):
            return True
    return False


APPLY_SUMMARY = re.compile(r"(Apply|Destroy) complete! Resources: ([^\n]*?)\.?\n")


def apply(run: StackRun) -> StackResult:
    return _apply(
        run, ["apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=0s"], True
    )


def _apply(run: StackRun, args: list[str], init_first: bool) -> StackResult:
    """``terraform <args>`` (an apply), after ``init`` when asked; its summary or failure."""
    start = time.monotonic()
    failure = init(run, "apply") if init_first else None
    if failure is None:
        completed = run.terraform(args, "apply")
        output = completed.stdout + completed.stderr
        if completed.returncode == 0:
            found = APPLY_SUMMARY.search(output)
            summary = found.group(2) if found else "applied"
            return StackResult(
                run.stack, "apply", True, time.monotonic() - start, summary, run.log("apply")
            )
        failure = _failure(run, output, "apply")
    return StackResult(
        run.stack, "apply", False, time.monotonic() - start, "failed", run.log("apply"), failure
    )


@dataclass(frozen=True)
class SavedPlan:
    """A plan of one stack saved to a file (``terraform plan -out``), with its JSON."""

    stack: str
    file: Path
    seconds: float
    document: Mapping[str, Any] | None = None
    error: str | None = None


def save_plan(run: StackRun, file: Path) -> SavedPlan:
    """``terraform init``, ``plan -out=<file>`` and ``show -json <file>``: the plan to
    review, then apply exactly (``apply_plan``)."""
    start = time.monotonic()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.unlink(missing_ok=True)

    def failed(error: str) -> SavedPlan:
        return SavedPlan(run.stack, file, time.monotonic() - start, error=error)

    failure = init(run, "plan")
    if failure is not None:
        return failed(failure)
    args = ["plan", "-input=false", "-no-color", "-lock-timeout=0s", f"-out={file}"]
    planned = run.terraform(args, "plan")
    if planned.returncode != 0:
        return failed(_failure(run, planned.stdout + planned.stderr, "plan"))
    shown = run.terraform(["show", "-json", "-no-color", str(file)], "plan", log_stdout=False)
    if shown.returncode != 0:
        return failed(_failure(run, shown.stdout + shown.stderr, "show", "plan"))
    try:
        document = json.loads(shown.stdout)
    except json.JSONDecodeError as error:
        return failed(f"{run.stack}: terraform show -json printed no JSON ({error})")
    return SavedPlan(run.stack, file, time.monotonic() - start, document=document)


def apply_plan(run: StackRun, file: Path, *, init_first: bool = False) -> StackResult:
    """``terraform apply <file>``: exactly the saved plan, nothing else. Terraform itself
    refuses a plan made against a state that has changed since (its message is shown)."""
    args = ["apply", "-input=false", "-no-color", "-lock-timeout=0s", str(file)]
    return _apply(run, args, init_first)


PLAN_SUMMARY = re.compile(r"Plan: ([^\n]*)\.")


def plan(run: StackRun, *, init_first: bool = False) -> StackResult:
    """``terraform plan -detailed-exitcode``: ok and ``changes=False`` when it is empty."""
    start = time.monotonic()
    failure = init(run, "plan") if init_first else None
    if failure is None:
        completed = run.terraform(
            ["plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock-timeout=0s"],
            "plan",
        )
        output = completed.stdout + completed.stderr
        seconds = time.monotonic() - start
        if completed.returncode == 0:
            return StackResult(
                run.stack, "plan", True, seconds, "no changes", run.log("plan"), changes=False
            )
        if completed.returncode == 2:
            found = PLAN_SUMMARY.search(output)
            summary = "changes pending: " + (found.group(1) if found else "see the log")
            return StackResult(
                run.stack, "plan", False, seconds, summary, run.log("plan"), output, changes=True
            )
        failure = _failure(run, output, "plan")
    return StackResult(
        run.stack, "plan", False, time.monotonic() - start, "failed", run.log("plan"), failure
    )


def protected_addresses(document: Mapping[str, Any]) -> list[str]:
    """Resources of a synthesized stack with ``lifecycle.prevent_destroy``."""
    found = []
    for resource_type, resources in document.get("resource", {}).items():
        for name, body in resources.items():
            if body.get("lifecycle", {}).get("prevent_destroy") is True:
                found.append(f"{resource_type}.{name}")
    return sorted(found)


def state_resources(run: StackRun, action: str = "destroy") -> dict[str, list[str]] | None:
    """Managed resources in the stack's state, each with what it depends on; None when the
    state cannot be read."""
    completed = run.terraform(["show", "-json", "-no-color"], action)
    if completed.returncode != 0:
        return None
    try:
        shown = json.loads(completed.stdout or "{}")
    except json.JSONDecodeError:
        return None
    resources: dict[str, list[str]] = {}
    module = shown.get("values", {}).get("root_module", {})
    for resource in module.get("resources", []):
        if resource.get("mode") == "managed":
            address = str(resource["address"])
            resources[address] = [str(d) for d in resource.get("depends_on", [])]
    return resources


def _base(address: str) -> str:
    return address.split("[", 1)[0]


def _service(address: str) -> str:
    """``aws_s3`` of ``aws_s3_bucket_policy.x``: the provider's service of a resource."""
    return "_".join(_base(address).split(".", 1)[0].split("_")[:2])


def kept_for(protected: Sequence[str], resources: Mapping[str, Sequence[str]]) -> set[str]:
    """The protected resources in state, the resources of the same service that configure
    them (a kept bucket keeps its policy, encryption, versioning and public access block; a
    kept key keeps its alias), and everything all of those depend on: destroying any of
    those would force Terraform to destroy a protected one too, or leave it unprotected."""
    protected_bases = set(protected)
    roots = {a for a in resources if _base(a) in protected_bases}
    attached = {
        address
        for address, dependencies in resources.items()
        if any(
            _base(d) in protected_bases and _service(d) == _service(address) for d in dependencies
        )
    }
    kept: set[str] = set()
    pending = [*roots, *attached]
    while pending:
        address = pending.pop()
        if address in kept:
            continue
        kept.add(address)
        for dependency in resources.get(address, []):
            pending.extend(a for a in resources if _base(a) == _base(dependency))
    return kept


def destroy(run: StackRun, document: Mapping[str, Any], *, include_protected: bool) -> StackResult:
    """Destroy the stack. Resources with ``prevent_destroy`` (and what they depend on) are
    kept, unless ``include_protected``, which lifts the protection for this run only (an
    override file next to the stack, removed afterwards). On the emulator, what it cannot
    delete (``gaps.UNDELETABLE``) is removed from the state instead, and reported."""
    start = time.monotonic()
    protected = protected_addresses(document)

    def result(ok: bool, summary: str, detail: str = "", kept: set[str] | None = None,
               left: Sequence[str] = ()) -> StackResult:  # fmt: skip
        if left:
            summary += f"; {len(left)} left on the emulator (it cannot delete them)"
        return StackResult(
            run.stack, "destroy", ok, time.monotonic() - start, summary, run.log("destroy"),
            detail, kept=_labelled(kept or set(), protected), left=tuple(left),
        )  # fmt: skip

    failure = init(run, "destroy")
    if failure is not None:
        return result(False, "failed", failure)
    args = ["destroy", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=0s"]
    kept: set[str] = set()
    left: list[str] = []
    # With the protection lifted there is nothing to keep: no need to read the state first,
    # except on the emulator, for what it cannot delete.
    if not include_protected or run.emulator is not None:
        resources = state_resources(run)
        if resources is None:
            return result(False, "failed", f"{run.stack}: could not read the state "
                          f"(log {run.log('destroy')})")  # fmt: skip
        if run.emulator is not None:
            left = undeletable(list(resources))
            if left:
                forgotten = run.terraform(["state", "rm", "-lock-timeout=0s", *left], "destroy")
                if forgotten.returncode != 0:
                    output = forgotten.stdout + forgotten.stderr
                    return result(False, "failed", _failure(run, output, "destroy"))
                resources = {a: d for a, d in resources.items() if a not in left}
        if not resources:
            return result(True, "nothing to destroy", left=left)
        if protected and not include_protected:
            kept = kept_for(protected, resources)
            targets = sorted(set(resources) - kept)
            if not targets:
                return result(True, f"kept {len(kept)} protected", kept=kept, left=left)
            args += [f"-target={t}" for t in targets]
    override = run.directory / OVERRIDE_FILE
    if protected and include_protected:
        override.write_text(json.dumps(_lift_protection(protected), indent=2) + "\n")
    try:
        completed = run.terraform(args, "destroy")
    finally:
        override.unlink(missing_ok=True)
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        return result(False, "failed", _failure(run, output, "destroy"), left=left)
    found = APPLY_SUMMARY.search(output)
    summary = found.group(2) if found else "destroyed"
    if kept:
        summary += f"; kept {len(kept)} (prevent_destroy, its configuration and what it needs)"
    return result(True, summary, kept=kept, left=left)


def _labelled(kept: set[str], protected: Sequence[str]) -> tuple[str, ...]:
    return tuple(
        f"{a} ({'prevent_destroy' if _base(a) in protected else 'kept with a protected resource'})"
        for a in sorted(kept)
    )


def _lift_protection(protected: Sequence[str]) -> dict[str, Any]:
    """An override file turning ``prevent_destroy`` off for ``protected`` (Terraform merges
    an override's ``lifecycle`` argument by argument)."""
    resources: dict[str, dict[str, Any]] = {}
    for address in protected:
        resource_type, name = address.split(".", 1)
        resources.setdefault(resource_type, {})[name] = {"lifecycle": {"prevent_destroy": False}}
    return {"resource": resources}


PLAN_FILE = "ndap-drift.tfplan"
NO_STATE = "No state file was found"


@dataclass(frozen=True)
class PlanDocument:
    """A no-change plan of one stack as Terraform's JSON plan, or why there is none."""

    stack: str
    seconds: float
    document: Mapping[str, Any] | None = None
    error: str | None = None
    nothing_deployed: bool = False


def plan_document(run: StackRun, *, action: str = "drift") -> PlanDocument:
    """``terraform init``, then ``plan -out`` and ``show -json`` of that plan (the JSON
    carries both what changed outside Terraform and what Terraform would do). A stack
    whose state holds no resource is reported as ``nothing_deployed``: planning it would
    list every resource as missing, which is not drift. The plan file is removed."""
    start = time.monotonic()
    failure = init(run, action)
    if failure is not None:
        return PlanDocument(run.stack, time.monotonic() - start, error=failure)
    listed = run.terraform(["state", "list", "-no-color"], action)
    if listed.returncode != 0 and NO_STATE in listed.stdout + listed.stderr:
        return PlanDocument(run.stack, time.monotonic() - start, nothing_deployed=True)
    if listed.returncode != 0:
        return PlanDocument(
            run.stack,
            time.monotonic() - start,
            error=_failure(run, listed.stdout + listed.stderr, "state list", action),
        )
    if not listed.stdout.strip():
        return PlanDocument(run.stack, time.monotonic() - start, nothing_deployed=True)
    plan_file = run.directory / PLAN_FILE
    try:
        planned = run.terraform(
            [
                "plan",
                "-input=false",
                "-no-color",
                "-lock-timeout=0s",
                "-lock=false",  # read-only: a drift check never blocks a deploy
                f"-out={PLAN_FILE}",
            ],
            action,
        )
        if planned.returncode != 0:
            return PlanDocument(
                run.stack,
                time.monotonic() - start,
                error=_failure(run, planned.stdout + planned.stderr, "plan", action),
            )
        shown = run.terraform(["show", "-json", "-no-color", PLAN_FILE], action, log_stdout=False)
        if shown.returncode != 0:
            return PlanDocument(
                run.stack,
                time.monotonic() - start,
                error=_failure(run, shown.stdout + shown.stderr, "show", action),
            )
        try:
            document = json.loads(shown.stdout)
        except json.JSONDecodeError as error:
            return PlanDocument(
                run.stack,
                time.monotonic() - start,
                error=f"{run.stack}: terraform show -json printed no JSON ({error})",
            )
        return PlanDocument(run.stack, time.monotonic() - start, document=document)
    finally:
        plan_file.unlink(missing_ok=True)
