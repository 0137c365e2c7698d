"""Drift: what a deployed stack differs in from the code, read from a no-change plan.

Why and how: docs/design-notes.md, section ndap_infra/deploy/drift.py."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ndap_infra.deploy.runner import StackRun, plan_document
from ndap_infra.terraform.plans import fix_of

MAX_VALUE_TEXT = 120


class DifferenceKind(StrEnum):
    CHANGED = "changed"
    DELETED = "deleted"
    NOT_APPLIED = "not applied"


@dataclass(frozen=True)
class AttributeChange:
    """One attribute (dotted path; list items by index) and its two values."""

    path: str
    before: Any
    after: Any
    sensitive: bool = False

    def render(self) -> str:
        if self.sensitive:
            return f"{self.path}: (sensitive value changed)"
        return f"{self.path}: was {_show(self.before)}, now {_show(self.after)}"


@dataclass(frozen=True)
class ResourceDifference:
    address: str
    resource_type: str
    kind: DifferenceKind
    fix: str | None
    attributes: tuple[AttributeChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.resource_type,
            "kind": self.kind.value,
            "fix": self.fix,
            "attributes": [
                {
                    "path": a.path,
                    "before": None if a.sensitive else a.before,
                    "after": None if a.sensitive else a.after,
                    "sensitive": a.sensitive,
                }
                for a in self.attributes
            ],
        }


@dataclass(frozen=True)
class StackDrift:
    """The differences of one stack; ``error`` when its plan could not be made."""

    stack: str
    differences: tuple[ResourceDifference, ...] = ()
    notes: tuple[ResourceDifference, ...] = field(default=())
    error: str | None = None
    seconds: float = 0.0
    nothing_deployed: bool = False

    @property
    def drifted(self) -> bool:
        return bool(self.differences)

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        if self.nothing_deployed:
            return "not deployed"
        return "drift" if self.drifted else "in sync"

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "status": self.status,
            "error": self.error,
            "differences": [d.to_json() for d in self.differences],
            "notes": [d.to_json() for d in self.notes],
            "seconds": round(self.seconds, 1),
        }


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= MAX_VALUE_TEXT else text[: MAX_VALUE_TEXT - 3] + "..."


def _blank(value: Any) -> bool:
    return value is None or value == {} or value == [] or value == ""


def _same(first: Any, second: Any) -> bool:
    return first == second or (_blank(first) and _blank(second))


def _is_sensitive(mask: Any) -> bool:
    return mask is True


def _mask_at(mask: Any, key: str | int) -> Any:
    if isinstance(mask, Mapping) and isinstance(key, str):
        return mask.get(key, False)
    if isinstance(mask, list) and isinstance(key, int) and key < len(mask):
        return mask[key]
    return False


def _join(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def attribute_changes(
    before: Any, after: Any, *, sensitive: Any = False, prefix: str = ""
) -> Iterator[AttributeChange]:
    """The leaves that differ between two resource objects, deepest path first reached.
    Maps are compared key by key and lists item by item when both sides have the same
    length; otherwise the whole value is one change. A value marked sensitive (in either
    side's mask) is reported without its value."""
    if _blank(before) and _blank(after):
        return  # the provider reads an unset block or map back as empty, or the reverse
    if _is_sensitive(sensitive):
        if before != after:
            yield AttributeChange(prefix or "(object)", None, None, sensitive=True)
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after)):
            if _same(before.get(key), after.get(key)):
                continue
            yield from attribute_changes(
                before.get(key),
                after.get(key),
                sensitive=_mask_at(sensitive, key),
                prefix=_join(prefix, key),
            )
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            if not _same(old, new):
                yield from attribute_changes(
                    old, new, sensitive=_mask_at(sensitive, index), prefix=_join(prefix, index)
                )
        return
    if before != after:
        yield AttributeChange(prefix or "(object)", before, after)


def _merge_masks(first: Any, second: Any) -> Any:
    """A value is sensitive when either side says so."""
    if first is True or second is True:
        return True
    if isinstance(first, Mapping) or isinstance(second, Mapping):
        a = first if isinstance(first, Mapping) else {}
        b = second if isinstance(second, Mapping) else {}
        return {k: _merge_masks(a.get(k, False), b.get(k, False)) for k in set(a) | set(b)}
    if isinstance(first, list) or isinstance(second, list):
        a_list = first if isinstance(first, list) else []
        b_list = second if isinstance(second, list) else []
        length = max(len(a_list), len(b_list))
        return [
            _merge_masks(
                a_list[i] if i < len(a_list) else False, b_list[i] if i < len(b_list) else False
            )
            for i in range(length)
        ]
    return False


