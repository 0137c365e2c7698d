"""The review pack's "Terraform plan per stack": what applying this change would do to the
deployed target, counted like Terraform counts it, from each stack's JSON plan.

Pure: it reads plan documents (``terraform show -json <planfile>``) and writes Markdown;
``ndap review --config`` makes the plans (``ndap_infra.deploy.runner.plan_document``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ndap_infra.terraform.plans import fix_of

MAX_LISTED = 50


@dataclass(frozen=True)
class StackPlan:
    stack: str
    add: int = 0
    change: int = 0
    destroy: int = 0
    changed: tuple[tuple[str, str], ...] = ()  # (address, what apply would do)
    not_deployed: bool = False
    error: str | None = None

    @property
    def empty(self) -> bool:
        return not self.changed


def summarize(stack: str, plan: Mapping[str, Any]) -> StackPlan:
    """Terraform's own counts: a replacement is one add and one destroy."""
    add = change = destroy = 0
    changed: list[tuple[str, str]] = []
    for entry in plan.get("resource_changes") or []:
        if entry.get("mode", "managed") != "managed":
            continue
        actions = list(entry.get("change", {}).get("actions", []))
        fix = fix_of(actions)
        if fix is None:
            continue
        add += "create" in actions
        change += actions == ["update"]
        destroy += "delete" in actions
        changed.append((str(entry.get("address", "?")), fix))
    return StackPlan(stack, add, change, destroy, tuple(sorted(changed)))


def render_plan_section(plans: Sequence[StackPlan], target: str) -> str:
    """A table of counts per stack, then the changed addresses of each stack."""
    lines = [
        f"Planned against {target} (nothing applied):",
        "",
        "| stack | add | change | destroy |",
        "|---|---|---|---|",
    ]
    for plan in plans:
        if plan.error is not None:
            lines.append(f"| {plan.stack} | plan failed | | |")
        elif plan.not_deployed:
            lines.append(f"| {plan.stack} | not deployed | | |")
        else:
            lines.append(f"| {plan.stack} | {plan.add} | {plan.change} | {plan.destroy} |")
    for plan in plans:
        if plan.error is not None:
            first = plan.error.strip().splitlines()[0] if plan.error.strip() else "failed"
            lines += ["", f"**{plan.stack}**: the plan failed: {first}"]
            continue
        if plan.empty:
            continue
        lines += ["", f"**{plan.stack}** ({len(plan.changed)} resources):", ""]
        lines += [f"- `{address}`: {fix}" for address, fix in plan.changed[:MAX_LISTED]]
        if len(plan.changed) > MAX_LISTED:
            lines.append(f"- ... and {len(plan.changed) - MAX_LISTED} more")
    if all(p.empty and p.error is None for p in plans):
        lines += ["", "No stack would change."]
    return "\n".join(lines)


def unreachable(reason: str) -> str:
    """The section when no plan could be made: one line, not an error."""
    return f"Not run: the target is not reachable ({reason})."
