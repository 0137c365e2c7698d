"""policies/ACCESS.md reads as a reviewer's document (#20, item 5): a contents list that
links every section, a legend, a short line per persona, and no row too long to read."""

from __future__ import annotations

import re
from typing import Any

from ndap_infra.review.reviewer_files import reviewer_files


def _access(reference_synthesis: Any, reference_proof: Any) -> str:
    text: str = reviewer_files(reference_synthesis, reference_proof)["ACCESS.md"]
    return text


def test_contents_link_every_section(reference_synthesis: Any, reference_proof: Any) -> None:
    text = _access(reference_synthesis, reference_proof)
    sections = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert sections[0] == "Contents"
    listed = re.findall(r"^- \[(.+)\]\(#([a-z0-9_-]+)\)$", text, flags=re.M)
    assert [title for title, _ in listed] == sections[1:]
    # each anchor is the slug GitHub gives the heading
    assert ("Which layers hold (negative controls)", "which-layers-hold-negative-controls") in (
        listed
    )


def test_legend_and_a_line_per_persona(reference_synthesis: Any, reference_proof: Any) -> None:
    text = _access(reference_synthesis, reference_proof)
    assert "Legend: each cell counts the actions" in text
    assert "`yes` allowed, `-` denied, `n/a` not asked" in text
    assert "- **data-scientist**: dev (10)." in text
    assert "- **business-user**: acc (2)." in text
    row = next(line for line in text.splitlines() if line.startswith("| break-glass |"))
    assert "WRITES production data" in row.split("|")[-2], "prd names the sensitive writes"
    assert "WRITES production data" not in row.split("|")[-3], "not in acc"


def test_no_line_a_reviewer_cannot_read(reference_synthesis: Any, reference_proof: Any) -> None:
    longest = max(_access(reference_synthesis, reference_proof).splitlines(), key=len)
    assert len(longest) <= 500, longest[:120]
