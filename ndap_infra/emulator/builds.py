"""CodeBuild builds on the emulator that answer ``BatchGetBuilds`` truthfully, for the
builds ``ndap pipeline run`` runs (docs/emulator-gaps.md, "Builds: what ndap pipeline run
met").

The projects' CodeBuild projects are not created on the emulator (their source is a git
connection moto lacks), and moto runs no build: its ``BatchGetBuilds`` reports every build
it is asked about as ``SUCCEEDED`` (it completes the build on read), without
``resolvedSourceVersion``. acc's register step checks the deploy build it is handed with
exactly those fields (project, commit, status, ARN), so on moto that check would pass for
any build, or fail for want of one. Here:

- ``POST /_ndap/codebuild/build-start`` with ``{"account", "region", "project",
  "sourceVersion", "serviceRole", "initiator"}`` records a build of ``project`` as
  CodeBuild records the build it starts (a new ``<project>:<uuid>`` id, its ARN, the role
  it runs as, ``IN_PROGRESS``); a full commit id as ``sourceVersion`` is its
  ``resolvedSourceVersion`` (what CodeBuild reports once it fetched the source). The
  runner, which runs the build, records it so: nothing else uses it, and the generated
  buildspecs never call it;
- ``POST /_ndap/codebuild/build-end`` with ``{"account", "region", "id", "status"}`` records
  how the build ended (``SUCCEEDED``, ``FAILED`` or ``STOPPED``), as CodeBuild would;
- ``BatchGetBuilds`` answers each build as it was recorded (no build succeeds by being
  read), and ``StartBuild`` with a full commit id records it as ``resolvedSourceVersion``.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
import urllib.request
from typing import Any

BUILD_START_PATH = "/_ndap/codebuild/build-start"
BUILD_END_PATH = "/_ndap/codebuild/build-end"
PATHS = (BUILD_START_PATH, BUILD_END_PATH)
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


def record_start(
    account: str, region: str, project: str, source_version: str, service_role: str, initiator: str
) -> dict[str, Any]:
    """Record a build of ``project`` started at ``source_version``, running as
    ``service_role``; returns the build as BatchGetBuilds will answer it."""
    from moto.codebuild.models import CodeBuildProjectMetadata, codebuild_backends
    from moto.moto_api._internal import mock_random

    if not project or not service_role.startswith("arn:"):
        raise BuildRecordError("a build needs a project and the ARN of the role it runs as")
    backend = codebuild_backends[account][region]
    build_id = f"{project}:{mock_random.uuid4()}"
    record = CodeBuildProjectMetadata(
        account, region, project, source_version, None, build_id, service_role
    ).build_metadata
    if COMMIT.match(source_version):
        record["resolvedSourceVersion"] = source_version
    record["initiator"] = initiator
    backend.build_history.setdefault(project, []).append(build_id)
    backend.build_metadata_history[project].append(record)
    return dict(record)


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


def handle(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The ``BUILD_START_PATH`` and ``BUILD_END_PATH`` endpoints of the emulator server."""
    if environ.get("REQUEST_METHOD") != "POST":
        start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
        return [b"POST a JSON object"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        if not isinstance(body, dict):
            raise BuildRecordError("not a JSON object")
        field = {k: str(v) for k, v in body.items()}
        account, region = field.get("account", ""), field.get("region", "")
        if environ.get("PATH_INFO") == BUILD_START_PATH:
            build = record_start(
                account,
                region,
                field.get("project", ""),
                field.get("sourceVersion", ""),
                field.get("serviceRole", ""),
                field.get("initiator", ""),
            )
        else:
            build = record_end(account, region, field.get("id", ""), field.get("status", ""))
    except (ValueError, KeyError) as error:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [str(error).encode()]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(build, default=str).encode()]


def _post(endpoint: str, path: str, body: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(
        endpoint + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        answered: dict[str, Any] = json.loads(answer.read())
    return answered


def start_build(
    endpoint: str,
    account: str,
    region: str,
    project: str,
    commit: str,
    service_role: str,
    initiator: str,
) -> dict[str, Any]:
    """Record on the emulator at ``endpoint`` a build of ``project`` at ``commit`` running
    as ``service_role``; returns it (``id``, ``arn``...)."""
    body = {"account": account, "region": region, "project": project}
    body |= {"sourceVersion": commit, "serviceRole": service_role, "initiator": initiator}
    return _post(endpoint, BUILD_START_PATH, body)


def end_build(endpoint: str, account: str, region: str, build_id: str, status: str) -> None:
    """Tell the emulator at ``endpoint`` how the build ``build_id`` ended."""
    body = {"account": account, "region": region, "id": build_id, "status": status}
    _post(endpoint, BUILD_END_PATH, body)
