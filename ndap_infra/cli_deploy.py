"""`ndap deploy`, `ndap destroy`, `ndap probe` and `ndap emulator start|status|stop|env`.

Registered on the main `ndap` application when imported (the last line of
`ndap_infra/cli.py` imports this module). Exit codes as everywhere: 0 ok, 1 a check
failed, 2 bad input.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated

import typer

from ndap_infra.config.model import DeployTarget, NdapConfig
from ndap_infra.emulator import lifecycle
from ndap_infra.emulator.lifecycle import EmulatorError, EmulatorInfo
from ndap_infra.names.platform import ORGANIZATION_STACK

if TYPE_CHECKING:
    from ndap_infra.deploy.runner import StackResult, StackRun
    from ndap_infra.stacks.synthesis import Synthesis
    from ndap_infra.terraform.cli_config import TerraformSetup

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_CONFIG = Path("examples/reference.yaml")
DEFAULT_OUT = Path("cdktf.out")
GAPS_FILE = "emulator-gaps.md"

emulator_app = typer.Typer(
    help="The local AWS emulator (moto) that `deploy.target: local` deploys into.",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The platform configuration (YAML).")
]
OutOption = Annotated[Path, typer.Option("--out", help="Where synthesized stacks are written.")]
StacksOption = Annotated[
    list[str] | None,
    typer.Option("--stacks", "--stack", "-s", help="Only these stacks (repeatable); default: all."),
]
WorkersOption = Annotated[
    int,
    typer.Option(
        "--workers", min=1, help="Environment stacks run in parallel, this many at a time."
    ),
]


def _ui() -> ModuleType:
    """The main CLI's consoles and config loader (imported late: cli imports this module)."""
    from ndap_infra import cli

    return cli


def work_dir() -> Path:
    return lifecycle.default_work_dir()


def _say(text: str) -> None:
    _ui().console.print(text, markup=False)


def _fail(text: str, code: int = EXIT_CHECK_FAILED) -> typer.Exit:
    _ui().errors.print(text, markup=False)
    return typer.Exit(code)


def _load(config: Path) -> NdapConfig:
    loaded: NdapConfig = _ui()._load(config)
    return loaded


def _setup() -> TerraformSetup:
    """The project's Terraform settings; a missing terraform is named here, before any
    stack runs (not as a traceback from a worker thread)."""
    from ndap_infra.terraform.cli_config import MirrorError, write_cli_config
    from ndap_infra.terraform.runner import TerraformMissing, find_terraform

    try:
        find_terraform()
        return write_cli_config(work_dir())
    except MirrorError as error:
        raise _fail(str(error), EXIT_BAD_INPUT) from None
    except TerraformMissing as error:
        raise _fail(str(error), EXIT_BAD_INPUT) from None


# -- ndap emulator ----------------------------------------------------------------------


@emulator_app.command("start")
def emulator_start(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Also prepare what this configuration adopts (create_organization: false): "
            "the organization and its member accounts, as a user would already have them. "
            "Needed before a plain `cdktf deploy`; `ndap deploy` does it itself.",
        ),
    ] = None,
) -> None:
    """Start the emulator on a free loopback port (it keeps running until `stop`)."""
    loaded = _load(config) if config is not None else None
    try:
        started = lifecycle.start(work_dir())
    except EmulatorError as error:
        raise _fail(str(error)) from None
    info = started.info
    verb = "already running" if started.already_running else "started"
    _say(f"emulator {verb} at {info.endpoint} (pid {info.pid}, log {info.log})")
    if loaded is not None:
        _seed(info, loaded)


@emulator_app.command("status")
def emulator_status() -> None:
    """Say whether the emulator runs and where (exit 1 when it does not answer)."""
    current = lifecycle.status(work_dir())
    _say(current.message)
    if current.state is not lifecycle.State.RUNNING:
        raise typer.Exit(EXIT_CHECK_FAILED)


@emulator_app.command("stop")
def emulator_stop() -> None:
    """Stop the emulator: everything deployed into it, and its Terraform state, is gone."""
    info = lifecycle.stop(work_dir())
    if info is None:
        _say("the local emulator was not running")
    else:
        _say(f"stopped the emulator at {info.endpoint} (pid {info.pid}); its resources are gone")


