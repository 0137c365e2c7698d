"""The emulator process: moto in server mode on a loopback port chosen by the kernel.

Run as ``python -m ndap_infra.emulator.server --ready-file FILE``. Binding port 0 lets the
kernel choose a free port (no race between "find a free port" and "bind it"); the chosen
port is written to ``FILE`` (atomically) once the socket listens, which is what the parent
waits for. SIGTERM or SIGINT stop the server cleanly.

One addition to moto, for adopting existing accounts: moto gives every account it creates
a random id, and cannot invite an existing one. ``POST /_ndap/account-ids`` with a JSON
object ``{email: account id}`` makes the next ``CreateAccount`` for that e-mail create the
account under that id. ``ndap_infra.emulator.seed`` uses it to build what a user adopting
accounts starts from: an organization whose members are the configured account ids.

And the creation-time rules real AWS enforces and moto does not (``strict``): principals
that must exist, policy types that must be enabled, one detector and one hub; the
requests AWS accepts and moto refuses (``accepts``); and no policy enforced while
authorization is off, bucket policies included (``authorization``); and CodeBuild builds
that answer ``BatchGetBuilds`` truthfully, which ``ndap pipeline run`` records as it runs
them (``POST /_ndap/codebuild/build-start`` and ``build-end``; ``builds``). And at most
once per SDK call (``replay``): a retried attempt of a call already answered gets the same
answer, as from AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from ndap_infra.emulator import builds
from ndap_infra.emulator.accepts import install_accepted_requests
from ndap_infra.emulator.authorization import install_bucket_policy_rule
from ndap_infra.emulator.replay import Replay
from ndap_infra.emulator.strict import install_strict_rules

LOOPBACK = "127.0.0.1"


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


ACCOUNT_IDS_PATH = "/_ndap/account-ids"
_account_ids: dict[str, str] = {}
_wanted = threading.local()


def _install_account_ids() -> None:
    """CreateAccount for an e-mail registered through ``ACCOUNT_IDS_PATH`` uses its id."""
    from moto.organizations import models, utils

    random_id = utils.make_random_account_id
    original_init = models.FakeAccount.__init__

    def account_id() -> str:
        wanted = getattr(_wanted, "id", None)
        return wanted if wanted is not None else random_id()

    def init(self: Any, organization: Any, **kwargs: Any) -> None:
        _wanted.id = _account_ids.get(str(kwargs.get("Email", "")))
        try:
            original_init(self, organization, **kwargs)
        finally:
            _wanted.id = None

    utils.make_random_account_id = account_id
    models.FakeAccount.__init__ = init  # type: ignore[method-assign]


def _with_account_ids(app: Any) -> Any:
    """The moto WSGI app, plus the ``ACCOUNT_IDS_PATH`` endpoint and the build records'
    (``builds.PATHS``)."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") in builds.PATHS:
            return builds.handle(environ, start_response)
        if environ.get("PATH_INFO") != ACCOUNT_IDS_PATH:
            return app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
            return [b"POST a JSON object {email: account id}"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            mapping = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if not isinstance(mapping, dict):
                raise ValueError("not an object")
            _account_ids.update({str(k): str(v) for k, v in mapping.items()})
        except ValueError as error:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [f"expected a JSON object {{email: account id}}: {error}".encode()]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(_account_ids, sort_keys=True).encode()]

    return wsgi


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    _install_account_ids()
    install_strict_rules()
    install_bucket_policy_rule()
    install_accepted_requests()
    builds.install_build_records()
    server = make_server(
        LOOPBACK,
        args.port,
        Replay(_with_account_ids(DomainDispatcherApplication(create_backend_app))),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    port = int(server.server_address[1])
    ready = args.ready_file
    tmp = ready.with_name(ready.name + ".tmp")
    tmp.write_text(json.dumps({"port": port, "pid": os.getpid()}))
    tmp.replace(ready)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"ndap emulator (moto) listening on http://{LOOPBACK}:{port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
