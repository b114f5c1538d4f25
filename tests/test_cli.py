"""CLI-wide behaviour: exit codes of usage errors, output flags anywhere, version, help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.rendering import REPO
from tfgen import __version__
from tfgen.cli import main_group

SPEC = str(REPO / "examples" / "mesh" / "tfgen.yaml")
COMMANDS = [
    "validate", "compile", "render", "plan", "apply", "destroy", "verify", "import", "audit",
    "lock", "init", "explain", "stacks",
]  # fmt: skip


def tfgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tfgen", *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "args",
    [
        ["nope"],
        ["validate", "--nope"],
        ["plan", ".", "--detailed-exitcode", "--parallelism", "many"],
        ["render", SPEC],  # --out is required
    ],
)
def test_usage_errors_exit_1_not_2(args: list[str]) -> None:
    # 2 means "changes" for plan --detailed-exitcode, verify and audit: a typo must not read so.
    result = tfgen(*args)
    assert result.returncode == 1, result.stderr
    assert "Usage:" in result.stderr and "Error:" in result.stderr


def test_output_flags_after_the_command(tmp_path: Path) -> None:
    quiet = tfgen("render", SPEC, "--out", str(tmp_path / "q"), "-q")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    loud = tfgen("render", SPEC, "--out", str(tmp_path / "l"), "--no-color")
    assert "create" in loud.stderr and "\x1b[" not in loud.stderr


def test_version_and_help() -> None:
    assert tfgen("--version").stdout.strip() == f"tfgen, version {__version__}"
    result = CliRunner().invoke(main_group, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert f"  {command} " in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_an_example(command: str) -> None:
    result = CliRunner().invoke(main_group, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output, result.output


def test_errors_go_to_stderr(tmp_path: Path) -> None:
    result = tfgen("validate", str(tmp_path / "missing.yaml"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "missing.yaml: error: no such file" in result.stderr


def test_completion_script() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from tfgen.cli import main; main()"],
        capture_output=True,
        text=True,
        check=False,
        env={"_TFGEN_COMPLETE": "bash_source", "PATH": "/usr/bin:/bin"},
    )
    assert "_tfgen_completion" in result.stdout
