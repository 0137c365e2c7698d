"""``ndap explain``: one decision of the proofs, named the way the reports name it, with
the evaluator's trace (the policy statements that decided it).

Kinds of cell, each answered by the proof that decides it (so an explanation can never
disagree with the report):

- access (ACCESS.md, "Every decision"): ``PERSONA ENV ACTION``;
- pipelines (ACCESS.md, the delivery pipelines): ``pipelines WHO ACTION [PROJECT]``;
- platform (ACCESS.md, the platform's own pipeline): ``platform WHO ACTION``;
- jobs (JOBS.md): ``jobs IDENTITY OPERATION [RESOURCE]``;
- provenance (PROVENANCE.md): ``provenance IDENTITY``.

The verdict is the proof's own (its cell, row or result); the trace re-asks the
evaluator the same questions with the same principals and prints every decision.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ndap_infra.config.enums import Environment
from ndap_infra.evaluator import Decision, Principal, principal_for
from ndap_infra.pipelines.platform import PlatformPipelineSpec, platform_pipeline_spec
from ndap_infra.proofs import (
    access,
    feature_pipelines,
    jobs,
    pipelines,
    platform_pipeline,
    provenance,
)
from ndap_infra.proofs.access_model import PlatformModel
from ndap_infra.proofs.jobs_table import required_jobs
from ndap_infra.proofs.principals import reachable_principals
from ndap_infra.proofs.trusts import pipeline_identity

KINDS = ("pipelines", "platform", "jobs", "provenance")
"""The first word naming a kind; any other first word is a persona (an access cell)."""
USAGE = (
    "name a cell as the reports do: PERSONA ENV ACTION (ACCESS.md, every decision); "
    "pipelines WHO ACTION [PROJECT] and platform WHO ACTION (ACCESS.md, the pipelines' "
    "tables); jobs IDENTITY OPERATION [RESOURCE] (JOBS.md); provenance IDENTITY "
    "(PROVENANCE.md)"
)


@dataclass(frozen=True)
class Step:
    """One question asked of the evaluator (or, with no decision, what decided instead)."""

    who: str
    request: str
    decision: Decision | None = None
    note: str = ""


@dataclass(frozen=True)
class Explanation:
    """One cell or row: the proof's verdict, what the model expects, and the trace."""

    kind: str
    cell: str
    holds: bool | None
    """What the proof found (allowed; for provenance: others can change it); None: the
    cell has no target (``n/a`` in the report)."""
    expected: bool | None
    verdict: str
    steps: tuple[Step, ...] = ()

    @property
    def as_expected(self) -> bool:
        return self.holds == self.expected

    def render(self) -> str:
        lines = [f"{self.kind}: {self.cell}"]
        current = None
        for step in self.steps:
            if step.who != current:
                lines.append(f"as {step.who}:")
                current = step.who
            lines.append(f"  {step.request}:")
            if step.decision is not None:
                lines += ["    " + line for line in step.decision.explain().splitlines()]
            if step.note:
                lines.append(f"    {step.note}")
        lines.append(self.verdict)
        if self.expected is not None or self.holds is not None:
            lines.append(
                "as the model expects"
                if self.as_expected
                else "NOT AS THE MODEL EXPECTS: the proof reports this cell as wrong"
            )
        return "\n".join(lines)


class UnknownCell(Exception):
    """A cell no proof decides; ``str()`` names the closest names."""


def _closest(word: str, names: Iterable[str], what: str) -> UnknownCell:
    choices = sorted(set(names))
    close = difflib.get_close_matches(word, choices, n=5, cutoff=0.4)
    hint = (
        f"closest: {', '.join(close)}"
        if close
        else f"one of: {', '.join(choices[:12])}{' ...' if len(choices) > 12 else ''}"
    )
    return UnknownCell(f"unknown {what} {word!r}: {hint}")


def _words(words: Sequence[str], low: int, high: int, form: str) -> None:
    if not low <= len(words) <= high:
        raise UnknownCell(f"expected {form}, got {len(words)} word(s): {' '.join(words)!r}")


def explain(
    model: PlatformModel, stacks: Mapping[str, Mapping[str, Any]], words: Sequence[str]
) -> list[Explanation]:
    """The explanations of the cell ``words`` names (one per proof cell or row it covers:
    a persona's pipelines cell covers every project). Raises UnknownCell."""
    if not words:
        raise UnknownCell(USAGE)
    kind, rest = words[0], list(words[1:])
    if kind == "pipelines":
        return explain_pipeline(model, rest)
    if kind == "platform":
        return explain_platform(model, rest)
    if kind == "jobs":
        return explain_job(model, rest)
    if kind == "provenance":
        return explain_provenance(model, stacks, rest)
    return [explain_access(model, list(words))]


# ---- access -------------------------------------------------------------------------------


