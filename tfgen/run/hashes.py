"""Content hashes of stacks, recomputed from disk, and the record of the last successful apply."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from tfgen import safeio
from tfgen.manifest import Manifest, ManifestStack, TreeGuard, config_files

_MISSING = "missing"


def file_sha256(tree: TreeGuard, rel: str) -> str:
    """sha256 of a file of the tree, read without following a link (UnsafePathError on one)."""
    data = tree.read(rel)
    return _MISSING if data is None else hashlib.sha256(data).hexdigest()


class Hasher:
    """Content hashes of the stacks of one tree, recomputed from disk. The manifest's files are
    indexed by directory once and each module file is read once per Hasher, so hashing every
    stack of a 20,000-stack tree is linear (looking each stack's files up in the whole manifest
    was 20,000 x 80,000 comparisons). Use one Hasher for one pass over many stacks."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.tree = TreeGuard(manifest.root)
        self._listed: dict[str, list[str]] = defaultdict(list)  # every ancestor dir -> files
        for rel in manifest.files:
            parts = rel.split("/")
            for i in range(1, len(parts)):
                self._listed["/".join(parts[:i])].append(rel)
        self._shared: dict[str, list[tuple[str, str]]] = {}  # module dir -> (file, sha256)

    def files(self, stack: ManifestStack) -> list[str]:
        """The stack's own and its modules' files: what the manifest lists plus any
        configuration file now on disk there (a hand-added .tf changes the plan too)."""
        return sorted({rel for d in (stack.path, *stack.modules) for rel in self._dir_files(d)})

    def _dir_files(self, rel_dir: str) -> set[str]:
        d = rel_dir.rstrip("/")
        return {*self._listed.get(d, ()), *config_files(self.manifest.root, d)}

    def _sums(self, rel_dir: str) -> list[tuple[str, str]]:
        return [(rel, file_sha256(self.tree, rel)) for rel in self._dir_files(rel_dir)]

    def hash(self, stack: ManifestStack) -> str:
        """sha256 over (relative path, sha256 of its bytes on disk) of every file of the stack."""
        sums = self._sums(stack.path)
        for module in stack.modules:
            if module not in self._shared:
                self._shared[module] = self._sums(module)
            sums.extend(self._shared[module])
        digest = hashlib.sha256()
        for rel, sha in sorted(set(sums)):
            digest.update(f"{rel}\0{sha}\n".encode())
        return digest.hexdigest()


def stack_files(manifest: Manifest, stack: ManifestStack) -> list[str]:
    """The stack's own and its modules' files (see `Hasher.files`)."""
    return Hasher(manifest).files(stack)


def stack_hash(manifest: Manifest, stack: ManifestStack) -> str:
    """sha256 over (relative path, sha256 of its bytes on disk) of every file of the stack; for
    many stacks use one `Hasher`."""
    return Hasher(manifest).hash(stack)


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
    hasher = Hasher(manifest)
    return [s for s in stacks if applied.get(s.id) != hasher.hash(s)]