@emulator_app.command("env")
def emulator_env() -> None:
    """Print exports for a plain `terraform` / `npx cdktf` run against the emulator:
    eval "$(ndap emulator env)"."""
    from ndap_infra.deploy.runner import emulator_environment

    info = _running_emulator()
    env = _setup().environment({})
    env.update(emulator_environment(info))
    for key, value in sorted(env.items()):
        _say(f"export {key}='{value}'")


def _running_emulator() -> EmulatorInfo:
    try:
        return lifecycle.require_running(work_dir())
    except EmulatorError as error:
        raise _fail(str(error)) from None


# -- ndap deploy ------------------------------------------------------------------------


SynthOption = Annotated[
    bool,
    typer.Option(
        help="Synthesize first (default). --no-synth uses the stacks already in --out, "
        "synthesized from this configuration."
    ),
]


def _synthesize(loaded: NdapConfig, out: Path, *, synth: bool = True) -> Synthesis:
    from ndap_infra.emulator.settings import EMULATOR_ENDPOINT_VARIABLE
    from ndap_infra.iam.limits import PolicyTooLarge
    from ndap_infra.stacks.synthesis import NotSynthesized, load_synthesis, synthesize

    if not synth:
        try:
            existing = load_synthesis(out)
        except NotSynthesized as error:
            raise _fail(str(error), EXIT_BAD_INPUT) from None
        local = loaded.deploy.target is DeployTarget.LOCAL
        for name, document in existing.stack_json().items():
            if (EMULATOR_ENDPOINT_VARIABLE in document.get("variable", {})) != local:
                raise _fail(
                    f"{out}/stacks/{name} was not synthesized for deploy.target "
                    f"{loaded.deploy.target.value}: synthesize again (drop --no-synth)",
                    EXIT_BAD_INPUT,
                )
        return existing
    start = time.monotonic()
    try:
        synthesis = synthesize(loaded, out)
    except PolicyTooLarge as error:
        raise _fail(str(error), EXIT_BAD_INPUT) from None
    _say(
        f"synthesized {len(synthesis.stacks)} stacks into {out}/stacks "
        f"[{time.monotonic() - start:.1f}s]"
    )
    return synthesis


def _select(synthesis: Synthesis, stacks: list[str] | None) -> list[str]:
    from ndap_infra.deploy.orchestrate import UnknownStacks, select

    try:
        return select(list(synthesis.stacks), stacks or [])
    except UnknownStacks as error:
        raise _fail(str(error), EXIT_BAD_INPUT) from None


def _emulator_for(loaded: NdapConfig, *, start: bool) -> EmulatorInfo | None:
    if loaded.deploy.target is not DeployTarget.LOCAL:
        return None
    if not start:
        return _running_emulator()
    try:
        started = lifecycle.start(work_dir())
    except EmulatorError as error:
        raise _fail(str(error)) from None
    verb = "running" if started.already_running else "started"
    _say(f"emulator {verb} at {started.info.endpoint} (deploy.target: local)")
    return started.info


def _runs(
    synthesis: Synthesis, setup: TerraformSetup, emulator: EmulatorInfo | None
) -> dict[str, StackRun]:
    from ndap_infra.deploy.flow import stack_runs

    return stack_runs(synthesis, setup, emulator, work_dir())


def _print_result(result: StackResult) -> None:
    _say(result.line())


def _print_failures(results: list[StackResult]) -> None:
    for result in results:
        if not result.ok and result.detail:
            _ui().errors.print(result.detail, markup=False)


