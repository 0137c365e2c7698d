"""The cdktf app of a platform repository (its cdktf.json runs
``python -m ndap_infra.stacks.app --config platform.yaml``): `npx cdktf synth` and
`npx cdktf deploy` with the pinned ndap, no checkout of ndap needed.

The configuration: ``--config``, else NDAP_CONFIG, else ``platform.yaml``. A bad
configuration prints every problem and exits 2 before anything is synthesized.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cdktf import App

from ndap_infra.config import ConfigError, load_config
from ndap_infra.stacks.platform import build_platform

DEFAULT_CONFIG = "platform.yaml"


def main(argv: Sequence[str] | None = None, default: str = DEFAULT_CONFIG) -> int:
    parser = argparse.ArgumentParser(prog="python -m ndap_infra.stacks.app")
    parser.add_argument("--config", default=os.environ.get("NDAP_CONFIG", default))
    path = Path(parser.parse_args(argv).config)
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
