"""Streams and verbosity, for every command: results on stdout, messages and errors on stderr;
`-q` prints errors only (and the data a command exists to print); `-v` adds detail."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests import moto_server, runkit, tfenv
from tests.rendering import REPO
from tests.runkit import StackDef
from tfgen.cli import main_group

moto_endpoint = moto_server.moto_endpoint
aws = moto_server.aws

SPEC = str(REPO / "examples" / "hub-and-spoke" / "tfgen.yaml")
ONE_ACCOUNT = str(REPO / "examples" / "same-account-dr" / "tfgen.yaml")
LIVE_SPEC = """version: 1
defaults:
  role_arn: "arn:aws:iam::{account_id}:role/tfgen"
accounts:
  build: {id: "111111111111"}
replication:
  - from: {account: build, regions: [us-east-1]}
    to: [{account: build, regions: [us-west-2]}]
"""


def tfgen(*args: str) -> Result:
    return CliRunner().invoke(main_group, list(args))


def lines(text: str) -> int:
    return len(text.splitlines())


@dataclass(frozen=True)
class Case:
    """One command: how to run it successfully and how to make it fail, from a temp dir."""

    ok: Callable[[Path], list[str]]
    fail: Callable[[Path], list[str]]
    data: bool  # stdout carries what the command exists to print (kept with -q)
    detail: bool = False  # -v prints more than the default
    ok_code: int = 0


def _rendered(tmp: Path) -> Path:
    out = tmp / "tree"
    if not out.exists():
        assert tfgen("-q", "render", SPEC, "--out", str(out)).exit_code == 0
    return out


OFFLINE = {
    "init": Case(
        ok=lambda t: ["init", str(t / "new.yaml")],
        fail=lambda t: ["init", SPEC],  # exists: needs --force
        data=False,
    ),
    "validate": Case(
        ok=lambda t: ["validate", SPEC],
        fail=lambda t: ["validate", str(t / "missing.yaml")],
        data=False,
        detail=True,
    ),
    "compile": Case(
        ok=lambda t: ["compile", SPEC],
        fail=lambda t: ["compile", str(t / "missing.yaml")],
        data=True,
    ),
    "explain": Case(
        ok=lambda t: ["explain", SPEC],
        fail=lambda t: ["explain", str(t / "missing.yaml")],
        data=True,
    ),
    "render": Case(
        ok=lambda t: ["render", SPEC, "--out", str(t / "out")],
        fail=lambda t: ["render", str(t / "missing.yaml"), "--out", str(t / "out")],
        data=False,
        detail=True,
    ),
    "stacks": Case(
        ok=lambda t: ["stacks", str(_rendered(t))],
        fail=lambda t: ["stacks", str(t)],  # no manifest there
        data=True,
    ),
}


def check_streams(case: Case, run: Callable[[list[str]], Result], tmp: Path) -> None:
    argv = case.ok(tmp / "default")
    (tmp / "default").mkdir(exist_ok=True)
    default = run(argv)
    assert default.exit_code == case.ok_code, default.output
    assert "error" not in default.stderr.lower(), default.stderr
    if case.data:
        assert default.stdout.strip()
    else:
        assert default.stdout == "", "messages belong on stderr"

    (tmp / "quiet").mkdir(exist_ok=True)
    quiet = run(["-q", *case.ok(tmp / "quiet")])
    assert quiet.exit_code == case.ok_code, quiet.output
    assert quiet.stderr == "", "-q prints only errors"
    if case.data:
        assert quiet.stdout.strip()
    else:
        assert quiet.stdout == ""

    (tmp / "verbose").mkdir(exist_ok=True)
    verbose = run(["-v", *case.ok(tmp / "verbose")])
    assert verbose.exit_code == case.ok_code, verbose.output
    more = lines(verbose.stdout + verbose.stderr) - lines(default.stdout + default.stderr)
    assert more > 0 if case.detail else more >= 0

    (tmp / "failing").mkdir(exist_ok=True)
    failing = run(case.fail(tmp / "failing"))
    assert failing.exit_code == 1
    assert failing.stdout == "", "errors belong on stderr"
    assert "error" in failing.stderr
    quiet_failing = run(["-q", *case.fail(tmp / "failing")])
    assert quiet_failing.exit_code == 1 and "error" in quiet_failing.stderr


@pytest.mark.parametrize("command", sorted(OFFLINE))
def test_streams_and_verbosity(command: str, tmp_path: Path) -> None:
    check_streams(OFFLINE[command], lambda argv: tfgen(*argv), tmp_path)


def test_quiet_validate_of_a_valid_spec_prints_nothing() -> None:
    result = tfgen("-q", "validate", ONE_ACCOUNT)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("command", ["compile", "explain", "stacks"])
def test_json_failures_answer_on_stdout(command: str, tmp_path: Path) -> None:
    argv = [command, str(tmp_path / ("missing.yaml" if command != "stacks" else "")), "--json"]
    result = tfgen(*argv)
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["exit_code"] == 1 and error["error"]
    assert "error" in result.stderr


# --- plan, apply, destroy -------------------------------------------------------------------


@pytest.mark.terraform
def test_run_commands_streams_and_verbosity(tmp_path: Path, terraform_bin: Path) -> None:
    """Progress and errors on stderr, the table on stdout; -q: nothing but errors."""
    root = runkit.build_tree(
        tmp_path / "dir",
        [StackDef("a/registry-policy", runkit.resource()), StackDef("b/replication")],
    )
    tf = ["--terraform", str(terraform_bin)]

    plan = tfgen("plan", str(root), *tf)
    assert plan.exit_code == 0, plan.output
    assert "a/registry-policy" in plan.stdout  # the table
    assert "[1/2]" in plan.stderr and "[1/2]" not in plan.stdout  # progress
    assert "error" not in plan.stderr

    verbose = tfgen("-v", "plan", str(root), *tf)
    found = tfenv.terraform_version(terraform_bin)
    assert found is not None
    assert f"terraform: {terraform_bin} ({'.'.join(map(str, found))})" in verbose.stderr

    quiet = tfgen("-q", "plan", str(root), *tf)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    quiet = tfgen("-q", "apply", str(root), "--auto-approve", *tf)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    quiet = tfgen("-q", "destroy", str(root), "--auto-approve", *tf)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")

    (root / "stacks/a/registry-policy/main.tf").write_text(runkit.INVALID)
    runkit.rehash(root)  # as a render would: the tree matches its manifest
    failing = tfgen("-q", "plan", str(root), *tf)
    assert failing.exit_code == 1
    assert failing.stdout == ""
    assert failing.stderr.startswith("error: stack a/registry-policy: `plan` exited 1")
    missing = tfgen("plan", str(tmp_path / "nothing"), *tf)
    assert missing.exit_code == 1 and missing.stdout == "" and "error" in missing.stderr


# --- the live commands ----------------------------------------------------------------------


@pytest.mark.moto
def test_live_commands_streams_and_verbosity(aws: moto_server.MotoAws, tmp_path: Path) -> None:
    spec = tmp_path / "tfgen.yaml"
    spec.write_text(LIVE_SPEC)
    for command in ("verify", "audit"):
        result = tfgen(command, str(spec))
        assert result.exit_code in (0, 2), result.output
        assert result.stdout.strip() and "error" not in result.stderr
        quiet = tfgen("-q", command, str(spec))
        assert quiet.exit_code == result.exit_code and quiet.stderr == ""
        failing = tfgen(command, str(tmp_path / "missing.yaml"))
        assert failing.exit_code == 1 and failing.stdout == "" and "error" in failing.stderr

    out = tmp_path / "imported.yaml"
    argv = ["import", "--account", "build=111111111111", "--regions", "us-east-1"]
    argv += ["--role-arn", "arn:aws:iam::{account_id}:role/tfgen"]
    imported = tfgen(*argv, "--out", str(out))
    assert imported.exit_code == 0, imported.output
    assert imported.stdout == "" and "written" in imported.stderr
    quiet = tfgen("-q", *argv, "--out", str(out), "--force")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    failing = tfgen(*argv, "--out", str(out))  # exists
    assert failing.exit_code == 1 and failing.stdout == "" and "error" in failing.stderr

    locked = tfgen("lock", str(spec))
    assert locked.exit_code == 0 and "nothing to lock" in locked.stdout
    quiet = tfgen("-q", "lock", str(spec))
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    failing = tfgen("lock", str(tmp_path / "missing.yaml"))
    assert failing.exit_code == 1 and failing.stdout == "" and "error" in failing.stderr
