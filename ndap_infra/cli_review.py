"""`ndap review`: the security review pack of a change (Markdown for a pull request)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ndap_infra.review.review_pack import (
    ReviewError,
    policies_at,
    policies_in,
    render_review,
)


def review(
    base: Annotated[
        str,
        typer.Option("--base", help="Git revision to compare against, e.g. the last release tag."),
    ],
    policies: Annotated[Path, typer.Option(help="The working tree's reviewer files.")] = Path(
        "policies"
    ),
    repo: Annotated[Path, typer.Option(help="The git repository holding policies/.")] = Path("."),
    out: Annotated[
        Path | None, typer.Option(help="Write the Markdown here (default: stdout).")
    ] = None,
) -> None:
    """Compare the generated policies and access matrix with a git revision and write a
    Markdown review pack: changed decisions, changed policies (JSON diff), sizes."""
    try:
        before = policies_at(repo, base, policies)
        after = policies_in(policies)
    except ReviewError as error:
        print(str(error), file=sys.stderr)
        raise typer.Exit(2) from None
    text = render_review(base, before, after)
    if out is None:
        sys.stdout.write(text)
    else:
        tmp = out.with_suffix(out.suffix + ".tmp")
        tmp.write_text(text)
        tmp.replace(out)
        print(f"Wrote {out}")