def deploy(
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
    stacks: StacksOption = None,
    workers: WorkersOption = 2,
    via: Annotated[
        str,
        typer.Option(
            help="terraform: init + apply each stack directly. cdktf: the pinned "
            "`cdktf deploy` (it synthesizes again through cdktf.json's app)."
        ),
    ] = "terraform",
    check_plan: Annotated[
        bool, typer.Option(help="After deploying, require an empty plan for every stack.")
    ] = True,
    synth: SynthOption = True,
) -> None:
    """Deploy the platform: synthesize, start the emulator on the local target, apply every
    stack in dependency order (organization and tooling first, then the environments in
    parallel), then prove the plan is empty and report what the emulator could not
    create."""
    from ndap_infra.deploy.flow import apply_all

    if via not in ("terraform", "cdktf"):
        raise _fail(f"--via must be terraform or cdktf (got {via!r})", EXIT_BAD_INPUT)
    loaded = _load(config)
    setup = _setup()
    from ndap_infra.config.accounts import pending_accounts

    if pending_accounts(loaded):
        loaded = _create_pending_accounts(config, loaded, out, stacks, setup, via, synth)
    synthesis = _synthesize(loaded, out, synth=synth)
    selected = _select(synthesis, stacks)
    emulator = _emulator_for(loaded, start=True)
    if emulator is not None:
        _seed(emulator, loaded)
    runs = _runs(synthesis, setup, emulator)
    start = time.monotonic()
    _say(f"deploying {', '.join(selected)} (via {via}; environment stacks {workers} at a time)")
    if via == "cdktf":
        results = _deploy_with_cdktf(config, out, selected, setup, emulator, workers)
    else:
        with _graceful_interruption():
            results = apply_all(runs, selected, workers=workers, on_result=_print_result)
    _print_failures(results)
    _exit_if_interrupted("deploy")
    applied = all(r.ok for r in results)
    _say(f"deploy: {'done' if applied else 'FAILED'} in {time.monotonic() - start:.1f}s")
    clean = True
    if check_plan and applied:
        clean = _check_plans(selected, runs, workers)
    placed = True
    if emulator is not None:
        _report_gaps(synthesis, selected)
        if applied and ORGANIZATION_STACK in selected:
            placed = _report_organization(emulator, loaded)
            if not placed:
                _ui().errors.print(
                    "deploy: an account is not in its unit, so its unit's guardrails do not "
                    "cover it (see above)",
                    markup=False,
                )
    if not (applied and clean and placed):
        raise typer.Exit(EXIT_CHECK_FAILED)


def _create_pending_accounts(
    config: Path,
    loaded: NdapConfig,
    out: Path,
    stacks: list[str] | None,
    setup: TerraformSetup,
    via: str,
    synth: bool,
) -> NdapConfig:
    """Phase 1: apply the organization stack without what names a pending id (it creates
    the accounts), read the created ids back, record them in the configuration file and
    return the configuration with them. The caller then deploys as usual: the full
    organization stack first (the remaining guardrails), then the account stacks."""
    from ndap_infra.bootstrap.accounts import record_account_ids
    from ndap_infra.bootstrap.files import BootstrapError
    from ndap_infra.config.accounts import pending_accounts
    from ndap_infra.deploy.accounts import AccountIdsMissing, created_account_ids
    from ndap_infra.deploy.flow import apply_all

    pending = pending_accounts(loaded)
    names = ", ".join(a.key for a in pending)
    if not synth:
        raise _fail(
            f"deploy: the ids of {names} are pending (created by the organization stack): "
            "drop --no-synth, so the stacks are synthesized again once the ids are recorded",
            EXIT_BAD_INPUT,
        )
    if via != "terraform":
        raise _fail(
            f"deploy: the ids of {names} are pending: the first deploy, which creates those "
            "accounts and records their ids, runs with --via terraform",
            EXIT_BAD_INPUT,
        )
    if stacks and ORGANIZATION_STACK not in stacks:
        raise _fail(
            f"deploy: the ids of {names} are pending: the organization stack creates those "
            f"accounts first; add --stacks {ORGANIZATION_STACK}",
            EXIT_BAD_INPUT,
        )
    start = time.monotonic()
    synthesis = _synthesize(loaded, out)
    phase_one = synthesis.phase_one
    assert phase_one is not None
    known = [ORGANIZATION_STACK, *phase_one.waiting]
    unknown = [s for s in stacks or [] if s not in known]
    if unknown:
        raise _fail(
            f"unknown stacks: {', '.join(unknown)}; this configuration's stacks are "
            + ", ".join(known),
            EXIT_BAD_INPUT,
        )
    _say(
        f"phase 1: the organization stack creates {len(pending)} account(s): "
        + ", ".join(f"{a.name} <{a.email}>" for a in pending)
        + f"; {len(phase_one.left_out)} part(s) of it and "
        + f"{len(phase_one.waiting)} stack(s) wait for their ids"
    )
    emulator = _emulator_for(loaded, start=True)
    if emulator is not None:
        _seed(emulator, loaded)
    runs = _runs(synthesis, setup, emulator)
    with _graceful_interruption():
        results = apply_all(runs, [ORGANIZATION_STACK], on_result=_print_result)
    _print_failures(results)
    _exit_if_interrupted("deploy")
    if not all(r.ok for r in results):
        raise _fail("deploy: phase 1 FAILED: no account id was recorded")
    try:
        ids = created_account_ids(runs[ORGANIZATION_STACK], [a.key for a in pending])
        recorded = record_account_ids(config, ids)
    except (AccountIdsMissing, BootstrapError) as error:
        raise _fail(
            f"deploy: the accounts were created, but their ids could not be recorded: {error}\n"
            "Run `ndap deploy` again: phase 1 is then a no-op and the ids are read again."
        ) from None
    _say(f"recorded the created accounts' ids in {config} (comments and layout kept):")
    for field, account_id in recorded.fields:
        _say(f'  {field}: "{account_id}"')
    _say(
        f"phase 1: done in {time.monotonic() - start:.1f}s; synthesizing every stack with "
        "the ids, then the organization stack again (the guardrails that name them) before "
        "the account stacks"
    )
    return recorded.config


