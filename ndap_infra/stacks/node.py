"""The Node.js that synthesis needs, checked before cdktf is imported.

cdktf's Python classes are proxies into a Node.js process (jsii): without ``node`` on the
PATH, ``import cdktf`` fails with an AttributeError deep in jsii, and an old one fails
later, mid-synthesis. This turns both into a message naming what to install."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache

MINIMUM = 20
"""The oldest Node.js major version the pinned cdktf and jsii run on (README)."""


class NodeUnusable(RuntimeError):
    """No Node.js, or one too old, for synthesis (the message says what to do)."""


@cache
def require_node() -> tuple[int, int, int]:
    """The version of the ``node`` jsii will start (``$JSII_NODE``, else ``node`` on the
    PATH); NodeUnusable when it is missing, does not answer, or is older than MINIMUM."""
    wanted = os.environ.get("JSII_NODE", "node")
    found = shutil.which(wanted)
    if found is None:
        raise NodeUnusable(
            f"Node.js was not found ({wanted!r} is not on the PATH): synthesis runs cdktf's "
            f"constructs in Node.js (jsii); install Node.js {MINIMUM} or newer "
            "(https://nodejs.org), or set JSII_NODE to its path"
        )
    result = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)\S*", result.stdout.strip())
    if result.returncode != 0 or match is None:
        raise NodeUnusable(
            f"{found} did not report its version (`node --version`): install Node.js "
            f"{MINIMUM} or newer, or set JSII_NODE to its path"
        )
    major, minor, patch = (int(part) for part in match.groups())
    if major < MINIMUM:
        raise NodeUnusable(
            f"Node.js {major}.{minor}.{patch} at {found} is too old: synthesis (cdktf's "
            f"jsii runtime) needs Node.js {MINIMUM} or newer; install a newer one "
            "(https://nodejs.org), or set JSII_NODE to its path"
        )
    return major, minor, patch
