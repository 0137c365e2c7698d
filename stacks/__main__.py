"""The cdktf app (cdktf.json runs this): `npx cdktf synth` / `npx cdktf deploy`.

The configuration file comes from NDAP_CONFIG (default: examples/reference.yaml). A bad
configuration prints every problem and exits 2 before anything is synthesized.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cdktf import App

from ndap_infra.config import ConfigError, load_config
from ndap_infra.stacks.platform import build_platform

DEFAULT_CONFIG = "examples/reference.yaml"


def main() -> int:
    path = Path(os.environ.get("NDAP_CONFIG", DEFAULT_CONFIG))
    try:
        config = load_config(path)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return 2
    app = App()  # the cdktf CLI passes the output directory through CDKTF_OUTDIR
    build_platform(app, config)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
