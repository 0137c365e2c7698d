"""`ndap validate`, `synth`, `access`, `explain`, `terraform-validate`, `parity`, `lint`,
`build` and `schema`: the main job and its steps."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ndap_infra.cli.common import (
    DEFAULT_CONFIG,
    DEFAULT_OUT,
    DEFAULT_POLICIES,
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    LINT_FILE,
    WORK_DIR,
    ConfigOption,
    NoCacheOption,
    OutOption,
    PoliciesOption,
    console,
    errors,
    fail,
    load,
    terraform_setup,
)
from ndap_infra.config import NdapConfig
from ndap_infra.config.schema import SCHEMA_PATH, config_json_schema, is_config_schema
from ndap_infra.files.directories import UnsafeOutput
from ndap_infra.files.single import write_generated_file

if TYPE_CHECKING:
    from ndap_infra.proofs.suite import AccessProof
    from ndap_infra.stacks.synthesis import Synthesis

_commands = typer.Typer()
"""This module's commands; ``register`` adds them to the ``ndap`` application."""


@_commands.command()
def validate(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Check a configuration: every problem at once, each with its field and fix."""
    from ndap_infra.config.accounts import pending_accounts, phase_one_config
    from ndap_infra.organization.catalog import guardrail_catalog
    from ndap_infra.organization.company import CompanyGuardrailRejected

    loaded = load(config)
    try:
        # The company's guardrails must fit within AWS's limits (jobs: checked by build);
        # pending accounts' ids stand in as in phase 1.
        catalog = guardrail_catalog(phase_one_config(loaded)[0])
    except CompanyGuardrailRejected as error:
        errors.print(f"{config}: {error}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    envs = ", ".join(e.value for e in loaded.enabled_environments())
    console.print(f"{config}: valid ({envs}; {len(loaded.ml_projects)} ML projects)", markup=False)
    specs = catalog.common + catalog.security + catalog.access + catalog.company
    for guardrail in loaded.organization.company_guardrails:
        carriers = [
            f"{spec.name} ({spec.size} of 5120 characters)"
            for spec in specs
            if any(s.sid == guardrail.sid for s in spec.document.statements)
        ]
        console.print(f"company guardrail {guardrail.sid}: in {', '.join(carriers)}", markup=False)
    pending = pending_accounts(loaded)
    if pending:
        console.print(
            f"{len(pending)} account(s) to be created by the organization stack: "
            + ", ".join(f"{a.key} ({a.name} <{a.email}>)" for a in pending)
            + ". Until their ids are recorded only the organization stack is synthesized "
            "(phase 1; `ndap synth` says which stack waits for which id); "
            f"`ndap deploy -c {config}` creates them and records the ids in {config}.",
            markup=False,
        )


def _refuse_pending(loaded: NdapConfig, config: Path, command: str) -> None:
    """Exit 2 when created accounts' ids are pending: the command needs every stack."""
    from ndap_infra.config.accounts import pending_accounts
    from ndap_infra.stacks.synthesis import plan_phase_one

    if not pending_accounts(loaded):
        return
    phase_one = plan_phase_one(loaded)
    assert phase_one is not None
    errors.print(
        f"ndap {command} needs every stack, and some account ids are not known yet.",
        markup=False,
    )
    errors.print(phase_one.render(str(config)), markup=False)
    errors.print("Nothing was written.", markup=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def _refuse_phase_one(synthesis: Synthesis, command: str) -> None:
    if synthesis.phase_one is not None:
        errors.print(
            f"ndap {command}: {synthesis.out_dir} holds phase 1 only (the organization "
            "stack; created accounts' ids are pending):",
            markup=False,
        )
        errors.print(synthesis.phase_one.render("FILE"), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)


@_commands.command()
def synth(
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
    policies: PoliciesOption = DEFAULT_POLICIES,
) -> None:
    """Synthesize every stack (one process) and write the policies reviewers read."""
    _synth(config, out, policies)


def _synth(config: Path, out: Path, policies: Path) -> AccessProof | None:
    """``ndap synth``; the access proof it reported (None for phase 1)."""
    from ndap_infra.proofs.jobs import CompanyGuardrailBreaksJobs, check_company_guardrails
    from ndap_infra.proofs.suite import prove_access
    from ndap_infra.review.reviewer_files import write_reviewer_files
    from ndap_infra.stacks.synthesis import REFUSALS, synthesize

    loaded = load(config)
    start = time.monotonic()
    reviewed: list[tuple[AccessProof, dict[str, str]]] = []

    def review(staged: Synthesis) -> None:
        """Prove and write the reviewer files before the stacks replace --out: both
        outputs are written, or neither."""
        if staged.phase_one is None:
            proof = prove_access(loaded, staged)
            check_company_guardrails(loaded, proof.jobs)
            reviewed.append((proof, write_reviewer_files(staged, proof, policies, (config,))))

    try:
        with console.status("Synthesizing stacks and evaluating access..."):
            synthesis = synthesize(loaded, out, protected=(config,), before_swap=review)
    except (*REFUSALS, CompanyGuardrailBreaksJobs) as error:
        errors.print(str(error), markup=False)
        errors.print("Nothing was written.", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if synthesis.phase_one is not None:
        console.print(
            f"Synthesized phase 1 into {out}/stacks in {time.monotonic() - start:.1f}s: "
            + ", ".join(synthesis.stacks),
            markup=False,
        )
        console.print(synthesis.phase_one.render(str(config)), markup=False)
        console.print(
            f"{policies}/ was not written: the reviewer files cover every stack.", markup=False
        )
        return None
    proof, files = reviewed[0]
    seconds = time.monotonic() - start
    console.print(
        f"Synthesized {len(synthesis.stacks)} stacks into {out}/stacks in {seconds:.1f}s: "
        + ", ".join(synthesis.stacks),
        markup=False,
    )
    console.print(f"Wrote {len(files)} reviewer files under {policies}/", markup=False)
    _report_access(proof)
    return proof


def _section(
    summary: str,
    failures: int,
    lines: Iterable[str],
    *,
    ok: str = "all as expected",
    against: str = "the model",
    controls: Iterable[Any] = (),
) -> None:
    """One proof's summary line, then each difference, then its negative controls."""
    verdict = ok if not failures else f"{failures} differ from {against}"
    console.print(f"{summary}, {verdict}", markup=False)
    for line in lines:
        console.print(f"  - {line}", markup=False)
    for control in controls:
        console.print(control.render(), markup=False)


def _report_platform(proof: AccessProof) -> None:
    platform = proof.platform
    if platform is None:
        return
    wrong = [c for c in platform.cells if not c.ok]
    wrong_trust = [t for t in platform.trust if not t.ok]
    _section(
        f"platform pipeline: {len(platform.cells)} decisions and {len(platform.trust)} "
        "planner/deployer trusts evaluated",
        len(wrong) + len(wrong_trust),
        [
            *(
                f"{c.who} / {c.action}: expected {c.expected}, evaluated {c.allowed} "
                f"({c.via or 'no principal reached is allowed'})"
                for c in wrong
            ),
            *(
                f"{t.role}: assumable by {', '.join(t.assumers) or 'nobody'}, "
                f"expected only {t.expected}"
                for t in wrong_trust
            ),
        ],
        controls=platform.controls,
    )


def _report_jobs(proof: AccessProof) -> None:
    denied = [r for r in proof.jobs if not r.ok]
    _section(
        f"jobs: {len(proof.jobs)} operations of the platform's machine identities evaluated",
        len(denied),
        (
            f"{r.job.job}: {r.job.identity} {r.job.operation} {r.job.resource}: {r.reason}"
            for r in denied
        ),
        ok="all as required",
        against="the jobs table (wrong)",
        controls=proof.job_controls,
    )
    if proof.provenance:
        failing = [r for r in proof.provenance if r.fails]
        _section(
            f"provenance: {len(proof.provenance)} rows of what acc/prd identities run",
            len(failing),
            (f"{r.identity}: {r.source}: {r.who_can_change} ({r.finding})" for r in failing),
            ok="none a data scientist or a public index controls",
            against="the provenance table (others control them; see policies/PROVENANCE.md)",
        )
        for finding in sorted({r.finding for r in proof.provenance if r.state.startswith("open")}):
            console.print(f"  - open finding, reported only ({finding})", markup=False)


def _report_evidence(proof: AccessProof) -> None:
    evidence = proof.evidence
    if evidence is None:
        return
    wrong = [r for r in evidence.rows if not r.ok]
    _section(
        f"evidence: {len(evidence.rows)} rows on the log archive and the detectors",
        len(wrong),
        (f"{r.question}: {', '.join(r.who) or 'nobody'}" for r in wrong),
        ok="read by security auditors only, deleted by nobody (see policies/EVIDENCE.md)",
        against="the evidence table (wrong)",
    )
    for control in evidence.controls:
        if not control.flipped:
            console.print(
                f"  - negative control does not flip: without {control.removed}", markup=False
            )


def _report_people(proof: AccessProof) -> None:
    if not proof.people:
        return
    wrong = [r for r in proof.people if not r.ok]
    _section(
        f"people: {len(proof.people)} onboarded into Identity Center",
        len(wrong),
        (f"{r.user_name}: {'; '.join(r.differences())}" for r in wrong),
        ok="each reaches exactly what their personas allow (see policies/ACCESS.md)",
        against="their personas' cells",
    )


def _report_access(proof: AccessProof) -> None:
    _report_jobs(proof)
    _report_evidence(proof)
    _report_people(proof)
    wrong = [c for c in proof.cells if not c.ok]
    _section(
        f"access: {len(proof.cells)} decisions evaluated",
        len(wrong),
        (
            f"{c.persona.value} / {c.environment.value} / {c.action}: expected "
            f"{c.expected}, evaluated {c.allowed} ({c.via})"
            for c in wrong
        ),
        controls=proof.controls,
    )
    _report_platform(proof)
    pipelines = proof.pipelines
    if pipelines is None:
        return
    wrong_pipeline = [c for c in pipelines.cells if not c.ok]
    wrong_trust = [t for t in pipelines.trust if not t.ok]
    _section(
        f"pipelines: {len(pipelines.cells)} decisions and {len(pipelines.trust)} deployer "
        "trusts evaluated",
        len(wrong_pipeline) + len(wrong_trust),
        [
            *(
                f"{c.who} / {c.project} / {c.action}: expected {c.expected}, evaluated "
                f"{c.allowed} ({c.via or 'no principal reached is allowed'})"
                for c in wrong_pipeline
            ),
            *(
                f"{t.deployer}: assumable by {', '.join(t.assumers) or 'nobody'}, "
                f"expected only {t.expected}"
                for t in wrong_trust
            ),
        ],
        controls=pipelines.controls,
    )
    flow = pipelines.flow
    if flow is None:
        return
    wrong_rows = [r for r in flow.rows if not r.ok]
    wrong_builds = [b for b in flow.build_trust if not b.ok]
    _section(
        f"git flow: {len(flow.rows)} git events x identities and {len(flow.build_trust)} "
        "build-role trusts evaluated",
        len(wrong_rows) + len(wrong_builds),
        [
            *(
                f"{row.project} / {row.event.description} ({row.event.ref}): {difference}"
                for row in wrong_rows
                for difference in row.differences()
            ),
            *(
                f"{b.role}: CodeBuild runs it for {', '.join(b.runners) or 'nothing'}, "
                f"expected only {', '.join(b.expected)}"
                for b in wrong_builds
            ),
        ],
        ok="all as the flow allows",
        against="the flow",
        controls=flow.controls,
    )


@_commands.command()
def access(config: ConfigOption = DEFAULT_CONFIG, out: OutOption = DEFAULT_OUT) -> None:
    """Prove the access rules: evaluate every persona x environment x action decision from
    the synthesized policies against the model's expected table (exit 1 on a difference)."""
    from ndap_infra.proofs.suite import prove_access

    loaded = load(config)
    _refuse_pending(loaded, config, "access")
    synthesis = _synthesis(out)
    _refuse_phase_one(synthesis, "access")
    proof = prove_access(loaded, synthesis)
    _report_access(proof)
    if not proof.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


@_commands.command()
def explain(
    cell: Annotated[
        list[str],
        typer.Argument(
            help="The cell, named as the reports name it: PERSONA ENV ACTION (ACCESS.md); "
            "pipelines WHO ACTION [PROJECT]; platform WHO ACTION; jobs IDENTITY OPERATION "
            "[RESOURCE] (JOBS.md); provenance IDENTITY (PROVENANCE.md). Quote a name with "
            "spaces.",
            show_default=False,
        ),
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
) -> None:
    """Explain one decision of the proofs: allowed or denied, and by which statements in
    which files (exit 2 naming the closest cells when no proof decides it)."""
    from ndap_infra.proofs.access_model import build_model
    from ndap_infra.review.explain import UnknownCell
    from ndap_infra.review.explain import explain as explain_cell

    loaded = load(config)
    _refuse_pending(loaded, config, "explain")
    synthesis = _synthesis(out)
    _refuse_phase_one(synthesis, "explain")
    stacks = synthesis.stack_json()
    model = build_model(loaded, stacks)
    try:
        explanations = explain_cell(model, stacks, cell)
    except UnknownCell as error:
        errors.print(f"ndap explain: {error}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    console.print("\n\n".join(e.render() for e in explanations), markup=False)


def _synthesis(out: Path) -> Synthesis:
    from ndap_infra.stacks.synthesis import NotSynthesized, load_synthesis

    try:
        return load_synthesis(out)
    except NotSynthesized as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


@_commands.command("terraform-validate")
def terraform_validate(out: OutOption = DEFAULT_OUT, no_cache: NoCacheOption = False) -> None:
    """Run real `terraform init` and `terraform validate` on every synthesized stack (a
    stack that passed before with the same inputs is not run again, unless --no-cache)."""
    _validate_synthesized(out, use_cache=not no_cache)


def _validate_synthesized(out: Path, *, use_cache: bool) -> None:
    from ndap_infra.stacks.synthesis import NotSynthesized, load_synthesis
    from ndap_infra.terraform.runner import TerraformMissing, validate_stacks
    from ndap_infra.terraform.validate_cache import ValidateCache

    try:
        stacks = load_synthesis(out).stacks
    except NotSynthesized as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    setup = terraform_setup()
    console.print(f"Terraform providers: {setup.mirror.reason}", markup=False)
    start = time.monotonic()
    try:
        with console.status(f"terraform init + validate on {len(stacks)} stacks..."):
            cache = ValidateCache.in_work_dir(WORK_DIR) if use_cache else None
            results = validate_stacks(stacks, setup, cache=cache)
    except TerraformMissing as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    for result in results:
        mark = "ok  " if result.ok else "FAIL"
        console.print(f"  {mark} {result.message} [{result.seconds:.1f}s]", markup=False)
    cached = sum(1 for r in results if r.cached)
    reused = f" ({cached} of {len(results)} from the cache; --no-cache runs all)" if cached else ""
    console.print(
        f"terraform validate: {time.monotonic() - start:.1f}s in total{reused}", markup=False
    )
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_CHECK_FAILED)


@_commands.command()
def parity(config: ConfigOption = DEFAULT_CONFIG, out: OutOption = DEFAULT_OUT) -> None:
    """Prove every environment carries the same security controls (exit 1 if not)."""
    loaded = load(config)
    _refuse_pending(loaded, config, "parity")
    _check_parity(loaded, out)


def _check_parity(loaded: NdapConfig, out: Path) -> None:
    from ndap_infra.proofs.parity import check_platform_parity

    synthesis = _synthesis(out)
    _refuse_phase_one(synthesis, "parity")
    stacks = synthesis.stack_json()
    accounts = {env.value: loaded.account_id(env) for env in loaded.enabled_environments()}
    missing = [env for env in accounts if f"env-{env}" not in stacks]
    if missing:
        errors.print(
            f"{out} has no stack for {', '.join(missing)}: it was synthesized from another "
            "configuration; run `ndap synth` with this one first.",
            markup=False,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    report = check_platform_parity(stacks, accounts, loaded.tooling_account_id)
    console.print(report.render(), markup=False)
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


@_commands.command("creation-order")
def creation_order(config: ConfigOption = DEFAULT_CONFIG, out: OutOption = DEFAULT_OUT) -> None:
    """Check that every role a policy names, and every bucket a replication configuration
    writes to, exists when AWS receives it, in the deploy order (organization, tooling,
    environments side by side, prd after those it replicates into): exit 1 naming each
    policy, principal and fix."""
    loaded = load(config)
    _refuse_pending(loaded, config, "creation-order")
    _check_creation_order(loaded, out)


def _check_creation_order(loaded: NdapConfig, out: Path) -> None:
    from ndap_infra.proofs.creation_order import check_creation_order, stack_accounts

    synthesis = _synthesis(out)
    _refuse_phase_one(synthesis, "creation-order")
    report = check_creation_order(
        synthesis.stack_json(), stack_accounts(loaded), synthesis.apply_waves()
    )
    console.print(report.render(), markup=False)
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


@_commands.command()
def lint(
    out: OutOption = DEFAULT_OUT,
    policies: PoliciesOption = DEFAULT_POLICIES,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="NDAP_CONFIG",
            help="The platform configuration, for its custom personas' suppressions; "
            "default: $NDAP_CONFIG, else platform.yaml in the current directory if there.",
        ),
    ] = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Policy-as-code gates: checkov over the synthesized stacks and parliament over the
    policy files, with the project's reasoned suppressions; writes policies/LINT.md. A
    linter's output for inputs it read before is reused, unless --no-cache."""
    if config is None and DEFAULT_CONFIG.is_file():
        config = DEFAULT_CONFIG
    _lint(out, policies, load(config) if config is not None else None, use_cache=not no_cache)


def _lint(out: Path, policies: Path, config: NdapConfig | None, *, use_cache: bool) -> None:
    from ndap_infra.linters.cache import LintCache
    from ndap_infra.linters.checkov import run_checkov
    from ndap_infra.linters.parliament import run_parliament
    from ndap_infra.linters.report import render_lint_report
    from ndap_infra.linters.suppressions import (
        CHECKOV_SUPPRESSIONS,
        PARLIAMENT_SUPPRESSIONS,
        custom_persona_suppressions,
    )
    from ndap_infra.linters.tools import GateError

    synthesis = _synthesis(out)
    checks, issues = custom_persona_suppressions(config) if config else ((), ())
    cache = LintCache.in_work_dir(WORK_DIR) if use_cache else None
    try:
        with console.status("checkov and parliament..."):
            checkov = run_checkov(synthesis.stacks, (*CHECKOV_SUPPRESSIONS, *checks), cache)
            parliament = run_parliament(policies, (*PARLIAMENT_SUPPRESSIONS, *issues), cache)
    except GateError as error:
        errors.print(str(error), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    (policies / LINT_FILE).write_text(render_lint_report(checkov, parliament))
    for name, report in (("checkov", checkov), ("parliament", parliament)):
        state = "passes" if report.ok else "FAILS"
        ran = (
            "its output for these inputs, from the cache"
            if report.cached
            else f"{report.seconds:.1f}s"
        )
        console.print(
            f"{name}: {state} ({len(report.failures)} unsuppressed, "
            f"{len(report.suppressed)} suppressed with reasons, {len(report.stale)} stale "
            f"suppressions) [{ran}]",
            markup=False,
        )
        for finding in report.failures:
            console.print(f"  - {finding}", markup=False)
    console.print(f"Wrote {policies / LINT_FILE}", markup=False)
    if not (checkov.ok and parliament.ok):
        raise typer.Exit(EXIT_CHECK_FAILED)


@_commands.command()
def build(
    config: ConfigOption = DEFAULT_CONFIG,
    out: OutOption = DEFAULT_OUT,
    policies: PoliciesOption = DEFAULT_POLICIES,
    no_cache: NoCacheOption = False,
) -> None:
    """The main job: validate the configuration, synthesize, write reviewer files, prove
    parity between environments, and run terraform validate on every stack, offline.
    While created accounts' ids are pending it writes nothing and exits 2, naming the
    stacks that wait for each account (`ndap deploy` creates them and records the ids)."""
    _refuse_pending(load(config), config, "build")
    proof = _synth(config, out, policies)
    loaded = load(config)
    _check_parity(loaded, out)
    _check_creation_order(loaded, out)
    # the proof synth reported, on the stacks now in --out (not evaluated a second time)
    if proof is None or not proof.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)
    _lint(out, policies, loaded, use_cache=not no_cache)
    _validate_synthesized(out, use_cache=not no_cache)


@_commands.command()
def schema(
    out: Annotated[Path, typer.Option(help="Where to write the JSON Schema.")] = SCHEMA_PATH,
    check: Annotated[bool, typer.Option(help="Exit 1 if the file is stale.")] = False,
) -> None:
    """Export the configuration's JSON Schema (for editors)."""
    text = config_json_schema()
    if check:
        current = out.read_text() if out.exists() else ""
        if current != text:
            errors.print(f"{out} is stale: run `ndap schema` and commit it.")
            raise typer.Exit(EXIT_CHECK_FAILED)
        console.print(f"{out} is up to date.")
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_generated_file(out, text, is_config_schema, "the configuration's JSON Schema")
    except UnsafeOutput as error:
        raise fail(f"ndap schema: {error}; nothing was written", EXIT_BAD_INPUT) from None
    except OSError as error:
        raise fail(
            f"ndap schema: cannot write {out} ({error.strerror or error}); nothing was written",
            EXIT_BAD_INPUT,
        ) from None
    console.print(f"Wrote {out}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``ndap`` application."""
    for command in _commands.registered_commands:
        app.registered_commands.append(command)
