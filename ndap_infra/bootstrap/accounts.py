"""Record the ids of the accounts the organization stack created in the configuration.

``ndap deploy`` creates pending accounts in phase 1 (``ndap_infra.config.accounts``), reads their
ids back and records them here, in place: the file is edited as a round-trip document
(comments, key order, quoting and layout kept, as ``ndap add-project`` does), each id is
written just before the account's e-mail, the whole result is validated with the ordinary
loader, and only then is the file replaced (temporary file + rename).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ndap_infra.bootstrap.files import BootstrapError, replace_file
from ndap_infra.bootstrap.project import _writer
from ndap_infra.config.accounts import SECURITY_ACCOUNT_KEYS
from ndap_infra.config.enums import TOOLING
from ndap_infra.config.load import plain_data, validate_data
from ndap_infra.config.model import NdapConfig


@dataclass(frozen=True)
class Recorded:
    """What was written: (field, id) pairs, the new text and its configuration."""

    fields: tuple[tuple[str, str], ...]
    text: str
    config: NdapConfig
    layout_kept: bool = True


def _slot(document: CommentedMap, key: str) -> tuple[CommentedMap, str, str]:
    """The mapping that holds ``key``'s id, the id's key and the key it goes before."""
    if key == TOOLING:
        container = document.get("organization")
        field, before = "tooling_account_id", "tooling_email"
    elif key in SECURITY_ACCOUNT_KEYS:
        organization = document.get("organization")
        security = (
            organization.get("security_accounts")
            if isinstance(organization, CommentedMap)
            else None
        )
        container = (
            security.get(SECURITY_ACCOUNT_KEYS[key]) if isinstance(security, CommentedMap) else None
        )
        field, before = "account_id", "email"
    else:
        environments = document.get("environments")
        container = environments.get(key) if isinstance(environments, CommentedMap) else None
        field, before = "account_id", "email"
    if not isinstance(container, CommentedMap):
        raise BootstrapError(f"the configuration has no mapping for the {key} account")
    return container, field, before


def record_account_ids(path: Path, ids: Mapping[str, str], *, write: bool = True) -> Recorded:
    """Write each account's id (key: environment or ``tooling``) into ``path``.

    An id already recorded is left alone when equal; a different one is refused
    (BootstrapError), as is a result that would not validate. Nothing is written then."""
    original = path.read_text(encoding="utf-8")
    yaml, layout_kept = _writer(original)
    document: Any = yaml.load(original)
    if not isinstance(document, CommentedMap):
        raise BootstrapError(f"{path} is not a YAML mapping at top level")
    written: list[tuple[str, str]] = []
    for key, account_id in ids.items():
        container, field, before = _slot(document, key)
        if key == TOOLING:
            dotted = f"organization.{field}"
        elif key in SECURITY_ACCOUNT_KEYS:
            dotted = f"organization.security_accounts.{SECURITY_ACCOUNT_KEYS[key]}.{field}"
        else:
            dotted = f"environments.{key}.{field}"
        if field in container:
            if str(container[field]) != account_id:
                raise BootstrapError(
                    f"{path}: {dotted} is already {str(container[field])!r}, but the "
                    f"organization stack created the {key} account as {account_id!r}: "
                    "check which is right and correct the file by hand"
                )
            continue
        keys = list(container.keys())
        position = keys.index(before) if before in keys else len(keys)
        container.insert(position, field, DoubleQuotedScalarString(account_id))
        # Comment lines above the e-mail belong above the account now: ruamel keeps them
        # either with the key before (then they stay above the new id) or, after a flow
        # value, as the e-mail's own leading comment (moved here to the new id).
        leading = container.ca.items.get(before)
        if leading is not None and leading[1]:
            container.ca.items[field] = [None, leading[1], None, None]
            leading[1] = None
        written.append((dotted, account_id))
    out = StringIO()
    yaml.dump(document, out)
    text = out.getvalue()
    config, issues = validate_data(plain_data(YAML(typ="rt").load(text)))
    if issues or config is None:
        raise BootstrapError(
            f"{path} with the created accounts' ids would not validate; it is unchanged:\n"
            + "\n".join(f"  - {issue.render()}" for issue in issues)
        )
    if written and write:
        replace_file(path, text)
    return Recorded(tuple(written), text, config, layout_kept)
