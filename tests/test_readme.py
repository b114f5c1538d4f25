"""The README matches the behaviour: every command it shows runs as shown, or is on the list below
of commands not run here, each with the reason (and where it is tested instead)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rendering import REPO

README = (REPO / "README.md").read_text()

# Commands the README shows that this test does not run: (pattern, why).
NOT_RUN: list[tuple[str, str]] = [
    (r"^python3 -m venv ", "makes a virtualenv; the tests run in one already"),
    (r"^\. \.venv/bin/activate$", "activates that virtualenv"),
    (r"^pip (install|wheel) ", "installs packages from an index or a git host (no network here)"),
    (r"^pytest\b", "the test suite itself"),
    (r"^git ", "commits to a git repository"),
    (r"^python benchmarks/", "a benchmark: minutes of timing on a quiet machine, not a check"),
    (
        r"^terraform ",
        "plain Terraform in a stack needs hashicorp/aws from the registry (tests/test_render.py "
        "loads and inits every rendered stack)",
    ),
    (
        r"^tfgen (plan|apply|destroy)\b",
        "runs Terraform against AWS accounts: credentials, hashicorp/aws and a backend "
        "(tests/test_run_terraform.py runs the runner on null-provider stacks)",
    ),
    (
        r"^tfgen (verify|import|audit|lock)\b",
        "reads live AWS accounts (tests/test_aws_*.py run each against a moto server)",
    ),
]
# Names of a command rather than a command: run as this instead.
RUN_AS = {"python -m tfgen": "python -m tfgen --version"}
# A synopsis's placeholders, for running it.
PLACEHOLDERS = {"DIR": "infra/ecr", "SPEC": "tfgen.yaml"}
_COMMAND = re.compile(r"^(tfgen |python|pip |eval |git |terraform |pytest|\. )")


def readme_commands() -> list[str]:
    """Every command the README shows: lines of its shell blocks (split at &&) and inline code
    that starts like a command, in the order they appear."""
    found: list[tuple[int, str]] = []
    for block in re.finditer(r"```(?:sh|console|bash)\n(.*?)```", README, re.S):
        for line in block.group(1).splitlines():
            found += [(block.start(), part.strip()) for part in line.split(" && ") if part.strip()]
    for span in re.finditer(r"(?<!`)`([^`\n]+)`(?!`)", README):
        text = span.group(1).replace("\\|", "|")
        if _COMMAND.match(text):
            found += [(span.start(), part.strip()) for part in text.split(" && ")]
    return list(dict.fromkeys(command for _, command in sorted(found)))


def why_not_run(command: str) -> str | None:
    return next((why for pattern, why in NOT_RUN if re.search(pattern, command)), None)


def runnable(command: str) -> list[str]:
    """The command as it is run: a synopsis's placeholders filled and its optional parts left
    out, and once with each choice of an optional `[--option a|b|c]`."""
    command = RUN_AS.get(command, command)
    for name, value in PLACEHOLDERS.items():
        command = re.sub(rf"\b{name}\b", value, command)
    variants = [re.sub(r"\s*\[[^\]]*\]", "", command)]
    for option, choices in re.findall(r"\[(--[\w-]+) ([\w|-]+\|[\w|-]+)\]", command):
        variants += [f"{variants[0]} {option} {choice}" for choice in choices.split("|")]
    return variants


COMMANDS = readme_commands()
RUN = list(dict.fromkeys(run for c in COMMANDS if why_not_run(c) is None for run in runnable(c)))


def test_every_readme_command_is_run_or_listed_with_a_reason() -> None:
    assert len(COMMANDS) > 25
    assert len(RUN) > 12
    for pattern, _ in NOT_RUN:  # the list holds nothing the README no longer shows
        assert any(re.search(pattern, c) for c in COMMANDS), f"unused: {pattern}"
    for command in RUN:
        assert re.fullmatch(r"[\w ./'\"=|$()<>:,-]+", command), command


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository as the README's reader has it after its first steps: the examples, a
    `tfgen init` starter and its tree rendered into infra/ecr, and `tfgen` on PATH."""
    root = tmp_path_factory.mktemp("readme")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "tfgen").write_text(f"#!{sys.executable}\nfrom tfgen.cli import main\n\nmain()\n")
    (bin_dir / "tfgen").chmod(0o755)
    for name in ("python", "python3"):
        (bin_dir / name).symlink_to(sys.executable)
    repo = root / "repo"
    shutil.copytree(REPO / "examples", repo / "examples")
    for setup in ("tfgen init", "tfgen render tfgen.yaml --out infra/ecr"):
        assert _bash(setup, repo, bin_dir).returncode == 0
    return root


def _bash(command: str, cwd: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", RUN)
def test_readme_command_runs(command: str, workspace: Path, tmp_path: Path) -> None:
    if re.search(r"\|\s*dot\b", command) and shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")  # .ci/run installs it
    repo = tmp_path / "repo"
    shutil.copytree(workspace / "repo", repo, symlinks=True)
    if command.startswith("tfgen init"):
        (repo / "tfgen.yaml").unlink()  # as before the reader's first `tfgen init`
    result = _bash(command, repo, workspace / "bin")
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr


def test_the_quickstart_installs_the_runtime_only() -> None:
    render, tests = re.findall(r"## Quickstart.*?```sh\n(.*?)```.*?```sh\n(.*?)```", README, re.S)[
        0
    ]
    assert "pip install -e . &&" in render and "[test]" not in render
    assert "tfgen render examples/" in render
    assert "pip install -e '.[test]'" in tests and "pytest -q" in tests


def test_the_readme_warns_against_the_unrelated_pypi_package() -> None:
    assert "**Never `pip install tfgen`**" in README
    assert "unrelated" in README.split("**Never `pip install tfgen`**")[1].split("\n\n")[0]
