"""The model fingerprint of a revision: what the model is built from, as one digest.

Why and how: docs/design-notes.md, section ndap_infra/changes/fingerprint.py."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ndap_infra.changes.classify import MODEL_KINDS, Kind, PathRules, sorted_kinds
from ndap_infra.changes.git import Repository, TreeEntry

FINGERPRINT_VERSION = "ndap-model-fingerprint/1"
PARAMS_STEMS = frozenset({"params", "parameters", "hyperparameters"})
STRUCTURED_SUFFIXES = frozenset({".yaml", ".yml", ".json"})


FINGERPRINT_KINDS = MODEL_KINDS - {Kind.EVERYTHING}
"""The fingerprint's components: a file a rule says can change everything is recorded
with the unclassified ones (so naming such files in ``everything`` changes no digest)."""

DEPLOYED_KINDS = frozenset({Kind.SERVING, Kind.PREDICTION_ORCHESTRATION})
"""Deployed without being model inputs: digested beside the fingerprint (not in it), so a
head that lacks base's change to them still redeploys them."""


SELECTED_KINDS = MODEL_KINDS | DEPLOYED_KINDS


def _recorded_kinds(kinds: frozenset[Kind]) -> frozenset[Kind]:
    return frozenset(Kind.UNCLASSIFIED if k is Kind.EVERYTHING else k for k in kinds)


@dataclass(frozen=True)
class Fingerprint:
    """The model fingerprint of one commit and what went into it."""

    commit: str
    digest: str
    components: Mapping[Kind, str]
    files: int
    snapshot_ids: Mapping[str, str]
    hyperparameters: Mapping[str, str]
    """Flattened ``path:key.sub`` -> canonical JSON value."""
    deployed: Mapping[Kind, str] = field(default_factory=dict)
    """A digest of the files of each of ``DEPLOYED_KINDS`` (not part of ``digest``)."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _load_structured(path: str, content: bytes) -> Any:
    """Parse a YAML, JSON or DVC file; None if it is not readable as such."""
    try:
        text = content.decode("utf-8")
        if path.endswith(".json"):
            return json.loads(text)
        return YAML(typ="safe", pure=True).load(text)
    except (UnicodeDecodeError, ValueError, YAMLError):
        return None


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _flatten(prefix: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, into)
    else:
        into[prefix] = _canonical(value)


def snapshot_id(path: str, document: Any) -> str | None:
    """The data snapshot a data_config file pins, if it names one."""
    if path.endswith(".dvc") and isinstance(document, Mapping):
        outs = document.get("outs")
        if isinstance(outs, list):
            ids = [f"md5:{out['md5']}" for out in outs if isinstance(out, Mapping) and "md5" in out]
            return ",".join(ids) or None
        return None
    if isinstance(document, Mapping) and "snapshot_id" in document:
        return str(document["snapshot_id"])
    return None


def _is_params_file(path: str) -> bool:
    pure = PurePosixPath(path)
    return pure.stem in PARAMS_STEMS and pure.suffix in STRUCTURED_SUFFIXES


def _reads_structure(path: str) -> bool:
    return PurePosixPath(path).suffix in STRUCTURED_SUFFIXES | {".dvc"}


class Fingerprinter:
    """Computes fingerprints of several commits of one repository, reading each distinct
    blob once."""

    def __init__(self, repository: Repository, rules: PathRules) -> None:
        self.repository = repository
        self.rules = rules
        self._content_digests: dict[str, str] = {}
        self._cache: dict[str, Fingerprint] = {}

    def of(self, commit: str) -> Fingerprint:
        if commit not in self._cache:
            self._cache[commit] = self._compute(commit)
        return self._cache[commit]

    def _compute(self, commit: str) -> Fingerprint:
        selected: list[tuple[TreeEntry, frozenset[Kind]]] = []
        for entry in self.repository.tree(commit):
            kinds = _recorded_kinds(
                self.rules.classify(entry.path) & (MODEL_KINDS | DEPLOYED_KINDS)
            )
            if kinds:
                selected.append((entry, kinds))

        def is_structured(entry: TreeEntry, kinds: frozenset[Kind]) -> bool:
            return (
                Kind.DATA_CONFIG in kinds and entry.type == "blob" and _reads_structure(entry.path)
            )

        structured = {entry.object for entry, kinds in selected if is_structured(entry, kinds)}
        wanted = [
            entry.object
            for entry, _ in selected
            if entry.type == "blob"
            and (entry.object not in self._content_digests or entry.object in structured)
        ]
        contents: dict[str, bytes] = {}
        for object_id, content in self.repository.read_blobs(dict.fromkeys(wanted)):
            self._content_digests[object_id] = _sha256(content)
            if object_id in structured:
                contents[object_id] = content

        records: dict[Kind, list[bytes]] = {
            kind: [] for kind in sorted_kinds(FINGERPRINT_KINDS | DEPLOYED_KINDS)
        }
        snapshots: dict[str, str] = {}
        hyperparameters: dict[str, str] = {}
        for entry, kinds in sorted(selected, key=lambda item: item[0].path):
            digest = self._content_digests[entry.object] if entry.type == "blob" else entry.object
            record = b"\0".join(
                part.encode("utf-8", "surrogateescape")
                for part in (entry.mode, entry.type, digest, entry.path)
            )
            for kind in kinds:
                records[kind].append(record)
            if not is_structured(entry, kinds):
                continue
            document = _load_structured(entry.path, contents[entry.object])
            snapshot = snapshot_id(entry.path, document)
            if snapshot is not None:
                snapshots[entry.path] = snapshot
            if _is_params_file(entry.path) and document is not None:
                flat: dict[str, str] = {}
                _flatten("", document, flat)
                hyperparameters.update({f"{entry.path}:{k}": v for k, v in flat.items()})

        digests = {
            kind: _sha256(b"\0\0".join([FINGERPRINT_VERSION.encode(), kind.encode(), *items]))
            for kind, items in records.items()
        }
        components = {k: d for k, d in digests.items() if k in FINGERPRINT_KINDS}
        model_files = sum(1 for _, kinds in selected if kinds & FINGERPRINT_KINDS)
        whole = hashlib.sha256(FINGERPRINT_VERSION.encode() + b"\n")
        for kind, component in components.items():
            whole.update(f"component {kind} {component}\n".encode())
        whole.update(f"snapshots {_canonical(snapshots)}\n".encode())
        whole.update(f"hyperparameters {_canonical(hyperparameters)}\n".encode())
        return Fingerprint(
            commit=commit,
            digest=f"sha256:{whole.hexdigest()}",
            components=components,
            files=model_files,
            snapshot_ids=snapshots,
            hyperparameters=hyperparameters,
            deployed={k: d for k, d in digests.items() if k in DEPLOYED_KINDS},
        )