EXIT_INTERRUPTED = 130


@contextlib.contextmanager
def _graceful_interruption() -> Iterator[None]:
    """While Terraform runs: SIGINT (Ctrl-C) or SIGTERM (kill) asks every running terraform
    to stop once, so that it saves its state and releases its lock; the next run
    converges. Killing terraform instead would leave a lock and resources it created
    outside its state."""
    from ndap_infra.deploy.runner import interrupt_terraform

    def handler(signum: int, frame: object) -> None:
        if interrupt_terraform():
            _ui().errors.print(
                "ndap: interrupted: asking terraform to stop after what it has in flight "
                "(it saves its state and releases its lock)...",
                markup=False,
            )

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _exit_if_interrupted(command: str) -> None:
    from ndap_infra.deploy.runner import was_interrupted

    if was_interrupted():
        _ui().errors.print(
            f"{command}: interrupted; every stack's state is saved and unlocked. Run "
            f"`ndap {command}` again to converge.",
            markup=False,
        )
        raise typer.Exit(EXIT_INTERRUPTED)


def _check_plans(selected: list[str], runs: dict[str, StackRun], workers: int) -> bool:
    from ndap_infra.deploy.flow import plan_all

    start = time.monotonic()
    _say("terraform plan -detailed-exitcode on every stack (must be empty):")
    results = plan_all(runs, selected, workers=workers, on_result=_print_result, init_first=True)
    _print_failures([r for r in results if r.changes is not True])
    for result in results:
        if result.changes:
            _ui().errors.print(
                f"{result.stack}: the plan after deploy is not empty:\n{result.detail[-4000:]}",
                markup=False,
            )
    clean = all(r.ok and r.changes is False for r in results)
    _say(
        f"plan: {'no changes in any stack' if clean else 'NOT EMPTY or failed'} "
        f"[{time.monotonic() - start:.1f}s]"
    )
    return clean


