"""Rendered files → DIR: compute, compare, then write; only what changed, never a half-written tree.

All new contents are first written to temporary files beside their targets; only when every one is
on disk are they renamed into place (a rename is atomic), and the manifest is renamed last. A failure
before that point leaves DIR exactly as it was. Files tfgen does not own are never touched.

The previous manifest says what tfgen owns, and it may have been tampered with: its paths are
checked when it is read (tfgen.manifest), and every read, write and removal here goes through a
`TreeGuard`, which refuses a path that leads through a symbolic link. A file that left the spec is
removed only while its bytes still hash to what tfgen wrote; one edited since is kept, with a
warning, and tfgen stops owning it.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from tfgen.errors import RenderError
from tfgen.manifest import MANIFEST, Manifest, ManifestStack, TreeGuard, check_path, encode, read


class Change(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    IDENTICAL = "identical"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class FileChange:
    """What a render does (or, with --check, would do) to one file of the tree."""

    path: str
    change: Change
    note: str = ""
    # With --check, for an update: a unified diff of the file on disk against the rendered one.
    diff: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class SyncResult:
    """The outcome of writing a tree: per-file changes and what happened to stacks and files."""

    changes: tuple[FileChange, ...]
    orphaned_stacks: tuple[str, ...]  # in the previous manifest, gone from the spec
    pruned_stacks: tuple[str, ...]
    owned: tuple[str, ...] = ()  # every file tfgen owns after this sync, manifest included
    stacks: tuple[ManifestStack, ...] = ()  # the manifest's stacks after this sync
    # Files no longer rendered but kept: edited since tfgen wrote them, or not a regular file.
    kept: tuple[str, ...] = ()

    @property
    def changed(self) -> tuple[FileChange, ...]:
        return tuple(c for c in self.changes if c.change is not Change.IDENTICAL)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sync(
    root: Path,
    files: Mapping[str, bytes],
    stacks: Sequence[ManifestStack],
    generator: str,
    *,
    prune: bool = False,
    check: bool = False,
) -> SyncResult:
    """Make DIR hold exactly `files` (plus what tfgen does not own); write the manifest."""
    old = read(root) or Manifest(root, {}, ())
    guard = TreeGuard(root)
    new_ids = {s.id for s in stacks}
    orphans = [s for s in old.stacks if s.id not in new_ids]
    kept_orphans = [] if prune else orphans
    # An orphaned stack keeps its files (with the hashes tfgen wrote) until --prune.
    prefixes = tuple(s.path + "/" for s in kept_orphans)
    kept_files = {
        rel: digest
        for rel, digest in old.files.items()
        if prefixes and rel.startswith(prefixes) and rel not in files and guard.exists(rel)
    }

    changes: list[FileChange] = []
    pending: dict[str, bytes] = {}
    new_tree = _is_new(root)
    for rel in sorted(files):
        data = files[check_path(rel)]
        current = None if new_tree else _read(guard, rel)
        if current == data:
            changes.append(FileChange(rel, Change.IDENTICAL))
            continue
        if current is None:
            changes.append(FileChange(rel, Change.CREATE))
        elif rel not in old.files:
            raise RenderError(
                f"{root / rel} exists and tfgen did not write it; move it away (tfgen never "
                "overwrites files it does not own)"
            )
        else:
            edited = sha256(current) != old.files[rel]
            note = "was edited by hand; overwritten" if edited else ""
            diff = unified_diff(rel, current, data) if check else ""
            changes.append(FileChange(rel, Change.UPDATE, note, diff))
        pending[rel] = data
    removals, kept = _removals(guard, old, set(files) | set(kept_files))
    changes.extend(FileChange(rel, Change.REMOVE) for rel in removals)

    owned = {rel: sha256(data) for rel, data in files.items()} | kept_files
    all_stacks = [*stacks, *(_orphaned(s) for s in kept_orphans)]
    manifest_bytes = encode(owned, all_stacks, generator)
    manifest_changed = _differs(guard, manifest_bytes)
    result = SyncResult(
        tuple(changes),
        tuple(s.id for s in orphans),
        tuple(s.id for s in orphans) if prune else (),
        (*sorted(owned), MANIFEST),
        tuple(sorted(all_stacks, key=lambda s: s.id)),
        tuple(kept),
    )
    if check or (not pending and not removals and not manifest_changed):
        return result
    if manifest_changed:
        pending[MANIFEST] = manifest_bytes
    if new_tree:
        create_tree(root, pending)
    else:
        _commit(guard, pending, removals)
    return result


DIFF_LINES = 200  # of one file's diff; a render --check prints a few files' worth
# A file on disk may hold anything (a hand edit, a hostile pull request): its diff lines show
# control characters as escapes, so they cannot drive the terminal that prints them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def unified_diff(rel: str, old: bytes, new: bytes) -> str:
    """`diff -u` of a file tfgen would rewrite: what is on disk (a/) against what it renders (b/),
    cut after DIFF_LINES lines."""
    a = old.decode("utf-8", errors="replace").splitlines()
    b = new.decode("utf-8", errors="replace").splitlines()
    lines = list(difflib.unified_diff(a, b, f"a/{rel}", f"b/{rel}", lineterm=""))
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"... ({len(lines) - DIFF_LINES} more lines of diff)"]
    return "\n".join(_CONTROL.sub(_escape, line) for line in lines)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _orphaned(stack: ManifestStack) -> ManifestStack:
    return replace(stack, orphaned=True)


def _read(guard: TreeGuard, rel: str) -> bytes | None:
    try:
        return guard.read(rel)
    except OSError as exc:
        raise RenderError(f"cannot read {guard.root / rel}: {exc.strerror or exc}") from None


def _removals(guard: TreeGuard, old: Manifest, wanted: set[str]) -> tuple[list[str], list[str]]:
    """The owned files that left the spec: those to remove, and those kept because they are not
    what tfgen wrote any more (edited, replaced by a link or a directory)."""
    remove: list[str] = []
    kept: list[str] = []
    for rel, digest in old.files.items():
        if rel in wanted or not guard.exists(rel):
            continue
        try:
            current = guard.read(rel)
        except OSError:
            current = None
        if current is not None and sha256(current) == digest:
            remove.append(rel)
        else:
            kept.append(rel)
    return remove, kept


def _is_new(root: Path) -> bool:
    try:
        return not any(root.iterdir())
    except FileNotFoundError:
        return True


def is_new(root: Path) -> bool:
    """Nothing there yet (or an empty directory): the tree can be built aside and renamed in."""
    return _is_new(root)


def staging_dir(root: Path) -> Path:
    """A fresh, empty directory beside `root` where a new tree is built before it is renamed in.
    Created exclusively: a link or file planted at its name is never written through."""
    staging = root.parent / f".{root.name}.tfgen-tmp-{os.getpid()}"
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(staging)  # noqa: PTH102
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(staging).st_mode):  # a link or a file: not ours
            raise RenderError(f"{staging} exists and is not tfgen's staging directory") from None
        shutil.rmtree(staging)  # the leftover of a killed render by a process of the same pid
        os.mkdir(staging)  # noqa: PTH102
    return staging


def create_tree(root: Path, files: Mapping[str, bytes]) -> None:
    """A new tree is built beside its target and renamed into place: it appears whole or not at all."""
    try:
        staging = staging_dir(root)
    except OSError as exc:
        raise RenderError(f"cannot write {root}: {exc}; nothing was changed") from None
    try:
        write_new_files(staging, files.items())
        staging.replace(root)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise RenderError(f"cannot write {root}: {exc}; nothing was changed") from None


def write_new_files(base_dir: Path, files: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """Write files into a directory tfgen just created (nothing to compare, nothing to guard);
    returns their sha256 by relative path."""
    base = str(base_dir)
    made: set[str] = set()
    hashes: dict[str, str] = {}
    for rel, data in files:
        parent = rel.rpartition("/")[0]
        if parent not in made:
            os.makedirs(os.path.join(base, parent), exist_ok=True)  # noqa: PTH103, PTH118
            made.add(parent)
        with open(os.path.join(base, rel), "xb") as handle:  # noqa: PTH118
            handle.write(data)
        hashes[rel] = sha256(data)
    return hashes


def _differs(guard: TreeGuard, data: bytes) -> bool:
    try:
        return guard.read(MANIFEST) != data
    except OSError:
        return True


def _commit(guard: TreeGuard, pending: Mapping[str, bytes], removals: Sequence[str]) -> None:
    root = guard.root
    staged: list[tuple[str, str]] = []
    try:
        for rel, data in pending.items():
            if rel == MANIFEST:
                continue
            staged.append((_stage(guard, rel, data), guard.path(rel)))
        manifest = _stage(guard, MANIFEST, pending[MANIFEST]) if MANIFEST in pending else None
    except OSError as exc:
        for tmp, _ in staged:
            os.unlink(tmp)  # noqa: PTH108
        raise RenderError(f"cannot write into {root}: {exc}; nothing was changed") from None
    for tmp, target in staged:
        os.replace(tmp, target)  # noqa: PTH105 - a rename replaces a link itself, not its target
    for rel in removals:
        guard.unlink(rel)
        _remove_empty_parents(root / rel, root)
    if manifest is not None:
        os.replace(manifest, guard.path(MANIFEST))  # noqa: PTH105


def _stage(guard: TreeGuard, rel: str, data: bytes) -> str:
    """Write `data` to a temporary file beside `rel`, created exclusively and without following
    a link, so nothing planted at the temporary name is written through."""
    target = guard.path(rel)
    parent, _, name = target.rpartition("/")
    os.makedirs(parent, exist_ok=True)  # noqa: PTH103 - the guard checked what exists of it
    staged = f"{parent}/.{name}.tfgen-tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        fd = os.open(staged, flags, 0o644)
    except FileExistsError:  # left by a killed run (one writer per DIR: the CLI holds its lock)
        os.unlink(staged)  # noqa: PTH108 - removes a planted link itself, not its target
        fd = os.open(staged, flags, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return staged


def _remove_empty_parents(target: Path, root: Path) -> None:
    directory = target.parent
    while directory != root and directory.is_relative_to(root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
