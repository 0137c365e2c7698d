"""A plan as JSON (for pipelines) and as text (for people). The JSON shape is documented
in :mod:`ndap_infra.changes` and pinned by ``tests/changes/test_changes.py``."""

from __future__ import annotations

import json
from typing import Any

from ndap_infra.changes.classify import sorted_kinds
from ndap_infra.changes.fingerprint import FINGERPRINT_KINDS
from ndap_infra.changes.plan import Plan

PLAN_FORMAT_VERSION = 1


def plan_to_json(plan: Plan) -> dict[str, Any]:
    base, head = plan.base_fingerprint, plan.head_fingerprint
    return {
        "version": PLAN_FORMAT_VERSION,
        "repository": plan.repository,
        "base": plan.base,
        "head": plan.head,
        "base_revision": plan.base_revision,
        "head_revision": plan.head_revision,
        "merge_bases": list(plan.merge_bases),
        "fingerprint": {
            "base": base.digest,
            "head": head.digest,
            "changed": plan.fingerprint_changed,
            "reused_model": plan.reused_model,
            "components": {
                str(kind): {
                    "base": f"sha256:{base.components[kind]}",
                    "head": f"sha256:{head.components[kind]}",
                    "changed": base.components[kind] != head.components[kind],
                }
                for kind in sorted_kinds(FINGERPRINT_KINDS)
            },
            "files": {"base": base.files, "head": head.files},
            "snapshot_ids": {"base": dict(base.snapshot_ids), "head": dict(head.snapshot_ids)},
        },
        "changes": [
            {
                "path": change.path,
                "status": change.status,
                "kinds": [str(kind) for kind in change.kinds],
                "old_path": change.old_path,
                "score": change.score,
            }
            for change in plan.changes
        ],
        "stages": {
            str(stage): {
                "run": decision.run,
                "reasons": list(decision.reasons),
                "paths": list(decision.paths),
            }
            for stage, decision in plan.stages.items()
        },
        "serving": {
            part: {"run": decision.run, "reasons": list(decision.reasons)}
            for part, decision in plan.serving.items()
        },
        "summary": plan.summary,
    }


def plan_to_json_text(plan: Plan) -> str:
    return json.dumps(plan_to_json(plan), indent=2) + "\n"


def plan_to_text(plan: Plan) -> str:
    base, head = plan.base_fingerprint, plan.head_fingerprint
    merge_bases = ", ".join(mb[:12] for mb in plan.merge_bases)
    lines = [
        f"changes {plan.base_revision} ({plan.base[:12]}) ... {plan.head_revision} "
        f"({plan.head[:12]}), merge base {merge_bases}",
        f"model fingerprint: {base.digest} -> {head.digest} "
        f"({'changed' if plan.fingerprint_changed else 'unchanged'})",
        f"changed paths: {len(plan.changes)}",
    ]
    width = max((len(c.label()) for c in plan.changes), default=0)
    for change in plan.changes:
        kinds = ", ".join(change.kinds)
        lines.append(f"  {change.status:<2} {change.label():<{width}}  [{kinds}]")
    lines.append("stages:")
    stage_width = max(len(stage) for stage in plan.stages)
    for stage, decision in plan.stages.items():
        mark = "run " if decision.run else "skip"
        lines.append(f"  {mark} {stage:<{stage_width}}  {decision.reasons[0]}")
        lines.extend(f"       {'':<{stage_width}}  {reason}" for reason in decision.reasons[1:])
    if plan.serving:
        lines.append("serving:")
        for part, decision in plan.serving.items():
            mark = "yes" if decision.run else "no "
            lines.append(f"  {mark} {part:<12}  {'; '.join(decision.reasons)}")
    lines.append(f"summary: {plan.summary}")
    return "\n".join(lines) + "\n"
