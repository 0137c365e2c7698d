"""The platform diagram: generated from configuration, committed, and it renders."""

from __future__ import annotations

import struct
from typing import Any

from ndap_infra.config.load import validate_data
from ndap_infra.review.diagram import render_png, render_svg
from tests.helpers import ROOT, minimal


def test_committed_svg_is_current(reference_config: Any) -> None:
    committed = (ROOT / "policies" / "platform.svg").read_text()
    assert committed == render_svg(reference_config), "run `make build` and commit policies/"


def test_svg_shows_units_personas_flows_and_pipelines(reference_config: Any) -> None:
    svg = render_svg(reference_config)
    for text in (
        "OU acme-ml-dev",
        "OU acme-ml-prd",
        "data-scientist",
        "break-glass",
        "read-only replica (replication)",
        "copy (replication)",
        "release tag",
        "main + tag + approval",
        "500000000005",
        "platform pipeline (tooling)",
        "approved by platform-engineer &gt; apply saved plan",
    ):
        assert text in svg, text


def test_png_renders_with_the_svg_size(reference_config: Any) -> None:
    png = render_png(render_svg(reference_config))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1180, 640)
    committed = (ROOT / "policies" / "platform.png").read_bytes()
    assert committed[:8] == b"\x89PNG\r\n\x1a\n"


def test_diagram_follows_the_configuration() -> None:
    config, _ = validate_data(minimal())
    assert config is not None
    svg = render_svg(config)
    assert "OU acme-ml-nonprod" not in svg and "no production data" not in svg
    assert "platform pipeline" not in svg
