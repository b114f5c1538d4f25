"""Rendered files → DIR: compute, compare, then write; only what changed, never a half-written tree.

All new contents are first written to temporary files beside their targets; only when every one is
on disk are they renamed into place (a rename is atomic), and the manifest is renamed last. A failure
before that point leaves DIR exactly as it was. Files tfgen does not own are never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from tfgen.errors import RenderError

MANIFEST = "tfgen.manifest.json"
MANIFEST_VERSION = 1


class Change(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    IDENTICAL = "identical"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    change: Change
    note: str = ""


@dataclass(frozen=True, slots=True)
class SyncResult:
    changes: tuple[FileChange, ...]
    orphaned_stacks: tuple[str, ...]  # in the previous manifest, gone from the spec
    pruned_stacks: tuple[str, ...]
    owned: tuple[str, ...] = ()  # every file tfgen owns after this sync, manifest included
    stacks: tuple[Mapping[str, Any], ...] = ()  # the manifest's stacks after this sync

    @property
    def changed(self) -> tuple[FileChange, ...]:
        return tuple(c for c in self.changes if c.change is not Change.IDENTICAL)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(root: Path) -> dict[str, Any] | None:
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RenderError(
            f"{path}: cannot read tfgen's manifest ({exc}); restore it from git"
        ) from None
    if not isinstance(data, dict) or data.get("manifest_version") != MANIFEST_VERSION:
        raise RenderError(f"{path}: not a tfgen manifest of version {MANIFEST_VERSION}")
    return data


def _safe(relpath: str) -> str:
    pure = PurePosixPath(relpath)
    if pure.is_absolute() or ".." in pure.parts:
        raise RenderError(f"refusing to write outside the output directory: {relpath}")
    return relpath


def sync(
    root: Path,
    files: Mapping[str, bytes],
    stacks: Sequence[Mapping[str, Any]],
    generator: str,
    *,
    prune: bool = False,
    check: bool = False,
) -> SyncResult:
    """Make DIR hold exactly `files` (plus what tfgen does not own); write the manifest."""
    old = read_manifest(root) or {"files": {}, "stacks": []}
    old_files: dict[str, str] = dict(old.get("files", {}))
    new_ids = {s["id"] for s in stacks}
    orphans = [s for s in old.get("stacks", []) if s["id"] not in new_ids]
    kept_orphans = [] if prune else orphans
    kept_files: dict[str, bytes] = {}
    for s in kept_orphans:  # an orphaned stack keeps its files until --prune: it may hold state
        prefix = s["path"] + "/"
        for rel in old_files:
            if rel.startswith(prefix):
                with contextlib.suppress(FileNotFoundError):
                    kept_files[rel] = (root / rel).read_bytes()

    changes: list[FileChange] = []
    pending: dict[str, bytes] = {}
    new_tree = _is_new(root)
    root_s = str(root)
    for rel in sorted(files):
        data = files[_safe(rel)]
        target = os.path.join(root_s, rel)  # noqa: PTH118 - thousands of files: str paths are 3x faster
        try:
            current = None if new_tree else _read(target)
        except IsADirectoryError:
            raise RenderError(
                f"{target} is a directory; tfgen wants to write a file there"
            ) from None
        if current == data:
            changes.append(FileChange(rel, Change.IDENTICAL))
            continue
        if current is None:
            changes.append(FileChange(rel, Change.CREATE))
        elif rel not in old_files:
            raise RenderError(
                f"{target} exists and tfgen did not write it; move it away (tfgen never "
                "overwrites files it does not own)"
            )
        else:
            edited = sha256(current) != old_files[rel]
            changes.append(
                FileChange(rel, Change.UPDATE, "was edited by hand; overwritten" if edited else "")
            )
        pending[rel] = data
    wanted = set(files) | set(kept_files)
    removals = sorted(rel for rel in old_files if rel not in wanted)
    changes.extend(FileChange(rel, Change.REMOVE) for rel in removals if (root / rel).exists())

    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "generator": generator,
        "files": {rel: sha256(data) for rel, data in sorted({**files, **kept_files}.items())},
        "stacks": sorted(
            [*stacks, *({**s, "orphaned": True} for s in kept_orphans)], key=lambda s: s["id"]
        ),
    }
    manifest_bytes = manifest_text(manifest).encode()
    manifest_changed = _differs(root / MANIFEST, manifest_bytes)
    result = SyncResult(
        tuple(changes),
        tuple(s["id"] for s in orphans),
        tuple(s["id"] for s in orphans) if prune else (),
        (*manifest["files"], MANIFEST),
        tuple(manifest["stacks"]),
    )
    if check or (not pending and not removals and not manifest_changed):
        return result
    if manifest_changed:
        pending[MANIFEST] = manifest_bytes
    if new_tree:
        _create_tree(root, pending)
    else:
        _commit(root, pending, removals)
    return result


def manifest_text(manifest: Mapping[str, Any]) -> str:
    """The manifest as JSON with one file or stack per line: readable diffs in review, and built
    with the C encoder (json's indent= path is pure Python and 5x slower on large trees)."""
    dump = json.dumps
    files = ",\n".join(f"    {dump(k)}: {dump(v)}" for k, v in sorted(manifest["files"].items()))
    stacks = ",\n".join(f"    {dump(s, sort_keys=True)}" for s in manifest["stacks"])
    head = ",\n".join(
        f"  {dump(k)}: {dump(v)}"
        for k, v in sorted(manifest.items())
        if k not in ("files", "stacks")
    )
    return f'{{\n{head},\n  "files": {{\n{files}\n  }},\n  "stacks": [\n{stacks}\n  ]\n}}\n'


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _is_new(root: Path) -> bool:
    try:
        return not any(root.iterdir())
    except FileNotFoundError:
        return True


def staging_path(root: Path) -> Path:
    """Where a new tree is built before it is renamed into place."""
    return root.parent / f".{root.name}.tfgen-tmp-{os.getpid()}"


def is_new(root: Path) -> bool:
    """Nothing there yet (or an empty directory): the tree can be built aside and renamed in."""
    return _is_new(root)


def _create_tree(root: Path, files: Mapping[str, bytes]) -> None:
    """A new tree is built beside its target and renamed into place: it appears whole or not at all."""
    staging = staging_path(root)
    base = str(staging)
    made: set[str] = set()
    try:
        for rel, data in files.items():
            parent, _, _ = rel.rpartition("/")
            if parent not in made:
                os.makedirs(os.path.join(base, parent), exist_ok=True)  # noqa: PTH103, PTH118
                made.add(parent)
            with open(os.path.join(base, rel), "wb") as handle:  # noqa: PTH118
                handle.write(data)
        staging.replace(root)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise RenderError(f"cannot write {root}: {exc}; nothing was changed") from None


def _differs(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() != data
    except FileNotFoundError:
        return True


def _commit(root: Path, pending: Mapping[str, bytes], removals: Sequence[str]) -> None:
    staged: list[tuple[Path, Path]] = []
    try:
        for rel, data in pending.items():
            if rel == MANIFEST:
                continue
            staged.append((_stage(root, rel, data), root / rel))
        manifest = _stage(root, MANIFEST, pending[MANIFEST]) if MANIFEST in pending else None
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise RenderError(f"cannot write into {root}: {exc}; nothing was changed") from None
    for tmp, target in staged:
        tmp.replace(target)
    for rel in removals:
        target = root / rel
        target.unlink(missing_ok=True)
        _remove_empty_parents(target.parent, root)
    if manifest is not None:
        manifest.replace(root / MANIFEST)


def _stage(root: Path, rel: str, data: bytes) -> Path:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    # One writer per DIR at a time (the CLI takes DIR's lock), so a fixed name is safe; a leftover
    # from a killed run is simply overwritten.
    staged = target.with_name(f".{target.name}.tfgen-tmp")
    staged.write_bytes(data)
    return staged


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and directory.is_relative_to(root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
