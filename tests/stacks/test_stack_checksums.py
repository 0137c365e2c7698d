"""Every synthesized stack of the reference platform is byte-identical to the one recorded:
construct ids and stack names are a contract with deployed state, so a refactoring must not
change a byte. A deliberate change updates the record (the failure says how)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from typing import Any

from tests.helpers import FIXTURES

RECORD = FIXTURES / "stack-checksums.json"
UPDATE = "NDAP_UPDATE_STACK_CHECKSUMS"


def checksums(synthesis: Any) -> dict[str, str]:
    return {
        name: hashlib.sha256((path / "cdk.tf.json").read_bytes()).hexdigest()
        for name, path in synthesis.stacks.items()
    }


def test_every_reference_stack_is_byte_identical_to_the_record(reference_synthesis: Any) -> None:
    found = checksums(reference_synthesis)
    if os.environ.get(UPDATE) == "1":
        RECORD.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
    recorded = json.loads(RECORD.read_text())
    changed = sorted(n for n in found.keys() | recorded.keys() if found.get(n) != recorded.get(n))
    assert changed == [], (
        f"synthesized stacks changed: {', '.join(changed)}. If the change is meant (not a "
        f"refactoring), review the diff of the stacks, then run the tests with {UPDATE}=1 "
        f"to record the new checksums in {RECORD.relative_to(FIXTURES.parent.parent)}"
    )


def test_a_changed_byte_is_a_different_checksum(reference_synthesis: Any, tmp_path: Any) -> None:
    """The negative control: one byte more in a stack's JSON is caught."""
    name, path = next(iter(reference_synthesis.stacks.items()))
    copy = tmp_path / name
    copy.mkdir()
    (copy / "cdk.tf.json").write_bytes((path / "cdk.tf.json").read_bytes() + b"\n")
    changed = replace(reference_synthesis, stacks={name: copy})
    assert checksums(changed)[name] != checksums(reference_synthesis)[name]
