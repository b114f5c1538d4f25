"""Rendered files → DIR: compute, compare, then write; only what changed, never a half-written tree.

A new tree (DIR absent, or an empty directory) is built in a staging directory and moved into
place: it appears whole or not at all. An existing tree is updated through tfgen.render.journal:
every new content is staged beside its target first, then renamed in (the manifest last) under a
journal, so an interrupted update is finished or undone by the next render. A failure before the
renames leaves DIR exactly as it was. Files tfgen does not own are never touched.

The previous manifest says what tfgen owns, and it may have been tampered with: its paths are
checked when it is read (tfgen.manifest), and every read, write and removal here goes through a
`TreeGuard`, which refuses a path that leads through a symbolic link. A file that left the spec is
removed only while its bytes still hash to what tfgen wrote; one edited since is kept, with a
warning, and tfgen stops owning it. `--out` itself may be a link the user chose (to an empty
directory or a tree); nothing inside it may.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from tfgen.errors import RenderError
from tfgen.manifest import MANIFEST, Manifest, ManifestStack, TreeGuard, check_path, encode, read
from tfgen.render import journal, stamp

ABSENT, EMPTY, TREE = "absent", "empty", "tree"  # what is at --out
STAGING_PREFIX = ".tfgen-tmp-"  # + pid: a new tree being built


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
    owned: tuple[str, ...] = ()  # every file tfgen owns after this sync, manifest included
    stacks: tuple[ManifestStack, ...] = ()  # the manifest's stacks after this sync
    # Files no longer rendered but kept: edited since tfgen wrote them, or not a regular file.
    kept: tuple[str, ...] = ()
    recovered: str = ""  # what was done to finish an update a killed render left half-done
    # The no-op stamp's record of files taken as they were written (tfgen.render.stamp).
    written: Mapping[str, list[int]] | None = field(default=None, compare=False)

    @property
    def changed(self) -> tuple[FileChange, ...]:
        return tuple(c for c in self.changes if c.change is not Change.IDENTICAL)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def recover(root: Path, check: bool = False) -> str:
    """Finish or undo an update a killed render left half-done (the journal); '' when none."""
    if check or target_kind(root) != TREE:
        return ""
    return journal.recover(root) or ""


def sync(
    root: Path,
    files: Mapping[str, bytes],
    stacks: Sequence[ManifestStack],
    generator: str,
    *,
    previous: Manifest | None = None,
    check: bool = False,
) -> SyncResult:
    """Make DIR hold exactly `files` (plus what tfgen does not own); write the manifest.

    `previous` is the tree's manifest when the caller has read it already, after `recover` (the
    tree must be whole before its manifest is read)."""
    recovered = "" if previous is not None else recover(root, check)
    kind = target_kind(root)
    old = previous or read(root) or Manifest(root, {}, ())
    guard = TreeGuard(root)

    changes: list[FileChange] = []
    pending: dict[str, bytes] = {}
    new_tree = kind != TREE
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
    removals, kept = _removals(guard, old, set(files))
    changes.extend(FileChange(rel, Change.REMOVE) for rel in removals)

    owned = {rel: sha256(data) for rel, data in files.items()}
    manifest_bytes = encode(owned, stacks, generator)
    # The manifest is compared like every file: a stale, edited or deleted one is a change.
    current_manifest = None if new_tree else _read(guard, MANIFEST)
    if current_manifest != manifest_bytes:
        change = Change.CREATE if current_manifest is None else Change.UPDATE
        changes.append(FileChange(MANIFEST, change))
        pending[MANIFEST] = manifest_bytes
    result = SyncResult(
        tuple(changes),
        (*sorted(owned), MANIFEST),
        tuple(sorted(stacks, key=lambda s: s.id)),
        tuple(kept),
        recovered,
    )
    if check or (not pending and not removals):
        return result
    if new_tree:
        create_tree(root, pending)
    else:
        journal.commit(guard, pending, {rel: old.files[rel] for rel in removals})
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


def target_kind(root: Path) -> str:
    """ABSENT, EMPTY (an empty directory, or a link the user chose to one) or TREE; a clear
    error when `root` cannot be a directory (it is a file, a broken link, or under a file)."""
    try:
        mode = root.stat().st_mode
    except FileNotFoundError:
        if os.path.lexists(root):
            raise RenderError(
                f"{root} is a symbolic link to nothing; --out must be a directory"
            ) from None
        _check_parents(root)
        return ABSENT
    except NotADirectoryError:
        _check_parents(root)  # names the file on the way
        raise RenderError(f"cannot create {root}: a file is on the way to it") from None
    except OSError as exc:
        raise RenderError(f"cannot use {root}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(mode):
        raise RenderError(f"{root} is a file; --out must be a directory (created if missing)")
    with os.scandir(root) as entries:
        return TREE if any(True for _ in entries) else EMPTY


def _check_parents(root: Path) -> None:
    for parent in root.parents:
        if os.path.lexists(parent):
            if not parent.is_dir():
                raise RenderError(
                    f"cannot create {root}: {parent} is a file, not a directory; choose another "
                    "--out or move the file away"
                )
            return


def is_new(root: Path) -> bool:
    """Nothing there yet (or an empty directory): the tree is built aside and moved in whole."""
    return target_kind(root) != TREE


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def clean_leftovers(root: Path) -> None:
    """Remove the staging directories of renders that were killed (their pid is gone): beside
    `root` for a new tree, inside it for an empty directory."""
    places = [(root, STAGING_PREFIX)]
    if root.name:
        places.append((root.parent, f".{root.name}{STAGING_PREFIX}"))
    for directory, prefix in places:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            pid = entry.name.removeprefix(prefix)
            if (
                entry.name.startswith(prefix)
                and pid.isdigit()
                and entry.is_dir(follow_symlinks=False)
                and not _pid_alive(int(pid))
            ):
                shutil.rmtree(entry.path, ignore_errors=True)


def staging_dir(root: Path) -> Path:
    """A fresh, empty directory where a new tree is built before it is moved into `root`: beside
    `root` when it does not exist (one rename moves the tree in), inside it when it is an empty
    directory (`--out .`, a link to an empty directory: the entries are moved in, the manifest
    last). Created exclusively: a link or file planted at its name is never written through."""
    if os.path.lexists(root):
        staging = root / f"{STAGING_PREFIX}{os.getpid()}"
    else:
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = root.parent / f".{root.name}{STAGING_PREFIX}{os.getpid()}"
    try:
        os.mkdir(staging)  # noqa: PTH102
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(staging).st_mode):  # a link or a file: not ours
            raise RenderError(f"{staging} exists and is not tfgen's staging directory") from None
        shutil.rmtree(staging)  # the leftover of a killed render by a process of the same pid
        os.mkdir(staging)  # noqa: PTH102
    return staging


def install_tree(staging: Path, root: Path) -> None:
    """Move the tree built in `staging` into `root` (see `staging_dir`); Ctrl-C waits."""
    with journal.deferred_signals():
        if staging.parent != root:
            staging.replace(root)
            return
        for entry in sorted(staging.iterdir(), key=lambda path: path.name == MANIFEST):
            entry.rename(root / entry.name)
        staging.rmdir()


def create_tree(root: Path, files: Mapping[str, bytes]) -> None:
    """A new tree is built aside and moved into place: it appears whole or not at all."""
    try:
        staging = staging_dir(root)
    except OSError as exc:
        raise RenderError(f"cannot write {root}: {exc}; nothing was changed") from None
    try:
        write_new_files(staging, files.items())
        install_tree(staging, root)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise RenderError(f"cannot write {root}: {exc}; nothing was changed") from None
        raise


def write_new_files(
    base_dir: Path,
    files: Iterable[tuple[str, bytes]],
    stats: dict[str, list[int]] | None = None,
) -> dict[str, str]:
    """Write files into a directory tfgen just created (nothing to compare, nothing to guard);
    returns their sha256 by relative path. `stats` gets the no-op stamp's record of each file
    as written (an fstat of the open file is cheaper than a stat of its path later)."""
    base = str(base_dir)
    made: set[str] = {""}
    hashes: dict[str, str] = {}
    for rel, data in files:
        parent = rel.rpartition("/")[0]
        if parent not in made:
            _make_dirs(base, parent, made)
        # os.open, not open(): no buffered file object per file (a third of the writing time)
        fd = os.open(os.path.join(base, rel), _NEW_FILE, 0o666)  # noqa: PTH118
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if stats is not None:
                stats[rel] = stamp.file_stat(os.fstat(fd))
        finally:
            os.close(fd)
        hashes[rel] = sha256(data)
    return hashes


# as open(..., "xb"): never through a link, and no newline translation where there is one
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _make_dirs(base: str, rel_dir: str, made: set[str]) -> None:
    """Create `rel_dir` and its missing parents under `base` (a directory of tfgen's own, which
    another of its processes may be filling at the same time)."""
    up = rel_dir.rpartition("/")[0]
    if up not in made:
        _make_dirs(base, up, made)
    path = os.path.join(base, rel_dir)  # noqa: PTH118
    try:
        os.mkdir(path)  # noqa: PTH102
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise
    made.add(rel_dir)
