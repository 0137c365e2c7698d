"""Saved plans: what a plan of one stack would do, read from ``terraform show -json``, and
the manifest that ties a directory of saved plans to the configuration and stacks they were
made from (``ndap deploy --plan-only`` writes it, ``--apply-plans`` checks it).

The counts follow Terraform's own ``Plan: N to add, N to change, N to destroy`` (a replace
counts once as an add and once as a destroy); the addresses destroyed or replaced are named
first, because they are what a reviewer must not miss. See docs/commands.md (deploy).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLANS_DIR = "plans"
MANIFEST_FILE = "manifest.json"
SUMMARY_FILE = "plan-summary.txt"
PLAN_SUFFIX = ".tfplan"
SHOWN_ADDRESSES = 20
"""At most this many destroyed or replaced addresses are printed per stack (all are in the
summary file)."""


def plan_file(directory: Path, stack: str) -> Path:
    return directory / f"{stack}{PLAN_SUFFIX}"


@dataclass(frozen=True)
class PlanSummary:
    """What applying one stack's saved plan would do."""

    stack: str
    add: int = 0
    change: int = 0
    destroy: int = 0
    destroyed: tuple[str, ...] = field(default=())
    replaced: tuple[str, ...] = field(default=())
    outputs_changed: int = 0
    imported: int = 0
    forgotten: tuple[str, ...] = field(default=())
    """Removed from the state only (a ``removed`` block): the real resource stays."""

    @property
    def empty(self) -> bool:
        return (
            not (self.add or self.change or self.destroy or self.outputs_changed or self.imported)
            and not self.forgotten
        )

    def counts(self) -> str:
        """Terraform's own ``Plan:`` line, without the word."""
        if self.empty:
            return "no changes"
        text = f"{self.add} to add, {self.change} to change, {self.destroy} to destroy"
        if self.imported:
            text = f"{self.imported} to import, {text}"
        if self.forgotten:
            text += f", {len(self.forgotten)} to forget"
        if self.outputs_changed and not (self.add or self.change or self.destroy):
            text += f" ({self.outputs_changed} output(s) change)"
        return text

    def lines(self, *, limit: int | None = SHOWN_ADDRESSES) -> list[str]:
        """The stack's summary: the counts, then every address destroyed or replaced."""
        lines = [f"{self.stack}: {self.counts()}"]
        for verb, addresses in (("DESTROY", self.destroyed), ("REPLACE", self.replaced)):
            shown = addresses if limit is None else addresses[:limit]
            lines += [f"    {verb} {address}" for address in shown]
            if len(addresses) > len(shown):
                lines.append(f"    ... and {len(addresses) - len(shown)} more to {verb.lower()}")
        return lines


def summarize(stack: str, document: Mapping[str, Any]) -> PlanSummary:
    """The summary of a plan from its ``terraform show -json`` document."""
    add = change = destroy = 0
    destroyed: list[str] = []
    replaced: list[str] = []
    forgotten: list[str] = []
    imported = 0
    for resource in document.get("resource_changes", []):
        if resource.get("mode", "managed") != "managed":
            continue
        actions = list(resource.get("change", {}).get("actions", []))
        address = str(resource.get("address", "?"))
        if resource.get("change", {}).get("importing"):
            imported += 1
        if "create" in actions and "delete" in actions:
            add, destroy = add + 1, destroy + 1
            replaced.append(address)
        elif actions == ["create"]:
            add += 1
        elif actions == ["delete"]:
            destroy += 1
            destroyed.append(address)
        elif actions == ["update"]:
            change += 1
        elif actions == ["forget"]:
            forgotten.append(address)
    outputs = sum(
        1
        for change_ in document.get("output_changes", {}).values()
        if list(change_.get("actions", [])) not in (["no-op"], [])
    )
    return PlanSummary(
        stack, add, change, destroy, tuple(destroyed), tuple(replaced),
        outputs_changed=outputs, imported=imported, forgotten=tuple(forgotten),
    )  # fmt: skip


def render_summaries(summaries: Sequence[PlanSummary], *, limit: int | None = None) -> str:
    """The reviewable text of several stacks' plans (the summary file of --plan-only)."""
    lines: list[str] = []
    total = [sum(getattr(s, n) for s in summaries) for n in ("add", "change", "destroy")]
    lines.append(
        f"{len(summaries)} stack(s): {total[0]} to add, {total[1]} to change, {total[2]} to destroy"
    )
    for summary in summaries:
        lines += summary.lines(limit=limit)
    return "\n".join(lines) + "\n"


# -- the manifest of a directory of saved plans ------------------------------------------


class PlansRefused(ValueError):
    """Saved plans that do not belong to this configuration or stack set."""


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def stack_fingerprints(documents: Mapping[str, Any], stacks: Sequence[str]) -> dict[str, str]:
    """A hash of each selected stack's synthesized JSON (what its plan was made from)."""
    return {s: fingerprint(json.dumps(documents[s], sort_keys=True)) for s in stacks}


def write_manifest(
    directory: Path,
    configuration: str,
    stacks: Mapping[str, str],
    target: str,
    summaries: Mapping[str, list[str]],
) -> Path:
    """What the saved plans in ``directory`` were made from, and their summaries."""
    path = directory / MANIFEST_FILE
    body = {
        "configuration": configuration,
        "target": target,
        "stacks": dict(stacks),
        "summaries": dict(summaries),
    }
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
    return path


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise PlansRefused(
            f"{path} is missing: {directory} holds no plans written by `ndap deploy --plan-only`"
        )
    try:
        body = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise PlansRefused(f"{path} is not JSON ({error})") from None
    if not isinstance(body, dict):
        raise PlansRefused(f"{path} is not a manifest of saved plans")
    return body


def check_manifest(
    directory: Path, configuration: str, stacks: Mapping[str, str], target: str
) -> list[str]:
    """The stacks whose saved plans may be applied, in ``stacks``' order; raises
    ``PlansRefused`` naming why when the plans were made from another configuration, another
    target, other stacks, or other synthesized stacks."""
    saved = read_manifest(directory)
    if saved.get("configuration") != configuration:
        raise PlansRefused(
            f"the plans in {directory} were made from another configuration: plan again with "
            "`ndap deploy --plan-only` and this configuration"
        )
    if saved.get("target") != target:
        raise PlansRefused(
            f"the plans in {directory} were made for deploy.target {saved.get('target')}, "
            f"not {target}"
        )
    planned: dict[str, str] = saved.get("stacks", {})
    if set(planned) != set(stacks):
        raise PlansRefused(
            f"the plans in {directory} are for the stacks {', '.join(sorted(planned))}, not "
            f"{', '.join(sorted(stacks))}: select the same stacks (--stacks) as when planning"
        )
    changed = [s for s in stacks if planned[s] != stacks[s]]
    if changed:
        raise PlansRefused(
            f"the synthesized {', '.join(changed)} differ from what was planned in "
            f"{directory}: plan again with `ndap deploy --plan-only`"
        )
    missing = [s for s in stacks if not plan_file(directory, s).is_file()]
    if missing:
        raise PlansRefused(f"no saved plan for {', '.join(missing)} in {directory}")
    return list(stacks)
