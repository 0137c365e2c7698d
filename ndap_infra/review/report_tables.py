"""The Markdown tables of the reviewer files (ACCESS.md, JOBS.md, ...), read back for the
review pack: each table with the headings it sits under, its header and its rows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    section: str
    """The nearest ``## `` heading above the table."""
    subsection: str
    """The nearest ``### `` heading below that section ("" when none)."""
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _cells(line: str) -> tuple[str, ...]:
    """A row's cells; ``\\|`` inside a cell is kept as ``|``."""
    body = line.strip().removeprefix("|").removesuffix("|")
    cells, current, escaped = [], "", False
    for char in body:
        if escaped:
            current += char if char == "|" else "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            cells.append(current.strip())
            current = ""
        else:
            current += char
    cells.append((current + ("\\" if escaped else "")).strip())
    return tuple(cells)


def tables(text: str) -> list[Table]:
    """Every table of ``text``, in order."""
    found: list[Table] = []
    section = subsection = ""
    header: tuple[str, ...] | None = None
    rows: list[tuple[str, ...]] = []

    def close() -> None:
        nonlocal header, rows
        if header is not None:
            found.append(Table(section, subsection, header, tuple(rows)))
        header, rows = None, []

    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("|"):
            close()
            if line.startswith("## "):
                section, subsection = line[3:].strip(), ""
            elif line.startswith("### "):
                subsection = line[4:].strip()
            continue
        if header is None:
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if following.startswith("|---") or following.startswith("| ---"):
                header = _cells(line)
            continue
        if line.startswith("|---") or line.startswith("| ---"):
            continue
        rows.append(_cells(line))
    close()
    return found
