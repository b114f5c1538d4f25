"""An update of an existing tree, all or nothing: stage, journal, rename, forget.

Every new or changed file is first written beside its target (`.main.tf.tfgen-tmp`). The journal,
DIR/.tfgen/render-journal.json, lists the targets before the first temporary file is created
(phase "staging") and is rewritten, atomically, once every one is on disk (phase "renaming").
Then the temporary files are renamed over their targets, the files that left the spec are
removed, the manifest is renamed last, and the journal is removed. Ctrl-C and SIGTERM wait until
the renames end.

A render killed part-way leaves its journal, and the next render (`recover`) finds it before
anything else: a "staging" journal is rolled back (its temporary files removed: the old tree), a
"renaming" one forward (the renames finished: the new tree). plan, apply and `stacks` refuse a
tree with a journal (tfgen.manifest.check_tree). A journal arrives in pull requests like any file,
so it is read like a manifest: every target must be a path tfgen owns, a temporary name is only
ever derived from its target, only regular files are renamed, and a file is removed only while
it still hashes to what the journal recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import stat
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from tfgen import safeio
from tfgen.errors import RenderError
from tfgen.manifest import JOURNAL, MANIFEST, TreeGuard, path_problem

JOURNAL_VERSION = 1
STAGING = "staging"
RENAMING = "renaming"
_SHA256_LENGTH = 64


def commit(guard: TreeGuard, pending: Mapping[str, bytes], removals: Mapping[str, str]) -> None:
    """Write `pending` (relative path → bytes; the manifest among them goes last) and remove
    `removals` (relative path → the sha256 tfgen wrote), all or nothing."""
    root = guard.root
    writes = [rel for rel in pending if rel != MANIFEST] + [r for r in pending if r == MANIFEST]
    _write_journal(root, STAGING, writes, removals)
    try:
        for rel in writes:
            _stage(guard, rel, pending[rel])
    except BaseException as exc:
        _roll_back(guard, writes)
        _forget(root)
        if isinstance(exc, OSError):
            raise RenderError(f"cannot write into {root}: {exc}; nothing was changed") from None
        raise
    _write_journal(root, RENAMING, writes, removals)
    with deferred_signals():
        try:
            _roll_forward(guard, writes, removals)
        except OSError as exc:
            raise RenderError(
                f"cannot finish updating {root}: {exc}. What is left to do is recorded in "
                f"{root / JOURNAL}: fix the cause and run `tfgen render` again, which finishes "
                "the update (plan and apply refuse the tree until then)"
            ) from None
        _forget(root)


def recover(root: Path) -> str | None:
    """Finish (or undo) an update a killed render left half-done; what was done, or None."""
    path = root / JOURNAL
    if not os.path.lexists(path):
        return None
    phase, writes, removals = _read_journal(root)
    guard = TreeGuard(root)
    try:
        if phase == STAGING:
            _roll_back(guard, writes)
            done = "an interrupted render was undone: it had not changed any file"
        else:
            _roll_forward(guard, writes, removals)
            done = f"an interrupted render was finished: {len(writes) + len(removals)} file(s)"
    except OSError as exc:
        raise RenderError(
            f"cannot finish the interrupted update recorded in {path}: {exc}; fix the cause "
            "and run `tfgen render` again"
        ) from None
    _forget(root)
    return done


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver them (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[signal.Signals] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        caught.append(signal.Signals(signum))

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)


# --- steps ----------------------------------------------------------------------------------------


def _stage(guard: TreeGuard, rel: str, data: bytes) -> None:
    target = guard.path(rel)
    parent = target.rpartition("/")[0]
    try:
        os.makedirs(parent, exist_ok=True)  # noqa: PTH103 - the guard checked what exists of it
    except (FileExistsError, NotADirectoryError):
        raise RenderError(
            f"cannot write {target}: a file is where tfgen needs a directory on the way to it; "
            "move that file away and render again; nothing was changed"
        ) from None
    with os.fdopen(safeio.create_new(safeio.temp_name(target)), "wb") as handle:
        handle.write(data)


def _roll_back(guard: TreeGuard, writes: Sequence[str]) -> None:
    for rel in writes:
        target = guard.path(rel)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
            os.unlink(safeio.temp_name(target))  # noqa: PTH108
        if not os.path.lexists(target):  # a directory made only for the temporary file
            _remove_empty_parents(target, guard.root)


def _roll_forward(guard: TreeGuard, writes: Sequence[str], removals: Mapping[str, str]) -> None:
    files = [rel for rel in writes if rel != MANIFEST]
    for rel in files:
        _install(guard, rel)
    for rel, digest in removals.items():
        try:
            current = guard.read(rel)
        except OSError:
            continue  # not a regular file any more: not tfgen's to remove
        if current is not None and hashlib.sha256(current).hexdigest() == digest:
            guard.unlink(rel)
            _remove_empty_parents(guard.path(rel), guard.root)
    if MANIFEST in writes:
        _install(guard, MANIFEST)


def _install(guard: TreeGuard, rel: str) -> None:
    """Rename the temporary file of `rel` over it; already done when it is gone."""
    target = guard.path(rel)
    tmp = safeio.temp_name(target)
    try:
        mode = os.lstat(tmp).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        os.replace(tmp, target)  # noqa: PTH105 - replaces a link at the target, not its target
    else:
        os.unlink(tmp)  # noqa: PTH108 - never tfgen's: a link or a directory planted there


def _remove_empty_parents(target: str, root: Path) -> None:
    directory = Path(target).parent
    while directory != root and directory.is_relative_to(root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


# --- the journal file -----------------------------------------------------------------------------


def _write_journal(
    root: Path, phase: str, writes: Sequence[str], removals: Mapping[str, str]
) -> None:
    safeio.state_dir(root)
    body = {
        "journal_version": JOURNAL_VERSION,
        "phase": phase,
        "write": list(writes),
        "remove": dict(removals),
    }
    safeio.replace(root / JOURNAL, json.dumps(body, indent=0).encode())


def _forget(root: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(root / JOURNAL)  # noqa: PTH108


def _read_journal(root: Path) -> tuple[str, list[str], dict[str, str]]:
    path = root / JOURNAL
    safeio.real_dir(path.parent)
    try:
        raw = TreeGuard(root).read(JOURNAL)
        data: Any = json.loads(raw or b"")
    except (OSError, ValueError) as exc:
        raise _bad(path, f"cannot read it ({exc})") from None
    if not isinstance(data, dict) or data.get("journal_version") != JOURNAL_VERSION:
        raise _bad(path, "not a journal this tfgen wrote")
    phase, writes, removals = data.get("phase"), data.get("write"), data.get("remove")
    if phase not in (STAGING, RENAMING):
        raise _bad(path, f"phase {phase!r} is not {STAGING!r} or {RENAMING!r}")
    if not isinstance(writes, list) or not isinstance(removals, dict):
        raise _bad(path, "'write' must be a list of paths and 'remove' an object")
    problems = [
        f"{rel!r}: {problem}"
        for rel in [*writes, *removals]
        if rel != MANIFEST and (problem := path_problem(rel)) is not None
    ]
    problems.extend(
        f"remove[{rel!r}]: expected a sha256"
        for rel, digest in removals.items()
        if not isinstance(digest, str) or len(digest) != _SHA256_LENGTH
    )
    if problems:
        raise _bad(path, "; ".join(problems[:5]))
    return phase, writes, removals


def _bad(path: Path, why: str) -> RenderError:
    return RenderError(
        f"{path}: {why}. tfgen writes this file only while it updates the tree; if no render "
        "was interrupted, remove it, check the tree (git status) and render again"
    )
