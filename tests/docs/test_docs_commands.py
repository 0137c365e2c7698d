"""The docs name only real commands, and the persona matrix they show is the code's.

GIVEN the README, docs/ and docs/runbooks/, WHEN every ``ndap <command>`` written in their
code (inline code and fenced blocks) is read, THEN each command (and subcommand) is one of
the command line's, and each ``--option`` written after it is one of that command's
options. The default persona matrix in docs/model.md equals ``default_persona_matrix()``.
Negative controls: a misspelt command, subcommand or option is found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from ndap_infra.cli import app
from ndap_infra.config.enums import Environment
from ndap_infra.config.model.organization import default_persona_matrix
from tests.helpers import ROOT

RUNBOOKS = ROOT / "docs" / "runbooks"
MODEL = ROOT / "docs" / "model.md"

PASS_THROUGH = {"cdktf"}
"""Commands whose further arguments belong to another program (`ndap cdktf synth --help`)."""

MENTION = re.compile(r"(?<![\w.:$-])ndap[ \t]+([a-z][a-z-]*)((?:[ \t]+[a-z][a-z-]*)?)")
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)")
COMMAND_END = re.compile(r"&&|\|\||[|;#)]|\$\(")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _code(text: str) -> list[str]:
    """The lines of code in a Markdown text: fenced blocks (continuation lines joined) and
    inline code spans."""
    found: list[str] = []
    fenced = re.compile(r"^ *```[^\n]*\n(.*?)^ *```", re.S | re.M)
    last = 0
    for block in [*fenced.finditer(text), None]:
        prose = text[last : block.start()] if block else text[last:]
        found.extend(re.findall(r"``?([^`\n]+)``?", prose))
        if block:
            found.extend(block.group(1).replace("\\\n", " ").splitlines())
            last = block.end()
    return found


@dataclass(frozen=True)
class Mention:
    """One ``ndap`` command written in the docs, with the options written after it."""

    where: str
    words: tuple[str, ...]
    options: tuple[str, ...]


def mentions(text: str, where: str) -> list[Mention]:
    result = []
    for line in _code(text):
        for match in MENTION.finditer(line):
            words = (match.group(1), *match.group(2).split())
            rest = line[match.end(1) :]
            end = COMMAND_END.search(rest)
            rest = rest[: end.start()] if end else rest
            result.append(Mention(where, words, tuple(OPTION.findall(rest))))
    return result


def _cli() -> Any:
    return typer.main.get_command(app)


def problems(found: list[Mention]) -> list[str]:
    """What in ``found`` is not on the command line: unknown commands, subcommands, options."""
    root = _cli()
    wrong = []
    for mention in found:
        name, *more = mention.words
        command = root.commands.get(name)
        label = f"{mention.where}: `ndap {' '.join(mention.words)}`"
        if command is None:
            wrong.append(f"{label}: no command {name!r}")
            continue
        if name in PASS_THROUGH:
            continue
        sub = getattr(command, "commands", None)
        if sub is not None and more:
            if more[0] not in sub:
                wrong.append(f"{label}: no subcommand {more[0]!r} of {name!r}")
                continue
            command = sub[more[0]]
        known = {"--help"}
        for param in command.params:
            known.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
        wrong.extend(f"{label}: no option {o} of that command" for o in mention.options
                     if o not in known)  # fmt: skip
    return wrong


MAKE = re.compile(r"(?<![\w./:$-])make[ \t]+([a-z][a-z-]*)")


def make_targets(makefile: Path = ROOT / "Makefile") -> set[str]:
    """The targets the Makefile defines (``name:`` at the start of a line)."""
    text = makefile.read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):", text, flags=re.M))


def unknown_make_targets(text: str, targets: set[str]) -> list[str]:
    return [t for line in _code(text) for t in MAKE.findall(line) if t not in targets]


def _all_mentions() -> list[Mention]:
    found = []
    for document in documents():
        where = str(document.relative_to(ROOT))
        found.extend(mentions(document.read_text(encoding="utf-8"), where))
    return found


def test_the_runbooks_name_commands_and_are_read() -> None:
    runbooks = sorted(p.name for p in RUNBOOKS.glob("*.md"))
    assert {"first-deploy-aws.md", "half-failed-deploy.md", "lost-state.md"} <= set(runbooks)
    assert all(RUNBOOKS / name in documents() for name in runbooks)
    named = {m.words[0] for m in _all_mentions() if m.where.startswith("docs/runbooks/")}
    assert {"init", "validate", "build", "review", "deploy", "preflight", "drift"} <= named


def test_every_ndap_command_in_the_docs_is_a_real_command_with_real_options() -> None:
    found = _all_mentions()
    assert len(found) > 100  # the walk reads the docs' code at all
    assert problems(found) == []


def test_a_misspelt_command_subcommand_or_option_is_found() -> None:
    text = (
        "Run `ndap deploi -c platform.yaml`, then:\n\n```bash\n"
        "ndap deploy -c platform.yaml --no-such-flag \\\n  --stacks env-dev\n"
        'eval "$(ndap emulator strat)"\n'
        "ndap drift --format json | jq . # --not-an-option-of-drift\n"
        "ndap cdktf synth --anything-goes\n```\n"
        "`ndap_infra`, `.ndap/plans`, `ndap:persona` and `ndap-infra` are no commands.\n"
    )
    found = mentions(text, "page.md")
    assert [m.words for m in found] == [
        ("deploi",),
        ("deploy",),
        ("emulator", "strat"),
        ("drift",),
        ("cdktf", "synth"),
    ]
    assert found[1].options == ("--no-such-flag", "--stacks")
    assert problems(found) == [
        "page.md: `ndap deploi`: no command 'deploi'",
        "page.md: `ndap deploy`: no option --no-such-flag of that command",
        "page.md: `ndap emulator strat`: no subcommand 'strat' of 'emulator'",
    ]


def test_every_make_target_in_the_docs_is_in_the_makefile() -> None:
    targets = make_targets()
    assert {"setup", "build", "deploy", "lint", "test-fast", "schema", "resources"} <= targets
    # and the targets of the Makefile an ML project's scaffold holds (`make model`)
    targets |= make_targets(ROOT / "ndap_infra" / "bootstrap" / "scaffold.py")
    assert "model" in targets
    for document in documents():
        text = document.read_text(encoding="utf-8")
        assert unknown_make_targets(text, targets) == [], document.relative_to(ROOT)
    assert unknown_make_targets("`make setup` then `make deploi`", targets) == ["deploi"]


def test_the_persona_matrix_in_the_model_is_the_codes_default() -> None:
    text = MODEL.read_text(encoding="utf-8")
    table = text[text.index("default_persona_matrix()") :]
    rows = re.findall(r"^\| ([a-z-]+) \| ([a-z-]+) \| ([a-z-]+) \| ([a-z-]+) \| ([a-z-]+) \|$",
                      table, flags=re.M)  # fmt: skip
    documented = {row[0]: list(row[1:]) for row in rows if row[0] != "persona"}
    expected = {
        persona.value: [cells[env].value for env in Environment]
        for persona, cells in default_persona_matrix().items()
    }
    assert documented == expected


@pytest.mark.parametrize("page", ["README.md", "docs/README.md"])
def test_the_indexes_lead_to_the_model_and_the_runbooks(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    assert "model.md" in text
    assert "runbooks/" in text
