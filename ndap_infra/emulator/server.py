"""The emulator process: moto in server mode on a loopback port chosen by the kernel.

Run as ``python -m ndap_infra.emulator.server --ready-file FILE``. Binding port 0 lets the
kernel choose a free port (no race between "find a free port" and "bind it"); the chosen
port is written to ``FILE`` (atomically) once the socket listens, which is what the parent
waits for. SIGTERM or SIGINT stop the server cleanly.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from types import FrameType

LOOPBACK = "127.0.0.1"


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


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

    server = make_server(
        LOOPBACK,
        args.port,
        DomainDispatcherApplication(create_backend_app),
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
