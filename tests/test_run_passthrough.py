"""Terraform's own options on plan/apply/destroy (--lock-timeout, --refresh=false,
--backend-config), checked in the argv the real runner logs for each stack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests import runkit
from tests.runkit import StackDef
from tfgen.run.passthrough import redact

pytestmark = pytest.mark.terraform

STACK = "a/registry-policy"
LOCAL_BACKEND_TF = """terraform {
  required_version = ">= 1.0"
  required_providers {
    null = { source = "hashicorp/null" }
  }
  backend "local" {}
}
"""


def tfgen(terraform: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        runkit.cli(), [*args, "--terraform", str(terraform)], input=input, catch_exceptions=False
    )


def tree(tmp_path: Path) -> Path:
    return runkit.build_tree(
        tmp_path / "dir", [StackDef(STACK, runkit.resource(), versions=LOCAL_BACKEND_TF)]
    )


def commands(root: Path) -> dict[str, list[str]]:
    """The argv of each terraform command in the stack's log of the last run, by subcommand."""
    found: dict[str, list[str]] = {}
    for line in (root / ".tfgen/logs/a__registry-policy.log").read_text().splitlines():
        if line.startswith("$ "):
            argv = line[2:].split("    (in ")[0].split()
            found[argv[1]] = argv[2:]
    return found


def test_backend_config_reaches_every_init_also_the_one_apply_runs(
    tmp_path: Path, terraform_bin: Path
) -> None:
    root = tree(tmp_path)
    stack = root / "stacks" / STACK
    flags = ["--backend-config", "path=custom.tfstate", "--lock-timeout", "7s"]
    result = tfgen(terraform_bin, "plan", str(root), *flags)
    assert result.exit_code == 0, result.output
    ran = commands(root)
    assert "-backend-config=path=custom.tfstate" in ran["init"]
    assert "-lock-timeout=7s" in ran["plan"] and "-refresh=false" not in ran["plan"]
    # Applied in another CI job: no .terraform there, so apply runs init, with the same backend.
    shutil.rmtree(stack / ".terraform")
    result = tfgen(terraform_bin, "apply", str(root), "--auto-approve", *flags)
    assert result.exit_code == 0, result.output
    ran = commands(root)
    assert "-backend-config=path=custom.tfstate" in ran["init"]
    assert ran["apply"][-2:-1] == ["-lock-timeout=7s"]
    state = json.loads((stack / "custom.tfstate").read_text())
    assert [r["name"] for r in state["resources"]] == ["r"]
    assert not (stack / "terraform.tfstate").exists()


def test_backend_config_from_a_file_and_refresh_false(
    tmp_path: Path, terraform_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path)
    (tmp_path / "backend.hcl").write_text('path = "from-file.tfstate"\n')
    monkeypatch.chdir(tmp_path)  # the file is given relative to where tfgen runs
    result = tfgen(terraform_bin, "plan", str(root), "--backend-config", "backend.hcl")
    assert result.exit_code == 0, result.output
    assert f"-backend-config={tmp_path / 'backend.hcl'}" in commands(root)["init"]
    assert tfgen(terraform_bin, "apply", str(root), "--auto-approve").exit_code == 0
    assert (root / "stacks" / STACK / "from-file.tfstate").is_file()
    result = tfgen(terraform_bin, "plan", str(root), "--refresh=false")
    assert result.exit_code == 0, result.output
    assert "-refresh=false" in commands(root)["plan"]
    result = tfgen(terraform_bin, "destroy", str(root), "--refresh", "false", input="n\n")
    assert result.exit_code == 1 and "nothing destroyed" in result.output
    plan = commands(root)["plan"]
    assert "-destroy" in plan and "-refresh=false" in plan


def test_options_are_checked_before_anything_runs(tmp_path: Path, terraform_bin: Path) -> None:
    root = tree(tmp_path)
    result = tfgen(terraform_bin, "plan", str(root), "--lock-timeout", "soon")
    assert result.exit_code == 1 and "'soon' is not a duration" in result.output
    result = tfgen(terraform_bin, "plan", str(root), "--backend-config", "missing.hcl")
    assert result.exit_code == 1 and "'missing.hcl': no such file" in result.output
    result = tfgen(terraform_bin, "plan", str(root), "--refresh=maybe")
    assert result.exit_code == 1 and "--refresh" in result.output
    assert not (root / ".tfgen" / "logs").exists()


def test_secret_backend_settings_are_masked_in_logs_and_reports() -> None:
    argv = ["terraform", "init", "-backend-config=secret_key=abc", "-backend-config=bucket=b"]
    assert redact(argv) == (
        "terraform",
        "init",
        "-backend-config=secret_key=***",
        "-backend-config=bucket=b",
    )
