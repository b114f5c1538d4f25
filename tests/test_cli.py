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


# --- Terraform habits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "advice"),
    [
        (["plan", "-var", "x=1"], "tfgen renders no variables"),
        (["apply", "-var-file=prod.tfvars"], "tfgen renders no variables"),
        (["plan", "-chdir=infra/ecr"], "`tfgen plan infra/ecr`"),
        (["destroy", "-target=module.x"], "--stacks PATTERN"),
        (["plan", "-lock-timeout=5m"], "tfgen's option is --lock-timeout=5m"),
        (["plan", "-refresh=false"], "tfgen's option is --refresh=false"),
        (["apply", "-auto-approve"], "tfgen's option is --auto-approve"),
        (["plan", "-backend-config=bucket=b"], "tfgen's option is --backend-config=bucket=b"),
    ],
)
def test_terraform_flags_get_the_tfgen_way(args: list[str], advice: str) -> None:
    result = CliRunner().invoke(main_group, args)
    assert result.exit_code == 1, result.output
    assert "is a Terraform option" in result.stderr or "is Terraform's spelling" in result.stderr
    assert advice in result.stderr


def test_a_terraform_flag_is_a_usage_error_exiting_1() -> None:
    result = tfgen("plan", "-var", "region=us-east-1")
    assert result.returncode == 1
    assert "Usage:" in result.stderr and "-var is a Terraform option" in result.stderr


@pytest.mark.parametrize("command", ["plan", "render", "validate", "stacks", "verify"])
def test_version_after_any_command(command: str) -> None:
    result = tfgen(command, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tfgen, version {__version__}"


def test_stacks_complete_from_the_manifest_of_dir(tmp_path: Path) -> None:
    from click.shell_completion import ShellComplete

    render = CliRunner().invoke(main_group, ["render", SPEC, "--out", str(tmp_path)])
    assert render.exit_code == 0, render.output
    complete = ShellComplete(main_group, {}, "tfgen", "_TFGEN_COMPLETE")
    found = [c.value for c in complete.get_completions(["plan", str(tmp_path), "--stacks"], "")]
    assert "americas/registry-policy" in found and "americas/replication" in found
    found = [c.value for c in complete.get_completions(["apply", str(tmp_path), "--stacks"], "eu")]
    assert found and all(v.startswith("eu") for v in found)
    found = [
        c.value
        for c in complete.get_completions(["plan", str(tmp_path), "--stacks"], "eu/x,americas/rep")
    ]
    assert found == ["eu/x,americas/replication"]
    assert complete.get_completions(["plan", str(tmp_path / "none"), "--stacks"], "") == []


# --- one console, one handler, light start-up -------------------------------------------------


@pytest.mark.terraform
def test_no_color_wins_over_force_color_in_plan_output(tmp_path: Path, terraform_bin: Path) -> None:
    import os
    import re

    from tests import runkit

    root = runkit.build_tree(
        tmp_path / "d", [runkit.StackDef("a/registry-policy", runkit.resource())]
    )
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["FORCE_COLOR"] = "1"
    sgr = re.compile(r"\x1b\[[0-9;]*m")

    def plan(*flags: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "tfgen", *flags, "plan", str(root)]
        argv += ["--terraform", str(terraform_bin)]
        return subprocess.run(argv, capture_output=True, text=True, env=env, check=False)

    coloured = plan()
    assert coloured.returncode == 0, coloured.stderr
    assert sgr.search(coloured.stdout)  # FORCE_COLOR alone does colour the table
    plain = plan("--no-color")
    assert plain.returncode == 0, plain.stderr
    assert "a/registry-policy" in plain.stdout
    assert not sgr.search(plain.stdout + plain.stderr)


def test_a_bug_exits_3_with_a_log_and_no_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("tfgen.compile.compile_loaded", broken)  # validate imports it per call
    result = CliRunner().invoke(main_group, ["validate", SPEC])
    assert result.exit_code == 3
    assert "internal error in tfgen" in result.stderr and "ZeroDivisionError: boom" in result.stderr
    log = result.stderr.split("details are in ")[1].split(".log")[0] + ".log"
    assert "Traceback" in Path(log).read_text() and "Traceback" not in result.stderr
    Path(log).unlink()


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("tfgen.compile.compile_loaded", interrupted)
    result = CliRunner().invoke(main_group, ["validate", SPEC])
    assert result.exit_code == 130 and "interrupted" in result.stderr


def test_version_and_a_no_op_render_import_no_runner_boto3_or_rich(tmp_path: Path) -> None:
    assert tfgen("render", SPEC, "--out", str(tmp_path)).returncode == 0
    probe = (
        "import sys\n"
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('boto3', 'botocore', 'rich', 'jinja2', 'pydantic')"
        " or m.startswith(('tfgen.run', 'tfgen.report', 'tfgen.aws')))))\n"
        "from tfgen.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    for args in (["--version"], ["-q", "render", SPEC, "--out", str(tmp_path)]):
        result = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith("[]"), (args, result.stdout, result.stderr)


# --- how the program ends -------------------------------------------------------------------------


def _program(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`tfgen ARGS` as the console script runs it, after `prelude`."""
    code = f"{prelude}\nimport sys\nfrom tfgen.cli import main\nmain(sys.argv[1:])\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )


def test_the_program_skips_the_teardown_but_not_the_exit_functions_or_the_output() -> None:
    prelude = (
        "import atexit, sys\n"
        "class Freed:\n    def __del__(self):\n        print('torn down')\n"
        "kept = Freed()\n"
        "atexit.register(print, 'exit functions ran')\n"
        "sys.stdout.write('buffered, ')\n"  # a pipe: block-buffered until flushed
    )
    result = _program(prelude, "validate", "missing.yaml")
    assert result.returncode == 1
    assert "missing.yaml: error: no such file" in result.stderr
    assert result.stdout == "buffered, exit functions ran\n"  # no 'torn down': os._exit
    result = _program(prelude, "--version")
    assert (result.returncode, result.stdout) == (
        0,
        f"buffered, tfgen, version {__version__}\nexit functions ran\n",
    )


def test_the_program_ends_as_python_does_while_another_thread_runs() -> None:
    prelude = (
        "import threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(0.5), print('thread done'))).start()\n"
    )
    result = _program(prelude, "--version")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [f"tfgen, version {__version__}", "thread done"]


def test_validate_and_render_read_the_region_data_without_importing_botocore(
    tmp_path: Path,
) -> None:
    """botocore is found on disk for its endpoints.json: importing it costs 5-20 ms per run."""
    prelude = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules if m.startswith('boto'))))\n"
    )
    for args in (["-q", "validate", SPEC], ["-q", "render", SPEC, "--out", str(tmp_path)]):
        result = _program(prelude, *args)
        assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


def test_a_large_spec_is_read_by_a_child_and_this_process_never_imports_yaml(
    tmp_path: Path,
) -> None:
    """validate and render read a large spec in a forked child while they import the rest;
    PyYAML is the child's alone (35 ms of every run's critical path here)."""
    from tests.test_atomic import spec_text

    spec = tmp_path / "big.yaml"
    spec.write_text(spec_text(800))
    prelude = "import atexit, sys\natexit.register(lambda: print('yaml' in sys.modules))\n"
    for args in (
        ["-q", "validate", str(spec)],
        ["-q", "render", str(spec), "--out", str(tmp_path / "o")],
    ):
        result = _program(prelude, *args)
        assert (result.returncode, result.stdout.strip()) == (0, "False"), result.stderr
