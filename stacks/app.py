"""Synthesize the whole platform in one process."""

from __future__ import annotations

from pathlib import Path

from cdktf import App

from ndap_infra.config.model import NdapConfig
from stacks.platform import build_platform


def synthesize_platform(config: NdapConfig, outdir: Path) -> list[str]:
    """Synthesize every stack into ``outdir`` (cdktf's layout: stacks/<name>/cdk.tf.json).
    Returns the stack names in dependency order."""
    app = App(outdir=str(outdir), skip_validation=False)
    stacks = build_platform(app, config)
    app.synth()
    return list(stacks)