def _overlaps(first: str, second: str) -> bool:
    """One path is the other, or inside it."""
    shorter, longer = sorted((first, second), key=len)
    return longer == shorter or longer.startswith((shorter + ".", shorter + "["))


def _that_the_fix_touches(
    drifted: tuple[AttributeChange, ...], planned: Mapping[str, Any] | None
) -> tuple[AttributeChange, ...]:
    """The drifted attributes that the planned change sets back. A refresh also reads back
    attributes other resources manage (a role's ``inline_policy``, which its
    ``aws_iam_role_policy`` sets; a bucket's ``policy``): those differ from the state
    without being drift. When the plan names none of them, all are shown."""
    if planned is None:
        return drifted
    change = planned.get("change", {})
    fixed = [a.path for a in attribute_changes(change.get("before"), change.get("after"))]
    touched = tuple(a for a in drifted if any(_overlaps(a.path, path) for path in fixed))
    return touched or drifted


def _top(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def _managed(entries: Any) -> list[Mapping[str, Any]]:
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, Mapping) and e.get("mode", "managed") == "managed"]


class PlanFormatError(ValueError):
    """The document is not a Terraform JSON plan."""


def differences(stack: str, plan: Mapping[str, Any]) -> StackDrift:
    """The differences between the code and the target in one stack's JSON plan."""
    if "format_version" not in plan:
        raise PlanFormatError(
            f"{stack}: not a Terraform JSON plan (no format_version): expected the output "
            "of `terraform show -json <planfile>`"
        )
    planned = {
        str(entry["address"]): entry
        for entry in _managed(plan.get("resource_changes"))
        if "address" in entry
    }
    found: list[ResourceDifference] = []
    notes: list[ResourceDifference] = []
    drifted: set[str] = set()
    for entry in _managed(plan.get("resource_drift")):
        address = str(entry.get("address", "?"))
        drifted.add(address)
        change = entry.get("change", {})
        after = change.get("after")
        fix = fix_of(planned.get(address, {}).get("change", {}).get("actions", []))
        if after is None:
            kind = DifferenceKind.DELETED
            attributes: tuple[AttributeChange, ...] = ()
        else:
            kind = DifferenceKind.CHANGED
            mask = _merge_masks(change.get("before_sensitive"), change.get("after_sensitive"))
            drifted_attributes = tuple(
                attribute_changes(change.get("before"), after, sensitive=mask)
            )
            attributes = _that_the_fix_touches(drifted_attributes, planned.get(address))
        difference = ResourceDifference(
            address, str(entry.get("type", address.split(".")[0])), kind, fix, attributes
        )
        (found if fix is not None else notes).append(difference)
    for address, entry in planned.items():
        if address in drifted:
            continue
        fix = fix_of(entry.get("change", {}).get("actions", []))
        if fix is None:
            continue
        change = entry.get("change", {})
        before, after = change.get("before"), change.get("after")
        attributes = ()
        if before is not None and after is not None:
            mask = _merge_masks(change.get("before_sensitive"), change.get("after_sensitive"))
            unknown = change.get("after_unknown") or {}
            attributes = tuple(
                a
                for a in attribute_changes(before, after, sensitive=mask)
                if a.after is not None or not _mask_at(unknown, _top(a.path))
            )
        found.append(
            ResourceDifference(
                address,
                str(entry.get("type", address.split(".")[0])),
                DifferenceKind.NOT_APPLIED,
                fix,
                attributes,
            )
        )
    order = {kind: i for i, kind in enumerate(DifferenceKind)}
    found.sort(key=lambda d: (order[d.kind], d.address))
    notes.sort(key=lambda d: d.address)
    return StackDrift(stack, tuple(found), tuple(notes))


ROLE_OVERRIDE_FILE = "ndap_drift_role_override.tf.json"