def _deploy_with_cdktf(
    config: Path,
    out: Path,
    selected: list[str],
    setup: TerraformSetup,
    emulator: EmulatorInfo | None,
    workers: int,
) -> list[StackResult]:
    from ndap_infra.deploy.runner import StackResult, stack_environment

    npx = shutil.which("npx")
    if npx is None:
        raise _fail("npx was not found: install Node.js 20 or newer, then `npm ci`.")
    env = stack_environment(setup, emulator)
    env["NDAP_CONFIG"] = str(config)
    log = work_dir().resolve() / "logs" / "cdktf.deploy.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        npx,
        "--no-install",
        "cdktf",
        "deploy",
        "--auto-approve",
        "--no-color",
        "--output",
        str(out),
        "--parallelism",
        str(workers),
        *selected,
    ]
    start = time.monotonic()
    with log.open("w") as stream:
        completed = subprocess.run(
            command, env=env, stdout=stream, stderr=subprocess.STDOUT, check=False
        )
    seconds = time.monotonic() - start
    text = log.read_text(errors="replace")
    ok = completed.returncode == 0
    detail = (
        "" if ok else f"cdktf deploy failed (log {log}):\n" + "\n".join(text.splitlines()[-40:])
    )
    result = StackResult(
        "+".join(selected),
        "cdktf",
        ok,
        seconds,
        "deployed" if ok else f"exit {completed.returncode}",
        log,
        detail,
    )
    _print_result(result)
    return [result]


def _report_gaps(synthesis: Synthesis, selected: list[str]) -> None:
    from ndap_infra.emulator.gaps import render_gaps, synthesized_gaps

    documents = {k: v for k, v in synthesis.stack_json().items() if k in selected}
    gaps = synthesized_gaps(documents)
    path = work_dir() / GAPS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_gaps(gaps))
    if not gaps:
        _say(f"emulator gaps: none; every resource was created as defined ({path})")
        return
    absent = [g for g in gaps if not g.ignored and not g.undeletable]
    ignored = [g for g in gaps if g.ignored]
    _say(
        f"emulator gaps: {len(absent)} resources NOT created on the emulator, "
        f"{len(ignored)} created with arguments it does not keep and "
        f"{len(gaps) - len(absent) - len(ignored)} it cannot delete (local target only; "
        f"every one listed in {path}):"
    )
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for gap in gaps:
        effect = "not deletable" if gap.undeletable else "drift ignored" if gap.ignored else ""
        key = (effect or "not created", gap.reason)
        groups.setdefault(key, []).append((gap.stack, gap.address.split(".")[0]))
    for (effect, reason), where in groups.items():
        types = ", ".join(sorted({t for _, t in where}))
        stacks_hit = ", ".join(sorted({s for s, _ in where}))
        _say(f"  - {effect}: {types} x{len(where)} ({stacks_hit}): {reason}")


def _report_organization(emulator: EmulatorInfo, loaded: NdapConfig) -> bool:
    """Read the organization back: is every account in its unit? True when it is."""
    from ndap_infra.deploy.organization import check_organization

    report = check_organization(emulator, loaded)
    _say(report.render())
    return report.ok


def _seed(emulator: EmulatorInfo, loaded: NdapConfig) -> None:
    """On the emulator, the adopted organization and accounts a user would already have."""
    from ndap_infra.emulator.seed import seed_adopted_organization

    try:
        seeded = seed_adopted_organization(emulator, loaded)
    except Exception as error:  # botocore errors, a refused id: say what failed
        message = f"could not prepare the adopted organization on the emulator: {error}"
        raise _fail(message) from None
    if seeded is not None:
        _say(seeded.line())


# -- ndap destroy -----------------------------------------------------------------------


