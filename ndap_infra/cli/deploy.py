"""`ndap deploy`, `destroy` and `probe`."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ndap_infra.cli import common
from ndap_infra.cli.common import (
    DEFAULT_CONFIG,
    DEFAULT_OUT,
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    ConfigOption,
    OutOption,
    StacksOption,
    SynthOption,
    WorkersOption,
    deploy_setup,
    emulator_for,
    fail,
    load,
    running_emulator,
    say,
    select_stacks,
    stack_runs,
    synthesize_or_exit,
    work_dir,
)
from ndap_infra.cli.emulator import seed
from ndap_infra.config import NdapConfig
from ndap_infra.config.model import DeployTarget
from ndap_infra.emulator import lifecycle
from ndap_infra.emulator.lifecycle import EmulatorInfo
from ndap_infra.names.platform import ORGANIZATION_STACK

if TYPE_CHECKING:
    from ndap_infra.deploy.runner import StackResult, StackRun
    from ndap_infra.stacks.synthesis import Synthesis
    from ndap_infra.terraform.cli_config import TerraformSetup


GAPS_FILE = "emulator-gaps.md"


def _print_result(result: StackResult) -> None:
    say(result.line())


def _print_failures(results: list[StackResult]) -> None:
    for result in results:
        if not result.ok and result.detail:
            common.errors.print(result.detail, markup=False)


def deploy(
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
    stacks: StacksOption = None,
    workers: WorkersOption = None,
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
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm",
            help="Plan, show and ask before each wave of stacks (always so on deploy.target: "
            "aws; this turns it on for the local emulator).",
        ),
    ] = False,
    auto_approve: Annotated[
        bool,
        typer.Option(
            "--auto-approve",
            help="Plan and show, but apply without asking (for automation).",
        ),
    ] = False,
    plan_only: Annotated[
        bool,
        typer.Option(
            "--plan-only",
            help="Save a plan per stack, its reviewable summary and a manifest under "
            "<work dir>/plans, apply nothing.",
        ),
    ] = False,
    apply_plans: Annotated[
        Path | None,
        typer.Option(
            "--apply-plans",
            metavar="DIR",
            help="Apply exactly the plans saved by --plan-only in DIR (refused when made "
            "from another configuration or stack set).",
        ),
    ] = None,
    ignore_missing_dependencies: Annotated[
        bool,
        typer.Option(
            "--ignore-missing-dependencies",
            help="With --stacks: deploy even when a stack the selected ones depend on is "
            "neither selected nor applied before (as cdktf's "
            "--ignore-missing-stack-dependencies); on AWS such a deploy can fail half-way.",
        ),
    ] = False,
) -> None:
    """Deploy the platform: synthesize, start the emulator on the local target, apply every
    stack in dependency order (organization and tooling first, then the environments in
    parallel, prd after the environments it replicates into), then prove the plan is empty
    and report what the emulator could not create. On deploy.target: aws each wave of stacks
    is planned, shown and confirmed first."""
    from ndap_infra.deploy.flow import apply_all
    from ndap_infra.deploy.orchestrate import waves
    from ndap_infra.deploy.workers import choose_workers

    if via not in ("terraform", "cdktf"):
        raise fail(f"--via must be terraform or cdktf (got {via!r})", EXIT_BAD_INPUT)
    if plan_only and apply_plans is not None:
        raise fail("--plan-only and --apply-plans are two steps: give one", EXIT_BAD_INPUT)
    loaded = load(config)
    confirming = (
        confirm or loaded.deploy.target is DeployTarget.AWS or apply_plans is not None
    ) and not plan_only
    if (confirming or plan_only) and via != "terraform":
        raise fail(
            "plans are saved, shown and confirmed with --via terraform; `cdktf deploy` "
            "asks on its own (ndap cdktf deploy)",
            EXIT_BAD_INPUT,
        )
    if confirming:
        from ndap_infra.cli.confirm import require_an_answer

        require_an_answer(auto_approve)
    setup = deploy_setup()
    from ndap_infra.config.accounts import pending_accounts

    if pending_accounts(loaded):
        if plan_only or apply_plans is not None:
            raise fail(
                "deploy: some account ids are pending (the organization stack creates those "
                "accounts): run `ndap deploy` (it asks before each wave) for that first "
                "deploy; plans can be saved and reviewed once the ids are recorded",
                EXIT_BAD_INPUT,
            )
        loaded = _create_pending_accounts(
            config, loaded, out, stacks, setup, via, synth, confirming, auto_approve
        )
    synthesis = synthesize_or_exit(loaded, out, synth=synth, prove_jobs=True)
    selected = select_stacks(synthesis, stacks)
    emulator = emulator_for(loaded, start=True)
    if emulator is not None:
        seed(emulator, loaded)
    runs = stack_runs(synthesis, setup, emulator)
    if stacks and ignore_missing_dependencies:
        say("deploy: not checking the stacks the selected ones depend on (asked)")
    elif stacks:
        _require_applied_dependencies(synthesis, selected, runs)
    workers = choose_workers(workers, waves(selected, levels=synthesis.apply_waves()))
    start = time.monotonic()
    action = "planning" if plan_only else "deploying"
    say(f"{action} {', '.join(selected)} (via {via}; environment stacks {workers} at a time)")
    plans = work_dir().resolve() / "plans"
    if plan_only:
        from ndap_infra.cli.confirm import plan_only as save_plans_only

        save_plans_only(runs, synthesis, selected, loaded, plans, workers=workers)
        return
    if via == "cdktf":
        results = _deploy_with_cdktf(config, out, selected, setup, emulator, workers)
    elif apply_plans is not None:
        from ndap_infra.cli.confirm import apply_reviewed

        with _graceful_interruption():
            results = apply_reviewed(
                runs, synthesis, selected, loaded, apply_plans.resolve(),
                auto_approve=auto_approve, workers=workers, on_result=_print_result,
            )  # fmt: skip
    elif confirming:
        from ndap_infra.cli.confirm import confirmed_apply

        with _graceful_interruption():
            results = confirmed_apply(
                runs, selected, synthesis.apply_waves(), plans,
                auto_approve=auto_approve, workers=workers, on_result=_print_result,
            )  # fmt: skip
    else:
        with _graceful_interruption():
            results = apply_all(
                runs,
                selected,
                workers=workers,
                on_result=_print_result,
                levels=synthesis.apply_waves(),
            )
    _print_failures(results)
    _exit_if_interrupted("deploy")
    applied = all(r.ok for r in results)
    say(f"deploy: {'done' if applied else 'FAILED'} in {time.monotonic() - start:.1f}s")
    clean = True
    if check_plan and applied:
        clean = _check_plans(selected, runs, workers)
    placed = True
    if emulator is not None:
        _report_gaps(synthesis, selected)
        if applied and ORGANIZATION_STACK in selected:
            placed = _report_organization(emulator, loaded)
            if not placed:
                common.errors.print(
                    "deploy: an account is not in its unit, so its unit's guardrails do not "
                    "cover it (see above)",
                    markup=False,
                )
    if not (applied and clean and placed):
        raise typer.Exit(EXIT_CHECK_FAILED)


def _require_applied_dependencies(
    synthesis: Synthesis, selected: list[str], runs: dict[str, StackRun]
) -> None:
    """With --stacks, every stack a selected one depends on is selected or applied before:
    on AWS a trust naming a role of an unapplied stack is refused half-way through."""
    from ndap_infra.deploy.orchestrate import missing_dependencies, unselected_dependencies
    from ndap_infra.deploy.runner import init, state_resources

    def applied(stack: str) -> int | None:
        if init(runs[stack], "dependency") is not None:
            return None
        resources = state_resources(runs[stack], "dependency")
        return None if resources is None else len(resources)

    needed = unselected_dependencies(synthesis.dependencies(), selected)
    found, missing = missing_dependencies(needed, applied)
    for line in found:
        say(line)
    if missing:
        raise fail("deploy: " + "; ".join(missing), EXIT_BAD_INPUT)


def _create_pending_accounts(
    config: Path,
    loaded: NdapConfig,
    out: Path,
    stacks: list[str] | None,
    setup: TerraformSetup,
    via: str,
    synth: bool,
    confirming: bool,
    auto_approve: bool,
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
        raise fail(
            f"deploy: the ids of {names} are pending (created by the organization stack): "
            "drop --no-synth, so the stacks are synthesized again once the ids are recorded",
            EXIT_BAD_INPUT,
        )
    if via != "terraform":
        raise fail(
            f"deploy: the ids of {names} are pending: the first deploy, which creates those "
            "accounts and records their ids, runs with --via terraform",
            EXIT_BAD_INPUT,
        )
    if stacks and ORGANIZATION_STACK not in stacks:
        raise fail(
            f"deploy: the ids of {names} are pending: the organization stack creates those "
            f"accounts first; add --stacks {ORGANIZATION_STACK}",
            EXIT_BAD_INPUT,
        )
    start = time.monotonic()
    synthesis = synthesize_or_exit(loaded, out)
    phase_one = synthesis.phase_one
    assert phase_one is not None
    known = [ORGANIZATION_STACK, *phase_one.waiting]
    unknown = [s for s in stacks or [] if s not in known]
    if unknown:
        raise fail(
            f"unknown stacks: {', '.join(unknown)}; this configuration's stacks are "
            + ", ".join(known),
            EXIT_BAD_INPUT,
        )
    say(
        f"phase 1: the organization stack creates {len(pending)} account(s): "
        + ", ".join(f"{a.name} <{a.email}>" for a in pending)
        + f"; {len(phase_one.left_out)} part(s) of it and "
        + f"{len(phase_one.waiting)} stack(s) wait for their ids"
    )
    emulator = emulator_for(loaded, start=True)
    if emulator is not None:
        seed(emulator, loaded)
    runs = stack_runs(synthesis, setup, emulator)
    with _graceful_interruption():
        if confirming:
            from ndap_infra.cli.confirm import confirmed_apply

            results = confirmed_apply(
                runs, [ORGANIZATION_STACK], None, work_dir().resolve() / "plans",
                auto_approve=auto_approve, workers=1, on_result=_print_result,
            )  # fmt: skip
        else:
            results = apply_all(runs, [ORGANIZATION_STACK], on_result=_print_result)
    _print_failures(results)
    _exit_if_interrupted("deploy")
    if not all(r.ok for r in results):
        raise fail("deploy: phase 1 FAILED: no account id was recorded")
    try:
        ids = created_account_ids(runs[ORGANIZATION_STACK], [a.key for a in pending])
        recorded = record_account_ids(config, ids)
    except (AccountIdsMissing, BootstrapError) as error:
        raise fail(
            f"deploy: the accounts were created, but their ids could not be recorded: {error}\n"
            "Run `ndap deploy` again: phase 1 is then a no-op and the ids are read again."
        ) from None
    say(f"recorded the created accounts' ids in {config} (comments and layout kept):")
    for field, account_id in recorded.fields:
        say(f'  {field}: "{account_id}"')
    say(
        f"phase 1: done in {time.monotonic() - start:.1f}s; synthesizing every stack with "
        "the ids, then the organization stack again (the guardrails that name them) before "
        "the account stacks"
    )
    return recorded.config


EXIT_INTERRUPTED = 130


def _graceful_interruption() -> contextlib.AbstractContextManager[None]:
    from ndap_infra.deploy.interrupt import graceful_interruption

    def say_interrupted() -> None:
        common.errors.print(
            "ndap: interrupted: asking terraform to stop after what it has in flight "
            "(it saves its state and releases its lock)...",
            markup=False,
        )

    return graceful_interruption(say_interrupted)


def _exit_if_interrupted(command: str) -> None:
    from ndap_infra.deploy.runner import was_interrupted

    if was_interrupted():
        common.errors.print(
            f"{command}: interrupted; every stack's state is saved and unlocked. Run "
            f"`ndap {command}` again to converge.",
            markup=False,
        )
        raise typer.Exit(EXIT_INTERRUPTED)


def _check_plans(selected: list[str], runs: dict[str, StackRun], workers: int) -> bool:
    from ndap_infra.deploy.flow import plan_all

    start = time.monotonic()
    say("terraform plan -detailed-exitcode on every stack (must be empty):")
    results = plan_all(runs, selected, workers=workers, on_result=_print_result, init_first=True)
    _print_failures([r for r in results if r.changes is not True])
    for result in results:
        if result.changes:
            common.errors.print(
                f"{result.stack}: the plan after deploy is not empty:\n{result.detail[-4000:]}",
                markup=False,
            )
    clean = all(r.ok and r.changes is False for r in results)
    say(
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
    from ndap_infra.deploy.cdktf import NpxMissing, deploy_with_cdktf

    log = work_dir().resolve() / "logs" / "cdktf.deploy.log"
    try:
        result = deploy_with_cdktf(config, out, selected, setup, emulator, workers, log)
    except NpxMissing as error:
        raise fail(str(error)) from None
    _print_result(result)
    return [result]


def _report_gaps(synthesis: Synthesis, selected: list[str]) -> None:
    from ndap_infra.emulator.gaps import gap_summary, render_gaps, synthesized_gaps

    documents = {k: v for k, v in synthesis.stack_json().items() if k in selected}
    gaps = synthesized_gaps(documents)
    path = work_dir() / GAPS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_gaps(gaps))
    for line in gap_summary(gaps, path):
        say(line)


def _report_organization(emulator: EmulatorInfo, loaded: NdapConfig) -> bool:
    """Read the organization back: is every account in its unit? True when it is."""
    from ndap_infra.deploy.organization import check_organization

    report = check_organization(emulator, loaded)
    say(report.render())
    return report.ok


def destroy(
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
    stacks: StacksOption = None,
    workers: WorkersOption = None,
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
    from ndap_infra.deploy.orchestrate import waves
    from ndap_infra.deploy.workers import choose_workers
    from ndap_infra.emulator.gaps import UNDELETABLE

    loaded = load(config)
    if loaded.deploy.target is DeployTarget.AWS and not yes:
        raise fail("deploy.target is aws: this destroys real resources; add --yes", EXIT_BAD_INPUT)
    if loaded.deploy.target is DeployTarget.LOCAL:
        current = lifecycle.status(work_dir())
        if current.state is lifecycle.State.STOPPED:
            say(
                "the local emulator is not running: nothing is deployed locally (resources "
                "and state live in the emulator and went with it)"
            )
            return
    emulator = emulator_for(loaded, start=False)
    synthesis = synthesize_or_exit(loaded, out, synth=synth)
    selected = select_stacks(synthesis, stacks)
    runs = stack_runs(synthesis, deploy_setup(), emulator)
    workers = choose_workers(workers, waves(selected, levels=synthesis.apply_waves()))
    if include_protected:
        common.errors.print(
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
        say(
            f"kept {len(kept)} resources (prevent_destroy, their configuration and what "
            "they depend on); "
            "`ndap destroy --include-protected` removes them too:"
        )
        for stack, address in kept:
            say(f"  - {stack}: {address}")
    left = [(r.stack, address) for r in results for address in r.left]
    if left:
        say(
            f"left {len(left)} resources on the emulator, which cannot delete them (removed "
            "from the state instead; they go when the emulator stops):"
        )
        for stack, address in left:
            reason = UNDELETABLE[address.split(".", 1)[0]]
            say(f"  - {stack}: {address}: {reason}")
    ok = all(r.ok for r in results)
    say(f"destroy: {'done' if ok else 'FAILED'} in {time.monotonic() - start:.1f}s")
    if not ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


def probe(config: ConfigOption = DEFAULT_CONFIG, out: OutOption = DEFAULT_OUT) -> None:
    """Try a few persona actions on the running emulator, as the persona roles, and print
    expected vs observed, with whether the emulator can witness each row at all (it only
    evaluates identity policies). The proof of the access rules is `ndap access`."""
    from ndap_infra.config.accounts import pending_accounts
    from ndap_infra.deploy.probes import ProbeError, render_probes, run_probes

    loaded = load(config)
    if loaded.deploy.target is not DeployTarget.LOCAL:
        raise fail("ndap probe runs against the local emulator (deploy.target: local)", 2)
    pending = pending_accounts(loaded)
    if pending:
        raise fail(
            f"ndap probe: the ids of {', '.join(a.key for a in pending)} are not recorded "
            f"yet (accounts the organization stack creates): `ndap deploy -c {config}` first",
            EXIT_BAD_INPUT,
        )
    emulator = running_emulator()
    from ndap_infra.stacks.synthesis import NotSynthesized, load_synthesis

    try:
        synthesis = load_synthesis(out)
    except NotSynthesized as error:
        raise fail(str(error), EXIT_BAD_INPUT) from None
    try:
        rows = run_probes(emulator, loaded, synthesis)
    except ProbeError as error:
        raise fail(str(error)) from None
    say(render_probes(rows))
    if any(r.contradicts for r in rows):
        raise typer.Exit(EXIT_CHECK_FAILED)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``ndap`` application."""
    app.command("deploy")(deploy)
    app.command("destroy")(destroy)
    app.command("probe")(probe)
