"""Every command's --help, as a user reads it: a one-line summary in the grouped command list,
no leftover formatting marks, no empty help, no text broken mid-word; shell completion
offered and working."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ndap_infra.cli import app
from ndap_infra.cli.panels import ORDER

RUNNER = CliRunner()
WIDE = {"COLUMNS": "400", "TERMINAL_WIDTH": "400", "NO_COLOR": "1"}


def commands() -> Iterator[tuple[list[str], Any]]:
    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


ALL = list(commands())
IDS = [" ".join(path) or "ndap" for path, _ in ALL]


def test_there_are_commands_to_check() -> None:
    assert len(ALL) > 25, IDS  # the top level, its commands and the emulator's


def _help(path: list[str]) -> str:
    result = RUNNER.invoke(app, [*path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("path", "command"), ALL, ids=IDS)
def test_every_help_reads_whole(path: list[str], command: Any) -> None:
    text = _help(path)
    assert "\b" not in text and "\\b" not in text, "a leftover click \\b mark"
    summary = command.get_short_help_str(limit=10_000)
    assert summary.strip(), f"{IDS[ALL.index((path, command))]}: no summary"
    assert "\n" not in summary
    assert summary.rstrip().endswith((".", ")", "?")), f"summary cut short: {summary!r}"
    for param in command.params:
        if getattr(param, "hidden", False) or param.name in {"help"}:
            continue
        helptext = " ".join((getattr(param, "help", None) or "").split())
        assert helptext, f"{param.name} of {path} has no help"
        # implicit string concatenation without a space ("thestate"), a word split at a
        # line ("configu- ration"), a doubled word from a re-wrap
        assert not re.search(r"[a-z]-\s[a-z]", helptext), helptext
        assert not re.search(r"[a-z][,;][A-Za-z]", helptext), helptext
        assert not re.search(r"\b(\w{3,}) \1\b", helptext), helptext


def test_commands_are_listed_in_groups_in_order() -> None:
    text = _help([])
    panels = re.findall(r"^╭─ (.+?) ─", text, re.M)
    assert panels == ["Options", *ORDER], panels
    top = typer.main.get_command(app)
    for name, command in getattr(top, "commands", {}).items():
        assert getattr(command, "rich_help_panel", None) in ORDER, f"{name} is in no group"
    # each command on one line of the list: its summary, not its whole docstring
    for name, command in getattr(top, "commands", {}).items():
        line = next(line for line in text.splitlines() if re.match(rf"│ {re.escape(name)}\s", line))
        assert command.get_short_help_str(limit=10_000)[:40] in line, name


def test_shell_completion_is_offered_and_completes() -> None:
    """`ndap --show-completion bash` prints the script `--install-completion` installs, and
    that script's protocol completes commands and options."""
    text = _help([])
    assert "--install-completion" in text and "--show-completion" in text
    ndap = str(Path(sys.executable).parent / "ndap")
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    script = subprocess.run(
        [ndap, "--show-completion", "bash"], env=env, capture_output=True, text=True, check=False
    )
    assert script.returncode == 0, script.stderr
    assert (
        "_NDAP_COMPLETE=complete_bash" in script.stdout and "complete -o default" in script.stdout
    )

    def complete(words: str) -> list[str]:
        completion = {"_NDAP_COMPLETE": "complete_bash", "COMP_WORDS": words,
                      "COMP_CWORD": str(len(words.split()) - 1)}  # fmt: skip
        done = subprocess.run(
            [ndap], env={**env, **completion}, capture_output=True, text=True, check=False
        )
        return done.stdout.split()

    assert complete("ndap dep") == ["deploy"]
    assert complete("ndap deploy --pla") == ["--plan-only"]
    assert "start" in complete("ndap emulator st")


def test_one_spelling_for_formats_with_the_old_one_hidden() -> None:
    """`--format text|json` wherever a command prints for machines; drift's older `--json`
    still parses (scripts) but is not listed."""
    top: Any = typer.main.get_command(app)
    for name in ("changes", "drift"):
        options = {o for p in top.commands[name].params for o in p.opts}
        assert "--format" in options, name
    drift = top.commands["drift"]
    parsed = drift.make_context("drift", ["--json", "--format", "text"], resilient_parsing=True)
    assert parsed.params["json_alias"] is True
    assert parsed.params["output"] == "text"
    assert "--json" not in _help(["drift"])
    everywhere = {o for c in top.commands.values() for p in c.params for o in p.opts}
    assert not everywhere & {"--output", "--output-format", "--fmt"}
