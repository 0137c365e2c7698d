"""Change-aware pipelines: what changed between two revisions of an ML project's
repository, and which pipeline stages that change needs.

This answers the model's open question "how a change that touches only code (not the
model) skips retraining and redeploying the model, without ever skipping a change that
does affect it". Pure Python over the real ``git`` executable; no cdktf.

    plan = plan_changes(Path("repo"), "origin/main", "HEAD", project.paths)
    print(plan_to_json_text(plan))

Pieces, each usable alone:

- :mod:`.git` reads ``git diff --name-status -z -M -C`` (A, C, D, M, R, T, and U/X/B
  passed through), trees and blobs;
- :mod:`.globs` and :mod:`.classify` map a path to kinds with the project's
  ``PathRulesConfig`` (git pathspec globs, anchored; a path counts for every kind that
  matches it; no match is ``unclassified``);
- :mod:`.fingerprint` digests what the model is built from at a revision;
- :mod:`.plan` decides the stages (rules in its docstring); :mod:`.render` prints.

JSON plan (``ndap changes --format json``), version 1::

    {
      "version": 1,
      "repository": "path/given",
      "base": "<full commit id>", "head": "<full commit id>",
      "base_revision": "main", "head_revision": "HEAD",        # as given
      "merge_bases": ["<commit id>", ...],                     # the diff starts here
      "fingerprint": {
        "base": "sha256:...", "head": "sha256:...", "changed": true,
        "reused_model": null,                # or the fingerprint of the model reused
        "components": {"training": {"base": "sha256:...", "head": "sha256:...",
                                    "changed": false}, ...},   # one per model kind
        "files": {"base": 12, "head": 13},
        "snapshot_ids": {"base": {"data.yaml": "2024-05"}, "head": {...}}
      },
      "changes": [
        {"path": "features/a.py", "status": "M", "kinds": ["features"],
         "old_path": null, "score": null},
        {"path": "src/new.py", "status": "R", "kinds": ["training", "unclassified"],
         "old_path": "src/training/old.py", "score": 100}
      ],
      "stages": {
        "unit_tests": {"run": true, "reasons": ["features changed: features/a.py"],
                       "paths": ["features/a.py"]},
        "integration_tests": {...}, "feature_pipeline": {...}, "retrain": {...},
        "register_model": {...}, "redeploy_serving": {...}, "deploy_orchestration": {...}
      },
      "summary": "1 changed paths (features 1); run: ...; skip: ..."
    }

Stages appear in that order, always all seven. ``kinds`` of a rename is the union of its
old and new path's kinds (so it may hold ``unclassified`` beside a rule kind; a single path
never does).
"""

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
