"""Content hashes of stacks, recomputed from disk, and the record of the last successful apply."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from tfgen import safeio
from tfgen.manifest import Manifest, ManifestStack, TreeGuard, config_files

_MISSING = "missing"


def file_sha256(tree: TreeGuard, rel: str) -> str:
    """sha256 of a file of the tree, read without following a link (UnsafePathError on one)."""
    data = tree.read(rel)
    return _MISSING if data is None else hashlib.sha256(data).hexdigest()


def stack_files(manifest: Manifest, stack: ManifestStack) -> list[str]:
    """The stack's own and its modules' files: what the manifest lists plus any
    configuration file now on disk there (a hand-added .tf changes the plan too)."""
    dirs = (stack.path, *stack.modules)
    prefixes = tuple(d.rstrip("/") + "/" for d in dirs)
    listed = {f for f in manifest.files if f.startswith(prefixes)}
    on_disk = {f for d in dirs for f in config_files(manifest.root, d)}
    return sorted(listed | on_disk)


def stack_hash(manifest: Manifest, stack: ManifestStack) -> str:
    """sha256 over (relative path, sha256 of its bytes on disk) of every file of the stack."""
    digest = hashlib.sha256()
    tree = TreeGuard(manifest.root)
    for rel in stack_files(manifest, stack):
        digest.update(f"{rel}\0{file_sha256(tree, rel)}\n".encode())
    return digest.hexdigest()


def read_applied(path: Path) -> dict[str, str]:
    """stack id -> content hash at its last successful apply; empty when never applied."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    stacks = data.get("stacks", {}) if isinstance(data, dict) else {}
    return {str(k): str(v) for k, v in stacks.items()} if isinstance(stacks, dict) else {}


def write_applied(path: Path, applied: Mapping[str, str]) -> None:
    body = {"applied_version": 1, "stacks": dict(sorted(applied.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    safeio.replace(path, (json.dumps(body, indent=2) + "\n").encode())


def changed(
    manifest: Manifest, stacks: Iterable[ManifestStack], applied: Mapping[str, str]
) -> list[ManifestStack]:
    """Stacks whose content differs from their last successful apply (or were never applied)."""
    return [s for s in stacks if applied.get(s.id) != stack_hash(manifest, s)]