def role_override(document: Mapping[str, Any], role_name: str, account_id: str) -> dict[str, Any]:
    """A Terraform override file that makes the stack's AWS providers assume ``role_name``
    (each in the account it reaches: the one its own role names, else ``account_id``)
    instead of the account access role: ``ndap drift --assume-role`` plans with a
    read-only role. Terraform replaces an ``assume_role`` block of a provider with the
    override's for the provider of the same alias; the default provider is always
    overridden, an aliased one when it assumes a role (the organization trail's reader of
    the log-archive account, a baseline's provider of another region)."""
    providers = document.get("provider", {}).get("aws", [])
    blocks: list[dict[str, Any]] = []
    for number, provider in enumerate(providers or [{}]):
        alias = provider.get("alias")
        if alias is not None and not provider.get("assume_role"):
            continue
        current = (provider.get("assume_role") or [{}])[0]
        arn = str(current.get("role_arn", ""))
        account = arn.split(":")[4] if arn.count(":") >= 5 and arn.split(":")[4] else account_id
        block = {"role_arn": f"arn:aws:iam::{account}:role/{role_name}"}
        if "session_name" in current:
            block["session_name"] = str(current["session_name"])
        override: dict[str, Any] = {"assume_role": [block]}
        if alias is not None:
            override = {"alias": alias, **override}
        elif number:
            continue  # a second provider without an alias is not Terraform's
        blocks.append(override)
    return {"provider": {"aws": blocks[0] if len(blocks) == 1 else blocks}}


def detect(run: StackRun, override: Mapping[str, Any] | None = None) -> StackDrift:
    """Plan one deployed stack against its target and read the differences (with
    ``override`` written next to the stack for this plan only)."""
    path = run.directory / ROLE_OVERRIDE_FILE
    if override is not None:
        path.write_text(json.dumps(override, indent=2) + "\n")
    try:
        planned = plan_document(run)
    finally:
        path.unlink(missing_ok=True)
    if planned.error is not None:
        return StackDrift(run.stack, error=planned.error, seconds=planned.seconds)
    if planned.document is None:
        return StackDrift(run.stack, nothing_deployed=True, seconds=planned.seconds)
    try:
        found = differences(run.stack, planned.document)
    except PlanFormatError as error:
        return StackDrift(run.stack, error=str(error), seconds=planned.seconds)
    return StackDrift(run.stack, found.differences, found.notes, seconds=planned.seconds)


# Terraform's words when it cannot reach or authenticate to AWS at all (as opposed to a
# plan that fails on one resource).
UNREACHABLE_SIGNS = (
    "No valid credential sources found",
    "failed to refresh cached credentials",
    "no EC2 IMDS role found",
    "InvalidClientTokenId",
    "ExpiredToken",
    "dial tcp",
    "no such host",
    "connection refused",
)


def unreachable_reason(results: Sequence[StackDrift]) -> str | None:
    """When every stack that was tried failed to reach its target: the first such line."""
    tried = [r for r in results if not r.nothing_deployed]
    signs = [_unreachable_line(r.error or "") for r in tried]
    if not tried or any(sign is None for sign in signs):
        return None
    return f"{tried[0].stack}: {signs[0]}"


def _unreachable_line(error: str) -> str | None:
    for line in error.splitlines():
        if any(sign in line for sign in UNREACHABLE_SIGNS):
            return line.strip()
    return None


# -- rendering --------------------------------------------------------------------------


def summary_line(result: StackDrift) -> str:
    if result.error is not None:
        return f"{result.stack}: could not plan"
    if result.nothing_deployed:
        return f"{result.stack}: not deployed (its state holds no resource): skipped"
    if not result.drifted:
        return f"{result.stack}: in sync"
    counts: dict[str, int] = {}
    for difference in result.differences:
        counts[difference.kind.value] = counts.get(difference.kind.value, 0) + 1
    return f"{result.stack}: DRIFT: " + ", ".join(f"{n} {k}" for k, n in counts.items())


def render_text(results: Sequence[StackDrift]) -> str:
    """Plain text, one block per stack: what differs, which attributes, what would fix it."""
    lines: list[str] = []
    for result in results:
        lines.append(summary_line(result) + f" [{result.seconds:.1f}s]")
        if result.error is not None:
            lines += ["  " + line for line in result.error.splitlines()]
        for difference in result.differences:
            lines.append(
                f"  - {difference.address}: {difference.kind.value}"
                + (
                    " outside Terraform"
                    if difference.kind is not DifferenceKind.NOT_APPLIED
                    else " (the code changed, or it was never created)"
                )
                + f"; terraform apply would {difference.fix}"
            )
            lines += [f"      {a.render()}" for a in difference.attributes]
    drifted = [r.stack for r in results if r.drifted]
    failed = [r.stack for r in results if r.error is not None]
    if drifted:
        lines.append(
            f"drift in {', '.join(drifted)}: `ndap deploy"
            + "".join(f" --stacks {s}" for s in drifted)
            + "` puts the code's values back (or change the code, if the change was wanted)"
        )
    elif not failed:
        lines.append("no drift: every stack matches the code")
    return "\n".join(lines)


def to_json(results: Sequence[StackDrift]) -> dict[str, Any]:
    return {
        "drift": any(r.drifted for r in results),
        "stacks": [r.to_json() for r in results],
    }
