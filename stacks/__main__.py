"""The cdktf app of this checkout (cdktf.json runs this): `npx cdktf synth` / `npx cdktf deploy`.

The configuration file comes from NDAP_CONFIG (default: examples/reference.yaml). A
platform repository made by `ndap init --repository` runs ``ndap_infra.stacks.app``
directly, on its platform.yaml.
"""

from __future__ import annotations

import sys

from ndap_infra.stacks.app import main

if __name__ == "__main__":
    sys.exit(main([], default="examples/reference.yaml"))
