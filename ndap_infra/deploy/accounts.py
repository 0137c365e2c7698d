"""Read back the ids of the accounts the organization stack created (phase 1).

The organization stack outputs every member account's id (``account-<key>``); after phase
1 is applied, ``terraform output -json`` of that stack gives the ids of the accounts it
has just created, on the emulator and on AWS alike (no Organizations API call, so no
other credentials than Terraform's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from ndap_infra.deploy.runner import StackRun

ACCOUNT_ID = re.compile(r"^\d{12}$")


class AccountIdsMissing(RuntimeError):
    pass


def account_output(key: str) -> str:
    """The organization stack's output holding the account ``key``'s id."""
    return f"account-{key}"


def created_account_ids(run: StackRun, keys: Sequence[str]) -> dict[str, str]:
    """The ids of the accounts ``keys`` from the organization stack's outputs."""
    completed = run.terraform(["output", "-json", "-no-color"], "output")
    if completed.returncode != 0:
        raise AccountIdsMissing(
            f"terraform output of {run.stack} failed (log {run.log('output')}): "
            + (completed.stderr or completed.stdout).strip()[-2000:]
        )
    try:
        outputs = json.loads(completed.stdout or "{}")
    except json.JSONDecodeError as error:
        raise AccountIdsMissing(
            f"terraform output of {run.stack} printed no JSON: {error}"
        ) from None
    ids: dict[str, str] = {}
    missing = []
    for key in keys:
        value = outputs.get(account_output(key), {}).get("value")
        if isinstance(value, str) and ACCOUNT_ID.match(value):
            ids[key] = value
        else:
            missing.append(f"{key} ({account_output(key)}: {value!r})")
    if missing:
        raise AccountIdsMissing(
            f"{run.stack} has no account id for {', '.join(missing)} in its outputs"
        )
    return ids
