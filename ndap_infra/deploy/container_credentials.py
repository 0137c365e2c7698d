"""The build role's credentials, served to a local build the way CodeBuild serves them.

CodeBuild gives a build its service role's credentials through the container credentials
endpoint (``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` on 169.254.170.2); the generated
buildspecs rely on it (their ``deployer`` profile has ``credential_source EcsContainer``).
Locally the same provider is reached with ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` on the
loopback address, which the AWS SDKs and CLI accept, with an authorization token. The
credentials are the emulator's answer to ``sts:AssumeRole`` on the build role. The standard
library's HTTP server is enough for one JSON document on loopback."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ndap_infra.emulator.server import LOOPBACK

PATH = "/ndap/build-role-credentials"


def as_container_document(credentials: dict[str, Any]) -> dict[str, str]:
    """``sts:AssumeRole``'s Credentials as the container endpoint's JSON."""
    expiration = credentials["Expiration"]
    if isinstance(expiration, datetime):
        expiration = expiration.isoformat()
    return {
        "AccessKeyId": str(credentials["AccessKeyId"]),
        "SecretAccessKey": str(credentials["SecretAccessKey"]),
        "Token": str(credentials["SessionToken"]),
        "Expiration": str(expiration),
    }


@contextmanager
def serve(document: dict[str, str]) -> Iterator[dict[str, str]]:
    """Serve ``document`` on loopback while the context lasts; yields the environment
    variables a build needs to find it."""
    token = secrets.token_hex(16)
    body = json.dumps(document).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != PATH or self.headers.get("Authorization") != token:
                self.send_response(403)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://{LOOPBACK}:{server.server_port}{PATH}",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
        }
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
