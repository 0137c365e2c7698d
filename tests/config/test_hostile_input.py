"""Input that cannot be a configuration is a message and exit 2, quickly, never a
traceback: unreadable paths, bytes that are not UTF-8 text, oversized files, deep
nesting, alias bombs; and no byte string makes loading raise anything else."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ndap_infra.config import ConfigError, load_config
from ndap_infra.config.load import MAX_BYTES
from tests.helpers import NDAP

ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join(["*" + chr(97 + i)] * 10) + "]\n"
    for i in range(8)
)
"""332 bytes whose aliases expand to 10^9 values."""


def validate(path: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    return subprocess.run(
        [*NDAP, "validate", "-c", path],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # the bomb used to run until memory ran out
    )


CASES = {
    "alias-bomb": (lambda d: (d / "c.yaml").write_text(ALIAS_BOMB), "c.yaml", "alias bomb"),
    "deep-nesting": (
        lambda d: (d / "c.yaml").write_text("a: " + "[" * 5000 + "]" * 5000 + "\n"),
        "c.yaml",
        "nested more than 40 levels deep",
    ),
    "latin-1": (
        lambda d: (d / "c.yaml").write_bytes("organization:\n  name: caf\xe9\n".encode("latin-1")),
        "c.yaml",
        "c.yaml:2: (top level): is not UTF-8 text (byte 0xe9 at offset 25): save it as UTF-8",
    ),
    "utf-16": (
        lambda d: (d / "c.yaml").write_bytes("organization:\n  name: x\n".encode("utf-16")),
        "c.yaml",
        "holds a NUL byte at offset 3: not a text file (UTF-16? save it as UTF-8)",
    ),
    "nul-byte": (
        lambda d: (d / "c.yaml").write_bytes(b"organization:\n  name: a\x00b\n"),
        "c.yaml",
        "holds a NUL byte",
    ),
    "directory": (lambda d: (d / "c.yaml").mkdir(), "c.yaml", "is a directory"),
    "path-under-a-file": (
        lambda d: (d / "c").write_text("x"),
        "c/platform.yaml",
        "a parent of this path is a file",
    ),
    "too-large": (
        lambda d: (d / "c.yaml").write_text("# " + "x" * MAX_BYTES + "\n"),
        "c.yaml",
        f"a configuration is at most {MAX_BYTES:,} bytes",
    ),
    "missing": (lambda d: None, "c.yaml", "file not found"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_input_that_cannot_be_a_configuration_is_a_message_and_exit_2(
    case: str, tmp_path: Path
) -> None:
    make, path, message = CASES[case]
    make(tmp_path)
    result = validate(path, tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "Nothing was written." in result.stderr


def test_a_configuration_with_a_few_aliases_still_loads(tmp_path: Path) -> None:
    """The negative control of the bomb check: ordinary anchors are fine."""
    from tests.helpers import REFERENCE

    text = REFERENCE.read_text()
    assert "&" not in text
    with_alias = text.replace("organization:\n", "organization: &org\n", 1) + "\n"
    path = tmp_path / "c.yaml"
    path.write_text(with_alias)
    assert load_config(path).organization.name == load_config(REFERENCE).organization.name


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(
            alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#\n ,?\t.0\u00e9")), max_size=120
        ).map(lambda t: t.encode("utf-8")),
    )
)
def test_no_bytes_make_loading_raise_anything_but_a_config_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as error:
        assert error.render()
