"""`python -m ndap_infra` is the `ndap` command."""

from ndap_infra.cli import main

main()