def explain_access(model: PlatformModel, words: Sequence[str]) -> Explanation:
    names = [p.value for p in model.config.all_personas()]
    if words and words[0] not in names:
        raise _closest(words[0], [*names, *KINDS], "persona or kind")
    _words(words, 3, 3, "PERSONA ENV ACTION")
    who, env_name, action = words
    persona = model.config.persona_named(who)
    assert persona is not None  # checked above
    enabled = [e.value for e in model.config.enabled_environments()]
    if env_name not in enabled:
        raise _closest(env_name, enabled, "environment (of this configuration)")
    if action not in access.ACTION_NAMES:
        raise _closest(action, access.ACTION_NAMES, "action")
    env = Environment(env_name)
    principals = reachable_principals(model, persona)
    cell = access.evaluate_cell(model, principals, persona, env, action)
    name = f"{who} {env_name} {action}"
    goal = access.target(model, env, action)
    if goal is None:
        return Explanation(
            "access",
            name,
            None,
            cell.expected,
            f"{action} has no target in {env_name} (no such resource there: n/a)",
        )
    request = f"{goal.action} on {goal.resource.arn}"
    steps = tuple(
        Step(via, request, access.decide(model, principal, goal)) for via, principal in principals
    )
    verdict = f"{who} {'CAN' if cell.allowed else 'cannot'} {action} in {env_name}"
    return Explanation("access", name, cell.allowed, cell.expected, verdict, steps)


# ---- the delivery pipelines ----------------------------------------------------------------


def _pipeline_principals(
    model: PlatformModel, who: str, project: str
) -> list[tuple[str, Principal]]:
    persona = model.config.persona_named(who)
    if persona is not None:
        return reachable_principals(model, persona)
    kind, _, env = who.split("/", 1)[1].partition("-")
    role = pipeline_identity(model, project, kind, Environment(env))
    return [(role.arn, principal_for(role))]


def _traced(
    model: PlatformModel,
    principals: Sequence[tuple[str, Principal]],
    target: pipelines.Goal,
    via: str,
) -> tuple[Step, ...]:
    """The requests behind a cell: the principal that achieves it (``via``), or every
    principal reached when none does."""
    tried = [(v, p) for v, p in principals if v == via] if via else list(principals)
    return tuple(
        Step(v, request, decision)
        for v, principal in tried
        for request, decision in pipelines.decisions(model, principal, target)[1]
    )


def explain_pipeline(model: PlatformModel, words: Sequence[str]) -> list[Explanation]:
    """A cell of the delivery pipelines: the ML projects' and the teams' feature pipelines
    (``PROJECT`` is then the feature pipeline, ``<team>-features``)."""
    _words(words, 2, 3, "pipelines WHO ACTION [PROJECT]")
    features = set(feature_pipelines.feature_pipeline_names(model))
    # The cells named, answered alone: the proof evaluates all of them the same way.
    cells = pipelines.pipeline_questions(model) + feature_pipelines.feature_questions(model)
    if not cells:
        raise UnknownCell("this configuration has no project pipelines (no tooling account)")
    who, action = words[0], words[1]
    if who not in {c.who for c in cells}:
        raise _closest(who, (c.who for c in cells), "pipelines row (who)")
    actions = {c.action for c in cells if c.who == who}
    if action not in actions:
        raise _closest(action, sorted(actions), f"pipelines action of {who}")
    chosen = [c for c in cells if c.who == who and c.action == action]
    if len(words) == 3:
        if words[2] not in {c.project for c in chosen}:
            raise _closest(words[2], (c.project for c in chosen), f"project of {who}")
        chosen = [c for c in chosen if c.project == words[2]]
    explanations = []
    for cell in (question.answer(model) for question in chosen):
        if cell.project in features:
            persona = model.config.persona_named(who)
            principals = (
                reachable_principals(model, persona)
                if persona is not None
                else [(who, feature_pipelines.feature_identity(model, who))]
            )
            target = feature_pipelines.goal(model, cell.project, action)
            via = cell.via if cell.via in {v for v, _ in principals} else ""
        else:
            principals = _pipeline_principals(model, who, cell.project)
            target = pipelines.goal(model, cell.project, action)
            via = cell.via
        kind = "feature pipeline" if cell.project in features else "project"
        verdict = (
            f"{who} {'CAN' if cell.allowed else 'cannot'} {action} for the {kind} {cell.project}"
        )
        explanations.append(
            Explanation(
                "pipelines",
                f"{who} {action} {cell.project}",
                cell.allowed,
                cell.expected,
                verdict,
                _traced(model, principals, target, via),
            )
        )
    return explanations


# ---- the platform's own pipeline -----------------------------------------------------------


def _platform_identity(
    model: PlatformModel, spec: PlatformPipelineSpec, who: str
) -> tuple[list[tuple[str, Principal]], str | None]:
    """The principals of a platform-table row, and its own account (planners and
    deployers: their stack's)."""
    persona = model.config.persona_named(who)
    if persona is not None:
        return reachable_principals(model, persona), None
    if who in ("plan build role", "apply build role"):
        arn = spec.plan_role_arn if who.startswith("plan") else spec.apply_role_arn
        return [(arn, principal_for(model.roles[arn]))], None
    role, _, stack = who.partition(" in ")
    account = dict(spec.stacks)[stack]
    arn = spec.planner_arn(account) if role == "planner" else spec.deployer_arn(account)
    return [(arn, principal_for(model.roles[arn]))], account


