"""Count the jsii round trips of one synthesis (every request Python sends to the node
runtime and waits for), by kind, and the time spent waiting. Prints JSON; asserts nothing.

    .venv/bin/python bench/jsii_round_trips.py [CONFIG]

Counting wraps ``_NodeProcess.send`` of jsii's process provider: each call is one request
written to the runtime and one answer read back (a callback answered from Python is its
own ``complete`` request)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def count_round_trips(config_path: Path) -> dict[str, Any]:
    """Synthesize ``config_path`` and return the counts (a fresh process per call is best:
    the runtime's start-up requests are counted from the first import)."""
    from jsii._kernel.providers import process
    from jsii._kernel.types import Callback

    kinds: Counter[str] = Counter()
    callbacks: Counter[str] = Counter()
    waited = [0.0]
    send = process._NodeProcess.send

    def counted(self: Any, request: Any, response_type: Any) -> Any:
        name = type(request).__name__.removesuffix("Request").lstrip("_").lower()
        if name == "invoke" or name == "sinvoke":
            name = f"{name} {getattr(request, 'method', '?')}"
        elif name in ("get", "sget", "set", "sset"):
            name = f"{name} {getattr(request, 'property', '?')}"
        kinds[name] += 1
        start = time.perf_counter()
        try:
            response = send(self, request, response_type)
        finally:
            waited[0] += time.perf_counter() - start
        if isinstance(response, Callback):  # node asks Python for something: which?
            asked = response.invoke or response.get or response.set
            member = getattr(asked, "method", None) or getattr(asked, "property", "?")
            callbacks[f"callback {member}"] += 1
        return response

    process._NodeProcess.send = counted  # type: ignore[method-assign]
    try:
        from ndap_infra.config import load_config
        from ndap_infra.stacks.synthesis import synthesize

        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="ndap-jsii-") as tmp:
            synthesis = synthesize(load_config(config_path), Path(tmp) / "out")
            resources = sum(
                len(items)
                for stack in synthesis.stack_json().values()
                for items in stack.get("resource", {}).values()
            )
        seconds = time.perf_counter() - start
    finally:
        process._NodeProcess.send = send  # type: ignore[method-assign]
    total = sum(kinds.values())
    return {
        "resources": resources,
        "round_trips": total,
        "per_resource": total / resources,
        "waiting_s": waited[0],
        "synthesis_s": seconds,
        "top": kinds.most_common(15),
        "callbacks": callbacks.most_common(10),
    }


if __name__ == "__main__":
    config = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples" / "reference.yaml"
    print(json.dumps(count_round_trips(config), indent=1))
