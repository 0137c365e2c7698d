"""Change-aware pipelines: what changed between two revisions of an ML project's
repository, and which pipeline stages that change needs.

Why and how: docs/design-notes.md, section ndap_infra/changes/__init__.py."""

from ndap_infra.changes.classify import MODEL_KINDS, Kind, PathRules
from ndap_infra.changes.fingerprint import Fingerprint, Fingerprinter
from ndap_infra.changes.git import ChangesError, DiffEntry, Repository, parse_name_status_z
from ndap_infra.changes.plan import (
    Change,
    Decision,
    Plan,
    Stage,
    classify_changes,
    decide,
    plan_changes,
)
from ndap_infra.changes.render import plan_to_json, plan_to_json_text, plan_to_text
from ndap_infra.config.globs import GlobError, compile_glob

__all__ = [
    "MODEL_KINDS",
    "Change",
    "ChangesError",
    "Decision",
    "DiffEntry",
    "Fingerprint",
    "Fingerprinter",
    "GlobError",
    "Kind",
    "PathRules",
    "Plan",
    "Repository",
    "Stage",
    "classify_changes",
    "compile_glob",
    "decide",
    "parse_name_status_z",
    "plan_changes",
    "plan_to_json",
    "plan_to_json_text",
    "plan_to_text",
]