def explain_platform(model: PlatformModel, words: Sequence[str]) -> list[Explanation]:
    _words(words, 2, 2, "platform WHO ACTION (quote a WHO with spaces)")
    spec = platform_pipeline_spec(model.config)
    if spec is None:
        raise UnknownCell("this configuration has no platform pipeline")
    # The cells named, answered alone: the proof evaluates all of them the same way.
    cells = platform_pipeline.platform_questions(model)
    who, action = words
    if who not in {c.who for c in cells}:
        raise _closest(who, (c.who for c in cells), "platform row (who)")
    columns = {c.action.split(":")[0] for c in cells} | {c.action for c in cells}
    if action not in columns:
        raise _closest(action, columns, "platform action")
    chosen = [c for c in cells if c.who == who and action in (c.action, c.action.split(":")[0])]
    if not chosen:
        return [
            Explanation(
                "platform",
                f"{who} {action}",
                None,
                None,
                f"{action} is not asked of {who} (n/a): it is asked of the planners and "
                "deployers, in their own account",
            )
        ]
    principals, own = _platform_identity(model, spec, who)
    per_stack = dict(spec.stacks)
    explanations = []
    for cell in (question.answer(model, spec) for question in chosen):
        name, _, stack = cell.action.partition(":")
        # as the proof asks: per-stack actions in the stack's account, the planners' and
        # deployers' own-account actions in theirs, the rest in the tooling account
        account = spec.tooling
        if stack:
            account = per_stack[stack]
        elif own is not None and name in {a.name for a in platform_pipeline.OWN_ACCOUNT_ACTIONS}:
            account = own
        target = platform_pipeline.goal(model, spec, name, account)
        verdict = f"{who} {'CAN' if cell.allowed else 'cannot'} {cell.action}"
        explanations.append(
            Explanation(
                "platform",
                f"{who} {cell.action}",
                cell.allowed,
                cell.expected,
                verdict,
                _traced(model, principals, target, cell.via),
            )
        )
    return explanations


# ---- jobs ------------------------------------------------------------------------------------


def explain_job(model: PlatformModel, words: Sequence[str]) -> list[Explanation]:
    _words(words, 2, 3, "jobs IDENTITY OPERATION [RESOURCE]")
    rows = required_jobs(model.config)
    identity, operation = words[0], words[1]
    if identity not in {j.identity for j in rows}:
        raise _closest(identity, (j.identity for j in rows), "jobs identity")
    mine = [j for j in rows if j.identity == identity]
    if operation not in {j.operation for j in mine}:
        raise _closest(operation, (j.operation for j in mine), f"operation of {identity}")
    chosen = [j for j in mine if j.operation == operation]
    if len(words) == 3:
        if words[2] not in {j.resource for j in chosen}:
            raise _closest(words[2], (j.resource for j in chosen), f"resource of {operation}")
        chosen = [j for j in chosen if j.resource == words[2]]
    explanations = []
    for job in chosen:
        result = jobs.decide_job(model, job)
        # Rows may share identity, operation and resource and differ only in the request's
        # context (the CodeBuild project calling): the context tells them apart.
        sent = ", ".join(f"{key}={value}" for key, value in job.context)
        step = Step(
            identity,
            f"{operation} on {job.resource}" + (f" with {sent}" if sent else ""),
            result.decision,
            "" if result.decision is not None else result.reason,
        )
        need = "needs" if job.expected else "must not hold"
        verdict = (
            f"{job.job}: {identity} {need} {operation} on {job.resource} ({job.why}): "
            f"{'allowed' if result.allowed else 'denied'}"
        )
        explanations.append(
            Explanation(
                "jobs",
                f"{identity} {operation} {job.resource}" + (f" ({sent})" if sent else ""),
                result.allowed,
                job.expected,
                verdict,
                (step,),
            )
        )
    return explanations


# ---- provenance ------------------------------------------------------------------------------


def explain_provenance(
    model: PlatformModel, stacks: Mapping[str, Mapping[str, Any]], words: Sequence[str]
) -> list[Explanation]:
    _words(words, 1, 1, "provenance IDENTITY (quote an identity with spaces)")
    rows = provenance.prove_provenance(model, stacks)
    if not rows:
        raise UnknownCell("this configuration has no provenance rows (no tooling or projects)")
    chosen = [r for r in rows if words[0] in (r.identity, r.identity.split(" ")[-1])]
    if not chosen:
        raise _closest(words[0], (r.identity for r in rows), "provenance identity")
    explanations = []
    for row in chosen:
        steps = tuple(Step(e.who, e.request, e.decision) for e in row.evidence) or (
            Step(row.identity, "what its buildspec installs", None, row.source),
        )
        verdict = (
            f"{row.identity} runs {row.runs}; from: {row.source}; who can change it: "
            f"{row.who_can_change}; {row.state}"
        )
        explanations.append(
            Explanation(
                "provenance",
                row.identity,
                row.controlled_by_others,
                False,
                verdict,
                steps,
            )
        )
    return explanations
