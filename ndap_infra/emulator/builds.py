"""CodeBuild builds on the emulator that answer ``BatchGetBuilds`` truthfully, for the
builds ``ndap pipeline run`` runs (docs/emulator-gaps.md, "Builds run by ndap pipeline
run").

moto records a build on ``StartBuild`` but runs nothing, and its ``BatchGetBuilds``
reports every build it is asked about as ``SUCCEEDED`` (it completes the build on read),
without ``resolvedSourceVersion``. acc's register step checks the deploy build it is
handed with exactly those fields (project, commit, status), so on moto that check would
pass for any build, or fail for want of the commit. Here:

- ``StartBuild`` with a full commit id as ``sourceVersion`` records it as
  ``resolvedSourceVersion`` (what CodeBuild reports once it fetched the source: moto
  fetches none, so only a commit id given as such is recorded);
- ``BatchGetBuilds`` answers each build as it was recorded: ``IN_PROGRESS`` until its end
  is recorded, then its status (no build succeeds by being read);
- ``POST /_ndap/codebuild/build-end`` with ``{"account", "region", "id", "status"}`` records
  the end of a build (``SUCCEEDED``, ``FAILED`` or ``STOPPED``): the runner, which ran the
  build, says how it ended, as CodeBuild itself would. Nothing else uses it; the
  generated buildspecs never call it.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
import urllib.request
from typing import Any

BUILD_END_PATH = "/_ndap/codebuild/build-end"
COMMIT = re.compile(r"^[0-9a-f]{40}$")
END_STATUSES = ("SUCCEEDED", "FAILED", "STOPPED")


class BuildRecordError(ValueError):
    """The build end cannot be recorded; the message says why."""


def install_build_records() -> None:
    """Install the two CodeBuild adaptations (idempotent)."""
    from moto.codebuild.models import CodeBuildBackend

    original_start = CodeBuildBackend.start_build
    if getattr(original_start, "_ndap_builds", False):
        return

    @functools.wraps(original_start)
    def start_build(
        self: Any, project_name: str, source_version: str | None = None, *args: Any
    ) -> Any:
        metadata = original_start(self, project_name, source_version, *args)
        if source_version is not None and COMMIT.match(source_version):
            metadata["resolvedSourceVersion"] = source_version
        return metadata

    def batch_get_builds(self: Any, ids: list[str]) -> list[dict[str, Any]]:
        wanted = set(ids)
        return [
            build
            for history in self.build_metadata_history.values()
            for build in history
            if build["id"] in wanted
        ]

    start_build._ndap_builds = True  # type: ignore[attr-defined]
    CodeBuildBackend.start_build = start_build  # type: ignore[method-assign,assignment]
    CodeBuildBackend.batch_get_builds = batch_get_builds  # type: ignore[method-assign]


def record_end(account: str, region: str, build_id: str, status: str) -> dict[str, Any]:
    """Record how the build ``build_id`` ended; returns the build as BatchGetBuilds will."""
    from moto.codebuild.models import codebuild_backends

    if status not in END_STATUSES:
        raise BuildRecordError(f"status must be one of {', '.join(END_STATUSES)}, not {status!r}")
    backend = codebuild_backends[account][region]
    for history in backend.build_metadata_history.values():
        for build in history:
            if build["id"] != build_id:
                continue
            if build.get("buildComplete"):
                ended = build["buildStatus"]
                raise BuildRecordError(f"build {build_id} has ended already ({ended})")
            now = datetime.datetime.now(datetime.UTC).isoformat()
            build["phases"] = [
                *[p for p in build.get("phases", []) if p.get("phaseType") == "SUBMITTED"],
                {"phaseType": "COMPLETED", "startTime": now},
            ]
            build.update(
                buildStatus=status, currentPhase="COMPLETED", buildComplete=True, endTime=now
            )
            return dict(build)
    raise BuildRecordError(f"no build {build_id} in account {account}, region {region}")


def handle_build_end(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The ``BUILD_END_PATH`` endpoint of the emulator server."""
    if environ.get("REQUEST_METHOD") != "POST":
        start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
        return [b'POST {"account", "region", "id", "status"}']
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        if not isinstance(body, dict):
            raise BuildRecordError("not a JSON object")
        build = record_end(
            str(body.get("account", "")),
            str(body.get("region", "")),
            str(body.get("id", "")),
            str(body.get("status", "")),
        )
    except (ValueError, KeyError) as error:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [str(error).encode()]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(build, default=str).encode()]


def end_build(endpoint: str, account: str, region: str, build_id: str, status: str) -> None:
    """Tell the emulator at ``endpoint`` how the build ``build_id`` ended."""
    body = json.dumps(
        {"account": account, "region": region, "id": build_id, "status": status}
    ).encode()
    request = urllib.request.Request(
        endpoint + BUILD_END_PATH,
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()
