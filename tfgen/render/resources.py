"""Where the Terraform modules and Jinja templates are: inside the wheel, or in a source checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def data_dir(name: str) -> Path:
    """`modules` or `templates`: shipped as tfgen/_data/<name> in a wheel, at the repo root otherwise."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"tfgen's {name}/ directory is missing from this installation")


MODULE_NAMES = (
    "ecr-creation-template",
    "ecr-creation-template-exclusions",
    "ecr-registry-policy",
    "ecr-replication",
)


@cache
def module_files() -> tuple[tuple[str, bytes], ...]:
    """(relative path under DIR, bytes) of every shipped module file, sorted."""
    root = data_dir("modules")
    out: list[tuple[str, bytes]] = []
    for name in MODULE_NAMES:
        out.extend(
            (f"modules/{name}/{path.name}", path.read_bytes())
            for path in sorted((root / name).iterdir())
            if path.is_file() and (path.suffix == ".tf" or path.name == "README.md")
        )
    return tuple(out)