def destroy(
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
    stacks: StacksOption = None,
    workers: WorkersOption = 2,
    include_protected: Annotated[
        bool,
        typer.Option(
            "--include-protected",
            help="ALSO destroy resources marked prevent_destroy (audit-log buckets, "
            "production-data buckets and keys; member accounts, adopted or created, are then "
            "taken out of the organization, never closed). Without it they are kept, with "
            "their configuration and what they depend on.",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Required on deploy.target: aws (real accounts).")
    ] = False,
    synth: SynthOption = True,
) -> None:
    """Destroy what `ndap deploy` created, the environments first and the organization
    last. Deletion-protected resources are kept (and listed) unless --include-protected."""
    from ndap_infra.deploy.flow import destroy_all
    from ndap_infra.emulator.gaps import UNDELETABLE

    loaded = _load(config)
    if loaded.deploy.target is DeployTarget.AWS and not yes:
        raise _fail("deploy.target is aws: this destroys real resources; add --yes", EXIT_BAD_INPUT)
    if loaded.deploy.target is DeployTarget.LOCAL:
        current = lifecycle.status(work_dir())
        if current.state is lifecycle.State.STOPPED:
            _say(
                "the local emulator is not running: nothing is deployed locally (resources "
                "and state live in the emulator and went with it)"
            )
            return
    emulator = _emulator_for(loaded, start=False)
    synthesis = _synthesize(loaded, out, synth=synth)
    selected = _select(synthesis, stacks)
    runs = _runs(synthesis, _setup(), emulator)
    if include_protected:
        _ui().errors.print(
            "!!! --include-protected: resources marked prevent_destroy (audit log buckets, "
            "production-data buckets and keys) WILL BE DESTROYED, and member accounts "
            "(adopted or created) taken out of the organization (never closed) !!!",
            markup=False,
        )
    start = time.monotonic()
    with _graceful_interruption():
        results = destroy_all(
            runs,
            synthesis,
            selected,
            include_protected=include_protected,
            workers=workers,
            on_result=_print_result,
        )
    _print_failures(results)
    _exit_if_interrupted("destroy")
    kept = [(r.stack, address) for r in results for address in r.kept]
    if kept:
        _say(
            f"kept {len(kept)} resources (prevent_destroy, their configuration and what "
            "they depend on); "
            "`ndap destroy --include-protected` removes them too:"
        )
        for stack, address in kept:
            _say(f"  - {stack}: {address}")
    left = [(r.stack, address) for r in results for address in r.left]
    if left:
        _say(
            f"left {len(left)} resources on the emulator, which cannot delete them (removed "
            "from the state instead; they go when the emulator stops):"
        )
        for stack, address in left:
            reason = UNDELETABLE[address.split(".", 1)[0]]
            _say(f"  - {stack}: {address}: {reason}")
    ok = all(r.ok for r in results)
    _say(f"destroy: {'done' if ok else 'FAILED'} in {time.monotonic() - start:.1f}s")
    if not ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


# -- ndap probe -------------------------------------------------------------------------


def probe(config: ConfigOption = DEFAULT_CONFIG, out: OutOption = DEFAULT_OUT) -> None:
    """Try a few persona actions on the running emulator, as the persona roles, and print
    expected vs observed, with whether the emulator can witness each row at all (it only
    evaluates identity policies). The proof of the access rules is `ndap access`."""
    from ndap_infra.config.accounts import pending_accounts
    from ndap_infra.deploy.probes import ProbeError, render_probes, run_probes

    loaded = _load(config)
    if loaded.deploy.target is not DeployTarget.LOCAL:
        raise _fail("ndap probe runs against the local emulator (deploy.target: local)", 2)
    pending = pending_accounts(loaded)
    if pending:
        raise _fail(
            f"ndap probe: the ids of {', '.join(a.key for a in pending)} are not recorded "
            f"yet (accounts the organization stack creates): `ndap deploy -c {config}` first",
            EXIT_BAD_INPUT,
        )
    emulator = _running_emulator()
    from ndap_infra.stacks.synthesis import NotSynthesized, load_synthesis

    try:
        synthesis = load_synthesis(out)
    except NotSynthesized as error:
        raise _fail(str(error), EXIT_BAD_INPUT) from None
    try:
        rows = run_probes(emulator, loaded, synthesis)
    except ProbeError as error:
        raise _fail(str(error)) from None
    _say(render_probes(rows))
    if any(r.contradicts for r in rows):
        raise typer.Exit(EXIT_CHECK_FAILED)


def register(app: typer.Typer) -> None:
    """Add these commands to the main `ndap` application."""
    app.command("deploy")(deploy)
    app.command("destroy")(destroy)
    app.command("probe")(probe)
    app.add_typer(emulator_app, name="emulator")


# `ndap_infra/cli.py` imports this module last; whichever of the two is imported first,
# the commands are registered once, on the application `ndap` runs.
register(_ui().app)
